package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/wire"
)

// BatchReport describes one push batch a call worked on.
type BatchReport struct {
	Key     string `json:"key"`
	Changes int    `json:"changes"`
	Resumed bool   `json:"resumed"` // formed before this call: by an earlier call or an earlier process
	Status  int    `json:"status"`  // HTTP status of the definitive answer; 0 when there was none
}

// PushReport is what one Push did.
type PushReport struct {
	Batches  []BatchReport
	Outcomes []Outcome // per change, in batch order
}

// Count returns how many outcomes have the given status (wire.Status*).
func (r PushReport) Count(status string) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Result.Status == status {
			n++
		}
	}
	return n
}

// BatchRefusedError says the server refused a whole batch as malformed
// (400, 413 for a single change, 422): a bug, not a network fault. Its
// changes were moved to Failed() so the rest of the outbox can go.
type BatchRefusedError struct {
	Key     string
	Changes int
	Err     *ProblemError
}

func (e *BatchRefusedError) Error() string {
	return fmt.Sprintf("client: batch %s (%d changes) refused: %v", e.Key, e.Changes, e.Err)
}

func (e *BatchRefusedError) Unwrap() error { return e.Err }

// Push sends the outbox in batches until it is empty. Each batch gets an
// Idempotency-Key saved with its exact body before the first send; every
// retry — after a timeout, a dropped connection, a 5xx, a 409 (a race the
// server lost and rolled back), or a restart of the process — sends the same bytes
// with the same key, so the server applies the batch once and answers a
// replay with the stored response. Only a 2xx removes the batch's changes,
// and their outcomes are recorded (Outcomes, Config.OnOutcome, the report).
// On error the report says what was done before it.
func (c *Client) Push(ctx context.Context) (PushReport, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	var rep PushReport
	formed := map[string]bool{}
	requeued := map[int64]bool{}
	for {
		b, err := c.nextBatch(formed, requeued)
		if err != nil || b == nil {
			return rep, err
		}
		br := BatchReport{Key: b.Key, Changes: len(b.Changes), Resumed: !formed[b.Key]}
		a, err := c.call(ctx, http.MethodPost, "/api/v1/sync/push", b.Body, reqOpts{authed: true, retry409: true, deviceTime: true, report: true,
			header: http.Header{"Idempotency-Key": {b.Key}}})
		if err != nil {
			rep.Batches = append(rep.Batches, br)
			return rep, err
		}
		br.Status = a.status
		rep.Batches = append(rep.Batches, br)
		switch {
		case a.status >= 200 && a.status < 300:
			var resp wire.PushResponse
			if err := json.Unmarshal(a.body, &resp); err != nil {
				return rep, fmt.Errorf("client: push %s: unreadable answer %d (batch kept): %w", b.Key, a.status, err)
			}
			outs, err := c.ack(b, resp, requeued)
			rep.Outcomes = append(rep.Outcomes, outs...)
			if err != nil {
				return rep, err
			}
			if c.cfg.OnOutcome != nil {
				for _, o := range outs {
					c.cfg.OnOutcome(o)
				}
			}
		case a.status == http.StatusRequestEntityTooLarge && len(b.Changes) > 1:
			c.logf("client: batch %s of %d changes is too large; splitting it", b.Key, len(b.Changes))
			if err := c.split(b); err != nil {
				return rep, err
			}
		case a.status == http.StatusBadRequest || a.status == http.StatusRequestEntityTooLarge || a.status == http.StatusUnprocessableEntity:
			pe := problemOf(http.MethodPost, "/api/v1/sync/push", a)
			outs, err := c.refuse(b, pe)
			rep.Outcomes = append(rep.Outcomes, outs...)
			if err != nil {
				return rep, err
			}
			return rep, &BatchRefusedError{Key: b.Key, Changes: len(b.Changes), Err: pe}
		default:
			return rep, problemOf(http.MethodPost, "/api/v1/sync/push", a)
		}
	}
}

