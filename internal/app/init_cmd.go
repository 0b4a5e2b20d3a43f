package app

import (
	"bufio"
	"context"
	"errors"
	"flag"
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
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bindConfig(fs, &cfg)
	level := fs.String("region-level", domain.LevelProvince, "level of the top region: province, city or county")
	code := fs.String("region-code", "", "12-digit national code of the top region, e.g. 410000000000")
	name := fs.String("region-name", "", "name of the top region, e.g. 河南省")
	username := fs.String("admin", "admin", "username of the first admin")
	if err := fs.Parse(args); err != nil {
		return err
	}
	password := os.Getenv("FIELDVISIT_ADMIN_PASSWORD")
	if password == "" {
		fmt.Fprint(stderr, "password for the first admin (or set FIELDVISIT_ADMIN_PASSWORD): ")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		password = strings.TrimRight(line, "\r\n")
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
	if *level != domain.LevelProvince && *level != domain.LevelCity && *level != domain.LevelCounty {
		return fmt.Errorf("--region-level must be province, city or county")
	}
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
	domain.ValidatePassword(&fe, "password", password)
	if err := fe.Err(); err != nil {
		return describe(err)
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
