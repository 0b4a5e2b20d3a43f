package storage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/photos"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

// TestPhotoStateAnswersWhatAnUploadMustKnow: before an upload stores a
// byte it asks, in one query, for the photo under the id (every column as
// filed) and whether a visit lists the id, and with it (UploadState) for
// the uploader's account and whether their login is in force, as
// SessionUser answers; filing the photo queues for evidence the visits
// that list it and the one it declares, and a second photo under the id
// is a conflict. On PostgreSQL these go natively, on SQLite through GORM:
// the two must answer alike.
func TestPhotoStateAnswersWhatAnUploadMustKnow(t *testing.T) {
	storetest.EachCounty(t, func(t *testing.T, db *storage.DB, s *storage.Store, county storetest.County) {
		ctx := context.Background()
		at := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
		listing, declared := uuid.New(), uuid.New()
		listedID, listedStored := uuid.New(), uuid.New()
		for _, v := range []struct {
			id     uuid.UUID
			photos []uuid.UUID
		}{{listing, []uuid.UUID{listedID, listedStored}}, {declared, nil}} {
			visit := county.Visit(county.HouseholdA.Household.ID, at)
			visit.ID = v.id
			for _, id := range v.photos {
				visit.Photos = append(visit.Photos, domain.PhotoRef{PhotoID: id, SHA256: strings.Repeat("c", 64)})
			}
			if err := s.InsertVisit(ctx, visit); err != nil {
				t.Fatal(err)
			}
		}
		// The visits' own queue rows are assessed first, so that what is
		// claimed after is what filing the photos queued.
		first, err := s.ClaimEvidenceQueue(ctx, 10, time.Now(), time.Now().Add(photos.ClaimLease))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range first {
			if err := s.DoneEvidence(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		taken := at.Add(-time.Hour)
		full := domain.Photo{ID: uuid.New(), CountyID: county.County.ID, UploadedBy: county.CadreA.ID, VisitID: &declared,
			SHA256: strings.Repeat("a", 64), Size: 307200, MediaType: "image/jpeg", Width: 1320, Height: 990, TakenAt: &taken,
			ExifGPS: &domain.GeoPoint{Lat: 34.75, Lon: 113.62}, Camera: "HUAWEI P30", ThumbState: domain.ThumbPending, CreatedAt: at}
		bare := domain.Photo{ID: listedStored, CountyID: county.County.ID, UploadedBy: county.CadreA.ID, SHA256: strings.Repeat("c", 64),
			Size: 1, MediaType: "image/png", Width: 1, Height: 1, ThumbState: domain.ThumbPending, CreatedAt: at}
		for _, p := range []domain.Photo{full, bare} {
			if err := s.InsertPhoto(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		live, ended := uuid.New(), uuid.New()
		for family, hash := range map[uuid.UUID]string{live: "live", ended: "ended"} {
			err := s.SaveRefreshToken(ctx, domain.RefreshToken{ID: uuid.New(), FamilyID: family, UserID: county.CadreA.ID, DeviceID: "phone",
				TokenHash: hash, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RevokeRefreshFamily(ctx, "ended"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name   string
			id     uuid.UUID
			stored *domain.Photo
			listed bool
		}{
			{"no photo, no visit lists the id", uuid.New(), nil, false},
			{"no photo yet, a visit lists the id", listedID, nil, true},
			{"a photo with every column, declaring a visit", full.ID, &full, false},
			{"a photo without the optional columns, listed", listedStored, &bare, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				stored, listed, err := s.PhotoState(ctx, tc.id)
				if err != nil {
					t.Fatal(err)
				}
				if listed != tc.listed {
					t.Errorf("listed = %v; want %v", listed, tc.listed)
				}
				switch {
				case tc.stored == nil && stored != nil:
					t.Errorf("stored = %+v; want none", *stored)
				case tc.stored != nil && stored == nil:
					t.Errorf("stored = none; want %+v", *tc.stored)
				case tc.stored != nil && !samePhoto(*stored, *tc.stored):
					t.Errorf("stored = %+v\nwant     %+v", *stored, *tc.stored)
				}
				for family, wantLive := range map[uuid.UUID]bool{live: true, ended: false, uuid.New(): false} {
					st, err := s.UploadState(ctx, county.CadreA.ID, family, tc.id)
					if err != nil {
						t.Fatal(err)
					}
					sameStored := (st.Stored == nil) == (stored == nil) && (stored == nil || samePhoto(*st.Stored, *stored))
					if st.User.ID != county.CadreA.ID || st.User.Username != county.CadreA.Username || st.Live != wantLive ||
						!sameStored || st.Listed != listed {
						t.Errorf("UploadState(login live %v) = %+v; want the cadre, live %v, and PhotoState's %v, %v", wantLive, st, wantLive, stored, listed)
					}
				}
				if _, err := s.UploadState(ctx, uuid.New(), live, tc.id); domain.ErrorCode(err) != domain.CodeNotFound {
					t.Errorf("UploadState of a user who is gone: %v; want not found", err)
				}
			})
		}
		queued, err := s.ClaimEvidenceQueue(ctx, 10, time.Now(), time.Now().Add(photos.ClaimLease))
		if err != nil {
			t.Fatal(err)
		}
		got := map[uuid.UUID]bool{}
		for _, q := range queued {
			got[q.VisitID] = true
		}
		if len(got) != 2 || !got[listing] || !got[declared] {
			t.Errorf("filing the photos queued %v; want the listing visit %s and the declared one %s", queued, listing, declared)
		}
		again := bare
		again.SHA256 = strings.Repeat("d", 64)
		if err := s.InsertPhoto(ctx, again); domain.ErrorCode(err) != domain.CodeConflict || domain.Reason(err) != "duplicate" {
			t.Errorf("a second photo under an id: %v; want a duplicate conflict", err)
		}
	})
}

func samePhoto(a, b domain.Photo) bool {
	sameTime := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	sameVisit := (a.VisitID == nil) == (b.VisitID == nil) && (a.VisitID == nil || *a.VisitID == *b.VisitID)
	sameGPS := (a.ExifGPS == nil) == (b.ExifGPS == nil) && (a.ExifGPS == nil || *a.ExifGPS == *b.ExifGPS)
	return a.ID == b.ID && a.CountyID == b.CountyID && a.UploadedBy == b.UploadedBy && a.SHA256 == b.SHA256 && a.Size == b.Size &&
		a.MediaType == b.MediaType && a.Width == b.Width && a.Height == b.Height && a.Camera == b.Camera && a.ThumbState == b.ThumbState &&
		a.CreatedAt.Equal(b.CreatedAt) && sameTime(a.TakenAt, b.TakenAt) && sameVisit && sameGPS
}