// nextBatch returns the batch in flight, or forms one from the outbox and
// saves it (key and body) before it is ever sent.
func (c *Client) nextBatch(formed map[string]bool, requeued map[int64]bool) (*batch, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return nil, err
	}
	if c.st.Inflight != nil {
		return c.st.Inflight, nil
	}
	if len(c.st.Outbox) == 0 || requeued[c.st.Outbox[0].Seq] {
		return nil, nil
	}
	limit := c.cfg.BatchChanges
	if c.st.MaxChanges > 0 && c.st.MaxChanges < limit {
		limit = c.st.MaxChanges
	}
	var take []*pending
	size := 200
	for _, p := range c.st.Outbox {
		if len(take) >= limit || requeued[p.Seq] {
			break // a change sent again after a server failure waits for the next Push
		}
		if p.ResolveBase {
			v := c.st.knownVersion(recKey(p.Change.Entity, p.Change.ID))
			if v == 0 && len(take) > 0 {
				// Its create is not acknowledged yet (it may be in this
				// very batch): this edit goes in the next batch.
				break
			}
			p.Change.BaseVersion = v
			p.ResolveBase = false
		}
		n := len(mustJSON(p.Change)) + 1
		if len(take) > 0 && size+n > c.cfg.BatchBytes {
			break
		}
		size += n
		take = append(take, p)
	}
	changes := make([]wire.Change, len(take))
	for i, p := range take {
		changes[i] = p.Change
	}
	b := &batch{Key: uuid.NewString(), Changes: take, DeviceTime: c.now()}
	body, err := json.Marshal(wire.PushRequest{DeviceID: c.cfg.DeviceID, DeviceTime: b.DeviceTime, Changes: changes})
	if err != nil {
		return nil, err
	}
	b.Body = body
	c.st.Inflight = b
	c.st.Outbox = append([]*pending(nil), c.st.Outbox[len(take):]...)
	if err := c.saveLocked(); err != nil {
		return nil, err
	}
	formed[b.Key] = true
	return b, nil
}

// ack records a 2xx answer: the batch leaves the phone, its stored changes
// stay visible until a pull brings them back. A change the server failed on
// unexpectedly (rejected with internal_error, which a replay of the key
// would repeat) goes back to the head of the outbox, to be sent again in a
// new batch by a later Push.
func (c *Client) ack(b *batch, resp wire.PushResponse, requeued map[int64]bool) ([]Outcome, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return nil, err
	}
	if c.st.Inflight == nil || c.st.Inflight.Key != b.Key {
		return nil, fmt.Errorf("client: batch %s is no longer in flight", b.Key)
	}
	byIndex := make(map[int]wire.PushResult, len(resp.Results))
	for _, r := range resp.Results {
		byIndex[r.Index] = r
	}
	now := c.now()
	outs := make([]Outcome, 0, len(b.Changes))
	var again []*pending
	for i, p := range b.Changes {
		r, ok := byIndex[i]
		if !ok {
			c.logf("client: batch %s: no result for change %d (%s %s %s)", b.Key, i, p.Change.Op, p.Change.Entity, p.Change.ID)
			r = wire.PushResult{Index: i, Entity: p.Change.Entity, ID: p.Change.ID}
		}
		o := Outcome{BatchKey: b.Key, Change: p.Change, Result: r, At: now}
		if r.Status == wire.StatusRejected && internalError(r) {
			c.st.NextSeq++
			again = append(again, &pending{Seq: c.st.NextSeq, Change: p.Change, MadeAt: p.MadeAt})
			requeued[c.st.NextSeq] = true
			o.Requeued = true
		}
		outs = append(outs, o)
		switch r.Status {
		case wire.StatusApplied, wire.StatusMerged, wire.StatusConflict, wire.StatusDuplicate:
			c.st.AckSeq++
			ch := p.Change
			c.st.Acked = append(c.st.Acked, &acked{Key: recKey(ch.Entity, ch.ID), Entity: ch.Entity, ID: ch.ID, HouseholdID: ch.HouseholdID,
				Op: ch.Op, Data: ch.Data, Version: r.Version, AckSeq: c.st.AckSeq})
		}
	}
	// Changes to go again are older than anything in the outbox: they go
	// first, so an update never overtakes its create.
	c.st.Outbox = append(again, c.st.Outbox...)
	c.st.Inflight = nil
	c.st.MaxChanges = 0
	c.st.Outcomes = append(c.st.Outcomes, outs...)
	if over := len(c.st.Outcomes) - c.cfg.KeepOutcomes; over > 0 {
		c.st.Outcomes = append([]Outcome(nil), c.st.Outcomes[over:]...)
	}
	return outs, c.saveLocked()
}

func internalError(r wire.PushResult) bool {
	for _, e := range r.Errors {
		if e.Reason == "internal_error" {
			return true
		}
	}
	return false
}

