package sync

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
)

// Outcomes of merging one change into the stored record.
const (
	outcomeApplied  = "applied"  // made from the current version
	outcomeMerged   = "merged"   // made from an older version, touching only fields nobody else changed
	outcomeConflict = "conflict" // overlapping edit: applied by policy, the losing value kept
)

// FieldLoss is a value that lost an overlapping edit.
type FieldLoss struct {
	Field string
	Base  json.RawMessage // what the phone had when it edited (nil if it did not say)
	Lost  json.RawMessage // the stored value that was overwritten
	Won   json.RawMessage // the value now stored
}

// Merge applies the fields of an edit to the current record, field by field.
//
// current holds the stored record's fields as JSON; data the fields the
// phone changed; base the values those fields had on the phone before it
// changed them. An edit made from the current version applies as sent. An
// edit made from an older version applies to each field that nobody else
// changed since (the stored value still equals the phone's base) — a
// non-overlapping merge. A field changed on both sides to different values
// overlaps: the policy is last writer by server order, so the incoming value
// wins and the value it overwrote is returned as a loss to be kept for a
// supervisor. Merge never drops a value silently.
func Merge(current, data, base map[string]json.RawMessage, baseVersion, currentVersion int64) (merged map[string]json.RawMessage, outcome string, losses []FieldLoss) {
	merged = make(map[string]json.RawMessage, len(current))
	for k, v := range current {
		merged[k] = v
	}
	outcome = outcomeApplied
	if baseVersion != currentVersion {
		outcome = outcomeMerged
	}
	fields := make([]string, 0, len(data))
	for f := range data {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		incoming, cur := data[f], current[f]
		switch {
		case baseVersion == currentVersion, SameJSON(cur, incoming):
		case hasBase(base, f) && SameJSON(cur, base[f]):
		default:
			outcome = outcomeConflict
			losses = append(losses, FieldLoss{Field: f, Base: base[f], Lost: cur, Won: incoming})
		}
		merged[f] = incoming
	}
	return merged, outcome, losses
}

func hasBase(base map[string]json.RawMessage, f string) bool {
	_, ok := base[f]
	return ok
}

// SameJSON compares two JSON values by meaning, not spelling: key order,
// white space and number formatting do not matter. Absent and null are equal.
func SameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if len(bytes.TrimSpace(a)) == 0 {
		a = json.RawMessage("null")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = json.RawMessage("null")
	}
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// fieldsOf turns a struct into its JSON fields.
func fieldsOf(v any) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	return m, json.Unmarshal(b, &m)
}
