package demo_test
import ("context";"io";"log/slog";"path/filepath";"testing";"time";"fieldvisit/demo";"fieldvisit/photos";"fieldvisit/storage";"fieldvisit/storage/blob")
func TestZZProf(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, _ := openDB(t, "", dir)
	blobs, err := blob.NewLocal(filepath.Join(dir, "photos"))
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return today.Start().Add(9 * time.Hour) }
	svc := photos.NewService(store, blobs, photos.Config{SpoolDir: dir}, now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sum := seed(t, store, withSink(demo.Options{Today: today, PasswordHash: "x"}, servicePhotos{svc}))
	start := time.Now()
	for {
		var n int
		err := store.Tx(ctx, func(tx *storage.Store) error {
			q, err := tx.EvidenceQueue(ctx, 1000)
			n = len(q)
			js := photos.NewService(tx, blobs, svc.Config(), now, slog.New(slog.NewTextHandler(io.Discard, nil)))
			for _, item := range q {
				v, err := tx.Visit(ctx, item.VisitID)
				if err != nil {
					return err
				}
				if err := js.Assess(ctx, v); err != nil {
					return err
				}
				if err := tx.DoneEvidence(ctx, item); err != nil {
					return err
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	t.Logf("judged %d visits in %v", sum.Visits, time.Since(start).Round(time.Millisecond))
_ = demo.Password }
