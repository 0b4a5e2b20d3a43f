package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/client"
	"github.com/fieldvisit/fieldvisit/wire"
)

// model is what the acknowledged changes say a record must look like.
type model struct {
	entity  string
	id      uuid.UUID
	hid     *uuid.UUID
	cadre   *cadre
	created bool
	deleted bool
	maxVer  int64
	fields  map[string]fieldVal
}

type fieldVal struct {
	version int64
	raw     json.RawMessage
	device  string
}

// expected folds every acknowledged outcome into per-record models: each
// field must hold the value of the newest acknowledged change (by the
// version the server gave it) that set it — last writer by server order.
func (r *run) expected(res *Result) map[string]*model {
	res.Statuses = map[string]int{}
	ms := map[string]*model{}
	for _, a := range r.outcomes {
		o := a.out
		if o.Requeued {
			res.Statuses["requeued"]++ // the server failed on it; the phone sent it again
			continue
		}
		res.Statuses[o.Result.Status]++
		ch := o.Change
		switch o.Result.Status {
		case wire.StatusApplied, wire.StatusMerged, wire.StatusConflict, wire.StatusDuplicate:
		case wire.StatusRejected:
			if !r.expectedRejection(a) {
				res.Lost++
				r.problem("lost: %s's %s of %s %s was rejected: %s", a.device, ch.Op, ch.Entity, ch.ID, fieldErrors(o.Result))
			}
			continue
		default:
			res.Lost++
			r.problem("lost: %s's %s of %s %s got no outcome (%q)", a.device, ch.Op, ch.Entity, ch.ID, o.Result.Status)
			continue
		}
		k := ch.Entity + "/" + ch.ID.String()
		m := ms[k]
		if m == nil {
			m = &model{entity: ch.Entity, id: ch.ID, hid: ch.HouseholdID, cadre: a.cadre, fields: map[string]fieldVal{}}
			ms[k] = m
		}
		v := o.Result.Version
		m.maxVer = max(m.maxVer, v)
		switch ch.Op {
		case wire.OpCreate:
			m.created = true
		case wire.OpDelete:
			m.deleted = true
		}
		for f, raw := range ch.Data {
			if cur, ok := m.fields[f]; !ok || v > cur.version || v == cur.version && o.Result.Status != wire.StatusDuplicate {
				m.fields[f] = fieldVal{version: v, raw: raw, device: a.device}
			}
		}
	}
	return ms
}

// expectedRejection: refusals a valid phone edit meets by design — an edit
// of a visit another phone of the same cadre deleted first (the delete
// wins, DESIGN §4), and an edit of a household (or its members) that was
// re-paired away from the cadre before the edit arrived.
func (r *run) expectedRejection(a ackd) bool {
	o := a.out
	if len(o.Result.Errors) == 0 {
		return false
	}
	reason := o.Result.Errors[0].Reason
	switch o.Change.Entity {
	case wire.EntityVisit:
		return o.Change.Op != wire.OpCreate && reason == "deleted"
	case wire.EntityHousehold, wire.EntityMember:
		hid := o.Change.ID
		if o.Change.Entity == wire.EntityMember && o.Change.HouseholdID != nil {
			hid = *o.Change.HouseholdID
		}
		for _, c := range r.repaired[hid] {
			if c == a.cadre && reason == "not_found" {
				return true
			}
		}
	}
	return false
}

func fieldErrors(r wire.PushResult) string {
	var parts []string
	for _, e := range r.Errors {
		parts = append(parts, e.Field+" "+e.Reason+" ("+e.Message+")")
	}
	return strings.Join(parts, "; ")
}

