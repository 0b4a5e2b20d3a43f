package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
	"github.com/fieldvisit/fieldvisit/internal/inspect/forms"
	"github.com/fieldvisit/fieldvisit/storage"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

// visitInspections gives sync the inspection service inside a push: sync
// knows nothing of campaigns, and both services' ports are one storage
// transaction underneath, so the inspector's visit, their sample's done
// mark and their findings commit or roll back together.
type visitInspections struct{ svc *inspect.Service }

func (v visitInspections) Inspects(ctx context.Context, tx fvsync.TxStore, p domain.Principal, householdID uuid.UUID) (bool, error) {
	st, ok := tx.(storage.SyncStore)
	if !ok {
		return false, fmt.Errorf("app: a push runs in storage's transaction, not %T", tx)
	}
	return v.svc.Inspects(ctx, st.Store.Inspect(), p, householdID)
}

func (v visitInspections) InspectionVisit(ctx context.Context, tx fvsync.TxStore, p domain.Principal, visit domain.Visit, arrived bool,
	findings *wire.VisitFindings) (bool, error) {
	st, ok := tx.(storage.SyncStore)
	if !ok {
		return false, fmt.Errorf("app: a push runs in storage's transaction, not %T", tx)
	}
	var in *inspect.VisitFindings
	if findings != nil {
		in = &inspect.VisitFindings{CampaignID: findings.CampaignID, Answers: make(map[string]forms.Answer, len(findings.Answers))}
		for code, a := range findings.Answers {
			in.Answers[code] = forms.Answer(a)
		}
	}
	return v.svc.InspectionVisitIn(ctx, st.Store.Inspect(), p, visit, arrived, in)
}