// split puts a batch the server found too large back at the head of the
// outbox and halves the batch size. Safe: a 413 committed nothing.
func (c *Client) split(b *batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Inflight = nil
	c.st.MaxChanges = max(1, len(b.Changes)/2)
	c.st.Outbox = append(append([]*pending(nil), b.Changes...), c.st.Outbox...)
	return c.saveLocked()
}

// refuse moves a refused batch's changes to Failed.
func (c *Client) refuse(b *batch, pe *ProblemError) ([]Outcome, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	var outs []Outcome
	for i, p := range b.Changes {
		o := Outcome{BatchKey: b.Key, Change: p.Change, At: now,
			Result: wire.PushResult{Index: i, Entity: p.Change.Entity, ID: p.Change.ID, Status: wire.StatusRejected, Errors: pe.Problem.Errors}}
		outs = append(outs, o)
	}
	c.st.Failed = append(c.st.Failed, outs...)
	c.st.Inflight = nil
	c.st.MaxChanges = 0
	return outs, c.saveLocked()
}

// PullReport is what one Pull did.
type PullReport struct {
	Pages   int
	Changes int
	Resync  bool // the pull started from an empty cursor (a full snapshot)
}

// Pull fetches every change in the cadre's scope since the stored cursor,
// page by page until has_more is false. Each page is applied to the replica
// by version (a delete drops the record) and saved together with the page's
// cursor, so an interrupted pull resumes where it stopped. A pull from an
// empty cursor is a full snapshot: records it does not mention are dropped.
func (c *Client) Pull(ctx context.Context) (PullReport, error) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	var rep PullReport
	c.mu.Lock()
	if err := c.usableLocked(); err != nil {
		c.mu.Unlock()
		return rep, err
	}
	startAck := c.st.AckSeq
	c.mu.Unlock()
	reset := false
	for {
		c.mu.Lock()
		cursor := c.st.Cursor
		c.mu.Unlock()
		if cursor == "" {
			rep.Resync = true
		}
		q := url.Values{"limit": {strconv.Itoa(c.cfg.PullLimit)}}
		endpoint := "/api/v1/sync/pull"
		whole := cursor == "" && !c.cfg.PagedSnapshot && !c.pageSnapshots
		if whole {
			// A fresh replica asks for its whole scope in one answer.
			endpoint = "/api/v1/sync/snapshot"
		} else if cursor != "" {
			q.Set("cursor", cursor)
		}
		a, err := c.call(ctx, http.MethodGet, endpoint+"?"+q.Encode(), nil, reqOpts{authed: true, report: true})
		if err != nil {
			if whole && ctx.Err() == nil {
				// Perhaps the link cannot carry it in one piece: page
				// from now on.
				c.logf("client: snapshot failed (%v); paging it from now on", err)
				c.pageSnapshots = true
			}
			return rep, err
		}
		if a.status != http.StatusOK {
			pe := problemOf(http.MethodGet, endpoint, a)
			if whole && (a.status == http.StatusNotFound || tooLargeScope(pe)) {
				c.logf("client: snapshot refused (%v); paging it", pe)
				c.pageSnapshots = true
				continue
			}
			if (a.status == http.StatusBadRequest || a.status == http.StatusUnprocessableEntity) && cursor != "" && !reset && aboutCursor(pe) {
				// The server no longer understands our cursor: start over
				// with a full snapshot.
				c.logf("client: pull cursor refused (%v); pulling a full snapshot", pe)
				reset = true
				c.mu.Lock()
				c.st.Cursor = ""
				err := c.saveLocked()
				c.mu.Unlock()
				if err != nil {
					return rep, err
				}
				continue
			}
			return rep, pe
		}
		var page wire.PullResponse
		if err := json.Unmarshal(a.body, &page); err != nil {
			return rep, fmt.Errorf("client: pull: unreadable answer: %w", err)
		}
		if err := c.applyPage(page, cursor == "", startAck); err != nil {
			return rep, err
		}
		rep.Pages++
		rep.Changes += len(page.Changes)
		if !page.HasMore {
			return rep, nil
		}
		if page.Cursor == cursor && len(page.Changes) == 0 {
			return rep, errors.New("client: pull: the server says there is more but the cursor did not move")
		}
	}
}

// tooLargeScope reports whether a snapshot was refused because the scope
// is too large to send whole.
func tooLargeScope(pe *ProblemError) bool {
	for _, f := range pe.Problem.Errors {
		if f.Field == "scope" && f.Reason == "too_large" {
			return true
		}
	}
	return false
}

