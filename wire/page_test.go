package wire

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// A page assembled from chunks and parts must be the PullResponse
// json.Marshal would give, in the order the parts were handed out, with
// the length it announces, whatever the chunk boundaries.
func TestPageWriterWritesAPullResponse(t *testing.T) {
	hid := uuid.New()
	// Head names up to half a chunk long: records fill chunks unevenly and
	// some pass a chunk's end.
	name := strings.Repeat("张", pageChunk/6)
	// change is the i-th change as emitted and as json.Marshal sees it
	// (Record is not marshalled: Data stands for it).
	change := func(i int) (emitted, marshalled PulledChange) {
		switch i % 3 {
		case 0:
			h := &Household{ID: hid, HeadName: name[:i*997%(pageChunk/6)*len("张")], Causes: []string{}}
			data, err := json.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			emitted = PulledChange{Entity: EntityHousehold, Op: OpUpsert, ID: hid, HouseholdID: &hid, Version: int64(i), Record: h}
			marshalled = emitted
			marshalled.Record, marshalled.Data = nil, data
			return emitted, marshalled
		case 1:
			emitted = PulledChange{Entity: EntityVisit, Op: OpUpsert, ID: uuid.New(), HouseholdID: &hid, Version: int64(i), Data: json.RawMessage(`{"notes":"走访"}`)}
		default:
			emitted = PulledChange{Entity: EntityMember, Op: OpDelete, ID: uuid.New(), Version: int64(i)}
		}
		return emitted, emitted
	}
	var want []PulledChange
	for _, parts := range []int{0, 1, 3} {
		w := &PageWriter{}
		emits := []func(PulledChange) error{w.Emit}
		for range parts {
			emits = append(emits, w.Part())
		}
		want = want[:0]
		for e, emit := range emits {
			if e == 1 {
				continue // a part left empty
			}
			for i := range 40 {
				emitted, marshalled := change(i)
				if err := emit(emitted); err != nil {
					t.Fatal(err)
				}
				want = append(want, marshalled)
			}
		}
		due := []DueItem{{RuleCode: "monthly_visit", Period: "2026-11", State: "due"}}
		body, size := w.Finish("cursor-1", parts == 1, due)
		got := bytes.Join(body, nil)
		if len(got) != size {
			t.Fatalf("%d parts: the page is %d bytes long, but announces %d", parts, len(got), size)
		}
		wantJSON, err := json.Marshal(PullResponse{Changes: want, Cursor: "cursor-1", HasMore: parts == 1, Due: due})
		if err != nil {
			t.Fatal(err)
		}
		var g, x any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%d parts: the page is not JSON: %v", parts, err)
		}
		if err := json.Unmarshal(wantJSON, &x); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, x) {
			t.Fatalf("%d parts: the page differs from json.Marshal's", parts)
		}
		w.Release()
	}
}
