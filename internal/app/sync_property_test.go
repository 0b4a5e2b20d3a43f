package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/fieldvisit/fieldvisit/wire"
)

// device is a phone in the property test: what it knows of each visit.
type device struct {
	name    string
	cursor  string
	known   map[uuid.UUID]wire.Visit // its replica, by pull and by its own acks
	pending *sentBatch               // a batch whose answer was lost
}

type sentBatch struct {
	key  string
	body []byte
}

// TestSyncInterleavingsProperty: random interleavings of creates, edits,
// deletes, replays, lost answers and pulls on two phones of one cadre give
// exactly-once effect (no record twice, every acked change present, replays
// answered byte for byte) and convergence (after a final sync every phone
// holds exactly the server's state).
func TestSyncInterleavingsProperty(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		hA := e.householdA.Household.ID
		iteration := 0
		rapid.Check(t, func(rt *rapid.T) {
			iteration++
			devices := []*device{{name: "phone-1", known: map[uuid.UUID]wire.Visit{}}, {name: "phone-2", known: map[uuid.UUID]wire.Visit{}}}
			created := map[uuid.UUID]bool{}
			lastNotes := map[uuid.UUID]string{}
			deleted := map[uuid.UUID]bool{}
			answers := map[string][]byte{}
			n := 0
			// send pushes a batch. The server commits it whether or not the
			// phone hears the answer, so "last written" follows send order.
			send := func(d *device, notes map[uuid.UUID]string, changes ...map[string]any) (wire.PushResponse, bool) {
				n++
				for id, nt := range notes {
					lastNotes[id] = nt
				}
				key := fmt.Sprintf("it%d-%s-%d", iteration, d.name, n)
				body, _ := json.Marshal(batch(d.name, time.Now(), changes...))
				if rapid.Bool().Draw(rt, "lose answer") {
					e.push(t, tok, key, body) // committed, but the phone never hears
					d.pending = &sentBatch{key, body}
					return wire.PushResponse{}, false
				}
				r := e.push(t, tok, key, body)
				answers[key] = r.Body
				return r.pushResult(t), true
			}
			ack := func(d *device, res wire.PushResponse, notes map[uuid.UUID]string, dels map[uuid.UUID]bool) {
				for _, r := range res.Results {
					if r.Status == wire.StatusRejected {
						rt.Fatalf("unexpected rejection: %+v", r.Errors)
					}
					v := d.known[r.ID]
					v.ID, v.Version = r.ID, r.Version
					if nt, ok := notes[r.ID]; ok {
						v.Notes = nt
					}
					if dels[r.ID] {
						v.Deleted = true
					}
					d.known[r.ID] = v
				}
			}
			steps := rapid.IntRange(1, 12).Draw(rt, "steps")
			for s := 0; s < steps; s++ {
				d := devices[rapid.IntRange(0, 1).Draw(rt, "device")]
				if d.pending != nil { // a phone always resends its unanswered batch first
					r := e.push(t, tok, d.pending.key, d.pending.body)
					if prev, ok := answers[d.pending.key]; ok && !bytes.Equal(prev, r.Body) {
						rt.Fatal("replay answer differs")
					}
					answers[d.pending.key] = r.Body
					var notes map[uuid.UUID]string
					var req wire.PushRequest
					_ = json.Unmarshal(d.pending.body, &req)
					notes = map[uuid.UUID]string{}
					dels := map[uuid.UUID]bool{}
					for _, c := range req.Changes {
						dels[c.ID] = c.Op == wire.OpDelete
						var nt string
						if json.Unmarshal(c.Data["notes"], &nt) == nil {
							notes[c.ID] = nt
						}
					}
					ack(d, r.pushResult(t), notes, dels)
					d.pending = nil
					continue
				}
				switch rapid.SampledFrom([]string{"create", "edit", "delete", "pull"}).Draw(rt, "op") {
				case "create":
					id := uuid.New()
					notes := rapid.SampledFrom([]string{"走访", "回访", "慰问"}).Draw(rt, "notes")
					created[id] = true
					if res, ok := send(d, map[uuid.UUID]string{id: notes}, visitChange(id, hA, notes, 34.7)); ok {
						ack(d, res, map[uuid.UUID]string{id: notes}, nil)
					}
				case "edit", "delete":
					var ids []uuid.UUID
					for id, v := range d.known {
						if created[id] && !v.Deleted && !deleted[id] {
							ids = append(ids, id)
						}
					}
					if len(ids) == 0 {
						continue
					}
					id := rapid.SampledFrom(sortedIDs(ids)).Draw(rt, "visit")
					v := d.known[id]
					if rapid.Bool().Draw(rt, "delete?") {
						deleted[id] = true
						if res, ok := send(d, nil, map[string]any{"entity": "visit", "op": "delete", "id": id, "base_version": v.Version}); ok {
							ack(d, res, nil, map[uuid.UUID]bool{id: true})
						}
						continue
					}
					notes := fmt.Sprintf("修改%d", n)
					if res, ok := send(d, map[uuid.UUID]string{id: notes}, map[string]any{"entity": "visit", "op": "update", "id": id, "base_version": v.Version,
						"data": map[string]any{"notes": notes}, "base": map[string]any{"notes": v.Notes}}); ok {
						ack(d, res, map[uuid.UUID]string{id: notes}, nil)
					}
				case "pull":
					e.syncDevice(t, tok, d)
				}
			}
			// Final sync on a good link: resend, then pull.
			for _, d := range devices {
				if d.pending != nil {
					e.push(t, tok, d.pending.key, d.pending.body)
					d.pending = nil
				}
			}
			for _, d := range devices {
				e.syncDevice(t, tok, d)
			}
			for id := range created {
				var page wire.Page[wire.Visit]
				e.do(t, "GET", "/api/v1/visits?include_deleted=true&limit=200", tok, nil).json(t, &page)
				count := 0
				var server wire.Visit
				for _, v := range page.Items {
					if v.ID == id {
						count++
						server = v
					}
				}
				if count != 1 {
					rt.Fatalf("visit %s stored %d times", id, count)
				}
				if server.Deleted != deleted[id] {
					rt.Fatalf("visit %s deleted=%v, want %v", id, server.Deleted, deleted[id])
				}
				if want, ok := lastNotes[id]; ok && !deleted[id] && server.Notes != want {
					rt.Fatalf("visit %s notes %q, last acked %q", id, server.Notes, want)
				}
				for _, d := range devices {
					got, knows := d.known[id]
					if server.Deleted && !knows {
						continue // a phone that never had a deleted record has nothing to drop
					}
					if got.Version != server.Version || got.Deleted != server.Deleted {
						rt.Fatalf("%s diverged on %s: v%d deleted=%v, server v%d deleted=%v", d.name, id, got.Version, got.Deleted, server.Version, server.Deleted)
					}
				}
			}
		})
	})
}

func sortedIDs(ids []uuid.UUID) []uuid.UUID {
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && ids[j].String() < ids[j-1].String(); j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids
}

// syncDevice pulls the device's feed and applies it by version.
func (e *testEnv) syncDevice(t *testing.T, tok string, d *device) {
	t.Helper()
	changes, cursor := e.pullAll(t, tok, d.cursor, 50)
	d.cursor = cursor
	for _, c := range changes {
		if c.Entity != wire.EntityVisit {
			continue
		}
		cur := d.known[c.ID]
		if c.Version < cur.Version {
			continue
		}
		if c.Op == wire.OpDelete {
			d.known[c.ID] = wire.Visit{ID: c.ID, Version: c.Version, Deleted: true}
			continue
		}
		var v wire.Visit
		if err := json.Unmarshal(c.Data, &v); err != nil {
			t.Fatal(err)
		}
		d.known[c.ID] = v
	}
}
