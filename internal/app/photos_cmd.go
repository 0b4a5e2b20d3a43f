package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// photosCmd runs the photo maintenance an operator may want by hand:
// `photos reconcile` reports blobs without a photo record, photo records
// whose bytes are gone and stray upload parts; with --fix it deletes the
// orphans and expires abandoned uploads (the server does the report daily
// and the upload cleanup hourly on its own).
func photosCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	sub, args, ok := Subcommand(args, []string{"reconcile"})
	if !ok {
		if IsHelp(args) {
			fmt.Fprintln(stderr, "usage: fieldvisit photos reconcile [--fix] [flags]  (see fieldvisit photos reconcile -h)")
			return nil
		}
		return errors.New("usage: fieldvisit photos reconcile [--fix] [--grace 24h] [flags]")
	}
	fs := NewFlagSet("photos "+sub, stderr)
	cfg.bindStore(fs)
	cfg.bindLogLevel(fs)
	fix := fs.Bool("fix", false, "delete orphan blobs and stray upload parts, expire abandoned uploads")
	grace := fs.Duration("grace", 24*time.Hour, "leave blobs younger than this alone (an upload may be between its bytes and its record)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("photos reconcile: unexpected argument %q", fs.Arg(0))
	}
	app, err := NewApp(ctx, cfg, NewLogger(stderr, cfg.LogLevel))
	if err != nil {
		return err
	}
	defer app.Close()
	rep, err := app.Photos.Reconcile(ctx, *fix, *grace)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "blobs without a photo record: %d\n", len(rep.BlobsWithoutPhoto))
	for _, k := range rep.BlobsWithoutPhoto {
		fmt.Fprintf(stdout, "  %s\n", k)
	}
	fmt.Fprintf(stdout, "photo records whose bytes are missing: %d\n", len(rep.PhotosWithoutBlob))
	for _, id := range rep.PhotosWithoutBlob {
		fmt.Fprintf(stdout, "  %s\n", id)
	}
	fmt.Fprintf(stdout, "stray upload parts: %d\n", len(rep.StrayUploadParts))
	fmt.Fprintf(stdout, "abandoned uploads expired: %d\n", rep.ExpiredUploads)
	if *fix {
		fmt.Fprintf(stdout, "blobs removed: %d\n", rep.Removed)
	} else if len(rep.BlobsWithoutPhoto)+len(rep.StrayUploadParts) > 0 {
		fmt.Fprintln(stdout, "nothing removed; run again with --fix to delete the orphans")
	}
	return nil
}
