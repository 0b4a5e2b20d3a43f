package app

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// pushWrites counts what a push can write: records, their feed rows and
// the conflicts kept for supervisors.
func (e *testEnv) pushWrites(t *testing.T) map[string]int64 {
	t.Helper()
	out := e.counts(t)
	for _, tb := range []string{"visits", "changes", "conflicts"} {
		out[tb] = e.count(t, tb)
	}
	return out
}

// wantNoWrites checks that nothing was written since before (pushWrites).
func (e *testEnv) wantNoWrites(t *testing.T, what string, before map[string]int64) {
	t.Helper()
	after := e.pushWrites(t)
	for tb, n := range before {
		if after[tb] != n {
			t.Errorf("%s: %s went from %d to %d rows", what, tb, n, after[tb])
		}
	}
}

// wantRejectedAt checks that a change was rejected naming field with reason.
func wantRejectedAt(t *testing.T, what string, r wire.PushResult, field, reason string) {
	t.Helper()
	if r.Status != wire.StatusRejected || len(r.Errors) == 0 || r.Errors[0].Field != field || r.Errors[0].Reason != reason {
		t.Errorf("%s: got %s %+v, want rejected at %s (%s)", what, r.Status, r.Errors, field, reason)
	}
}

// TestMalformedBaseIsRejectedAndWritesNothing: a change's base (the values
// the phone edited from, which the merge compares with the stored ones
// and a conflict keeps for a supervisor) must name fields of the entity's
// data and hold values of their types. Every malformed base, for every
// entity that carries one, rejects its change naming
// /changes/i/base/<field>, and nothing of it is written — whether the
// edit is made from the current version (where the merge would not even
// read the base) or not. A well-formed base, nulls included, goes through.
func TestMalformedBaseIsRejectedAndWritesNothing(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		tok := e.login(t, "cadre-a")
		hA := e.householdA.Household.ID
		year := domain.DateOf(time.Now()).Year
		visitID, planID := uuid.New(), uuid.New()
		for _, ch := range []map[string]any{
			visitChange(visitID, hA, "初次走访", 34.7),
			planItemCreate(planID, hA, e.cadreA.ID, "种植油茶3亩"),
			incomeChange(wire.OpCreate, hA, year, 0, map[string]any{"wages_fen": 100_000}),
		} {
			if r := e.pushOne(t, tok, "phone-1", ch); r.Status != wire.StatusApplied {
				t.Fatalf("set-up %s: %+v", ch["entity"], r)
			}
		}
		update := func(entity string, id uuid.UUID, household *uuid.UUID, data map[string]any) func(map[string]any) map[string]any {
			return func(base map[string]any) map[string]any {
				ch := map[string]any{"entity": entity, "op": "update", "id": id, "base_version": 1, "data": data, "base": base}
				if household != nil {
					ch["household_id"] = *household
				}
				return ch
			}
		}
		deadline := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
		entities := []struct {
			entity string
			change func(base map[string]any) map[string]any // a valid change of the entity carrying base
			text   string                                   // a text field of its data
			// other is a field of another type, with a string where it
			// belongs, and the reason that string is refused with.
			other, otherReason string
		}{
			{"household", update("household", hA, nil, map[string]any{"phone": "13900000001"}), "phone", "causes", "invalid_type"},
			{"member", update("member", e.householdA.Members[0].ID, &hA, map[string]any{"phone": "13900000002"}), "phone", "", ""},
			{"visit", update("visit", visitID, nil, map[string]any{"notes": "补记：屋顶已修好"}), "notes", "gps", "invalid_type"},
			{"plan_item", update("plan_item", planID, nil, map[string]any{"state": "in_progress"}), "state", "target_on", "invalid_value"},
			{"income_account", func(base map[string]any) map[string]any {
				ch := incomeChange(wire.OpUpdate, hA, year, 1, map[string]any{"wages_fen": 120_000})
				ch["base"] = base
				return ch
			}, "notes", "wages_fen", "invalid_type"},
			// Ledger items are only created: a base there is judged all the same.
			{"ledger_item", func(base map[string]any) map[string]any {
				ch := ledgerItemCreate(uuid.New(), hA, "livelihood_request", "村道破损，雨天出行困难", deadline)
				ch["base"] = base
				return ch
			}, "problem", "deadline", "invalid_value"},
		}
		for _, en := range entities {
			shapes := []struct {
				name          string
				base          map[string]any
				field, reason string
			}{
				{"a number where text belongs", map[string]any{en.text: 123}, en.text, "invalid_type"},
				{"an object where text belongs", map[string]any{en.text: map[string]any{"value": "x"}}, en.text, "invalid_type"},
				{"a list where text belongs", map[string]any{en.text: []string{"x"}}, en.text, "invalid_type"},
				{"true where text belongs", map[string]any{en.text: true}, en.text, "invalid_type"},
				{"a field the record does not have", map[string]any{"colour": "red"}, "colour", "unknown_field"},
				{"the record's version", map[string]any{"version": 1}, "version", "unknown_field"},
				{"a NUL in the text", map[string]any{en.text: "旧\u0000值"}, en.text, "control_character"},
			}
			if en.other != "" {
				shapes = append(shapes, struct {
					name          string
					base          map[string]any
					field, reason string
				}{"a string where " + en.other + " belongs", map[string]any{en.other: "很多"}, en.other, en.otherReason})
			}
			for _, sh := range shapes {
				before := e.pushWrites(t)
				r := e.pushOne(t, tok, "phone-1", en.change(sh.base))
				wantRejectedAt(t, en.entity+", "+sh.name, r, "/changes/0/base/"+sh.field, sh.reason)
				e.wantNoWrites(t, en.entity+", "+sh.name, before)
			}
		}
		// The same changes with a base of the right types are taken: what
		// the phone had may be stale, empty or null.
		for _, en := range entities {
			if r := e.pushOne(t, tok, "phone-1", en.change(map[string]any{en.text: nil})); r.Status == wire.StatusRejected {
				t.Errorf("%s with a well-formed base: %+v", en.entity, r)
			}
		}
	})
}
