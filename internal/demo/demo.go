// Package demo owns the realistic demo county that `serve --demo` seeds: a
// fictional 示范县 in 河南省信阳市 with towns, villages (about one in four a
// poor village) and their groups, some 3,000 households in every status and
// poverty type with members, valid ID numbers and dated histories, assisting
// units placed in poor villages, about 150 cadres with ranks and duties, and
// the pairings between them, a year of visit history with photos for the
// recent visits and a few planted fake-visit patterns (visits.go), and the
// inspection teams' work: a finished campaign whose report finds one of the
// fake-visit cadres out, with its rectifications and accountability, and a
// running unannounced one on the inspector's phone (inspections.go), and
// the casework (casework.go): each registered and exited household's plan
// (一户一案), income accounts of last year and this, exits at each step of
// 两公示一公告 and the cadres' open ledger items. The county is drawn from a fixed seed, so every demo database holds the same
// people; only dates move with the day it is seeded (pairings start a year
// and a month before it, visits fill the year before it, the campaigns
// fall in the weeks before it).
//
// Seed writes the county through storage (regions one by one, everything
// else through the importer's bulk write, storage.ApplyImport), the
// inspections through the inspection and ledger services, the casework
// through the storage writes its services use, and marks the
// database as a demo database; demo mode refuses to run against any
// database it did not seed (DESIGN §10).
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/storage"
)

// Password is the password of every demo account (DESIGN §10). The demo
// logins printed at start-up are in Summary.Accounts: admin, supervisor,
// inspector, cadre01 and a few other cadres worth trying.
const Password = "fieldvisit-demo"

// Settings keys Seed writes. MarkerKey holds MarkerVersion once the demo is
// complete; SummaryKey holds the Summary as JSON.
const (
	MarkerKey = "demo_seeded"
	// MarkerVersion 5: the demo's latest visits to a few edge and exited
	// households record risk triggers, with their open warnings (监测预警).
	// MarkerVersion 4: the demo includes the casework (casework.go): the
	// households' plans, income accounts, exit procedures and the cadres'
	// open ledger items. A database marked 3 has none of them.
	// MarkerVersion 3: the demo includes the inspections (inspections.go):
	// a finished campaign with findings, a likely paper visit in its report,
	// rectifications and accountability, and a running unannounced one on
	// the inspector's phone. A database marked 2 has the visit history
	// (visits.go) but no inspections; one marked 1 has no visits either.
	MarkerVersion = "5"
	SummaryKey    = "demo_summary"
	seedingKey    = "demo_seeding"
)

// Defaults for zero Options fields.
const (
	DefaultHouseholds       = 3000
	DefaultCadres           = 150
	DefaultSeed       int64 = 20140401 // the month 建档立卡 began
	minHouseholds           = 100
)

// ErrNotDemoDatabase is returned when the database already holds data that
// Seed did not write: demo mode refuses to run against it.
var ErrNotDemoDatabase = errors.New("demo: the database holds data the demo did not seed; demo mode refuses to run against it (use an empty data directory or database)")

// ErrIncomplete is returned when an earlier Seed was interrupted and left a
// partial demo county behind; StartOver clears it for a new Seed.
var ErrIncomplete = errors.New("demo: an earlier demo seeding was interrupted and left partial data")

// Options shape the demo county. Zero values take the defaults.
type Options struct {
	Households int   // default 3000 (at least 100)
	Cadres     int   // default 150 (at least 20)
	Seed       int64 // default DefaultSeed; the same seed yields the same county
	// Today anchors pairing starts, duties and recent history (default: the
	// current day in Asia/Shanghai). It must be 2022 or later.
	Today domain.Date
	// HashPassword returns a fresh argon2id hash of Password, with its own
	// salt: it is called once per demo account, so that no two accounts
	// share a hash (one cracked hash must not open every account, and equal
	// hashes must not tell who shares a password). Required.
	HashPassword func(ctx context.Context) (string, error)
	// Progress, when set, is told how far each stage has got ("regions",
	// "units", "users", "households", "visits", "photos"), from the calling
	// goroutine.
	Progress func(stage string, done, total int)
	// Photos, when set, stores the photos of the recent visits (visits.go);
	// without it the visits list no photos.
	Photos PhotoSink
	// Inspections, when set, gives the inspection and rectification
	// services the demo's campaigns go through (inspections.go); without
	// it the demo has no inspections.
	Inspections InspectionServices
}

