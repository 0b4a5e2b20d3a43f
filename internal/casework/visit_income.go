package casework

import (
	"context"
	"fmt"
	"slices"

	"github.com/fieldvisit/fieldvisit/domain"
)

// VisitWritten takes what a visit records for the casework, inside the
// transaction that wrote it (a push): its risk triggers raise or withdraw
// warnings, its income updates move the income account of the visit's
// year. before is the stored visit (nil: created). The push has judged the
// caller's access to the household already.
func (s *Service) VisitWritten(ctx context.Context, tx TxStore, p domain.Principal, before *domain.Visit, after domain.Visit) error {
	quiet := func(v *domain.Visit) bool { return v == nil || len(v.RiskTriggers) == 0 && len(v.IncomeUpdates) == 0 }
	if quiet(before) && quiet(&after) {
		return nil
	}
	h, err := tx.HouseholdByID(ctx, after.HouseholdID)
	if err != nil {
		return err
	}
	if err := s.raiseWarnings(ctx, tx, h, before, after); err != nil {
		return err
	}
	return s.applyVisitIncome(ctx, tx, p, h, before, after)
}

// visitIncome is what a live visit adds to the account of its year, by
// line (the IncomeSources codes).
func visitIncome(v *domain.Visit) (int, map[string]int64) {
	if v == nil || v.Deleted {
		return 0, nil
	}
	out := map[string]int64{}
	for _, u := range v.IncomeUpdates {
		out[u.Source] += u.AmountFen
	}
	return domain.DateOf(v.StartedAt).Year, out
}

// applyVisitIncome moves the income accounts by what the visit adds now
// less what it added before: a visit's updates are increments, applied
// once, in server order (docs/rules.md). An edit applies its difference,
// a delete takes the visit's amounts back, a visit moved to another year
// moves them to that year's account.
func (s *Service) applyVisitIncome(ctx context.Context, tx TxStore, p domain.Principal, h domain.Household, before *domain.Visit, after domain.Visit) error {
	deltas := map[int]map[string]int64{}
	add := func(v *domain.Visit, sign int64) {
		year, amounts := visitIncome(v)
		for src, fen := range amounts {
			if deltas[year] == nil {
				deltas[year] = map[string]int64{}
			}
			deltas[year][src] += sign * fen
		}
	}
	add(before, -1)
	add(&after, 1)
	// The year a visit's updates go to is the one the account routes take
	// (domain.FirstYear to next year): a visit dated later may be kept and
	// flagged, but opens no account.
	if year, amounts := visitIncome(&after); len(amounts) > 0 && (year < domain.FirstYear || year > s.today().Year+1) {
		return domain.Invalid(domain.FieldError{Field: "/income_updates", Reason: "out_of_range",
			Message:   fmt.Sprintf("a visit with income updates must be dated between %d and next year", domain.FirstYear),
			MessageZH: fmt.Sprintf("记录收支的走访日期应在%d年至明年之间", domain.FirstYear)})
	}
	years := make([]int, 0, len(deltas))
	for y, d := range deltas {
		for src, fen := range d {
			if fen == 0 {
				delete(d, src)
			}
		}
		if len(d) > 0 {
			years = append(years, y)
		}
	}
	slices.Sort(years)
	for _, y := range years {
		if err := s.addToAccount(ctx, tx, p, h, y, deltas[y], after); err != nil {
			return err
		}
	}
	return nil
}

// addToAccount adds delta to the household's account of year, creating
// it (with the register's member count) when there is none. A line taken
// below zero (the visit lowered an amount someone since wrote over) stays
// at zero.
func (s *Service) addToAccount(ctx context.Context, tx TxStore, p domain.Principal, h domain.Household, year int, delta map[string]int64, v domain.Visit) error {
	now := s.now().UTC()
	cur, _, err := tx.IncomeAccount(ctx, h.CountyID, h.ID, year)
	switch {
	case domain.IsCode(err, domain.CodeNotFound):
		n, err := membersCounted(ctx, tx, h)
		if err != nil {
			return err
		}
		cur = IncomeAccount{ID: IncomeAccountID(h.ID, year), CountyID: h.CountyID, HouseholdID: h.ID, Year: year, CreatedAt: now,
			IncomeFields: IncomeFields{MembersCounted: n}}
	case err != nil:
		return err
	}
	next := cur
	lines := map[string]*int64{"wages": &next.WagesFen, "business": &next.BusinessFen, "transfers": &next.TransfersFen,
		"pensions": &next.PensionsFen, "property": &next.PropertyFen, "costs": &next.CostsFen}
	for src, fen := range delta {
		*lines[src] = max(0, *lines[src]+fen)
	}
	var fe domain.FieldErrors
	next.IncomeFields.Validate(&fe, "")
	if len(fe) > 0 {
		return domain.Invalid(domain.FieldError{Field: "/income_updates", Reason: "out_of_range",
			Message: "the income updates take the " + itoa(year) + " income account out of range", MessageZH: "收支记录使该年度收入测算超出范围"})
	}
	next.Version, next.UpdatedBy, next.DeviceID, next.UpdatedAt = cur.Version+1, v.CadreID, v.DeviceID, now
	audit := incomeAudit(p, next, "visit_update")
	audit.Detail["visit_id"], audit.Detail["delta_fen"] = v.ID.String(), delta
	return tx.SaveIncomeAccount(ctx, next, cur.Version, audit)
}

// membersCounted is the register's member count of a household (its
// declared size when no member is listed), for an account begun without one.
func membersCounted(ctx context.Context, tx TxStore, h domain.Household) (int, error) {
	ms, err := tx.Members(ctx, h.CountyID, h.ID)
	if err != nil {
		return 0, err
	}
	if len(ms) == 0 && h.DeclaredSize != nil {
		return *h.DeclaredSize, nil
	}
	return len(ms), nil
}
