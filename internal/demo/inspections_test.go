package demo_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/itemledger"
	"github.com/fieldvisit/fieldvisit/internal/photos"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
	"github.com/fieldvisit/fieldvisit/storage/blob"
	"github.com/fieldvisit/fieldvisit/sync"
)

// inspectionServices are the services over store, as serve --demo passes
// them.
func inspectionServices(store *storage.Store) demo.InspectionServices {
	return func(now func() time.Time) (demo.Inspections, demo.Rectifications) {
		return inspect.NewService(store.Inspect(), now), itemledger.NewService(store.ItemLedger(), now)
	}
}

func withInspections(opt demo.Options, store *storage.Store) demo.Options {
	opt.Inspections = inspectionServices(store)
	return opt
}

// readNow is the clock the tests read the demo by: noon on the demo's Today.
func readNow() time.Time { return today.Start().Add(12 * time.Hour) }

func principalOf(t *testing.T, store *storage.Store, username string) domain.Principal {
	t.Helper()
	u, _, err := store.UserCredentials(context.Background(), username)
	if err != nil {
		t.Fatalf("user %s: %v", username, err)
	}
	return domain.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, RegionID: u.RegionID, RegionPath: u.RegionPath, Duties: u.Duties}
}

func townPath(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	paths := strings1(t, db, "SELECT path FROM regions WHERE level = 'town' AND name = $1", name)
	if len(paths) != 1 {
		t.Fatalf("town %q: %d regions", name, len(paths))
	}
	return paths[0]
}

// TestSeedInspections: the demo holds a finished campaign whose report
// lists the planted paper visit, its rectifications in every state and an
// accountability action answered, and a running unannounced campaign
// whose tasks are the inspector's alone.
func TestSeedInspections(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			store, db := openDB(t, dialect)
			sum := seed(t, store, withInspections(small(), store))
			checkInspections(t, store, db, sum)
		})
	}
}

