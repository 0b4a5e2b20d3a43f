package sync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// Config tunes the protocol; zero values take the defaults.
type Config struct {
	KeepKeys time.Duration     // how long a push answer is replayable (≥ 90 days)
	Clock    domain.ClockRules // what device times are plausible
	// A snapshot holds its page in memory until it is sent: at most
	// SnapshotHouseholds households a snapshot (default 5,000, ~13 MB of
	// JSON) and Snapshots snapshots at once (default 4; more wait).
	SnapshotHouseholds int
	Snapshots          int
	// ReadAheadRecords bounds what a paged walk's windows keep for the
	// pages after the one they were read for, in records for all callers
	// (default 20,000, some 20 MB; negative: read every page on its own).
	ReadAheadRecords int
	// Due reads the cadre's due list for the last page of a pull; nil
	// leaves it out.
	Due DueList
	// Inspections is told of inspectors' visits as they are written; nil
	// leaves samples alone and refuses findings sent with visits.
	Inspections Inspections
	// IncomeAccounts takes income_account changes; nil refuses them.
	IncomeAccounts IncomeAccounts
	// LedgerItems records the cadres' ledger items phones send; nil
	// refuses them.
	LedgerItems LedgerItems
	// VisitCasework takes what visits record for the casework (risk
	// triggers, income updates); nil stores the fields only.
	VisitCasework VisitCasework
}

// Service runs pushes and pulls.
type Service struct {
	store     Store
	cfg       Config
	now       func() time.Time
	log       *slog.Logger
	snapshots chan struct{}
	ahead     *readAhead
}

