package storage

import (
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
)

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
