package app

import (
	"context"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

// dueList gives sync the cadre's worklist as the due list the last page of
// a pull carries; sync knows nothing of compliance rules.
func dueList(c *compliance.Service) fvsync.DueList {
	return func(ctx context.Context, p domain.Principal) ([]wire.DueItem, error) {
		items, err := c.Worklist(ctx, p)
		if err != nil {
			return nil, err
		}
		out := make([]wire.DueItem, len(items))
		for i, it := range items {
			st := it.Status
			hid := &st.HouseholdID
			if st.HouseholdID == uuid.Nil {
				hid = nil
			}
			out[i] = wire.DueItem{HouseholdID: hid, RuleCode: st.RuleCode, RuleNameZH: st.RuleNameZH, Period: st.Period.Key(),
				Required: st.Required, Counted: st.CountedN, DueOn: st.DueOn, State: it.State, ReasonZH: it.ReasonZH}
		}
		return out, nil
	}
}
