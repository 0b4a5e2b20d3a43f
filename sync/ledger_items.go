package sync

import (
	"context"
	"errors"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// LedgerItems is what a push needs of the item ledger (internal/
// itemledger, which sync knows nothing of; the app wires it): a cadre's
// ledger item heard on a visit and recorded offline (四本台账, DESIGN §6b).
type LedgerItems interface {
	// RecordLedgerItem runs in the savepoint of the change, so what it
	// refuses rolls back alone. recordedOn is the day the phone recorded
	// it. created is false when the same item was recorded before under
	// id. Field errors name the item's fields ("/problem",
	// "/household_id").
	RecordLedgerItem(ctx context.Context, tx TxStore, p domain.Principal, id, householdID uuid.UUID, recordedOn domain.Date,
		in wire.LedgerItemData) (created bool, version int64, err error)
}

// ledgerGrace bounds how far back a phone's clock may date an item it
// recorded offline: its deadline is judged from that day.
const ledgerGrace = 30

// createLedgerItem records a cadre's ledger item sent by a phone. Items
// are created on the phone and worked on through the ledger routes
// (start, submit with evidence, 销号 by a supervisor).
func (r recordTx) createLedgerItem(ctx context.Context) (recordOutcome, error) {
	li := r.svc.cfg.LedgerItems
	if li == nil {
		return recordOutcome{}, reject(r.ptr+"/entity", "invalid_enum", "this server keeps no ledger items", "服务器未启用台账")
	}
	if r.ch.HouseholdID == nil {
		return recordOutcome{}, reject(r.ptr+"/household_id", "required", "household_id is required", "缺少农户编号household_id")
	}
	if len(r.ch.Data) == 0 {
		return recordOutcome{}, reject(r.ptr+"/data", "required", "data holds the ledger item", "缺少台账事项内容data")
	}
	var in wire.LedgerItemData
	if err := decodeData(r.ptr+"/data", r.ch.Data, &in); err != nil {
		return recordOutcome{}, err
	}
	recorded := domain.DateOf(r.req.DeviceTime)
	if earliest := r.today.AddDays(-ledgerGrace); recorded.Before(earliest) {
		recorded = earliest
	}
	created, version, err := li.RecordLedgerItem(ctx, r.tx, r.p, r.ch.ID, *r.ch.HouseholdID, recorded, in)
	switch {
	case err == nil && created:
		return recordOutcome{Status: wire.StatusApplied, Version: version}, nil
	case err == nil:
		return recordOutcome{Status: wire.StatusDuplicate, Version: version}, nil
	case abortsBatch(err):
		return recordOutcome{}, err
	}
	return recordOutcome{}, r.ledgerRejection(err)
}

// ledgerRejection names the ledger's refusal under the change: the
// household and id where the change carries them, the rest under data.
func (r recordTx) ledgerRejection(err error) error {
	var de *domain.Error
	if !errors.As(err, &de) {
		return err
	}
	if len(de.Fields) == 0 {
		return rejectAt(r.ptr+"/entity", err)
	}
	fs := make([]domain.FieldError, len(de.Fields))
	for i, f := range de.Fields {
		switch {
		case strings.HasPrefix(f.Field, "/household_id"), f.Field == "/id":
			f.Field = r.ptr + f.Field
		default:
			f.Field = r.ptr + "/data" + f.Field
		}
		fs[i] = f
	}
	return &rejection{fields: fs}
}
