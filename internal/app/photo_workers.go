package app

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fieldvisit/fieldvisit/internal/periodic"
)

// workerMetrics are the gauges of the background work: how far evidence
// judging lags behind arrivals, and what the last reconciliation found.
func (a *App) workerMetrics() []prometheus.Collector {
	queueGauges := func(name, what string, measure func(context.Context) (int64, *time.Time, error)) []prometheus.Collector {
		lag := func(pick func(n int64, age time.Duration) float64) func() float64 {
			return func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				n, oldest, err := measure(ctx)
				if err != nil {
					return -1
				}
				var age time.Duration
				if oldest != nil {
					age = a.Now().Sub(*oldest)
				}
				return pick(n, age)
			}
		}
		return []prometheus.Collector{
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fieldvisit_" + name + "_queue",
				Help: what + " waiting in the queue."}, lag(func(n int64, _ time.Duration) float64 { return float64(n) })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fieldvisit_" + name + "_lag_seconds",
				Help: "Age of the oldest entry of the queue of " + what + "."}, lag(func(_ int64, age time.Duration) float64 { return age.Seconds() })),
		}
	}
	a.orphanBlobs = prometheus.NewGauge(prometheus.GaugeOpts{Name: "fieldvisit_photo_orphan_blobs",
		Help: "Photo blobs no photo record points at, as of the last reconciliation."})
	a.missingBlobs = prometheus.NewGauge(prometheus.GaugeOpts{Name: "fieldvisit_photo_missing_blobs",
		Help: "Photo records whose bytes are missing from the store, as of the last reconciliation."})
	cs := append(queueGauges("evidence", "visits whose evidence flags are to be judged", a.Store.EvidenceLag),
		queueGauges("compliance", "households and cadres whose visit-rule statuses are to be judged", a.Store.ComplianceLag)...)
	return append(cs, a.orphanBlobs, a.missingBlobs)
}

// photoWorkers makes thumbnails and judges evidence as work arrives (or
// every interval, for work another replica queued).
func (a *App) photoWorkers(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		a.drainPhotoWork(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.Photos.Kicked():
		}
	}
}

// periodicJobs runs the jobs due once a period across replicas: expiring
// abandoned uploads, announcing to phones the pairings whose dates began or
// ended them (sync.AnnounceScopeDates) and closing ended periods hourly,
// reconciling the photo store with the photo table daily. They have a
// worker of their own: on the queues' workers they waited until the
// queues ran dry, which a steady stream of uploads may never let happen
// (seen in the cluster test: not run after 6 minutes).
func (a *App) periodicJobs(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	type job struct {
		periodic.Job
		failed, did string
	}
	jobs := []job{
		{periodic.Job{Name: "cleanup-uploads", Every: time.Hour, Lease: 15 * time.Minute, Run: a.Photos.CleanupUploads},
			"upload cleanup failed", "abandoned uploads removed"},
		{periodic.Job{Name: "reconcile-photos", Every: 24 * time.Hour, Lease: 2 * time.Hour, Run: a.reconcilePhotos},
			"photo reconciliation failed", "photo store reconciled"},
		{periodic.Job{Name: "announce-dated-pairings", Every: time.Hour, Lease: 15 * time.Minute, Run: a.Sync.AnnounceScopeDates},
			"announcing dated pairings failed", "dated pairings announced to phones"},
	}
	if a.Config.CloseAfterDays >= 0 {
		jobs = append(jobs, job{periodic.Job{Name: "close-periods", Every: time.Hour, Lease: 15 * time.Minute,
			Run: func(ctx context.Context) (int, error) { return a.Compliance.AutoClose(ctx, a.Config.CloseAfterDays) }},
			"closing ended periods failed", "ended periods closed"})
	}
	for {
		for _, j := range jobs {
			a.periodically(ctx, j.Job, j.failed, j.did)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// drainPhotoWork runs the queues until they are empty or fail.
func (a *App) drainPhotoWork(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := a.Photos.AssessQueued(ctx, 100)
		if err != nil {
			a.Log.Warn("evidence assessment failed", "error", err.Error())
			break
		}
		// One thumbnail at a time, each followed by handing its memory back:
		// decoding a photo is by far the largest allocation the server
		// makes (tens of MB for a 12-megapixel photo), and left to the
		// collector's pace the heap, and the process's RSS, grows to hold
		// several of them while uploads keep arriving.
		m := 0
		for ; m < 20 && ctx.Err() == nil; m++ {
			k, err := a.Photos.MakeThumbnails(ctx, 1)
			if err != nil {
				a.Log.Warn("thumbnails failed", "error", err.Error())
				return
			}
			if k == 0 {
				break
			}
			debug.FreeOSMemory()
		}
		if n == 0 && m == 0 {
			break
		}
	}
}

// reconcilePhotos compares the photo store with the photo table and
// reports what it found in the metrics; it returns the photos found
// without their bytes.
func (a *App) reconcilePhotos(ctx context.Context) (int, error) {
	rep, err := a.Photos.Reconcile(ctx, false, 24*time.Hour)
	if err != nil {
		return 0, err
	}
	a.orphanBlobs.Set(float64(len(rep.BlobsWithoutPhoto)))
	a.missingBlobs.Set(float64(len(rep.PhotosWithoutBlob)))
	if len(rep.PhotosWithoutBlob) > 0 {
		a.Log.Error("photo records without bytes", "count", len(rep.PhotosWithoutBlob))
	}
	return len(rep.PhotosWithoutBlob), nil
}

// periodically runs j if its period is due and no other replica has it,
// logging a failure as a warning and any work it did.
func (a *App) periodically(ctx context.Context, j periodic.Job, failed, did string) {
	ran, n, err := a.jobs.Due(ctx, j)
	switch {
	case err != nil:
		a.Log.Warn(failed, "error", err.Error(), "job", j.Name)
	case ran && n > 0:
		a.Log.Info(did, "count", n, "job", j.Name)
	}
}

// complianceWorker keeps visit-rule statuses current: it judges queued
// households and cadres as work arrives (or every interval, for work other
// replicas or the calendar brought), and queues every subject not yet
// judged for the year, so a household nobody visited still shows as owed.
func (a *App) complianceWorker(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		a.drainCompliance(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.Compliance.Kicked():
		}
	}
}

// drainCompliance judges until nothing is queued or unjudged.
func (a *App) drainCompliance(ctx context.Context) {
	for ctx.Err() == nil {
		queued, err := a.Compliance.QueueUnjudged(ctx, 2000)
		if err != nil {
			a.Log.Warn("queueing unjudged subjects failed", "error", err.Error())
			return
		}
		n, err := a.Compliance.JudgeQueued(ctx, 200)
		if err != nil {
			a.Log.Warn("judging compliance failed", "error", err.Error())
			return
		}
		if n == 0 && queued == 0 {
			return
		}
	}
}