// Summary says what the demo county contains.
type Summary struct {
	Towns      int       `json:"towns"`
	Villages   int       `json:"villages"`
	Groups     int       `json:"groups"`
	Households int       `json:"households"`
	Members    int       `json:"members"`
	Cadres     int       `json:"cadres"`
	Units      int       `json:"units"`    // assisting units, the county government and the town governments
	Pairings   int       `json:"pairings"` // pairing records, including those ended by a re-pairing
	Accounts   []Account `json:"accounts"` // logins worth trying first; every cadre01… exists

	Visits           int           `json:"visits"`             // the year of visit history
	VisitsWithPhotos int           `json:"visits_with_photos"` // recent visits with photos
	Photos           int           `json:"photos"`             // photo records (several may share bytes)
	FakeVisits       []FakePattern `json:"fake_visits"`        // the planted fake-visit patterns

	Inspections []Inspection `json:"inspections"` // the finished campaign, then the running one

	Casework CaseworkCounts `json:"casework"` // plans, income accounts, exits, the cadres' ledgers
}

// Account is a demo login to print at start-up.
type Account struct {
	Username string `json:"username"`
	Role     string `json:"role"`
	Region   string `json:"region"` // full name of the user's region
	Note     string `json:"note"`
}

func (o *Options) defaults() error {
	if o.Households == 0 {
		o.Households = DefaultHouseholds
	}
	if o.Cadres == 0 {
		o.Cadres = DefaultCadres
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Today.IsZero() {
		o.Today = domain.DateOf(time.Now())
	}
	switch {
	case o.Households < minHouseholds:
		return fmt.Errorf("demo: %d households are too few; use at least %d", o.Households, minHouseholds)
	case o.Cadres < minCadres:
		return fmt.Errorf("demo: %d cadres are too few; use at least %d", o.Cadres, minCadres)
	case o.Cadres*3 > o.Households:
		return fmt.Errorf("demo: %d cadres for %d households leaves some cadres without households; use at most one cadre per three households", o.Cadres, o.Households)
	case o.Today.Year < 2022:
		return fmt.Errorf("demo: Today %s is before 2022; the demo's histories run to 2021", o.Today)
	case o.HashPassword == nil:
		return errors.New("demo: Options.HashPassword is required (it hashes demo.Password)")
	}
	return nil
}

// CheckSize says whether a county of that many households and cadres (0:
// the default) can be drawn, so that a command refuses a bad size before
// it opens or creates anything.
func CheckSize(households, cadres int) error {
	o := Options{Households: households, Cadres: cadres, HashPassword: func(context.Context) (string, error) { return "", nil }}
	return o.defaults()
}

// Seed creates the demo county once. It records a marker setting
// (MarkerKey = MarkerVersion) in the same database; if the marker is present
// it does nothing and returns the stored summary. If the database has data
// (any region) but no marker, it returns ErrNotDemoDatabase: demo mode
// refuses to run against a database it did not seed.
func Seed(ctx context.Context, store *storage.Store, opt Options) (Summary, error) {
	marker, err := store.Setting(ctx, MarkerKey)
	if err != nil {
		return Summary{}, fmt.Errorf("demo: read marker: %w", err)
	}
	if marker != "" {
		return storedSummary(ctx, store)
	}
	_, regions, err := store.Regions(ctx, domain.RegionFilter{Limit: 1})
	if err != nil {
		return Summary{}, fmt.Errorf("demo: look for existing data: %w", err)
	}
	if regions > 0 {
		if s, _ := store.Setting(ctx, seedingKey); s != "" {
			return Summary{}, ErrIncomplete
		}
		return Summary{}, ErrNotDemoDatabase
	}
	if err := opt.defaults(); err != nil {
		return Summary{}, err
	}
	p, err := build(opt)
	if err != nil {
		return Summary{}, err
	}
	if err := store.SetSetting(ctx, seedingKey, MarkerVersion); err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	if err := p.write(ctx, store, opt); err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	if err := p.writeVisits(ctx, store, opt.Photos, progress{fn: opt.Progress}); err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	if err := p.casework.write(ctx, store); err != nil {
		return Summary{}, fmt.Errorf("demo: casework: %w", err)
	}
	var inspections []Inspection
	if opt.Inspections != nil {
		if inspections, err = p.seedInspections(ctx, store, opt, progress{fn: opt.Progress}); err != nil {
			return Summary{}, fmt.Errorf("demo: inspections: %w", err)
		}
		p.noteInspections(inspections)
	}
	sum := p.summary()
	sum.Inspections = inspections
	sum.Visits, sum.VisitsWithPhotos, sum.Photos, sum.FakeVisits = p.visitPlan.counts(opt.Photos)
	sum.Casework = p.casework.counts(p)
	b, err := json.Marshal(sum)
	if err != nil {
		return Summary{}, err
	}
	actor := p.admin.ID
	if err := store.Audit(ctx, domain.AuditEntry{ActorID: &actor, ActorName: "demo", Action: "demo_seed", ObjectType: "region",
		ObjectID: p.county.ID.String(), RegionPath: p.county.Path, Detail: map[string]any{
			"version": MarkerVersion, "seed": opt.Seed, "today": opt.Today.String(), "households": sum.Households,
			"members": sum.Members, "cadres": sum.Cadres, "pairings": sum.Pairings, "visits": sum.Visits, "photos": sum.Photos, "inspections": len(sum.Inspections)}}); err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	if err := store.SetSetting(ctx, SummaryKey, string(b)); err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	if err := store.SetSetting(ctx, MarkerKey, MarkerVersion); err != nil {
		return Summary{}, fmt.Errorf("demo: %w", err)
	}
	return sum, nil
}

// Seeded reports whether the database holds a complete demo county, and its
// summary if so. A caller can use it to skip hashing the demo password when
// the demo exists already.
func Seeded(ctx context.Context, store *storage.Store) (Summary, bool, error) {
	marker, err := store.Setting(ctx, MarkerKey)
	if err != nil || marker == "" {
		return Summary{}, false, err
	}
	s, err := storedSummary(ctx, store)
	return s, err == nil, err
}

// StartOver empties a database that an interrupted Seed left partial (the
// seeding began, its marker was never written), so that Seed can run
// again: every table but the migrations' own, as if freshly migrated. It
// refuses any other database: a complete demo, and one the demo did not
// seed, are never touched. Photo bytes the partial seeding stored stay in
// the blob store; the seeding is drawn from a fixed seed, so the next one
// stores the same content-addressed bytes again, and photo reconciliation
// removes any left over.
func StartOver(ctx context.Context, db *storage.DB) error {
	store := storage.NewStore(db, nil)
	seeding, err := store.Setting(ctx, seedingKey)
	if err != nil {
		return fmt.Errorf("demo: read the seeding mark: %w", err)
	}
	marker, err := store.Setting(ctx, MarkerKey)
	if err != nil {
		return fmt.Errorf("demo: read marker: %w", err)
	}
	if seeding == "" || marker != "" {
		return errors.New("demo: the database holds no interrupted demo seeding; nothing to start over")
	}
	g := db.Gorm.WithContext(ctx)
	switch db.Dialect {
	case storage.Postgres:
		// TRUNCATE fires no row triggers, so the append-only audit log
		// empties with the rest; the schema and its migrations stay.
		var tables []string
		if err := g.Raw(`SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'goose_db_version'`).
			Scan(&tables).Error; err != nil {
			return fmt.Errorf("demo: list tables: %w", err)
		}
		if len(tables) > 0 {
			if err := g.Exec("TRUNCATE " + strings.Join(tables, ", ") + " RESTART IDENTITY CASCADE").Error; err != nil {
				return fmt.Errorf("demo: empty the partial demo: %w", err)
			}
		}
	case storage.SQLite:
		// SQLite has no TRUNCATE and the audit log's triggers refuse a
		// DELETE: every table goes (their triggers with them) and the
		// migrations build the schema again. An implicit DELETE of a
		// dropped table fires no trigger, and with foreign keys off no
		// order is needed.
		var tables []string
		if err := g.Raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).Scan(&tables).Error; err != nil {
			return fmt.Errorf("demo: list tables: %w", err)
		}
		// The pragma holds per connection: all on one.
		err := g.Connection(func(conn *gorm.DB) error {
			if err := conn.Exec("PRAGMA foreign_keys = OFF").Error; err != nil {
				return err
			}
			defer conn.Exec("PRAGMA foreign_keys = ON")
			for _, t := range tables {
				if err := conn.Exec(`DROP TABLE IF EXISTS "` + strings.ReplaceAll(t, `"`, `""`) + `"`).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("demo: empty the partial demo: %w", err)
		}
		if _, err := db.Migrate(ctx); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	default:
		return fmt.Errorf("demo: cannot start over on a %s database", db.Dialect)
	}
	return nil
}

func storedSummary(ctx context.Context, store *storage.Store) (Summary, error) {
	raw, err := store.Setting(ctx, SummaryKey)
	if err != nil {
		return Summary{}, fmt.Errorf("demo: read summary: %w", err)
	}
	var s Summary
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			return Summary{}, fmt.Errorf("demo: stored summary: %w", err)
		}
	}
	return s, nil
}

