package sync

import (
	"context"
	"errors"
	"strconv"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// queuedCreate is a judged visit create waiting for the next bulk insert.
type queuedCreate struct {
	index int
	visit domain.Visit
}

// runAll applies a batch in order. Visit creates, most of any batch, are
// judged without writing and inserted together with multi-row INSERTs;
// every other change runs alone in its savepoint. Queued creates are
// flushed before any other change, so a later change in the batch always
// sees the creates before it.
func (b *batch) runAll(ctx context.Context, malformed map[int][]domain.FieldError) ([]wire.PushResult, error) {
	results := make([]wire.PushResult, len(b.req.Changes))
	if err := b.lockHouseholds(ctx, malformed); err != nil {
		return nil, err
	}
	var ids []uuid.UUID
	for i, ch := range b.req.Changes {
		if _, bad := malformed[i]; !bad && isCreate(ch) {
			ids = append(ids, ch.ID)
		}
	}
	existing, err := b.tx.VisitsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	queued := map[uuid.UUID]int{}
	var queue []queuedCreate
	flush := func() error {
		if len(queue) == 0 {
			return nil
		}
		err := b.flush(ctx, queue, results)
		queue = queue[:0]
		return err
	}
	for i, ch := range b.req.Changes {
		ptr := "/changes/" + strconv.Itoa(i)
		switch fields, bad := malformed[i]; {
		case bad:
			results[i] = wire.PushResult{Index: i, Entity: ch.Entity, ID: ch.ID, Status: wire.StatusRejected, Errors: fields}
		case isCreate(ch) && b.p.Role != domain.RoleInspector && !carriesCasework(ch):
			// An inspector's visit goes alone (default): it marks their
			// sample done and may carry findings, written in its savepoint;
			// so does a visit whose casework fields write warnings or an
			// income account.
			var prior *domain.Visit
			if v, ok := existing[ch.ID]; ok {
				prior = &v
			} else if j, ok := queued[ch.ID]; ok {
				v := queue[j].visit
				prior = &v
			}
			r := recordTx{batch: b, tx: b.tx, ptr: ptr, ch: ch}
			out, v, _, err := r.prepareCreate(ctx, prior) // only inspectors send findings
			res, err := outcomeResult(i, ch, out, err)
			if err != nil {
				return nil, err
			}
			results[i] = res
			if v != nil {
				queued[v.ID] = len(queue)
				queue = append(queue, queuedCreate{index: i, visit: *v})
			}
		default:
			if err := flush(); err != nil {
				return nil, err
			}
			queued = map[uuid.UUID]int{}
			r, err := b.apply(ctx, i, ch)
			if err != nil {
				return nil, err
			}
			results[i] = r
		}
	}
	return results, flush()
}

// lockHouseholds locks every household the batch may write under before
// any change runs, in the one order every writer uses
// (TxStore.LockHouseholds). Locked change by change, in the batch's order,
// two phones editing the same households in different orders would each
// hold a household the other waits for. A visit's edit or delete names no
// household: the stored visit does, so visits are named by id.
func (b *batch) lockHouseholds(ctx context.Context, malformed map[int][]domain.FieldError) error {
	var households, visits []uuid.UUID
	for i, ch := range b.req.Changes {
		if _, bad := malformed[i]; bad {
			continue
		}
		switch ch.Entity {
		case wire.EntityHousehold:
			households = append(households, ch.ID)
		case wire.EntityVisit:
			visits = append(visits, ch.ID) // a create sent again names a stored visit too
		}
		if ch.HouseholdID != nil {
			households = append(households, *ch.HouseholdID)
		}
	}
	return b.tx.LockHouseholds(ctx, b.p.RegionPath, b.p.UserID, households, visits)
}

func isCreate(ch wire.Change) bool { return ch.Entity == wire.EntityVisit && ch.Op == wire.OpCreate }

// outcomeResult turns a judged change into its result; only an outage is
// returned as an error.
func outcomeResult(i int, ch wire.Change, out recordOutcome, err error) (wire.PushResult, error) {
	res := wire.PushResult{Index: i, Entity: ch.Entity, ID: ch.ID}
	var rej *rejection
	switch {
	case err == nil:
		res.Status, res.Version, res.ConflictIDs, res.Flags = out.Status, out.Version, out.ConflictIDs, wire.FromFlags(out.Flags)
	case errors.As(err, &rej):
		res.Status, res.Errors = wire.StatusRejected, rej.fields
	default:
		return res, err
	}
	return res, nil
}

// flush inserts the queued creates in one savepoint. If the bulk statement
// is refused (a concurrent batch created the same id a moment ago), each
// create is applied on its own, so one refusal never takes the others down.
// An outage or a lost race aborts the batch instead (see abortsBatch).
func (b *batch) flush(ctx context.Context, queue []queuedCreate, results []wire.PushResult) error {
	visits := make([]domain.Visit, len(queue))
	for i, q := range queue {
		visits[i] = q.visit
	}
	err := b.tx.Tx(ctx, func(stx TxStore) error { return stx.InsertVisits(ctx, visits) })
	if err == nil || abortsBatch(err) {
		return err
	}
	b.svc.log.Info("bulk insert refused, applying the batch's creates one by one", "error", err.Error())
	for _, q := range queue {
		r, err := b.apply(ctx, q.index, b.req.Changes[q.index])
		if err != nil {
			return err
		}
		results[q.index] = r
	}
	return nil
}
