package sync

import (
	"bytes"
	"context"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// VisitCasework is told of every visit a push writes, in the push's
// transaction, so what the visit records for the casework — risk triggers
// (warnings on the edge and watch lists) and income updates (the year's
// income account) — takes effect with the visit or not at all (the app
// binds internal/casework). before is the stored visit (nil for a
// create); after is what was written (Deleted for a delete). A refusal
// with field errors names fields of the visit's data.
type VisitCasework interface {
	VisitWritten(ctx context.Context, tx TxStore, p domain.Principal, before *domain.Visit, after domain.Visit) error
}

// visitWritten tells the casework of a written visit; its refusal rejects
// the change, visit and all, at the change's data.
func (r recordTx) visitWritten(ctx context.Context, before *domain.Visit, after domain.Visit) error {
	cw := r.svc.cfg.VisitCasework
	if cw == nil {
		return nil
	}
	err := cw.VisitWritten(ctx, r.tx, r.p, before, after)
	if err == nil || abortsBatch(err) {
		return err
	}
	return rejectAt(r.ptr+"/data", err)
}

// carriesCasework tells a visit create whose risk triggers or income
// updates must take effect with it: it goes alone, not in a bulk insert.
func carriesCasework(ch wire.Change) bool {
	for _, f := range []string{"risk_triggers", "income_updates"} {
		raw := bytes.TrimSpace(ch.Data[f])
		if len(raw) > 0 && !bytes.Equal(raw, []byte("null")) && !bytes.Equal(raw, []byte("[]")) {
			return true
		}
	}
	return false
}