// verify checks the server against the acknowledged changes and every
// phone against the server.
func (r *run) verify(res *Result) error {
	ctx, cancel := context.WithTimeout(r.ctx, 5*time.Minute)
	defer cancel()
	r.printf("sim: checking the server against %d acknowledged changes\n", len(r.outcomes))
	for _, n := range r.batches {
		res.Pushed += n
	}
	res.Acked = len(r.outcomes)
	res.Work = r.snapshotWork()
	res.Faults = map[string]int{"requests": int(r.counts.Requests.Load()), "drop-before": int(r.counts.DropBefore.Load()),
		"drop-after": int(r.counts.DropAfter.Load()), "timeout": int(r.counts.Timeouts.Load()), "duplicate": int(r.counts.Duplicates.Load()),
		"kill": int(r.counts.Kills.Load())}

	sup := r.sup
	models := r.expected(res)

	// Every phone emptied its outbox and set nothing aside.
	for _, c := range r.cadres {
		for _, d := range c.devices {
			if n := d.c.Pending(); n > 0 {
				res.Lost += n
				r.problem("lost: %s still holds %d unacknowledged changes", d.name, n)
			}
			if f := d.c.Failed(); len(f) > 0 {
				res.Lost += len(f)
				r.problem("lost: %s had %d changes refused as a batch: %s", d.name, len(f), fieldErrors(f[0].Result))
			}
		}
	}

	// Visits: the server's, per cadre, deleted ones included.
	server := map[uuid.UUID]wire.Visit{}
	live := map[*cadre][]wire.Visit{}
	for _, c := range r.cadres {
		vs, err := listVisits(ctx, sup, c.userID)
		if err != nil {
			return fmt.Errorf("sim: listing %s's visits: %w", c.username, err)
		}
		for _, v := range vs {
			if _, twice := server[v.ID]; twice {
				res.Duplicates++
				r.problem("duplicate: visit %s listed twice", v.ID)
			}
			server[v.ID] = v
			if !v.Deleted {
				live[c] = append(live[c], v)
			}
			r.mu.Lock()
			_, ours := r.intended[v.ID]
			r.mu.Unlock()
			if ours && !v.Deleted {
				res.Stored++
			}
			if !ours && !r.before[v.ID] {
				res.Duplicates++
				r.problem("duplicate: visit %s (last written by %s) on the server was never recorded by a phone", v.ID, v.DeviceID)
			}
		}
	}
	for id, in := range r.intended {
		m := models[wire.EntityVisit+"/"+id.String()]
		if (m == nil || !m.created) && !in.deleted {
			res.Lost++
			r.problem("lost: visit %s recorded on %s was never acknowledged as stored", id, in.device)
		}
	}
	for _, m := range models {
		if m.entity != wire.EntityVisit {
			continue
		}
		sv, ok := server[m.id]
		switch {
		case !ok && m.created:
			res.Lost++
			r.problem("lost: acknowledged visit %s is not on the server", m.id)
			continue
		case !ok:
			continue
		case m.deleted && !sv.Deleted:
			res.Lost++
			r.problem("lost: acknowledged delete of visit %s not applied", m.id)
		case !m.deleted && sv.Deleted:
			res.Lost++
			r.problem("lost: visit %s is deleted on the server but no delete was acknowledged", m.id)
		}
		r.checkFields(res, m, sv, sv.Version)
	}

	// Every value an overlapping edit overwrote is kept for review.
	if err := r.checkConflicts(ctx, res); err != nil {
		return err
	}

	// Households and members the phones edited.
	files := map[uuid.UUID]wire.HouseholdFile{}
	for _, m := range models {
		if m.entity == wire.EntityVisit {
			continue
		}
		hid := m.id
		if m.entity == wire.EntityMember && m.hid != nil {
			hid = *m.hid
		}
		f, ok := files[hid]
		if !ok {
			if err := sup.GetJSON(ctx, "/api/v1/households/"+hid.String(), &f); err != nil {
				return fmt.Errorf("sim: reading household %s: %w", hid, err)
			}
			files[hid] = f
		}
		if m.entity == wire.EntityHousehold {
			r.checkFields(res, m, f.Household, f.Version)
			continue
		}
		found := false
		for _, mem := range f.Members {
			if mem.ID == m.id {
				found = true
				r.checkFields(res, m, mem, mem.Version)
			}
		}
		if !found {
			res.Lost++
			r.problem("lost: member %s is not in household %s", m.id, hid)
		}
	}

	// Every phone holds what the server holds for its scope: compared with
	// the resource API (visits) and with a fresh phone's full pull.
	for _, c := range r.cadres {
		fresh, err := r.session(ctx, c.username, c.username+"-check")
		if err != nil {
			return err
		}
		if _, err := fresh.Pull(ctx); err != nil {
			fresh.Close()
			return fmt.Errorf("sim: fresh pull for %s: %w", c.username, err)
		}
		if diff := diffVisits(fresh.Visits(), live[c]); diff != "" {
			res.Diverged++
			r.problem("diverged: a fresh pull of %s disagrees with the visits API: %s", c.username, diff)
		}
		for _, d := range c.devices {
			if diff := diffPhones(d.c, fresh); diff != "" {
				res.Diverged++
				r.problem("diverged: %s: %s", d.name, diff)
			} else if diff := diffVisits(d.c.Visits(), live[c]); diff != "" {
				res.Diverged++
				r.problem("diverged: %s vs the visits API: %s", d.name, diff)
			}
		}
		fresh.Close()
	}
	if r.o.PhotosPerVisit > 0 {
		r.verifyPhotos(ctx, res)
	}
	r.mu.Lock()
	res.Problems = append([]string(nil), r.problems...)
	if r.nProblem > len(r.problems) {
		res.Problems = append(res.Problems, fmt.Sprintf("… and %d more", r.nProblem-len(r.problems)))
	}
	r.mu.Unlock()
	r.printf("sim: phones did %s\n", summary(res.Work))
	if r.o.Link == nil {
		r.printf("sim: link faults injected: %s\n", summary(res.Faults))
	}
	r.printf("sim: outcomes: %s\n", summary(res.Statuses))
	for _, p := range res.Problems {
		r.printf("sim: PROBLEM %s\n", p)
	}
	return nil
}