// NewService builds the sync service; now is the server clock.
func NewService(store Store, cfg Config, now func() time.Time, log *slog.Logger) *Service {
	if cfg.KeepKeys < 90*24*time.Hour {
		cfg.KeepKeys = 90 * 24 * time.Hour
	}
	if cfg.SnapshotHouseholds <= 0 {
		cfg.SnapshotHouseholds = 5000
	}
	if cfg.Snapshots <= 0 {
		cfg.Snapshots = 4
	}
	if now == nil {
		now = time.Now
	}
	switch {
	case cfg.ReadAheadRecords == 0:
		cfg.ReadAheadRecords = 20000
	case cfg.ReadAheadRecords < 0:
		cfg.ReadAheadRecords = 0
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{store: store, cfg: cfg, now: now, log: log, snapshots: make(chan struct{}, cfg.Snapshots),
		ahead: newReadAhead(cfg.ReadAheadRecords, now)}
}

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,100}$`)

// KeyProblem says what is wrong with an Idempotency-Key header ("" if fine).
func KeyProblem(key string) error {
	if key == "" {
		return domain.Invalid(domain.FieldError{Field: "Idempotency-Key", Reason: "required", Message: "the Idempotency-Key header is required",
			MessageZH: "缺少Idempotency-Key请求头"})
	}
	if !keyPattern.MatchString(key) {
		return domain.Invalid(domain.FieldError{Field: "Idempotency-Key", Reason: "invalid_format",
			Message: "Idempotency-Key must be 1–100 letters, digits or . _ : -", MessageZH: "Idempotency-Key格式不正确"})
	}
	return nil
}

var errClaimed = errors.New("idempotency key already claimed")

// Push applies a batch exactly once. body is the raw request (its hash binds
// the key); req is it decoded. The answer and the batch's effects commit in
// one transaction, so a 200 means both are durable, and a replay of the key
// returns the stored bytes unchanged. The same key with another body is
// refused.
//
// malformed holds, by index, the changes that could not even be decoded;
// they are answered as rejected with those errors.
func (s *Service) Push(ctx context.Context, p domain.Principal, key string, body []byte, req wire.PushRequest, malformed map[int][]domain.FieldError) ([]byte, error) {
	if err := KeyProblem(key); err != nil {
		return nil, err
	}
	if len(req.Changes) > wire.MaxPushChanges {
		return nil, &domain.Error{Code: domain.CodeTooLarge, Message: "a batch holds at most 500 changes", MessageZH: "每批最多500条记录",
			Fields: []domain.FieldError{{Field: "/changes", Reason: "too_many", Message: "at most 500 changes", MessageZH: "每批最多500条记录"}}}
	}
	var fe domain.FieldErrors
	if !domain.ValidDeviceID(req.DeviceID) {
		fe.Add("/device_id", "invalid_format", "device_id must be 1–100 letters, digits or . _ : -", "设备编号格式不正确")
	}
	switch y := req.DeviceTime.Year(); {
	case req.DeviceTime.IsZero():
		fe.Required("/device_time", "设备时间")
	case y < 1970 || y > domain.LastYear:
		// A clock reset to 1970 still syncs (its offset is recorded and
		// its visits judged); years beyond are no clock, and the offset in
		// milliseconds would not fit.
		fe.Add("/device_time", "out_of_range", fmt.Sprintf("device_time must lie between 1970 and %d", domain.LastYear),
			fmt.Sprintf("设备时间应在1970年至%d年之间", domain.LastYear))
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	received := s.now().UTC()
	var out []byte
	err := s.store.Tx(ctx, func(tx TxStore) error {
		claimed, err := tx.ClaimIdempotencyKey(ctx, p.UserID, key, hash, received, s.cfg.KeepKeys)
		if err != nil {
			return err
		}
		if !claimed {
			return errClaimed
		}
		resp := wire.PushResponse{ReceivedAt: received, ClockOffsetMS: received.Sub(req.DeviceTime).Milliseconds(), Results: make([]wire.PushResult, 0, len(req.Changes))}
		b := batch{svc: s, tx: tx, p: p, req: req, received: received, offsetMS: resp.ClockOffsetMS, today: domain.DateOf(received)}
		results, err := b.runAll(ctx, malformed)
		if err != nil {
			return err // the database is gone or a race was lost: nothing of the batch commits
		}
		for _, r := range results {
			if r.Status == wire.StatusRejected {
				resp.Rejected++
			} else {
				resp.Applied++
			}
		}
		resp.Results = results
		if out, err = json.Marshal(resp); err != nil {
			return err
		}
		return tx.SaveResponse(ctx, p.UserID, key, 200, out)
	})
	if errors.Is(err, errClaimed) {
		return s.replay(ctx, p, key, hash)
	}
	if err != nil {
		return nil, err
	}
	// Number the new feed rows now so phones see them on their next pull
	// without waiting; a failure here only delays that. The batch is committed: number its feed rows even if the phone has
	// already hung up.
	if _, err := s.store.SequenceChanges(context.WithoutCancel(ctx)); err != nil {
		s.log.Warn("sequencing after push failed", "error", err.Error())
	}
	return out, nil
}

// Replay answers a batch that was already applied under key, before the
// body is even decoded: a phone retrying after a lost answer costs one
// hash and one read. found is false when the key is new.
func (s *Service) Replay(ctx context.Context, p domain.Principal, key string, body []byte) (out []byte, found bool, err error) {
	if KeyProblem(key) != nil {
		return nil, false, nil
	}
	sum := sha256.Sum256(body)
	_, _, stored, err := s.store.StoredResponse(ctx, p.UserID, key)
	if domain.IsCode(err, domain.CodeNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if len(stored) == 0 {
		return nil, false, nil // claimed by a batch still in flight: Push waits for it
	}
	out, err = s.replay(ctx, p, key, hex.EncodeToString(sum[:]))
	return out, true, err
}

func (s *Service) replay(ctx context.Context, p domain.Principal, key, hash string) ([]byte, error) {
	storedHash, _, body, err := s.store.StoredResponse(ctx, p.UserID, key)
	if err != nil {
		return nil, err
	}
	if storedHash != hash {
		return nil, domain.Invalid(domain.FieldError{Field: "Idempotency-Key", Reason: "key_reused",
			Message: "this Idempotency-Key was used for a different batch", MessageZH: "该Idempotency-Key已用于另一批数据，请使用新的Key"})
	}
	return body, nil
}

// CleanupKeys deletes idempotency keys past their expiry.
func (s *Service) CleanupKeys(ctx context.Context) (int64, error) {
	return s.store.DeleteExpiredKeys(ctx, s.now())
}

// batch is one push being applied inside its transaction.
type batch struct {
	svc      *Service
	tx       TxStore
	p        domain.Principal
	req      wire.PushRequest
	received time.Time
	offsetMS int64
	today    domain.Date
	// households caches the scope lookups of this batch: a phone's batch
	// holds many visits to the same few households.
	households map[uuid.UUID]domain.Household
}

// rejection is a per-record refusal: its savepoint rolls back, the batch goes on.
type rejection struct{ fields []domain.FieldError }

func (r *rejection) Error() string { return "rejected" }

func reject(field, reason, msg, msgZH string) error {
	return &rejection{fields: []domain.FieldError{{Field: field, Reason: reason, Message: msg, MessageZH: msgZH}}}
}

func rejectAll(prefix string, err error) error {
	var de *domain.Error
	if errors.As(err, &de) && len(de.Fields) > 0 {
		fs := make([]domain.FieldError, len(de.Fields))
		for i, f := range de.Fields {
			f.Field = prefix + f.Field
			fs[i] = f
		}
		return &rejection{fields: fs}
	}
	return err
}

// apply runs one change in a savepoint: a rejection or an unexpected error
// rolls back that change only. An outage or a lost race (a deadlock, a
// serialisation failure) aborts the batch: nothing is wrong with the
// change, and answering it as rejected would store that refusal under the
// key for ever, where the same batch sent again would apply it.
func (b *batch) apply(ctx context.Context, i int, ch wire.Change) (wire.PushResult, error) {
	ptr := "/changes/" + strconv.Itoa(i)
	res := wire.PushResult{Index: i, Entity: ch.Entity, ID: ch.ID}
	err := b.tx.Tx(ctx, func(rtx TxStore) error {
		r := recordTx{batch: b, tx: rtx, ptr: ptr, ch: ch}
		out, err := r.run(ctx)
		if err != nil {
			return err
		}
		res.Status, res.Version, res.ConflictIDs, res.Flags = out.Status, out.Version, out.ConflictIDs, wire.FromFlags(out.Flags)
		return nil
	})
	var rej *rejection
	switch {
	case err == nil:
		return res, nil
	case errors.As(err, &rej):
		res.Status, res.Errors = wire.StatusRejected, rej.fields
		return res, nil
	case abortsBatch(err):
		return res, err
	default:
		b.svc.log.Error("push record failed", "error", err.Error(), "entity", ch.Entity, "request_id", b.p.RequestID)
		res.Status = wire.StatusRejected
		res.Errors = []domain.FieldError{{Field: ptr, Reason: "internal_error", Message: "the server could not store this record; it was logged", MessageZH: "服务器未能保存该记录，已记录日志"}}
		return res, nil
	}
}

// abortsBatch tells the failures after which a batch must not go on: the
// database is gone, or it failed a statement to settle a race with another
// transaction. Either way the batch rolls back whole, nothing is stored
// under its key, and the phone sends the same batch again (503 or 409).
func abortsBatch(err error) bool {
	return domain.IsCode(err, domain.CodeUnavailable) || domain.IsLostRace(err)
}

// decodeData decodes a change's data fields into dst as every request
// body is decoded (wire.DecodeStrict), naming offending values under prefix.
func decodeData(prefix string, fields map[string]json.RawMessage, dst any) error {
	b, err := json.Marshal(fields)
	if err != nil {
		return reject(prefix, "invalid_value", "data is not a JSON object", "data应为JSON对象")
	}
	return rejectAll(prefix, wire.DecodeStrict(b, dst))
}
