package sync

import (
	"encoding/json"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

func genFields(t *rapid.T, label string, keys []string) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	for _, k := range keys {
		if rapid.Bool().Draw(t, label+"-has-"+k) {
			m[k] = json.RawMessage(strconv.Quote(rapid.SampledFrom([]string{"a", "b", "c", "张三"}).Draw(t, label+"-"+k)))
		}
	}
	return m
}

// TestMergeNeverDropsAValue: every incoming field lands; every untouched
// field keeps its value; and each stored value that was overwritten while
// it differed from what the phone started from is returned as a loss.
func TestMergeNeverDropsAValue(t *testing.T) {
	keys := []string{"phone", "address", "notes", "income"}
	rapid.Check(t, func(t *rapid.T) {
		current := genFields(t, "cur", keys)
		data := genFields(t, "data", keys)
		base := genFields(t, "base", keys)
		baseV := rapid.Int64Range(1, 5).Draw(t, "baseV")
		curV := rapid.Int64Range(baseV, 6).Draw(t, "curV")
		merged, outcome, losses := Merge(current, data, base, baseV, curV)
		lost := map[string]FieldLoss{}
		for _, l := range losses {
			lost[l.Field] = l
		}
		for _, k := range keys {
			if in, ok := data[k]; ok {
				if !SameJSON(merged[k], in) {
					t.Fatalf("%s: incoming value dropped", k)
				}
				overwrote := !SameJSON(current[k], in)
				fromElsewhere := baseV != curV && !(hasBase(base, k) && SameJSON(current[k], base[k]))
				if overwrote && fromElsewhere {
					if l, ok := lost[k]; !ok || !SameJSON(l.Lost, current[k]) {
						t.Fatalf("%s: overwritten value %s not kept", k, current[k])
					}
				} else if _, ok := lost[k]; ok {
					t.Fatalf("%s: a loss reported where nothing was lost", k)
				}
			} else if !SameJSON(merged[k], current[k]) {
				t.Fatalf("%s: untouched field changed", k)
			}
		}
		if baseV == curV && (len(losses) > 0 || outcome != outcomeApplied) {
			t.Fatalf("an edit from the current version cannot conflict: %s %v", outcome, losses)
		}
		// Merging the same edit again changes nothing and loses nothing.
		again, _, losses2 := Merge(merged, data, base, curV+1, curV+1)
		for _, k := range keys {
			if !SameJSON(again[k], merged[k]) {
				t.Fatalf("re-applying an edit changed %s", k)
			}
		}
		if len(losses2) > 0 {
			t.Fatal("re-applying an edit reported losses")
		}
	})
}

func TestSameJSONIgnoresSpelling(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{`{"a":1,"b":[1,2]}`, `{ "b":[1,2], "a":1.0 }`, true},
		{`null`, ``, true},
		{`"x"`, `"y"`, false},
		{`[1,2]`, `[2,1]`, false},
	} {
		if got := SameJSON(json.RawMessage(tc.a), json.RawMessage(tc.b)); got != tc.same {
			t.Errorf("SameJSON(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}
