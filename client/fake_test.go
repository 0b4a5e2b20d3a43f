package client

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// fakeServer is a small in-memory stand-in for the sync endpoints, enough
// to test the client's pure logic: idempotent pushes keyed by
// Idempotency-Key (replayed byte for byte, 422 for another body), versioned
// records, a pull log, and rotating tokens.
type fakeServer struct {
	t  *testing.T
	mu sync.Mutex
	// records by id: fields and version
	recs     map[uuid.UUID]*fakeRec
	log      []wire.PulledChange // pull feed; cursor = index
	keys     map[string]fakeStored
	pushes   []fakePush // every push request received
	applied  int        // changes applied (not replays)
	access   string
	refresh  string
	user     wire.User
	fail     func(r *http.Request) (status int, retryAfter string, ok bool) // injected answers
	refreshN int
	maxBody  int // push bodies above this get 413 (0: no limit)
	// internalOnce: changes of these ids fail once with internal_error
	// (stored in the answer, as the real server does).
	internalOnce map[uuid.UUID]bool
	srv          *httptest.Server
}

type fakeRec struct {
	entity  string
	hid     *uuid.UUID
	version int64
	data    map[string]json.RawMessage
	deleted bool
}

type fakeStored struct {
	sum  [32]byte
	body []byte
}

