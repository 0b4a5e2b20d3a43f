package sync

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/fieldvisit/fieldvisit/wire"
)

// A change's base holds the values its fields had on the phone before the
// edit. The merge compares them with the stored values (merge.go), and an
// overlapping edit keeps the phone's base in the conflict a supervisor
// reads, so a base is judged before anything is written: each member must
// name a field of the entity's data and hold a value of that field's type,
// decoded strictly as the data itself is (a number where the phone number
// belongs would pass for a colleague's edit and make a false conflict).
// Its values are not validated as data is: a base is what the server sent
// the phone, stale values and all.

// baseShapes gives, by entity, the data type a base is decoded into.
var baseShapes = map[string]func() any{
	wire.EntityVisit:         func() any { return new(wire.VisitData) },
	wire.EntityHousehold:     func() any { return new(wire.HouseholdFields) },
	wire.EntityMember:        func() any { return new(wire.MemberFields) },
	wire.EntityPlanItem:      func() any { return new(wire.PlanItemData) },
	wire.EntityIncomeAccount: func() any { return new(wire.IncomeAccountData) },
	wire.EntityLedgerItem:    func() any { return new(wire.LedgerItemData) },
}

// checkBaseValues refuses a base whose members are not fields of the
// entity's data (unknown_field), hold the wrong JSON type (invalid_type)
// or value (invalid_value), or hold a NUL character, which the conflict
// store cannot keep (control_character); each names /changes/i/base/<field>.
func (r recordTx) checkBaseValues() error {
	shape, ok := baseShapes[r.ch.Entity]
	if !ok || len(r.ch.Base) == 0 {
		return nil
	}
	prefix := r.ptr + "/base"
	if err := decodeData(prefix, r.ch.Base, shape()); err != nil {
		return err
	}
	fields := make([]string, 0, len(r.ch.Base))
	for f := range r.ch.Base {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		if holdsNUL(r.ch.Base[f]) {
			return reject(prefix+"/"+f, "control_character", "the base value holds a NUL character", "原值中包含空字符")
		}
	}
	return nil
}

// holdsNUL reports whether a JSON value holds U+0000 in a string or a
// member name, anywhere.
func holdsNUL(raw json.RawMessage) bool {
	if !strings.Contains(string(raw), `\u0000`) {
		return false // NUL can only come escaped: raw JSON text may not hold it
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case string:
			return strings.ContainsRune(x, 0)
		case []any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		case map[string]any:
			for k, e := range x {
				if strings.ContainsRune(k, 0) || walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}
