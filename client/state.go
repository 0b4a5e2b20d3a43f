package client

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/wire"
)

const stateFormat = 1

// state is everything the client keeps, saved as one unit.
//
// The local replica has three layers. Records are exactly what the server
// sent in pulls (applied by version). Acked are changes the server
// acknowledged that no pull has brought back yet: they keep a phone's own
// work visible between the push and the pull that follows it, and are
// dropped once the replica holds that version. Inflight and Outbox are the
// changes not yet acknowledged. What the phone shows is Records with Acked,
// Inflight and Outbox applied in that order.
type state struct {
	Format       int        `json:"format"`
	DeviceID     string     `json:"device_id"`
	User         *wire.User `json:"user,omitempty"`
	AccessToken  string     `json:"access_token,omitempty"`
	RefreshToken string     `json:"refresh_token,omitempty"`
	// AccessExpires is when the access token expires by the phone's
	// clock as it stood when the token arrived (zero: not known).
	AccessExpires time.Time          `json:"access_expires,omitempty"`
	Cursor        string             `json:"cursor"`
	Resync        map[string]bool    `json:"resync,omitempty"` // records seen by an unfinished full pull
	Records       map[string]*record `json:"records"`
	Acked         []*acked           `json:"acked,omitempty"`
	Inflight      *batch             `json:"inflight,omitempty"`
	Outbox        []*pending         `json:"outbox,omitempty"`
	Failed        []Outcome          `json:"failed,omitempty"`
	Outcomes      []Outcome          `json:"outcomes,omitempty"`
	NextSeq       int64              `json:"next_seq"`
	AckSeq        int64              `json:"ack_seq"`
	MaxChanges    int                `json:"max_changes,omitempty"` // lowered after a 413
	// Photos is the photo outbox, in the order the photos were recorded;
	// RefusedPhotos those the server refused as invalid (photo_outbox.go).
	Photos        []*queuedPhoto `json:"photos,omitempty"`
	RefusedPhotos []RefusedPhoto `json:"refused_photos,omitempty"`
}

func newState() *state {
	s := &state{Format: stateFormat}
	s.init()
	return s
}

func (s *state) init() {
	if s.Records == nil {
		s.Records = map[string]*record{}
	}
}

// record is one record as the server last sent it.
type record struct {
	Entity      string          `json:"entity"`
	ID          uuid.UUID       `json:"id"`
	HouseholdID *uuid.UUID      `json:"household_id,omitempty"`
	Version     int64           `json:"version"`
	Data        json.RawMessage `json:"data"`
}

// pending is a change in the outbox or in the batch in flight.
type pending struct {
	Seq    int64       `json:"seq"`
	Change wire.Change `json:"change"`
	// ResolveBase: the record was created on this phone and not yet
	// acknowledged when this edit was made, so its version is filled in
	// when the batch is formed, from the acknowledgement of the create.
	ResolveBase bool      `json:"resolve_base,omitempty"`
	MadeAt      time.Time `json:"made_at"` // phone clock
}

// batch is a push batch: its key and its exact body are saved before the
// first send and reused, byte for byte, on every retry.
type batch struct {
	Key        string     `json:"key"`
	Body       []byte     `json:"body"`
	Changes    []*pending `json:"changes"`
	DeviceTime time.Time  `json:"device_time"`
	Attempts   int        `json:"attempts"`
}

// acked is an acknowledged change waiting for the pull that brings it back.
type acked struct {
	Key         string                     `json:"key"`
	Entity      string                     `json:"entity"`
	ID          uuid.UUID                  `json:"id"`
	HouseholdID *uuid.UUID                 `json:"household_id,omitempty"`
	Op          string                     `json:"op"`
	Data        map[string]json.RawMessage `json:"data,omitempty"`
	Version     int64                      `json:"version"`
	AckSeq      int64                      `json:"ack_seq"`
}

// Outcome is the server's answer for one change.
type Outcome struct {
	BatchKey string          `json:"batch_key"`
	Change   wire.Change     `json:"change"`
	Result   wire.PushResult `json:"result"`
	At       time.Time       `json:"at"` // phone clock when the answer arrived
	// Requeued: the server failed on this change unexpectedly
	// (internal_error); it was put back in the outbox to go again.
	Requeued bool `json:"requeued,omitempty"`
}

func recKey(entity string, id uuid.UUID) string { return entity + "/" + id.String() }