// TestSeedInspectionsWithEvidence is the demo as serve --demo seeds it: the
// photos stored and every visit's evidence judged, so the paper visit's
// flags weigh in the report and the closed item shows the follow-up
// visit's photos.
func TestSeedInspectionsWithEvidence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, db := openDB(t, "sqlite")
	blobs, err := blob.NewLocal(filepath.Join(dir, "photos"))
	if err != nil {
		t.Fatal(err)
	}
	svc := photos.NewService(store.Photos(), blobs, photos.Config{SpoolDir: dir}, readNow, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sum := seed(t, store, withInspections(withSink(small(), servicePhotos{svc}), store))
	for {
		n, err := svc.AssessBacklog(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	checkInspections(t, store, db, sum)
	closed, _, err := itemledger.NewService(store.ItemLedger(), readNow).Items(ctx, principalOf(t, store, "supervisor"),
		itemledger.Query{Kind: itemledger.KindRectification, State: itemledger.Closed, Limit: 10})
	if err != nil || len(closed) != 1 {
		t.Fatalf("closed items: %v, %v", closed, err)
	}
	if len(closed[0].Evidence.PhotoIDs) == 0 {
		t.Errorf("the closed item's evidence has no photo: %+v", closed[0].Evidence)
	}
}

// checkInspections checks what the demo's inspections hold, reading them
// through the services as their users would.
func checkInspections(t *testing.T, store *storage.Store, db *sql.DB, sum demo.Summary) {
	t.Helper()
	ctx := context.Background()
	if len(sum.Inspections) != 2 {
		t.Fatalf("summary lists %d inspections, want 2: %+v", len(sum.Inspections), sum.Inspections)
	}
	finished, running := sum.Inspections[0], sum.Inspections[1]
	svc := inspect.NewService(store.Inspect(), readNow)
	ledger := itemledger.NewService(store.ItemLedger(), readNow)
	sup, checker, admin := principalOf(t, store, "supervisor"), principalOf(t, store, "inspector"), principalOf(t, store, "admin")

	// The finished campaign: a real town's, announced, ended, every sampled
	// household and village inspected.
	if finished.Mode != inspect.ModeAnnounced || finished.Status != inspect.StatusEnded || !strings.HasPrefix(finished.Name, finished.Town) ||
		!strings.HasSuffix(finished.Name, "督查") {
		t.Errorf("finished campaign %+v", finished)
	}
	townPath(t, db, finished.Town)
	fid := uuid.MustParse(finished.ID)
	rep, err := svc.Report(ctx, sup, fid)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Campaign.Status != inspect.StatusEnded || rep.Coverage.Households != finished.Households || rep.Coverage.Done != rep.Coverage.Households ||
		rep.Coverage.VillagesDone != len(rep.Sample.Villages) || rep.Coverage.Households < 10 {
		t.Errorf("coverage %+v of %d sampled", rep.Coverage, finished.Households)
	}

	// The planted paper visit shows: the household remembers one visit and
	// not its cadre, who recorded more and fakes visits; nobody else is
	// listed.
	fakers := map[string]bool{}
	for _, f := range sum.FakeVisits {
		fakers[f.Cadre] = f.Cadre != ""
	}
	if len(finished.PaperHouseholds) == 0 || len(finished.PaperCadres) != len(finished.PaperHouseholds) {
		t.Fatalf("no paper household in the finished campaign: %+v", finished)
	}
	for _, c := range finished.PaperCadres {
		if !fakers[c] {
			t.Errorf("paper household's cadre %s plants no fake-visit pattern (%v)", c, sum.FakeVisits)
		}
	}
	var listed []string
	for _, sc := range rep.LikelyPaper() {
		listed = append(listed, rep.Households[sc.HouseholdID].Number)
		reasons := map[string]bool{}
		for _, r := range sc.Reasons {
			reasons[r.Code] = true
		}
		if sc.Facts.RecalledVisits != 1 || sc.Facts.CadreRecognised || sc.Facts.RecordedVisits < 2 || !reasons["cadre_not_recognised"] || sc.CadreID == nil {
			t.Errorf("likely paper visit %+v", sc)
		}
		t.Logf("likely paper visit: %s, %d points: %+v", rep.Households[sc.HouseholdID].Number, sc.Points, sc.Reasons)
	}
	if !reflect.DeepEqual(listed, finished.PaperHouseholds) {
		t.Errorf("the report lists %v as likely paper visits, the demo planted %v", listed, finished.PaperHouseholds)
	}
	// Most households are fine.
	problems, unhappy := 0, 0
	for _, sc := range rep.Scores {
		if len(sc.Facts.ProblemsFound) > 0 {
			problems++
		}
		if sc.Account.Satisfied != nil && !*sc.Account.Satisfied {
			unhappy++
		}
	}
	if problems == 0 || problems > len(rep.Scores)/4 || unhappy == 0 || unhappy > len(rep.Scores)/5 {
		t.Errorf("%d of %d households with problems, %d unsatisfied", problems, len(rep.Scores), unhappy)
	}
	if ov := rep.Opinion.Overall; ov.SatisfactionRate == nil || *ov.SatisfactionRate < 0.8 || ov.AwarenessRate == nil || *ov.AwarenessRate >= 1 {
		t.Errorf("opinion %+v", ov)
	}

	// Its rectifications, one in each state, the closed one on evidence.
	want := map[string]int{itemledger.Closed: 1, itemledger.Submitted: 1, itemledger.InProgress: 1, itemledger.Overdue: 1}
	if !maps.Equal(finished.Rectifications, want) {
		t.Errorf("summary's rectifications %v, want %v", finished.Rectifications, want)
	}
	items, _, err := ledger.Items(ctx, sup, itemledger.Query{Kind: itemledger.KindRectification, CampaignID: &fid, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	for _, it := range items {
		states[it.State]++
		if it.ResponsibleUserID == nil || it.FindingID == nil || it.HouseholdID == nil {
			t.Errorf("item %+v", it)
		}
		switch it.State {
		case itemledger.Closed:
			v, err := ledger.Item(ctx, sup, itemledger.KindRectification, it.ID)
			if err != nil {
				t.Fatal(err)
			}
			var steps []string
			for _, ev := range v.History {
				steps = append(steps, ev.Action)
			}
			if len(v.Evidence.VisitIDs) != 1 || v.ClosedBy == nil || *v.ClosedBy != sup.UserID ||
				!slices.Equal(steps, []string{itemledger.Create, itemledger.Start, itemledger.Submit, itemledger.Approve}) {
				t.Errorf("closed item %+v, history %v", v, steps)
			}
			visit, err := store.Visit(ctx, uuid.MustParse(v.Evidence.VisitIDs[0]))
			if err != nil || visit.HouseholdID != *v.HouseholdID || visit.CadreID != *v.ResponsibleUserID {
				t.Errorf("the closed item's evidence visit %+v: %v", visit, err)
			}
		case itemledger.Submitted:
			if len(it.Evidence.VisitIDs) != 1 {
				t.Errorf("submitted item's evidence %+v", it.Evidence)
			}
		}
	}
	if !maps.Equal(states, want) {
		t.Errorf("the ledger holds %v, want %v", states, want)
	}
	if r := rep.Rectifications; r.Total() != 4 || r.Overdue != 1 || r.ByStatus[itemledger.Closed] != 1 {
		t.Errorf("the report counts rectifications %+v", r)
	}
	actions, _, err := svc.Actions(ctx, sup, inspect.ActionQuery{CampaignID: &fid, Limit: 10})
	if err != nil || len(actions) != finished.Actions || len(actions) < 2 {
		t.Fatalf("actions %+v (summary %d): %v", actions, finished.Actions, err)
	}
	if !slices.ContainsFunc(actions, func(a inspect.NamedAction) bool { return a.FollowUp != "" && a.FollowedUpOn != nil }) {
		t.Errorf("no action is followed up: %+v", actions)
	}

	// The running campaign: unannounced, drawn, its tasks the inspector's,
	// hidden from the town's own office and cadres.
	rid := uuid.MustParse(running.ID)
	if running.Mode != inspect.ModeUnannounced || running.Status != inspect.StatusDrawn || running.Town == finished.Town || running.Households < 10 {
		t.Errorf("running campaign %+v", running)
	}
	d, err := svc.Sample(ctx, checker, rid)
	if err != nil || d.Campaign.Status != inspect.StatusDrawn || len(d.Sample.Households) != running.Households {
		t.Fatalf("the inspector reads the running campaign's sample: %v", err)
	}
	var tasks []sync.Task
	if err := store.TasksAfter(ctx, checker.UserID, sync.ChildKey{}, 10000, func(tk sync.Task) error { tasks = append(tasks, tk); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(tasks) != running.Households {
		t.Errorf("the inspector has %d active tasks, the running campaign sampled %d", len(tasks), running.Households)
	}
	for _, tk := range tasks {
		if tk.CampaignID != rid || tk.Done {
			t.Errorf("task %+v", tk)
		}
	}
	townSup := domain.Principal{UserID: uuid.New(), Username: "town-office", Role: domain.RoleSupervisor, RegionPath: townPath(t, db, running.Town)}
	for _, p := range []domain.Principal{sup, checker, admin, townSup} {
		list, _, err := svc.Campaigns(ctx, p, inspect.CampaignQuery{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range list {
			names = append(names, c.Name)
		}
		if got, want := slices.Contains(names, running.Name), p.Username != townSup.Username; got != want {
			t.Errorf("%s lists %v", p.Username, names)
		}
	}
	if _, err := svc.Campaign(ctx, townSup, rid); !domain.IsCode(err, domain.CodeNotFound) {
		t.Errorf("the inspected town's office reads the running unannounced campaign: %v", err)
	}
	finishedTown := domain.Principal{UserID: uuid.New(), Username: "town-office", Role: domain.RoleSupervisor, RegionPath: townPath(t, db, finished.Town)}
	if _, err := svc.Report(ctx, finishedTown, fid); err != nil {
		t.Errorf("the inspected town's office reads the finished campaign's report: %v", err)
	}

	// Both draws reproduce from today's population.
	for _, id := range []uuid.UUID{fid, rid} {
		v, err := svc.Verify(ctx, sup, id)
		if err != nil || !v.Reproduced || v.PopulationChanged {
			t.Errorf("verify %s: %+v, %v", id, v, err)
		}
	}
}

// TestSeedInspectionsIsDeterministic: two seedings hold the same
// inspections, but for the ids the services give.
func TestSeedInspectionsIsDeterministic(t *testing.T) {
	storeA, dbA := openDB(t, "sqlite")
	storeB, dbB := openDB(t, "sqlite")
	a, b := seed(t, storeA, withInspections(small(), storeA)), seed(t, storeB, withInspections(small(), storeB))
	for _, s := range []*demo.Summary{&a, &b} {
		for i := range s.Inspections {
			s.Inspections[i].ID = ""
		}
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("summaries differ:\n%+v\n%+v", a.Inspections, b.Inspections)
	}
	for _, q := range []string{
		"SELECT c.name || ' ' || c.seed || ' ' || c.population_hash FROM inspection_campaigns c ORDER BY c.name",
		"SELECT c.name || ' ' || h.number || ' ' || s.stratum FROM inspection_sample s JOIN inspection_campaigns c ON c.id = s.campaign_id JOIN households h ON h.id = s.household_id ORDER BY c.name, s.position",
		"SELECT coalesce(h.number, r.name) || ' ' || f.answers FROM inspection_findings f JOIN regions r ON r.id = f.village_id LEFT JOIN households h ON h.id = f.household_id ORDER BY 1",
		"SELECT h.number || ' ' || i.status || ' ' || i.deadline || ' ' || i.problem FROM ledger_items i JOIN households h ON h.id = i.household_id ORDER BY 1",
		"SELECT kind || ' ' || reason || ' ' || follow_up FROM accountability_actions ORDER BY 1",
	} {
		ra, rb := strings1(t, dbA, q), strings1(t, dbB, q)
		if len(ra) == 0 || !reflect.DeepEqual(ra, rb) {
			t.Errorf("%s: %d and %d rows differ", q, len(ra), len(rb))
		}
	}
}