type fakePush struct {
	key        string
	body       []byte
	deviceTime string // X-Device-Time of this attempt
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{t: t, recs: map[uuid.UUID]*fakeRec{}, keys: map[string]fakeStored{}, access: "a1", refresh: "r1",
		user: wire.User{ID: uuid.New(), Username: "cadre01", Role: "cadre"}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// addHousehold puts a household in the feed.
func (f *fakeServer) addHousehold(fields map[string]any) uuid.UUID {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := uuid.New()
	data := map[string]json.RawMessage{}
	for k, v := range fields {
		data[k] = mustJSON(v)
	}
	data["id"] = mustJSON(id)
	data["head_name"] = mustJSON("张三")
	f.recs[id] = &fakeRec{entity: wire.EntityHousehold, version: 1, data: data}
	f.publish(id)
	return id
}

func (f *fakeServer) publish(id uuid.UUID) {
	r := f.recs[id]
	data := map[string]json.RawMessage{}
	for k, v := range r.data {
		data[k] = v
	}
	data["version"] = mustJSON(r.version)
	op := wire.OpUpsert
	if r.deleted {
		op = wire.OpDelete
	}
	pc := wire.PulledChange{Entity: r.entity, Op: op, ID: id, HouseholdID: r.hid, Version: r.version}
	if !r.deleted {
		pc.Data = mustJSON(data)
	}
	f.log = append(f.log, pc)
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		if status, ra, ok := f.fail(r); ok {
			if ra != "" {
				w.Header().Set("Retry-After", ra)
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"type":"urn:x","title":"injected","status":` + strconv.Itoa(status) + `}`))
			return
		}
	}
	switch r.URL.Path {
	case "/api/v1/auth/login":
		f.writeTokens(w)
		return
	case "/api/v1/auth/refresh":
		var in struct {
			RefreshToken string `json:"refresh_token"`
		}
		_ = json.Unmarshal(body, &in)
		if in.RefreshToken != f.refresh {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"status":401,"title":"Unauthorized","detail":"refresh token reused"}`))
			return
		}
		f.refreshN++
		f.access = "a" + strconv.Itoa(f.refreshN+1)
		f.refresh = "r" + strconv.Itoa(f.refreshN+1)
		f.writeTokens(w)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.access {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"status":401,"title":"Unauthorized"}`))
		return
	}
	switch r.URL.Path {
	case "/api/v1/sync/push":
		f.push(w, r, body)
	case "/api/v1/sync/pull":
		cur, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		end := min(len(f.log), cur+limit)
		resp := wire.PullResponse{Changes: append([]wire.PulledChange{}, f.log[cur:end]...), Cursor: strconv.Itoa(end), HasMore: end < len(f.log)}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func (f *fakeServer) writeTokens(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": f.access, "refresh_token": f.refresh, "expires_in": 900, "user": f.user})
}

func (f *fakeServer) push(w http.ResponseWriter, r *http.Request, body []byte) {
	key := r.Header.Get("Idempotency-Key")
	f.pushes = append(f.pushes, fakePush{key: key, body: body, deviceTime: r.Header.Get("X-Device-Time")})
	if f.maxBody > 0 && len(body) > f.maxBody {
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		_, _ = w.Write([]byte(`{"status":413,"title":"Request too large"}`))
		return
	}
	sum := sha256.Sum256(body)
	if s, ok := f.keys[key]; ok {
		if s.sum != sum {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"status":422,"errors":[{"field":"Idempotency-Key","reason":"key_reused"}]}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.body)
		return
	}
	var req wire.PushRequest
	if err := json.Unmarshal(body, &req); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	resp := wire.PushResponse{ReceivedAt: time.Now().UTC(), Results: []wire.PushResult{}}
	for i, ch := range req.Changes {
		res := wire.PushResult{Index: i, Entity: ch.Entity, ID: ch.ID}
		rec := f.recs[ch.ID]
		if f.internalOnce[ch.ID] {
			delete(f.internalOnce, ch.ID)
			res.Status = wire.StatusRejected
			res.Errors = []domain.FieldError{{Field: "/changes/" + strconv.Itoa(i), Reason: "internal_error", Message: "logged"}}
			resp.Rejected++
			resp.Results = append(resp.Results, res)
			continue
		}
		switch {
		case ch.Op == wire.OpCreate && rec == nil:
			data := map[string]json.RawMessage{"id": mustJSON(ch.ID), "household_id": mustJSON(ch.HouseholdID), "deleted": mustJSON(false)}
			for k, v := range ch.Data {
				data[k] = v
			}
			f.recs[ch.ID] = &fakeRec{entity: ch.Entity, hid: ch.HouseholdID, version: 1, data: data}
			res.Status, res.Version = wire.StatusApplied, 1
		case ch.Op == wire.OpCreate:
			res.Status, res.Version = wire.StatusDuplicate, rec.version
		case rec == nil || rec.deleted || ch.BaseVersion == 0:
			res.Status = wire.StatusRejected
		case ch.Op == wire.OpUpdate:
			for k, v := range ch.Data {
				rec.data[k] = v
			}
			rec.version++
			res.Status, res.Version = wire.StatusApplied, rec.version
			if ch.BaseVersion != rec.version-1 {
				res.Status = wire.StatusMerged
			}
		case ch.Op == wire.OpDelete:
			rec.deleted = true
			rec.version++
			res.Status, res.Version = wire.StatusApplied, rec.version
		}
		if res.Status != wire.StatusRejected && res.Status != wire.StatusDuplicate {
			f.applied++
			f.publish(ch.ID)
			resp.Applied++
		} else if res.Status == wire.StatusRejected {
			resp.Rejected++
		}
		resp.Results = append(resp.Results, res)
	}
	out, _ := json.Marshal(resp)
	f.keys[key] = fakeStored{sum: sum, body: out}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// dropAfter is a RoundTripper that, while armed, lets requests whose path
// matches reach the server and then discards the answer.
type dropAfter struct {
	base  http.RoundTripper
	mu    sync.Mutex
	path  string
	times int
	seen  int
}

func (d *dropAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	d.mu.Lock()
	drop := d.times > 0 && r.URL.Path == d.path
	if drop {
		d.times--
		d.seen++
	}
	d.mu.Unlock()
	res, err := d.base.RoundTrip(r)
	if err != nil || !drop {
		return res, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return nil, io.ErrUnexpectedEOF
}

func bodiesEqual(a, b []byte) bool { return bytes.Equal(a, b) }

// sent returns the pushes received so far and the changes applied.
func (f *fakeServer) sent() ([]fakePush, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakePush(nil), f.pushes...), f.applied
}

// waitPushes waits until the server has received n pushes.
func (f *fakeServer) waitPushes(t *testing.T, n int) []fakePush {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p, _ := f.sent()
		if len(p) >= n || time.Now().After(deadline) {
			return p
		}
		time.Sleep(5 * time.Millisecond)
	}
}
