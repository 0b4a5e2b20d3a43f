package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// workerMetrics are the gauges of the background work: how far evidence
// judging lags behind arrivals, and what the last reconciliation found.
func (a *App) workerMetrics() []prometheus.Collector {
	lag := func(pick func(n int64, age time.Duration) float64) func() float64 {
		return func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, oldest, err := a.Store.EvidenceLag(ctx)
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
	a.orphanBlobs = prometheus.NewGauge(prometheus.GaugeOpts{Name: "fieldvisit_photo_orphan_blobs",
		Help: "Photo blobs no photo record points at, as of the last reconciliation."})
	a.missingBlobs = prometheus.NewGauge(prometheus.GaugeOpts{Name: "fieldvisit_photo_missing_blobs",
		Help: "Photo records whose bytes are missing from the store, as of the last reconciliation."})
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fieldvisit_evidence_queue_visits",
			Help: "Visits waiting for their evidence flags to be judged."}, lag(func(n int64, _ time.Duration) float64 { return float64(n) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "fieldvisit_evidence_lag_seconds",
			Help: "Age of the oldest visit waiting for its evidence flags."}, lag(func(_ int64, age time.Duration) float64 { return age.Seconds() })),
		a.orphanBlobs, a.missingBlobs,
	}
}

// photoWorkers makes thumbnails and judges evidence as work arrives (or
// every interval, for work another replica queued), expires abandoned
// uploads hourly and reconciles the store with the photo table daily.
func (a *App) photoWorkers(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var lastCleanup, lastReconcile time.Time
	for {
		a.drainPhotoWork(ctx)
		if time.Since(lastCleanup) > time.Hour {
			lastCleanup = time.Now()
			if n, err := a.Photos.CleanupUploads(ctx); err != nil {
				a.Log.Warn("upload cleanup failed", "error", err.Error())
			} else if n > 0 {
				a.Log.Info("abandoned uploads removed", "count", n)
			}
		}
		if time.Since(lastReconcile) > 24*time.Hour {
			lastReconcile = time.Now()
			a.reconcilePhotos(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.Photos.Kicked():
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
		m, err := a.Photos.MakeThumbnails(ctx, 20)
		if err != nil {
			a.Log.Warn("thumbnails failed", "error", err.Error())
			break
		}
		if n == 0 && m == 0 {
			break
		}
	}
}

func (a *App) reconcilePhotos(ctx context.Context) {
	rep, err := a.Photos.Reconcile(ctx, false, 24*time.Hour)
	if err != nil {
		a.Log.Warn("photo reconciliation failed", "error", err.Error())
		return
	}
	a.orphanBlobs.Set(float64(len(rep.BlobsWithoutPhoto)))
	a.missingBlobs.Set(float64(len(rep.PhotosWithoutBlob)))
	if len(rep.PhotosWithoutBlob) > 0 {
		a.Log.Error("photo records without bytes", "count", len(rep.PhotosWithoutBlob))
	}
}
