package demo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/demo"
	"github.com/fieldvisit/fieldvisit/internal/photos"
	"github.com/fieldvisit/fieldvisit/internal/photos/evidence"
	"github.com/fieldvisit/fieldvisit/internal/photos/photoimage"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
	"github.com/fieldvisit/fieldvisit/storage/blob"
)

// fakeSink records the photos the demo stores.
type fakeSink struct {
	calls []sinkCall
}

type sinkCall struct {
	Cadre   domain.Principal
	PhotoID uuid.UUID
	VisitID uuid.UUID
	SHA256  string
	JPEG    []byte
}

func (f *fakeSink) PutPhoto(ctx context.Context, cadre domain.Principal, photoID, visitID uuid.UUID, jpeg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sum := sha256.Sum256(jpeg)
	f.calls = append(f.calls, sinkCall{Cadre: cadre, PhotoID: photoID, VisitID: visitID, SHA256: hex.EncodeToString(sum[:]), JPEG: jpeg})
	return nil
}

func allVisits(t *testing.T, store *storage.Store) []domain.Visit {
	t.Helper()
	vs, _, err := store.Visits(context.Background(), domain.VisitFilter{Scope: domain.HouseholdScope{RegionPath: "/"}, Today: today, Limit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(vs, func(a, b int) bool { return vs[a].ID.String() < vs[b].ID.String() })
	return vs
}

func allPairings(t *testing.T, store *storage.Store) map[[2]uuid.UUID][]domain.Pairing {
	t.Helper()
	ps, _, err := store.Pairings(context.Background(), domain.PairingFilter{WithinPath: "/", Limit: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[[2]uuid.UUID][]domain.Pairing{}
	for _, p := range ps {
		k := [2]uuid.UUID{p.HouseholdID, p.CadreID}
		out[k] = append(out[k], p)
	}
	return out
}

func usernames(t *testing.T, store *storage.Store, sum demo.Summary) map[string]uuid.UUID {
	t.Helper()
	out := map[string]uuid.UUID{}
	for _, f := range sum.FakeVisits {
		if f.Cadre == "" {
			continue
		}
		u, _, err := store.UserCredentials(context.Background(), f.Cadre)
		if err != nil {
			t.Fatal(err)
		}
		out[f.Cadre] = u.ID
	}
	return out
}

func withSink(opt demo.Options, sink demo.PhotoSink) demo.Options {
	opt.Photos = sink
	return opt
}

func TestSeedVisits(t *testing.T) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			ctx := context.Background()
			store, db := openDB(t, dialect)
			sink := &fakeSink{}
			var stages []string
			opt := withSink(small(), sink)
			opt.Progress = func(stage string, done, total int) {
				if len(stages) == 0 || stages[len(stages)-1] != stage {
					stages = append(stages, stage)
				}
			}
			sum := seed(t, store, opt)
			if want := []string{"regions", "units", "users", "households", "visits", "photos"}; !reflect.DeepEqual(stages, want) {
				t.Errorf("progress stages %v, want %v", stages, want)
			}
			t.Logf("%d visits, %d with photos, %d photos; fake visits %+v", sum.Visits, sum.VisitsWithPhotos, sum.Photos, sum.FakeVisits)
			vs := allVisits(t, store)
			if len(vs) != sum.Visits || sum.Visits < sum.Pairings*3 {
				t.Fatalf("%d visits stored, summary %d, for %d pairings", len(vs), sum.Visits, sum.Pairings)
			}
			if n := count(t, db, "SELECT count(*) FROM visit_photos"); n != sum.Photos || n != len(sink.calls) || n == 0 {
				t.Errorf("visit_photos %d, summary %d photos, sink got %d", n, sum.Photos, len(sink.calls))
			}
			if n := count(t, db, "SELECT count(*) FROM evidence_queue"); n != sum.Visits {
				t.Errorf("%d visits queued for evidence, want %d", n, sum.Visits)
			}
			if n := count(t, db, "SELECT count(*) FROM devices"); n == 0 || n > sum.Cadres {
				t.Errorf("%d demo phones for %d cadres", n, sum.Cadres)
			}

			pairings := allPairings(t, store)
			homes := map[uuid.UUID]domain.GeoPoint{}
			kinds := map[string]int{}
			refs := map[uuid.UUID]domain.Visit{} // photo id → visit
			first := today.AddDays(-365)
			for _, v := range vs {
				day := domain.DateOf(v.StartedAt)
				paired := false
				for _, p := range pairings[[2]uuid.UUID{v.HouseholdID, v.CadreID}] {
					paired = paired || p.ActiveOn(day)
				}
				if !paired {
					t.Fatalf("visit %s on %s is outside the cadre's pairing", v.ID, day)
				}
				if !day.Before(today) || day.Before(first) {
					t.Fatalf("visit %s on %s, outside the year before %s", v.ID, day, today)
				}
				local := v.StartedAt.In(domain.Shanghai)
				mins := local.Hour()*60 + local.Minute()
				dur := v.EndedAt.Sub(v.StartedAt)
				if mins < 8*60+30 || v.EndedAt.In(domain.Shanghai).Hour() >= 19 || dur < 3*time.Minute || dur > 90*time.Minute {
					t.Errorf("visit %s from %s for %v", v.ID, local, dur)
				}
				var fe domain.FieldErrors
				v.VisitDetails.Validate(&fe, "")
				if err := fe.Err(); err != nil || v.Notes == "" || len(v.GPS) == 0 || len(v.MetWith) == 0 {
					t.Fatalf("visit %s: %v %+v", v.ID, err, v.VisitDetails)
				}
				if v.Kind != domain.KindCondolence && len(v.Checklist) != len(domain.ChecklistItems) {
					t.Errorf("visit %s checklist %v", v.ID, v.Checklist)
				}
				if v.Kind == domain.KindCondolence && !map[time.Month]bool{1: true, 2: true, 8: true, 9: true, 10: true}[day.Month] {
					t.Errorf("condolence visit on %s", day)
				}
				if v.ReceivedAt.Before(*v.EndedAt) || !v.ReceivedAt.Before(today.Start()) || v.Version != 1 || v.DeviceID == "" || len(v.Flags) != 0 {
					t.Errorf("visit %s received %s, version %d, device %q, flags %v", v.ID, v.ReceivedAt, v.Version, v.DeviceID, v.Flags)
				}
				if len(v.Photos) > 0 && day.Before(today.AddDays(-45)) {
					t.Errorf("visit %s on %s has photos", v.ID, day)
				}
				for _, g := range v.GPS {
					if !g.Mock && (g.Accuracy < 5 || g.Accuracy > 40 || g.Provider != "gps") {
						t.Errorf("visit %s GPS %+v", v.ID, g)
					}
				}
				kinds[v.Kind]++
				for _, r := range v.Photos {
					refs[r.PhotoID] = v
				}
				if _, ok := homes[v.HouseholdID]; !ok {
					h, err := store.HouseholdByID(ctx, v.HouseholdID)
					if err != nil {
						t.Fatal(err)
					}
					homes[v.HouseholdID] = *h.Home
				}
			}
			t.Logf("kinds %v", kinds)
			if kinds[domain.KindAssist] < len(vs)/2 || kinds[domain.KindFollowup] == 0 || kinds[domain.KindCondolence] == 0 || kinds[domain.KindInspection] != 0 {
				t.Errorf("kinds %v", kinds)
			}

			// Every stored photo is listed by its visit with its hash, and was
			// uploaded by the visit's cadre.
			for _, c := range sink.calls {
				v, ok := refs[c.PhotoID]
				if !ok || v.ID != c.VisitID || v.CadreID != c.Cadre.UserID || c.Cadre.Role != domain.RoleCadre {
					t.Fatalf("photo %s stored for visit %s by %s; listed by %s", c.PhotoID, c.VisitID, c.Cadre.Username, v.ID)
				}
				for _, r := range v.Photos {
					if r.PhotoID == c.PhotoID && r.SHA256 != c.SHA256 {
						t.Fatalf("photo %s listed with another hash", c.PhotoID)
					}
				}
			}
			if len(refs) != len(sink.calls) {
				t.Errorf("visits list %d photos, %d stored", len(refs), len(sink.calls))
			}

			// Each fake pattern is present in the data.
			ids := usernames(t, store, sum)
			patterns := map[string]demo.FakePattern{}
			for _, f := range sum.FakeVisits {
				patterns[f.Flag] = f
			}
			for _, code := range []string{evidence.FlagPhotoReuse, evidence.FlagFarFromHome, evidence.FlagTooShort, evidence.FlagMockLocation,
				evidence.FlagImpossibleTravel, evidence.FlagNoPhoto, evidence.FlagExifTimeMismatch} {
				if patterns[code].Visits == 0 {
					t.Errorf("no %s pattern in %+v", code, sum.FakeVisits)
				}
			}
			by := func(flag string) []domain.Visit {
				var out []domain.Visit
				for _, v := range vs {
					if v.CadreID == ids[patterns[flag].Cadre] {
						out = append(out, v)
					}
				}
				return out
			}
			n := 0
			for _, v := range by(evidence.FlagFarFromHome) {
				if evidence.Distance(domain.GeoPoint{Lat: v.GPS[0].Lat, Lon: v.GPS[0].Lon}, homes[v.HouseholdID]) >= 5000 {
					n++
				}
			}
			if n != patterns[evidence.FlagFarFromHome].Visits {
				t.Errorf("%d visits 5 km from home, want %d", n, patterns[evidence.FlagFarFromHome].Visits)
			}
			n = 0
			for _, v := range by(evidence.FlagTooShort) {
				if d := v.EndedAt.Sub(v.StartedAt); d >= 3*time.Minute && d < 6*time.Minute {
					n++
				}
			}
			if n != patterns[evidence.FlagTooShort].Visits {
				t.Errorf("%d visits of 3–5 minutes, want %d", n, patterns[evidence.FlagTooShort].Visits)
			}
			n = 0
			for _, v := range by(evidence.FlagMockLocation) {
				if v.GPS[0].Mock {
					n++
				}
			}
			if n != patterns[evidence.FlagMockLocation].Visits {
				t.Errorf("%d visits with mock fixes, want %d", n, patterns[evidence.FlagMockLocation].Visits)
			}
			found := false
			tv := by(evidence.FlagImpossibleTravel)
			for _, a := range tv {
				for _, b := range tv {
					gap := b.StartedAt.Sub(*a.EndedAt)
					d := evidence.Distance(domain.GeoPoint{Lat: a.GPS[0].Lat, Lon: a.GPS[0].Lon}, domain.GeoPoint{Lat: b.GPS[0].Lat, Lon: b.GPS[0].Lon})
					found = found || gap > 0 && gap <= 10*time.Minute && d > 39000 && d < 41000
				}
			}
			if !found {
				t.Error("no two visits 40 km and 10 minutes apart")
			}
			byHash := map[string]map[uuid.UUID]bool{}
			for _, v := range by(evidence.FlagPhotoReuse) {
				for _, r := range v.Photos {
					if byHash[r.SHA256] == nil {
						byHash[r.SHA256] = map[uuid.UUID]bool{}
					}
					byHash[r.SHA256][v.HouseholdID] = true
				}
			}
			reused := 0
			for _, hs := range byHash {
				reused = max(reused, len(hs))
			}
			if reused < 3 {
				t.Errorf("the same photo is on visits to %d households", reused)
			}
			recentBare := 0
			for _, v := range vs {
				if len(v.Photos) == 0 && !domain.DateOf(v.StartedAt).Before(today.AddDays(-45)) {
					recentBare++
				}
			}
			if recentBare < patterns[evidence.FlagNoPhoto].Visits {
				t.Errorf("%d recent visits without photo", recentBare)
			}
			dayOff := 0
			for _, c := range sink.calls {
				info, err := photoimage.Inspect(bytes.NewReader(c.JPEG), int64(len(c.JPEG)), photoimage.DefaultLimits())
				if err != nil || info.TakenAt == nil || info.GPS == nil || info.Width != 480 {
					t.Fatalf("photo %s: %v %+v", c.PhotoID, err, info)
				}
				v := refs[c.PhotoID]
				if off := v.StartedAt.Sub(*info.TakenAt); off >= 23*time.Hour && off <= 27*time.Hour {
					dayOff++
				}
			}
			if dayOff < patterns[evidence.FlagExifTimeMismatch].Visits {
				t.Errorf("%d photos taken a day before their visit, want %d or more", dayOff, patterns[evidence.FlagExifTimeMismatch].Visits)
			}
		})
	}
}