// checkFields compares the fields a model expects with the server's record.
func (r *run) checkFields(res *Result, m *model, record any, version int64) {
	b, _ := json.Marshal(record)
	var got map[string]json.RawMessage
	_ = json.Unmarshal(b, &got)
	bad := false
	for f, want := range m.fields {
		if !sameValue(want.raw, got[f]) {
			bad = true
			r.problem("lost: %s %s field %s is %s; the newest acknowledged change (version %d, %s) set %s",
				m.entity, m.id, f, clip(got[f]), want.version, want.device, clip(want.raw))
		}
	}
	if bad {
		res.Lost++
	}
	switch {
	case version > m.maxVer:
		res.Duplicates++
		r.problem("duplicate: %s %s is at version %d but the last acknowledged change made version %d (applied more than once?)",
			m.entity, m.id, version, m.maxVer)
	case version < m.maxVer:
		res.Lost++
		r.problem("lost: %s %s is at version %d, older than acknowledged version %d", m.entity, m.id, version, m.maxVer)
	}
}

func clip(b json.RawMessage) string {
	s := string(b)
	if len([]rune(s)) > 80 {
		s = string([]rune(s)[:80]) + "…"
	}
	return s
}

// session is a fresh client on a good link, logged in.
func (r *run) session(ctx context.Context, user, name string) (*client.Client, error) {
	c, err := client.New(client.Config{BaseURL: r.o.Server, DeviceID: "sim-" + r.id + "-" + name, Dir: filepath.Join(r.base, "check-"+name),
		Backoff: client.Backoff{Min: 10 * time.Millisecond, Max: 500 * time.Millisecond}, NoFsync: true})
	if err != nil {
		return nil, err
	}
	if _, err := c.Login(ctx, user, r.o.Password); err != nil {
		c.Close()
		return nil, fmt.Errorf("sim: log in as %s: %w", user, err)
	}
	return c, nil
}

