package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// initCmd bootstraps an empty database: the top region (usually a province)
// and the first admin, who then creates everything else through the API or
// imports. It refuses a database that already has users.
func initCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var cfg Config
	fs := NewFlagSet("init", stderr)
	cfg.bindStore(fs)
	cfg.bindLogLevel(fs)
	level := fs.String("region-level", domain.LevelProvince, "level of the top region: province, city or county")
	code := fs.String("region-code", "", "12-digit national code of the top region, e.g. 410000000000")
	name := fs.String("region-name", "", "name of the top region, e.g. 河南省")
	username := fs.String("admin", "admin", "username of the first admin (the password comes from FIELDVISIT_ADMIN_PASSWORD, else one line of standard input)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("init: unexpected argument %q", fs.Arg(0))
	}
	if *level != domain.LevelProvince && *level != domain.LevelCity && *level != domain.LevelCounty {
		return fmt.Errorf("--region-level must be province, city or county")
	}
	passwordFrom := adminPasswordEnv
	password := os.Getenv(adminPasswordEnv)
	if password == "" {
		passwordFrom = "the password typed"
		fmt.Fprintf(stderr, "password for the first admin (or set %s): ", adminPasswordEnv)
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		if password = strings.TrimRight(line, "\r\n"); password == "" {
			fmt.Fprintln(stderr)
			return fmt.Errorf("no password for the first admin: set %s (10 to 128 characters), e.g. %s='…' fieldvisit init …",
				adminPasswordEnv, adminPasswordEnv)
		}
	}
	// Everything typed is checked before the database is opened: a refused
	// init leaves no data directory or schema behind.
	id := uuid.New()
	r := domain.Region{ID: id, Level: *level, Code: *code, Name: *name, Path: "/" + id.String() + "/"}
	if *level == domain.LevelCounty {
		r.CountyID = &id
	}
	var fe domain.FieldErrors
	var parent *domain.Region
	if *level != domain.LevelProvince {
		parent = &domain.Region{Level: domain.ParentLevel(*level)}
	}
	if err := domain.ValidateRegion(r, parent); err != nil {
		fe = append(fe, err.(*domain.Error).Fields...)
	}
	u := domain.User{ID: uuid.New(), Username: *username, DisplayName: "系统管理员", Role: domain.RoleAdmin, RegionID: id, RegionPath: r.Path,
		Active: true, Duties: []domain.Duty{}, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	domain.ValidateUser(u, &fe)
	domain.ValidatePassword(&fe, passwordFrom, password)
	for i, f := range fe {
		if flag, ok := initFlagOf[f.Field]; ok {
			fe[i].Field = flag
		}
	}
	if err := fe.Err(); err != nil {
		return describe(err)
	}
	app, err := NewApp(ctx, cfg, NewLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer app.Close()
	if users, _, err := app.Store.Users(ctx, domain.UserFilter{Limit: 1}); err != nil {
		return err
	} else if len(users) > 0 {
		return errors.New("the database already has users; init only bootstraps an empty one")
	}
	hash, err := app.Auth.Hasher().Hash(ctx, password)
	if err != nil {
		return err
	}
	audit := domain.AuditEntry{ActorName: "fieldvisit init", Action: "bootstrap", ObjectType: "region", ObjectID: id.String(), RegionPath: r.Path}
	if err := app.Store.CreateRegion(ctx, r, audit); err != nil {
		return describe(err)
	}
	if err := app.Store.CreateUser(ctx, u, hash, domain.AuditEntry{ActorName: "fieldvisit init", Action: "create", ObjectType: "user", ObjectID: u.ID.String(), RegionPath: r.Path}); err != nil {
		return describe(err)
	}
	fmt.Fprintf(stdout, "created %s %s (%s) and admin %q\n", *level, *name, *code, *username)
	return nil
}

// initFlagOf names the flag behind a field of the region or user init
// creates, so that a refusal says what to type differently.
var initFlagOf = map[string]string{"/level": "--region-level", "/code": "--region-code", "/name": "--region-name",
	"/username": "--admin"}

// adminPasswordEnv holds the first admin's password for init: a flag
// would leave it in the shell history and the process list.
const adminPasswordEnv = "FIELDVISIT_ADMIN_PASSWORD"
