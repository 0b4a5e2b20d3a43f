package photos

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/photos/evidence"
)

// AssessQueued judges the evidence of up to limit queued visits (and of
// their cadre's neighbouring visits, whose travel speed a new visit
// changes) and reports how many it judged. A visit whose judgement lost a
// race with another writer (PostgreSQL failed it to break a deadlock) stays
// queued for the next pass; the others are judged meanwhile.
//
// The batch is claimed (ClaimLease) so other replicas assess other visits;
// the visits it did not assess, after a lost race or a failure, are handed
// back at once for the next pass rather than waiting for the lease.
func (s *Service) AssessQueued(ctx context.Context, limit int) (int, error) {
	now := s.now()
	until := now.Add(ClaimLease)
	queued, err := s.store.ClaimEvidenceQueue(ctx, limit, now, until)
	if err != nil {
		return 0, err
	}
	judged := 0
	var left []QueuedVisit
	defer func() {
		if err := s.store.ReleaseEvidenceClaims(context.WithoutCancel(ctx), left, until); err != nil {
			s.log.Warn("handing back unassessed visits failed; they wait for the lease", "error", err.Error())
		}
	}()
	for i, q := range queued {
		err := s.assessQueued(ctx, q)
		switch {
		case err == nil:
			judged++
		case domain.IsLostRace(err):
			s.log.Info("evidence judgement lost a race, the visit stays queued", "visit_id", q.VisitID.String(), "error", err.Error())
			left = append(left, q)
		default:
			left = append(left, queued[i:]...)
			return judged, err
		}
	}
	return judged, nil
}

// ClaimLease is how long a worker holds the visits it claimed from the
// queue before another replica may take them over: a batch (100 visits, a
// few queries each) ends well within it, and a replica killed mid-batch
// delays its visits' flags by no more than this.
const ClaimLease = 2 * time.Minute

func (s *Service) assessQueued(ctx context.Context, q QueuedVisit) error {
	v, err := s.store.Visit(ctx, q.VisitID)
	switch {
	case domain.IsCode(err, domain.CodeNotFound): // never stored (a rolled-back batch queued nothing, but be safe)
	case err != nil:
		return err
	default:
		if err := s.Assess(ctx, v); err != nil {
			return err
		}
		if !v.Deleted {
			prev, next, err := s.store.NeighbourVisits(ctx, v.CadreID, v.ID, v.StartedAt)
			if err != nil {
				return err
			}
			for _, n := range []*domain.Visit{prev, next} {
				if n != nil {
					if err := s.Assess(ctx, *n); err != nil {
						return err
					}
				}
			}
		}
	}
	return s.store.DoneEvidence(ctx, q)
}

// AssessBacklog judges up to limit queued visits in one transaction and
// reports how many it took off the queue: the drain after a bulk load (the
// demo county), where a commit per visit would take minutes on SQLite.
// Unlike AssessQueued it does not judge each visit's neighbours again (they
// were queued themselves when stored), and any failure, a lost race too,
// leaves the whole batch queued.
func (s *Service) AssessBacklog(ctx context.Context, limit int) (int, error) {
	n := 0
	err := s.Tx(ctx, func(tx *Service) error {
		// Claimed in the transaction: its row locks keep other replicas off
		// the batch until it commits, and a failure's rollback undoes the claim.
		now := tx.now()
		queued, err := tx.store.ClaimEvidenceQueue(ctx, limit, now, now.Add(ClaimLease))
		if err != nil {
			return err
		}
		n = len(queued)
		for _, q := range queued {
			v, err := tx.store.Visit(ctx, q.VisitID)
			if err != nil {
				return err
			}
			if err := tx.Assess(ctx, v); err != nil {
				return err
			}
			if err := tx.store.DoneEvidence(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	return n, err
}

// Assess recomputes one visit's evidence flags and stores them with the
// flags the push decided (clock and pairing), which it keeps.
func (s *Service) Assess(ctx context.Context, v domain.Visit) error {
	if v.Deleted {
		return nil
	}
	flags, err := s.evidenceFlags(ctx, v)
	if err != nil {
		return err
	}
	merged := make([]domain.Flag, 0, len(v.Flags)+len(flags))
	for _, f := range v.Flags {
		if !evidence.FlagCodes.Has(f.Code) {
			merged = append(merged, f)
		}
	}
	merged = append(merged, flags...)
	slices.SortStableFunc(merged, func(a, b domain.Flag) int { return compareStrings(a.Code, b.Code) })
	_, err = s.store.SetVisitFlags(ctx, v.CountyID, v.ID, v.Version, merged)
	return err
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// evidenceFlags gathers what the evidence rules need about a visit: the
// household's home, the cadre's visits before and after, and its photos
// with where else their bytes were used.
func (s *Service) evidenceFlags(ctx context.Context, v domain.Visit) ([]domain.Flag, error) {
	h, err := s.store.HouseholdByID(ctx, v.HouseholdID)
	if err != nil {
		return nil, err
	}
	prev, next, err := s.store.NeighbourVisits(ctx, v.CadreID, v.ID, v.StartedAt)
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(v.Photos))
	hashes := make([]string, len(v.Photos))
	for i, p := range v.Photos {
		ids[i], hashes[i] = p.PhotoID, p.SHA256
	}
	links, err := s.store.LinksBySHA256(ctx, hashes)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		ids = append(ids, l.PhotoID)
	}
	stored, err := s.store.PhotosByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	// A visit names its photos by id, and anyone may push a visit naming
	// any id: a listing is the visit's own only when the stored photo is
	// its cadre's upload (or was uploaded for it). Another's photo listed
	// on a visit neither arrives on it (its EXIF would tell the lister
	// where and when it was taken, through the flags) nor makes the
	// owner's visit a reuse. A photo not stored yet is judged when it is.
	own := func(photo, visit, cadre uuid.UUID) bool {
		ph, ok := stored[photo]
		return !ok || ph.UploadedBy == cadre || (ph.VisitID != nil && *ph.VisitID == visit)
	}
	in := evidence.Input{Visit: v, Home: h.Home, Previous: neighbour(prev), Next: neighbour(next)}
	for _, ref := range v.Photos {
		pe := evidence.PhotoEvidence{PhotoID: ref.PhotoID, SHA256: ref.SHA256}
		if !own(ref.PhotoID, v.ID, v.CadreID) {
			in.Photos = append(in.Photos, pe) // never arrives on this visit
			continue
		}
		if ph, ok := stored[ref.PhotoID]; ok && ph.SHA256 == ref.SHA256 {
			pe.Arrived, pe.TakenAt, pe.GPS = true, ph.TakenAt, ph.ExifGPS
		}
		households := map[uuid.UUID]bool{}
		for _, l := range links {
			if l.SHA256 == ref.SHA256 && l.VisitID != v.ID && own(l.PhotoID, l.VisitID, l.CadreID) && !slices.Contains(pe.OtherVisits, l.VisitID) {
				pe.OtherVisits = append(pe.OtherVisits, l.VisitID)
				if l.HouseholdID != v.HouseholdID {
					households[l.HouseholdID] = true
				}
			}
		}
		pe.OtherHouseholds = len(households)
		in.Photos = append(in.Photos, pe)
	}
	return evidence.Assess(s.cfg.Evidence, in), nil
}

func neighbour(v *domain.Visit) *evidence.NeighbourVisit {
	if v == nil {
		return nil
	}
	return evidence.NeighbourOf(*v)
}
