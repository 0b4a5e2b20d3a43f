// Package storetest is the one database fixture of fieldvisit's tests: a
// fresh, migrated database of either dialect (the embedded SQLite file and
// a real PostgreSQL database, created by internal/testkit and dropped when
// the test ends), and a small county built through the register's
// service, the way an office would build it. Every package whose tests
// need a database uses it, so the open → migrate → clean-up → seed
// sequence is written once.
package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/auth"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/storage"
)

// Dialects are the databases every store test runs on: the embedded
// default and production's.
var Dialects = []string{"sqlite", "postgres"}

// URL returns the database URL of a fresh database of dialect ("" for
// SQLite, whose file goes in the data directory); a PostgreSQL one holds
// every migration already (MigratedPostgresURL).
func URL(tb testing.TB, dialect string) string {
	tb.Helper()
	switch dialect {
	case "sqlite":
		return ""
	case "postgres":
		return MigratedPostgresURL(tb)
	}
	tb.Fatalf("unknown dialect %q", dialect)
	return ""
}

// Open returns a fresh, migrated database of dialect, closed when tb ends.
func Open(tb testing.TB, dialect string) *storage.DB {
	tb.Helper()
	ctx := context.Background()
	db, _, err := storage.OpenMigrated(ctx, URL(tb, dialect), tb.TempDir(), nil)
	if err != nil {
		tb.Fatalf("open %s: %v", dialect, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// Each runs fn once per dialect, each time on a fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) { fn(t, Open(t, d)) })
	}
}

// Password is the password of every account of the county.
const Password = "correct-horse-battery"

// County is a small county: one town with two villages, A (a poor village
// with a village group) and B, a supervisor and a cadre in each, an
// inspector for the town, an assisting unit, and a registered household
// in each village paired with its village's cadre.
type County struct {
	Admin                                              domain.Principal
	Province, County, Town, VillageA, VillageB, GroupA domain.Region
	SupervisorA, SupervisorB, CadreA, CadreB           domain.User
	Inspector                                          domain.User
	HouseholdA, HouseholdB                             registry.HouseholdFile
	PairingA, PairingB                                 domain.Pairing
	UnitA                                              uuid.UUID
}

// NewProvince is what `fieldvisit init` leaves in store: the province
// (河南省, 410000000000) and its first admin, nothing below them. NewCounty
// builds on it; alone it is the empty database a register is imported into.
func NewProvince(tb testing.TB, store *storage.Store, hasher *auth.Hasher) County {
	tb.Helper()
	province := newTop(tb, store, hasher, domain.LevelProvince, "410000000000", "河南省")
	return County{Admin: province.Admin, Province: province.Region}
}

// top is the region `fieldvisit init` creates and its first admin.
type top struct {
	Admin  domain.Principal
	Region domain.Region
}

func newTop(tb testing.TB, store *storage.Store, hasher *auth.Hasher, level, code, name string) top {
	tb.Helper()
	ctx := context.Background()
	id := uuid.New()
	r := domain.Region{ID: id, Level: level, Code: code, Name: name, Path: "/" + id.String() + "/"}
	if level == domain.LevelCounty {
		r.CountyID = &id
	}
	bootstrap := domain.AuditEntry{Action: "bootstrap", ObjectType: "test"}
	if err := store.CreateRegion(ctx, r, bootstrap); err != nil {
		tb.Fatal(err)
	}
	hash, err := hasher.Hash(ctx, Password)
	if err != nil {
		tb.Fatal(err)
	}
	admin := domain.User{ID: uuid.New(), Username: "admin", DisplayName: "管理员", Role: domain.RoleAdmin, RegionID: id,
		RegionPath: r.Path, Active: true, Duties: []domain.Duty{}}
	if err := store.CreateUser(ctx, admin, hash, bootstrap); err != nil {
		tb.Fatal(err)
	}
	return top{Region: r, Admin: domain.Principal{UserID: admin.ID, Username: "admin", Role: domain.RoleAdmin, RegionID: id, RegionPath: r.Path}}
}

// EachCounty is Each with the county of NewCounty built in each fresh
// database, and a store over it.
func EachCounty(t *testing.T, fn func(t *testing.T, db *storage.DB, store *storage.Store, c County)) {
	t.Helper()
	Each(t, func(t *testing.T, db *storage.DB) {
		store := storage.NewStore(db, nil)
		fn(t, db, store, NewCounty(t, store, registry.NewService(store, auth.NewHasher(1), nil), auth.NewHasher(1)))
	})
}

// NewCounty builds the county in store through reg, the register's
// service, as an admin of the province would; only the province and its
// first admin are written below the service, as `fieldvisit init` does.
func NewCounty(tb testing.TB, store *storage.Store, reg *registry.Service, hasher *auth.Hasher) County {
	tb.Helper()
	ctx := context.Background()
	c := NewProvince(tb, store, hasher)
	city := Must(reg.CreateRegion(ctx, c.Admin, registry.NewRegion{ParentID: &c.Province.ID, Level: domain.LevelCity, Code: "410100000000", Name: "郑州市"}))(tb)
	c.County = Must(reg.CreateRegion(ctx, c.Admin, registry.NewRegion{ParentID: &city.ID, Level: domain.LevelCounty, Code: "410122000000", Name: "示范县"}))(tb)
	return c.fill(tb, reg)
}

// NewCountyDatabase is the county of NewCounty in a database set up at
// county level (`fieldvisit init --region-level county`): 示范县 is the top
// region, with no province or city above it, and the admin is its admin.
func NewCountyDatabase(tb testing.TB, store *storage.Store, reg *registry.Service, hasher *auth.Hasher) County {
	tb.Helper()
	county := newTop(tb, store, hasher, domain.LevelCounty, "410122000000", "示范县")
	return County{Admin: county.Admin, County: county.Region}.fill(tb, reg)
}

// fill builds the county's towns, villages, people, households and
// pairings below c.County.
func (c County) fill(tb testing.TB, reg *registry.Service) County {
	tb.Helper()
	ctx := context.Background()
	region := func(parent domain.Region, level, code, name string, poor bool) domain.Region {
		return Must(reg.CreateRegion(ctx, c.Admin, registry.NewRegion{ParentID: &parent.ID, Level: level, Code: code, Name: name, IsPoorVillage: poor}))(tb)
	}
	c.Town = region(c.County, domain.LevelTown, "410122100000", "城关镇", false)
	c.VillageA = region(c.Town, domain.LevelVillage, "410122100201", "东风村", true)
	c.VillageB = region(c.Town, domain.LevelVillage, "410122100202", "红旗村", false)
	c.GroupA = region(c.VillageA, domain.LevelGroup, "410122100201001", "一组", false)
	c.UnitA = Must(reg.CreateUnit(ctx, c.Admin, "县农业农村局", c.County.ID))(tb).ID
	c.SupervisorA = c.AddUser(tb, reg, "supervisor-a", domain.RoleSupervisor, c.VillageA, nil, "")
	c.SupervisorB = c.AddUser(tb, reg, "supervisor-b", domain.RoleSupervisor, c.VillageB, nil, "")
	c.CadreA = c.AddUser(tb, reg, "cadre-a", domain.RoleCadre, c.VillageA, &c.UnitA, domain.RankStaff)
	c.CadreB = c.AddUser(tb, reg, "cadre-b", domain.RoleCadre, c.VillageB, &c.UnitA, domain.RankStaff)
	c.Inspector = c.AddUser(tb, reg, "inspector", domain.RoleInspector, c.Town, nil, "")
	c.HouseholdA = c.AddHousehold(tb, reg, c.GroupA, "张三", "41012219650312001")
	c.HouseholdB = c.AddHousehold(tb, reg, c.VillageB, "李四", "41012219700101002")
	c.PairingA = c.Pair(tb, reg, c.HouseholdA.Household.ID, c.CadreA.ID)
	c.PairingB = c.Pair(tb, reg, c.HouseholdB.Household.ID, c.CadreB.ID)
	return c
}

// AddRegion creates a region under parent, as the admin.
func (c County) AddRegion(tb testing.TB, reg *registry.Service, parent domain.Region, level, code, name string) domain.Region {
	tb.Helper()
	return Must(reg.CreateRegion(context.Background(), c.Admin, registry.NewRegion{ParentID: &parent.ID, Level: level, Code: code, Name: name}))(tb)
}

// AddUser creates an account in region r, as the admin.
func (c County) AddUser(tb testing.TB, reg *registry.Service, name, role string, r domain.Region, unit *uuid.UUID, rank string) domain.User {
	tb.Helper()
	return Must(reg.CreateUser(context.Background(), c.Admin, registry.NewUser{Password: Password, User: domain.User{
		Username: name, DisplayName: name, Role: role, RegionID: r.ID, UnitID: unit, Rank: rank}}))(tb)
}

// AddHousehold registers a dibao household in r with its head as the one
// member; id17 is the head's ID number without its check character.
func (c County) AddHousehold(tb testing.TB, reg *registry.Service, r domain.Region, head, id17 string) registry.HouseholdFile {
	tb.Helper()
	return c.AddHouseholdOfType(tb, reg, r, head, id17, domain.PovertyDibao)
}

// AddHouseholdOfType is AddHousehold with the household's poverty type.
func (c County) AddHouseholdOfType(tb testing.TB, reg *registry.Service, r domain.Region, head, id17, povertyType string) registry.HouseholdFile {
	tb.Helper()
	idn := id17 + string(domain.IDNumberCheckChar(id17))
	return Must(reg.CreateHousehold(context.Background(), c.Admin, registry.NewHousehold{RegionID: r.ID, Status: domain.StatusRegistered,
		PovertyType: povertyType, EffectiveOn: domain.Date{Year: 2024, Month: time.March, Day: 1},
		Details: domain.HouseholdDetails{HeadName: head, Causes: []string{"illness"}, Home: &domain.GeoPoint{Lat: 34.7, Lon: 113.6}},
		Members: []domain.MemberDetails{{Name: head, Relation: "head", IDNumber: idn}}}))(tb)
}

// AddHouseholdWithStatus registers a one-member household in r with a
// status other than registered: general and edge without a poverty type,
// exited (in 2024) as an ordinary one.
func (c County) AddHouseholdWithStatus(tb testing.TB, reg *registry.Service, r domain.Region, head, id17, status string) registry.HouseholdFile {
	tb.Helper()
	idn := id17 + string(domain.IDNumberCheckChar(id17))
	in := registry.NewHousehold{RegionID: r.ID, Status: status, EffectiveOn: domain.Date{Year: 2024, Month: time.March, Day: 1},
		Details: domain.HouseholdDetails{HeadName: head, Home: &domain.GeoPoint{Lat: 34.7, Lon: 113.6}},
		Members: []domain.MemberDetails{{Name: head, Relation: "head", IDNumber: idn}}}
	if status == domain.StatusExited {
		year := 2024
		in.PovertyType, in.ExitYear, in.Details.Causes = domain.PovertyOrdinary, &year, []string{"illness"}
	}
	return Must(reg.CreateHousehold(context.Background(), c.Admin, in))(tb)
}

// Visit is a live visit of cadre A to household started at at, as a phone
// first pushes it (version 1), for a test to fill in and store.
func (c County) Visit(household uuid.UUID, at time.Time) domain.Visit {
	return domain.Visit{ID: uuid.New(), CountyID: c.County.ID, HouseholdID: household, CadreID: c.CadreA.ID, DeviceID: "phone",
		VisitDetails: domain.VisitDetails{Kind: "assist", StartedAt: at}, StartedAtText: at.Format(time.RFC3339),
		ReceivedAt: at, Version: 1, CreatedAt: at, UpdatedAt: at}
}

// Pair pairs a household with a cadre from today, as the admin.
func (c County) Pair(tb testing.TB, reg *registry.Service, household, cadre uuid.UUID) domain.Pairing {
	tb.Helper()
	return Must(reg.Pair(context.Background(), c.Admin, registry.NewPairing{HouseholdID: household, CadreID: cadre}))(tb)
}

// Must unwraps a fixture call, failing the test (not panicking) when it
// fails: Must(reg.CreateUser(…))(t).
func Must[T any](v T, err error) func(testing.TB) T {
	return func(tb testing.TB) T {
		tb.Helper()
		if err != nil {
			tb.Fatalf("fixture: %v", err)
		}
		return v
	}
}