// build draws the whole county in memory.
func build(opt Options) (*plan, error) {
	p := newPlan(opt)
	p.buildRegions(opt.Households)
	s, err := staffFor(opt.Cadres, len(p.poorVillages))
	if err != nil {
		return nil, err
	}
	p.buildHouseholds(opt.Households)
	p.buildUnits(s)
	accounts := p.buildAccounts()
	p.buildCadres(s)
	p.buildPairings()
	if n := len(p.cadres[0].households); n < 5 || n > 10 {
		return nil, fmt.Errorf("demo: cadre01 got %d households; the demo needs more households per village", n)
	}
	p.accounts = append(accounts, p.cadreAccounts()...)
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("demo: drew invalid data (a bug in package demo): %w", err)
	}
	p.visitPlan = p.buildVisits(opt)
	p.casework = p.buildCasework(opt)
	if err := p.visitPlan.validate(p.today); err != nil {
		return nil, fmt.Errorf("demo: drew an invalid visit (a bug in package demo): %w", err)
	}
	return p, nil
}

func (p *plan) summary() Summary {
	return Summary{Towns: len(p.towns), Villages: len(p.villages), Groups: p.groups, Households: len(p.households),
		Members: p.members, Cadres: len(p.cadres), Units: len(p.units), Pairings: p.pairings, Accounts: p.accounts}
}