// visitRows is a stable spelling of every visit, for comparing seedings.
func visitRows(t *testing.T, store *storage.Store) []string {
	var out []string
	for _, v := range allVisits(t, store) {
		b, err := json.Marshal([]any{v.ID, v.HouseholdID, v.CadreID, v.DeviceID, v.VisitDetails, v.StartedAtText, v.ReceivedAt, v.ClockOffsetMS, v.Flags})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func TestSeedVisitsIsDeterministic(t *testing.T) {
	storeA, _ := openDB(t, "sqlite")
	storeB, _ := openDB(t, "sqlite")
	sinkA, sinkB := &fakeSink{}, &fakeSink{}
	a, b := seed(t, storeA, withSink(small(), sinkA)), seed(t, storeB, withSink(small(), sinkB))
	if !reflect.DeepEqual(a, b) {
		t.Errorf("summaries differ:\n%+v\n%+v", a, b)
	}
	va, vb := visitRows(t, storeA), visitRows(t, storeB)
	if len(va) == 0 || !reflect.DeepEqual(va, vb) {
		t.Fatalf("visits differ (%d and %d)", len(va), len(vb))
	}
	if len(sinkA.calls) != len(sinkB.calls) {
		t.Fatalf("%d and %d photos", len(sinkA.calls), len(sinkB.calls))
	}
	for i := range sinkA.calls {
		x, y := sinkA.calls[i], sinkB.calls[i]
		if x.PhotoID != y.PhotoID || x.VisitID != y.VisitID || x.SHA256 != y.SHA256 {
			t.Fatalf("photo %d differs: %+v / %+v", i, x.PhotoID, y.PhotoID)
		}
	}
}

// TestVisitFrequency checks the shape of the history on SQLite: registered
// households paired all year are visited 6–10 times, most quarters but not
// all; exited ones about quarterly; a few cadres monthly.
func TestVisitFrequency(t *testing.T) {
	ctx := context.Background()
	store, _ := openDB(t, "sqlite")
	opt := small()
	opt.Households, opt.Cadres = 1000, 50
	seed(t, store, opt)
	first := today.AddDays(-365)
	type key struct{ h, c uuid.UUID }
	perQuarter := map[key]*[4]int{}
	for _, v := range allVisits(t, store) {
		k := key{v.HouseholdID, v.CadreID}
		if perQuarter[k] == nil {
			perQuarter[k] = &[4]int{}
		}
		q := int(v.StartedAt.Sub(first.Start()).Hours()/24) / 92
		perQuarter[k][min(q, 3)]++
	}
	hs, _, err := store.Households(ctx, domain.HouseholdFilter{Scope: domain.HouseholdScope{RegionPath: "/"}, Today: today, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	pairings := allPairings(t, store)
	var regYear, exYear []int
	households, quarters, met, missedSome, monthly, none := 0, 0, 0, 0, 0, 0
	for _, h := range hs {
		if h.Status != domain.StatusRegistered && h.Status != domain.StatusExited {
			continue
		}
		sc, _, err := store.StatusHistory(ctx, h.CountyID, h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(sc) == 0 || sc[len(sc)-1].EffectiveOn.After(first) || sc[0].EffectiveOn.After(first) {
			continue // its status changed during the year
		}
		for k, ps := range pairings {
			if k[0] != h.ID || len(ps) != 1 || ps[0].StartOn.After(first) || ps[0].EndOn != nil {
				continue // only households paired with one cadre all year
			}
			qs := perQuarter[key{h.ID, k[1]}]
			if qs == nil {
				qs = &[4]int{}
			}
			total := qs[0] + qs[1] + qs[2] + qs[3]
			if h.Status == domain.StatusExited {
				exYear = append(exYear, total)
				continue
			}
			regYear = append(regYear, total)
			households++
			missed := false
			for _, n := range qs {
				quarters++
				if n > 0 {
					met++
				} else {
					missed = true
				}
			}
			if missed {
				missedSome++
			}
			if total >= 11 {
				monthly++
			}
			if total == 0 {
				none++
			}
		}
	}
	median := func(xs []int) int {
		sort.Ints(xs)
		if len(xs) == 0 {
			return -1
		}
		return xs[len(xs)/2]
	}
	share := float64(met) / float64(max(1, quarters))
	t.Logf("registered: %d households, median %d visits a year, %.0f%% of quarters visited, %d missed a quarter, %d monthly; exited: %d, median %d",
		households, median(regYear), share*100, missedSome, monthly, len(exYear), median(exYear))
	if households < 20 || len(exYear) < 50 {
		t.Fatalf("too few households paired all year: %d registered, %d exited", households, len(exYear))
	}
	if m := median(regYear); m < 6 || m > 10 {
		t.Errorf("registered households: median %d visits a year, want 6–10", m)
	}
	if m := median(exYear); m < 3 || m > 5 {
		t.Errorf("exited households: median %d visits a year, want about 4", m)
	}
	if share < 0.7 || share > 0.97 {
		t.Errorf("%.2f of registered households' quarters have a visit; want most but not all", share)
	}
	if missedSome == 0 || missedSome > households/2 || monthly == 0 || none > households/10 {
		t.Errorf("%d households missed a quarter, %d monthly, %d none", missedSome, monthly, none)
	}
}

// TestSeedVisitsEvidence stores the photos through the real photo service
// on SQLite, judges every visit as serve --demo does, and checks that each
// planted pattern raises its flag and honest visits raise none.
func TestSeedVisitsEvidence(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, _ := openDB(t, "sqlite")
	blobs, err := blob.NewLocal(filepath.Join(dir, "photos"))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return today.Start().Add(9 * time.Hour) }
	svc := photos.NewService(store.Photos(), blobs, photos.Config{SpoolDir: dir}, now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sum := seed(t, store, withSink(small(), servicePhotos{svc}))
	start := time.Now()
	for {
		n, err := svc.AssessBacklog(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	t.Logf("judged %d visits in %v", sum.Visits, time.Since(start).Round(time.Millisecond))

	faker := map[uuid.UUID]string{}
	for name, id := range usernames(t, store, sum) {
		faker[id] = name
	}
	planted := map[string]bool{}
	for _, f := range sum.FakeVisits {
		planted[f.Flag] = true
	}
	flagged := map[string]int{}
	honest := map[string]int{}
	for _, v := range allVisits(t, store) {
		recent := !domain.DateOf(v.StartedAt).Before(today.AddDays(-45))
		for _, f := range v.Flags {
			flagged[f.Code]++
			if faker[v.CadreID] == "" && recent && f.Code != evidence.FlagNoPhoto && f.Code != evidence.FlagExifTimeMismatch {
				honest[f.Code]++
			}
		}
		if len(v.Photos) == 0 && !hasFlag(v, evidence.FlagNoPhoto) {
			t.Errorf("visit %s without photo is not flagged no_photo: %v", v.ID, v.Flags)
		}
	}
	t.Logf("flags %v", flagged)
	for code := range planted {
		if flagged[code] == 0 {
			t.Errorf("planted %s, but no visit is flagged so", code)
		}
	}
	if len(honest) > 0 {
		t.Errorf("honest cadres' recent visits are flagged: %v", honest)
	}
	for _, code := range []string{evidence.FlagPhotoMissing, evidence.FlagPoorAccuracy, "clock_offset", "future_time", "before_registration", "outside_pairing"} {
		if flagged[code] != 0 {
			t.Errorf("%d visits flagged %s", flagged[code], code)
		}
	}
}

func hasFlag(v domain.Visit, code string) bool {
	for _, f := range v.Flags {
		if f.Code == code {
			return true
		}
	}
	return false
}

// servicePhotos is the adapter serve --demo uses, over the photo service.
type servicePhotos struct{ svc *photos.Service }

func (s servicePhotos) PutPhoto(ctx context.Context, cadre domain.Principal, photoID, visitID uuid.UUID, jpeg []byte) error {
	sum := sha256.Sum256(jpeg)
	_, _, err := s.svc.Put(ctx, cadre, photos.Declared{PhotoID: photoID, SHA256: hex.EncodeToString(sum[:]), ContentType: "image/jpeg",
		Size: int64(len(jpeg)), VisitID: &visitID}, bytes.NewReader(jpeg))
	return err
}

func TestSeedReportsInterruptedVisitSeeding(t *testing.T) {
	for _, stage := range []string{"visits", "photos"} {
		t.Run(stage, func(t *testing.T) {
			ctx := context.Background()
			store, db := openDB(t, "sqlite")
			cctx, cancel := context.WithCancel(ctx)
			opt := withSink(small(), &fakeSink{})
			opt.Progress = func(s string, done, total int) {
				if s == stage && done > 0 {
					cancel()
				}
			}
			if _, err := demo.Seed(cctx, store, opt); err == nil {
				t.Fatal("cancelled seed succeeded")
			}
			if _, ok, err := demo.Seeded(ctx, store); ok || err != nil {
				t.Fatalf("Seeded after an interrupted visit seeding: %v, %v", ok, err)
			}
			if _, err := demo.Seed(ctx, store, withSink(small(), &fakeSink{})); !errors.Is(err, demo.ErrIncomplete) {
				t.Fatalf("seed after an interrupted one: %v, want ErrIncomplete", err)
			}
			if n := count(t, db, "SELECT count(*) FROM visits"); n == 0 {
				t.Error("the interrupted seeding wrote no visits")
			}
		})
	}
}

// busySink answers that the photo store is unavailable the first busy
// times it is asked, as a MinIO cluster that has just formed does.
type busySink struct {
	fakeSink
	busy int
}

func (b *busySink) PutPhoto(ctx context.Context, cadre domain.Principal, photoID, visitID uuid.UUID, jpeg []byte) error {
	if b.busy > 0 {
		b.busy--
		return domain.Unavailable("photo store", 10*time.Millisecond, blob.ErrUnavailable)
	}
	return b.fakeSink.PutPhoto(ctx, cadre, photoID, visitID, jpeg)
}

func TestSeedWaitsForABusyPhotoStore(t *testing.T) {
	store, db := openDB(t, "sqlite")
	sink := &busySink{busy: 3}
	sum := seed(t, store, withSink(small(), sink))
	if n := count(t, db, "SELECT count(*) FROM visit_photos"); n != sum.Photos || n != len(sink.calls) || n == 0 {
		t.Errorf("visit_photos %d, summary %d photos, sink got %d", n, sum.Photos, len(sink.calls))
	}
}
