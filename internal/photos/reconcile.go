package photos

import (
	"context"
	"errors"
	"path"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/storage/blob"
)

// ReconcileReport is what a pass over the blob store and the photo table
// found, and what it removed.
type ReconcileReport struct {
	BlobsWithoutPhoto []string    // content blobs no photo record points at (older than the grace)
	PhotosWithoutBlob []uuid.UUID // photo records whose bytes are gone: evidence lost, for a person to chase
	StrayUploadParts  []string    // chunks and presigned objects of no known upload
	ExpiredUploads    int         // abandoned uploads cleaned up
	Removed           int         // blobs deleted (only with fix)
}

// Reconcile compares the blob store with the photo table. Blobs younger
// than grace are left alone: an upload may be between storing its bytes and
// recording its photo. With fix it deletes orphan blobs and stray upload
// parts and expires abandoned uploads; photo records without bytes are only
// reported, since deleting them would hide the loss.
func (s *Service) Reconcile(ctx context.Context, fix bool, grace time.Duration) (ReconcileReport, error) {
	var rep ReconcileReport
	cutoff := s.now().Add(-grace)
	var orphans []blob.Info
	err := s.blobs.List(ctx, "photos/", func(i blob.Info) error {
		sha := path.Base(i.Key)
		if !isHexSHA256(sha) || i.ModTime.After(cutoff) {
			return nil
		}
		inUse, err := s.store.SHA256InUse(ctx, sha)
		if err != nil || inUse {
			return err
		}
		orphans = append(orphans, i)
		rep.BlobsWithoutPhoto = append(rep.BlobsWithoutPhoto, i.Key)
		return nil
	})
	if err != nil {
		return rep, s.blobErr(err)
	}
	for after := ""; ; {
		hashes, err := s.store.PhotoHashesAfter(ctx, after, 500)
		if err != nil {
			return rep, err
		}
		if len(hashes) == 0 {
			break
		}
		for _, sha := range hashes {
			_, err := s.blobs.Stat(ctx, contentKey(sha))
			if errors.Is(err, blob.ErrNotFound) {
				ids, err := s.store.PhotosWithSHA256(ctx, sha)
				if err != nil {
					return rep, err
				}
				rep.PhotosWithoutBlob = append(rep.PhotosWithoutBlob, ids...)
			} else if err != nil {
				return rep, s.blobErr(err)
			}
		}
		after = hashes[len(hashes)-1]
	}
	var strays []string
	for _, prefix := range []string{"uploads/", "incoming/"} {
		err := s.blobs.List(ctx, prefix, func(i blob.Info) error {
			if i.ModTime.After(cutoff) {
				return nil
			}
			id, err := uuid.Parse(strings.SplitN(strings.TrimPrefix(i.Key, prefix), "/", 2)[0])
			if err == nil {
				if _, err := s.store.Upload(ctx, id); err == nil {
					return nil
				}
			}
			strays = append(strays, i.Key)
			return nil
		})
		if err != nil {
			return rep, s.blobErr(err)
		}
	}
	rep.StrayUploadParts = strays
	if !fix {
		return rep, nil
	}
	if rep.ExpiredUploads, err = s.CleanupUploads(ctx); err != nil {
		return rep, err
	}
	for _, o := range orphans {
		sha := path.Base(o.Key)
		// Checked again right before deleting: an upload may have recorded
		// a photo for these bytes since the listing.
		if inUse, err := s.store.SHA256InUse(ctx, sha); err != nil || inUse {
			if err != nil {
				return rep, err
			}
			continue
		}
		if err := s.blobs.Delete(ctx, o.Key); err != nil {
			return rep, s.blobErr(err)
		}
		_ = s.blobs.Delete(ctx, thumbKey(sha))
		rep.Removed++
	}
	for _, k := range strays {
		if err := s.blobs.Delete(ctx, k); err != nil {
			return rep, s.blobErr(err)
		}
		rep.Removed++
	}
	return rep, nil
}
