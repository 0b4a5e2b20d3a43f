package storage

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
)

// TestPipelinedHandsOverEveryValueInOrder: the caller sees what the
// reading goroutine emitted, in its order, across batch boundaries, and an
// error on either side ends both.
func TestPipelinedHandsOverEveryValueInOrder(t *testing.T) {
	errRead, errWrite := errors.New("read failed"), errors.New("write failed")
	for _, tc := range []struct {
		name       string
		n          int // values emitted
		failReadAt int // produce fails after emitting this many (-1: never)
		failAt     int // consume fails at this value (-1: never)
		want       error
		wantSeen   int
	}{
		{name: "nothing", n: 0, failReadAt: -1, failAt: -1},
		{name: "less than a batch", n: 7, failReadAt: -1, failAt: -1, wantSeen: 7},
		{name: "batches and a rest", n: 3*pipelineBatch + 5, failReadAt: -1, failAt: -1, wantSeen: 3*pipelineBatch + 5},
		{name: "the reader fails", n: 1000, failReadAt: 300, failAt: -1, want: errRead, wantSeen: 300},
		{name: "the writer fails: the reader stops", n: 100_000, failReadAt: -1, failAt: 10, want: errWrite, wantSeen: 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emitted := 0
			var seen []int
			err := pipelined(context.Background(), func(ctx context.Context, emit func(int) error) error {
				for i := range tc.n {
					if i == tc.failReadAt {
						return errRead
					}
					if err := emit(i); err != nil {
						return err
					}
					emitted++
				}
				return nil
			}, func(v int) error {
				if v == tc.failAt {
					return errWrite
				}
				seen = append(seen, v)
				return nil
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if len(seen) != tc.wantSeen || !slices.IsSorted(seen) || (len(seen) > 0 && seen[len(seen)-1] != len(seen)-1) {
				t.Fatalf("consumed %d values (in order: %v), want %d", len(seen), slices.IsSorted(seen), tc.wantSeen)
			}
			if tc.failAt >= 0 && emitted > tc.failAt+6*pipelineBatch {
				t.Errorf("the reader went on to %d values after the writer failed at %d", emitted, tc.failAt)
			}
		})
	}
}

// TestJSONMemoDecodesEachTextOnce: the same text gives the same decoded
// value (shared), another text its own, NULL the zero value, and a memo
// full of distinct texts still decodes the next ones right.
func TestJSONMemoDecodesEachTextOnce(t *testing.T) {
	var got map[string]domain.ChecklistEntry
	m := newJSONMemo(&got)
	scan := func(src any) map[string]domain.ChecklistEntry {
		t.Helper()
		if err := m.Scan(src); err != nil {
			t.Fatalf("scan %v: %v", src, err)
		}
		return got
	}
	first := scan([]byte(`{"food": {"answer": "met"}}`))
	again := scan(`{"food": {"answer": "met"}}`)
	if first["food"].Answer != "met" || len(m.seen) != 1 {
		t.Fatalf("decoded %v, memo of %d", first, len(m.seen))
	}
	again["marker"] = domain.ChecklistEntry{}
	if _, shared := first["marker"]; !shared {
		t.Error("the same text was decoded twice")
	}
	if other := scan(`{"water": {"answer": "problem", "note": "水管坏了"}}`); other["water"].Note != "水管坏了" || len(other) != 1 {
		t.Errorf("another text: %v", other)
	}
	if null := scan(nil); null != nil {
		t.Errorf("NULL: %v", null)
	}
	if err := m.Scan(`{"food":`); err == nil {
		t.Error("broken JSON scanned")
	}

	var list []string
	lists := newJSONMemo(&list)
	for i := range jsonMemoSize + 10 {
		text := `["m` + string(rune('a'+i%26)) + `", "` + string(rune(0x4e00+i)) + `"]`
		if err := lists.Scan([]byte(text)); err != nil || len(list) != 2 || list[1] != string(rune(0x4e00+i)) {
			t.Fatalf("text %d: %v %q", i, err, list)
		}
	}
	if len(lists.seen) != jsonMemoSize {
		t.Errorf("memo holds %d texts, bound %d", len(lists.seen), jsonMemoSize)
	}
}