// knownVersion is the newest version of a record this phone has heard of:
// from a pull or from an acknowledgement.
func (s *state) knownVersion(key string) int64 {
	var v int64
	if r := s.Records[key]; r != nil {
		v = r.Version
	}
	for _, a := range s.Acked {
		if a.Key == key && a.Version > v {
			v = a.Version
		}
	}
	return v
}

// fields is a record being viewed: its JSON fields and whether it exists.
type fields struct {
	entity      string
	id          uuid.UUID
	householdID *uuid.UUID
	version     int64
	m           map[string]json.RawMessage
	deleted     bool
	local       bool // created on this phone, not yet acknowledged
}

func (f *fields) apply(ch wire.Change, s *state, deviceID string) {
	switch ch.Op {
	case wire.OpCreate:
		if f.m == nil || f.deleted {
			f.m = map[string]json.RawMessage{}
			f.deleted = false
			f.local = true
			f.entity, f.id, f.householdID = ch.Entity, ch.ID, ch.HouseholdID
			f.m["id"] = mustJSON(ch.ID)
			if ch.HouseholdID != nil {
				f.m["household_id"] = mustJSON(*ch.HouseholdID)
			}
			if s.User != nil {
				f.m["cadre_id"] = mustJSON(s.User.ID)
			}
			f.m["device_id"] = mustJSON(deviceID)
			f.m["deleted"] = json.RawMessage("false")
		}
		for k, v := range ch.Data {
			f.m[k] = v
		}
	case wire.OpUpdate:
		if f.m == nil || f.deleted {
			return
		}
		for k, v := range ch.Data {
			f.m[k] = v
		}
	case wire.OpDelete:
		f.deleted = true
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// view computes what the phone shows for every record whose key and
// household want accepts (all when want is nil), keyed by recKey. Only
// the records wanted are decoded: a town head's phone holds thousands, and
// reading one record must not decode them all.
func (s *state) view(deviceID string, want func(key string, householdID *uuid.UUID) bool) map[string]*fields {
	out := make(map[string]*fields)
	for k, r := range s.Records {
		if want != nil && !want(k, r.HouseholdID) {
			continue
		}
		f := &fields{entity: r.Entity, id: r.ID, householdID: r.HouseholdID, version: r.Version}
		if err := json.Unmarshal(r.Data, &f.m); err != nil || f.m == nil {
			f.m = map[string]json.RawMessage{}
		}
		f.deleted = isDeletedData(f.m)
		out[k] = f
	}
	get := func(key, entity string, id uuid.UUID, hid *uuid.UUID) *fields {
		f := out[key]
		if f == nil {
			f = &fields{entity: entity, id: id, householdID: hid}
			out[key] = f
		}
		return f
	}
	for _, a := range s.Acked {
		if want != nil && !want(a.Key, a.HouseholdID) {
			continue
		}
		r := s.Records[a.Key]
		if r != nil && r.Version >= a.Version {
			continue
		}
		f := get(a.Key, a.Entity, a.ID, a.HouseholdID)
		f.apply(wire.Change{Entity: a.Entity, Op: a.Op, ID: a.ID, HouseholdID: a.HouseholdID, Data: a.Data}, s, deviceID)
		f.local = false
		if a.Version > f.version {
			f.version = a.Version
		}
	}
	var unacked []*pending
	if s.Inflight != nil {
		unacked = append(unacked, s.Inflight.Changes...)
	}
	unacked = append(unacked, s.Outbox...)
	for _, p := range unacked {
		ch := p.Change
		key := recKey(ch.Entity, ch.ID)
		if want != nil && !want(key, ch.HouseholdID) {
			continue
		}
		f := get(key, ch.Entity, ch.ID, ch.HouseholdID)
		f.apply(ch, s, deviceID)
	}
	for k, f := range out {
		if f.m == nil {
			delete(out, k)
		}
	}
	return out
}

// viewOne is view for a single record.
func (s *state) viewOne(key, deviceID string) *fields {
	f := s.view(deviceID, func(k string, _ *uuid.UUID) bool { return k == key })[key]
	if f == nil || f.deleted {
		return nil
	}
	return f
}

func isDeletedData(m map[string]json.RawMessage) bool {
	var d bool
	if raw, ok := m["deleted"]; ok {
		_ = json.Unmarshal(raw, &d)
	}
	return d
}

func (f *fields) decode(dst any) error {
	m := make(map[string]json.RawMessage, len(f.m)+1)
	for k, v := range f.m {
		m[k] = v
	}
	m["version"] = mustJSON(f.version)
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}