// progress passes stage progress to the caller's callback, if any.
type progress struct {
	fn func(stage string, done, total int)
}

func (pr progress) report(stage string, done, total int) {
	if pr.fn != nil {
		pr.fn(stage, done, total)
	}
}

// write stores the plan: regions top down, then units, users and unit
// assignments, then the households with their members, histories and
// pairings in bulk writes (storage.ApplyImport, the importer's write).
func (p *plan) write(ctx context.Context, store *storage.Store, opt Options) error {
	pr := progress{fn: opt.Progress}
	none := domain.AuditEntry{} // one audit entry for the whole demo is written at the end

	regions := []domain.Region{p.province, p.city, p.county}
	for _, t := range p.towns {
		regions = append(regions, t.region)
		for _, v := range t.villages {
			regions = append(regions, v.region)
			for _, g := range v.groups {
				regions = append(regions, g.region)
			}
		}
	}
	pr.report("regions", 0, len(regions))
	for i, r := range regions {
		if err := store.CreateRegion(ctx, r, none); err != nil {
			return fmt.Errorf("create region %s %s: %w", r.Code, r.Name, err)
		}
		if (i+1)%50 == 0 || i+1 == len(regions) {
			pr.report("regions", i+1, len(regions))
		}
	}

	// Units and users go in one bulk write, then the units' assignments.
	users := []domain.User{p.admin, p.supervisor, p.inspector}
	for _, c := range p.cadres {
		users = append(users, c.user)
	}
	plan := importer.Plan{}
	for _, u := range p.units {
		plan.Units = append(plan.Units, u.unit)
	}
	plan.Users = make([]importer.NewUser, len(users))
	hashes, hctx := errgroup.WithContext(ctx)
	hashes.SetLimit(runtime.GOMAXPROCS(0))
	for i, u := range users {
		var fe domain.FieldErrors
		domain.ValidateUser(u, &fe)
		if err := fe.Err(); err != nil {
			return fmt.Errorf("user %s: %w", u.Username, err)
		}
		hashes.Go(func() error {
			h, err := opt.HashPassword(hctx)
			plan.Users[i] = importer.NewUser{User: u, PasswordHash: h}
			return err
		})
	}
	if err := hashes.Wait(); err != nil {
		return fmt.Errorf("hash the demo password: %w", err)
	}
	pr.report("units", 0, len(p.units))
	if err := store.ApplyImport(ctx, plan); err != nil {
		return fmt.Errorf("create units and users: %w", err)
	}
	for _, a := range p.assignments {
		if err := store.CreateUnitAssignment(ctx, a, none); err != nil {
			return fmt.Errorf("create unit assignment: %w", err)
		}
	}
	pr.report("units", len(p.units), len(p.units))
	pr.report("users", len(users), len(users)) // written with the units

	// Households with their members, histories and pairings, in bulk writes
	// of householdBatch households each.
	total := len(p.households)
	pr.report("households", 0, total)
	for lo := 0; lo < total; lo += householdBatch {
		hi := min(lo+householdBatch, total)
		var plan importer.Plan
		for _, hh := range p.households[lo:hi] {
			plan.Households = append(plan.Households, importer.NewHousehold{Household: hh.h, RegionPath: hh.path})
			plan.Members = append(plan.Members, hh.members...)
			for _, s := range hh.steps {
				plan.StatusChanges = append(plan.StatusChanges, s.sc)
				if s.pc != nil {
					plan.PovertyTypeChanges = append(plan.PovertyTypeChanges, *s.pc)
				}
			}
			plan.Pairings = append(plan.Pairings, hh.pairings...)
		}
		if err := store.ApplyImport(ctx, plan); err != nil {
			return fmt.Errorf("create households %d–%d: %w", lo+1, hi, err)
		}
		pr.report("households", hi, total)
	}
	return nil
}