func listVisits(ctx context.Context, c *client.Client, cadreID uuid.UUID) ([]wire.Visit, error) {
	var out []wire.Visit
	for offset := 0; ; {
		q := url.Values{"cadre_id": {cadreID.String()}, "include_deleted": {"true"}, "limit": {"200"}, "offset": {strconv.Itoa(offset)}}
		var page wire.Page[wire.Visit]
		if err := c.GetJSON(ctx, "/api/v1/visits?"+q.Encode(), &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		offset += len(page.Items)
		if len(page.Items) == 0 || int64(offset) >= page.Total {
			return out, nil
		}
	}
}

// diffPhones compares two phones' replicas; "" when equal.
func diffPhones(a, b *client.Client) string {
	if d := diffSet("household", a.Households(), b.Households(), func(h wire.Household) uuid.UUID { return h.ID }); d != "" {
		return d
	}
	if d := diffSet("member", a.AllMembers(), b.AllMembers(), func(m wire.Member) uuid.UUID { return m.ID }); d != "" {
		return d
	}
	if d := diffSet("pairing", a.Pairings(), b.Pairings(), func(p wire.PairingRecord) uuid.UUID { return p.ID }); d != "" {
		return d
	}
	return diffVisits(a.Visits(), b.Visits())
}

func diffVisits(a, b []wire.Visit) string {
	return diffSet("visit", a, b, func(v wire.Visit) uuid.UUID { return v.ID })
}

func diffSet[T any](what string, a, b []T, id func(T) uuid.UUID) string {
	am := map[uuid.UUID]T{}
	for _, x := range a {
		am[id(x)] = x
	}
	bm := map[uuid.UUID]T{}
	for _, x := range b {
		bm[id(x)] = x
	}
	for k, x := range am {
		y, ok := bm[k]
		if !ok {
			return fmt.Sprintf("%s %s only on the phone", what, k)
		}
		xb, _ := json.Marshal(x)
		yb, _ := json.Marshal(y)
		if !sameValue(xb, yb) {
			return fmt.Sprintf("%s %s differs: phone %s / server %s", what, k, clip(xb), clip(yb))
		}
	}
	for k := range bm {
		if _, ok := am[k]; !ok {
			return fmt.Sprintf("%s %s missing on the phone", what, k)
		}
	}
	return ""
}

// sameValue compares JSON by meaning: key order, number spelling and the
// zone a time is written in do not matter (09:30+08:00 is 01:30Z).
func sameValue(a, b json.RawMessage) bool {
	var x, y any
	if len(a) == 0 {
		a = json.RawMessage("null")
	}
	if len(b) == 0 {
		b = json.RawMessage("null")
	}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(canonical(x), canonical(y))
}

func canonical(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = canonical(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = canonical(e)
		}
		return out
	case string:
		if len(x) >= 20 && x[4] == '-' && x[10] == 'T' {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t.UTC().Format(time.RFC3339Nano)
			}
		}
		return x
	}
	return v
}

// checkConflicts: each conflict an acknowledged change reported is in the
// supervisor's conflict inbox, for the record it names.
func (r *run) checkConflicts(ctx context.Context, res *Result) error {
	want := map[uuid.UUID]client.Outcome{}
	for _, a := range r.outcomes {
		for _, id := range a.out.Result.ConflictIDs {
			want[id] = a.out
		}
	}
	if len(want) == 0 {
		return nil
	}
	got := map[uuid.UUID]wire.Conflict{}
	for offset := 0; ; {
		var page wire.Page[wire.Conflict]
		q := url.Values{"limit": {"200"}, "offset": {strconv.Itoa(offset)}}
		if err := r.sup.GetJSON(ctx, "/api/v1/conflicts?"+q.Encode(), &page); err != nil {
			return fmt.Errorf("sim: listing conflicts: %w", err)
		}
		for _, c := range page.Items {
			got[c.ID] = c
		}
		offset += len(page.Items)
		if len(page.Items) == 0 || int64(offset) >= page.Total {
			break
		}
	}
	for id, o := range want {
		c, ok := got[id]
		if !ok || c.EntityID != o.Change.ID {
			res.Lost++
			r.problem("lost: conflict %s reported for %s %s is not in the conflict inbox", id, o.Change.Entity, o.Change.ID)
		}
	}
	return nil
}