func aboutCursor(pe *ProblemError) bool {
	for _, f := range pe.Problem.Errors {
		if strings.Contains(f.Field, "cursor") {
			return true
		}
	}
	return strings.Contains(strings.ToLower(pe.Problem.Detail), "cursor")
}

// applyPage applies one pull page and saves it with its cursor.
func (c *Client) applyPage(page wire.PullResponse, fromEmpty bool, startAck int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return err
	}
	st := c.st
	if fromEmpty && st.Resync == nil && len(st.Records) > 0 {
		st.Resync = map[string]bool{}
	}
	for _, ch := range page.Changes {
		key := recKey(ch.Entity, ch.ID)
		if st.Resync != nil {
			st.Resync[key] = true
		}
		tomb := ch.Op == wire.OpDelete
		if !tomb && len(ch.Data) > 0 {
			var m map[string]json.RawMessage
			if json.Unmarshal(ch.Data, &m) == nil && isDeletedData(m) {
				tomb = true
			}
		}
		if tomb {
			st.drop(key, -1)
			delete(st.Records, key)
			if ch.Entity == wire.EntityHousehold {
				// Out of scope: its members, pairings and plan go with it.
				for k, r := range st.Records {
					if (r.Entity == wire.EntityMember || r.Entity == wire.EntityPairing || r.Entity == wire.EntityPlanItem) && r.HouseholdID != nil && *r.HouseholdID == ch.ID {
						delete(st.Records, k)
						st.drop(k, -1)
					}
				}
			}
			continue
		}
		if r := st.Records[key]; r != nil && r.Version > ch.Version {
			continue
		}
		hid := ch.HouseholdID
		if hid == nil && ch.Entity == wire.EntityHousehold {
			id := ch.ID
			hid = &id
		}
		st.Records[key] = &record{Entity: ch.Entity, ID: ch.ID, HouseholdID: hid, Version: ch.Version, Data: ch.Data}
		st.drop(key, ch.Version)
	}
	st.Cursor = page.Cursor
	if !page.HasMore {
		if st.Resync != nil {
			for k := range st.Records {
				if !st.Resync[k] {
					delete(st.Records, k)
				}
			}
			st.Resync = nil
		}
		// A complete pull that began after an acknowledgement has brought
		// back everything acknowledged before it.
		kept := st.Acked[:0]
		for _, a := range st.Acked {
			if a.AckSeq > startAck {
				kept = append(kept, a)
			}
		}
		st.Acked = kept
	}
	return c.saveLocked()
}

// drop forgets acknowledged changes of key up to version (all when < 0).
func (s *state) drop(key string, version int64) {
	kept := s.Acked[:0]
	for _, a := range s.Acked {
		if a.Key == key && (version < 0 || a.Version <= version) {
			continue
		}
		kept = append(kept, a)
	}
	s.Acked = kept
}

// SyncReport is what one Sync did. Photos says what was uploaded, what
// was refused and what is still waiting (photos and bytes).
type SyncReport struct {
	Push   PushReport
	Pull   PullReport
	Photos PhotoReport
}

// Sync pushes the outbox, pulls, then uploads the photo outbox: records
// first (they are small and make the visits count), then the news the
// cadre works from, then the photos, which are most of the bytes and may
// take long on a weak link. The pull runs even when the push failed (a
// refused batch must not stop the phone from learning news); the photos
// wait for the next Sync when the push or the pull found no link (gave
// up). The errors of all steps are returned joined.
func (c *Client) Sync(ctx context.Context) (SyncReport, error) {
	var r SyncReport
	var perr, lerr, ferr error
	r.Push, perr = c.Push(ctx)
	if ctx.Err() != nil {
		return r, perr
	}
	pushedAt, _ := c.recordsRecorded()
	r.Pull, lerr = c.Pull(ctx)
	var gaveUp *GaveUpError
	if ctx.Err() != nil || errors.As(perr, &gaveUp) || errors.As(lerr, &gaveUp) {
		c.mu.Lock()
		r.Photos.Waiting, r.Photos.BytesWaiting = c.st.photoBacklog()
		c.mu.Unlock()
		return r, errors.Join(perr, lerr)
	}
	r.Photos, ferr = c.uploadPhotos(ctx, pushedAt)
	return r, errors.Join(perr, lerr, ferr)
}
