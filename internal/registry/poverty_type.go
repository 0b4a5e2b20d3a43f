package registry

import (
	"context"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// PovertyTypeInput moves a household between 一般, 低保 and 五保 without a
// status move.
type PovertyTypeInput struct {
	PovertyType string
	EffectiveOn domain.Date
	Reason      string
	Version     int64
}

// ChangePovertyType records a dated poverty-type change on its own. Only a
// household that has a poverty type (registered, exited or relapsed) can
// change it; a date before the last recorded change would rewrite the
// history the rules have already read, so it is refused.
func (s *Service) ChangePovertyType(ctx context.Context, p domain.Principal, id uuid.UUID, in PovertyTypeInput) (HouseholdFile, error) {
	h, err := s.Household(ctx, p, id)
	if err != nil {
		return HouseholdFile{}, err
	}
	if err := requireManager(p); err != nil {
		return HouseholdFile{}, err
	}
	_, history, err := s.store.StatusHistory(ctx, h.CountyID, h.ID)
	if err != nil {
		return HouseholdFile{}, err
	}
	today := s.today()
	var fe domain.FieldErrors
	switch {
	case h.Status != domain.StatusRegistered && h.Status != domain.StatusExited && h.Status != domain.StatusRelapsed:
		fe.Add("/poverty_type", "invalid_transition", "only a registered, exited or relapsed household has a poverty type", "只有在册、已脱贫或返贫户才有贫困户属性")
	case in.PovertyType == "":
		fe.Required("/poverty_type", "贫困户属性")
	case !domain.PovertyTypes.Has(in.PovertyType):
		fe.Add("/poverty_type", "invalid_enum", "unknown poverty type", "贫困户属性无效")
	case in.PovertyType == h.PovertyType:
		fe.Add("/poverty_type", "unchanged", "the household already has this poverty type", "该户已是此贫困户属性")
	}
	switch {
	case in.EffectiveOn.IsZero():
		fe.Required("/effective_on", "生效日期")
	case in.EffectiveOn.After(today):
		fe.Add("/effective_on", "out_of_range", "effective date cannot be in the future", "生效日期不能晚于今天")
	case len(history) > 0 && in.EffectiveOn.Before(history[len(history)-1].EffectiveOn):
		fe.Add("/effective_on", "out_of_range", "effective date is before the last recorded poverty-type change ("+history[len(history)-1].EffectiveOn.String()+")",
			"生效日期早于上一次贫困户属性变更（"+history[len(history)-1].EffectiveOn.String()+"）")
	}
	domain.CheckText(&fe, "/reason", "变更原因", in.Reason, 1, 500)
	if err := fe.Err(); err != nil {
		return HouseholdFile{}, err
	}
	pc := domain.PovertyTypeChange{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, From: h.PovertyType, To: in.PovertyType,
		EffectiveOn: in.EffectiveOn, Reason: in.Reason, ChangedBy: p.UserID, RecordedAt: s.now().UTC()}
	if err := s.store.ChangeHouseholdPovertyType(ctx, h, in.Version, pc, householdAudit(p, "change_poverty_type", "household", h.ID, h.ID,
		map[string]any{"from": h.PovertyType, "to": in.PovertyType, "effective_on": in.EffectiveOn.String()})); err != nil {
		return HouseholdFile{}, err
	}
	return s.HouseholdFile(ctx, p, id)
}