// householdBatch is how many households one bulk write holds: a few
// thousand rows with their members, histories and pairings.
const householdBatch = 250

// validate runs the domain's own checks over what was drawn, so that the
// demo never stores what the API would refuse.
func (p *plan) validate() error {
	check := func(r domain.Region, parent *domain.Region) error {
		if err := domain.ValidateRegion(r, parent); err != nil {
			return fmt.Errorf("region %s %s: %w", r.Code, r.Name, err)
		}
		return nil
	}
	if err := check(p.province, nil); err != nil {
		return err
	}
	if err := check(p.city, &p.province); err != nil {
		return err
	}
	if err := check(p.county, &p.city); err != nil {
		return err
	}
	for _, t := range p.towns {
		if err := check(t.region, &p.county); err != nil {
			return err
		}
		for _, v := range t.villages {
			if err := check(v.region, &t.region); err != nil {
				return err
			}
			for _, g := range v.groups {
				if err := check(g.region, &v.region); err != nil {
					return err
				}
			}
		}
	}
	for _, hh := range p.households {
		h := hh.h
		var fe domain.FieldErrors
		domain.HouseholdDetails{Number: h.Number, HeadName: h.HeadName, Address: h.Address, Phone: h.Phone, Home: h.Home,
			HousingStructure: h.HousingStructure, HousingSafetyGrade: h.HousingSafetyGrade, HousingArea: h.HousingArea,
			ArableLand: h.ArableLand, AnnualIncome: h.AnnualIncome, IncomeNotes: h.IncomeNotes, Causes: h.Causes}.Validate(&fe)
		for i, m := range hh.members {
			md := domain.MemberDetails{Name: m.Name, Relation: m.Relation, IDNumber: m.IDNumber, Health: m.Health,
				Disability: m.Disability, Education: m.Education, Work: m.Work, Phone: m.Phone}
			md.Validate(&fe, fmt.Sprintf("/members/%d", i), p.today)
		}
		if err := fe.Err(); err != nil {
			return fmt.Errorf("household %s: %w (%v)", h.Number, err, fe)
		}
		// Replay the history through the register's transition rules.
		cur := domain.Household{}
		for _, s := range hh.steps {
			pt := ""
			if s.pc != nil {
				pt = s.pc.To
			}
			err := domain.ValidateStatusChange(cur, s.sc.To, s.sc.ExitYear, pt, s.sc.EffectiveOn, p.today)
			if err == nil {
				// A relapse names its cause and a removal its reason, as the
				// status API asks (and the register export writes them).
				var fe domain.FieldErrors
				domain.CheckStatusWhy(&fe, s.sc.To, s.sc.Cause, s.sc.Reason)
				err = fe.Err()
			}
			if err != nil {
				return fmt.Errorf("household %s: %s → %s on %s: %w", h.Number, cur.Status, s.sc.To, s.sc.EffectiveOn, err)
			}
			if s.sc.From != cur.Status {
				return fmt.Errorf("household %s: history out of order", h.Number)
			}
			cur.Status = s.sc.To
			if pt != "" {
				cur.PovertyType = pt
			}
		}
	}
	return nil
}
