package registry

import (
	"context"
	"reflect"
	"slices"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// HouseholdQuery filters a household listing.
type HouseholdQuery struct {
	RegionID    *uuid.UUID
	Status      string
	PovertyType string
	CadreID     *uuid.UUID
	Unpaired    bool
	Query       string
}

// Households lists the households the caller may see.
func (s *Service) Households(ctx context.Context, p domain.Principal, q HouseholdQuery, pg Page) ([]domain.Household, int64, error) {
	var fe domain.FieldErrors
	if q.Status != "" && !domain.Statuses.Has(q.Status) {
		fe.Add("status", "invalid_enum", "unknown status", "农户状态无效")
	}
	if q.PovertyType != "" && !domain.PovertyTypes.Has(q.PovertyType) {
		fe.Add("poverty_type", "invalid_enum", "unknown poverty type", "贫困户属性无效")
	}
	if err := fe.Err(); err != nil {
		return nil, 0, err
	}
	f := domain.HouseholdFilter{Scope: p.HouseholdScope(), Today: s.today(), Status: q.Status, PovertyType: q.PovertyType,
		CadreID: q.CadreID, Unpaired: q.Unpaired, Query: q.Query, Limit: pg.Limit, Offset: pg.Offset}
	if q.RegionID != nil {
		// Not in p's sight (or no region): 404, as on every route
		// taking region_id.
		r, err := s.visibleRegion(ctx, p, *q.RegionID)
		if err != nil {
			return nil, 0, err
		}
		f.WithinPath = r.Path
	}
	return s.store.Households(ctx, f)
}

// Household returns one household the caller may see.
func (s *Service) Household(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Household, error) {
	return s.store.Household(ctx, p.HouseholdScope(), s.today(), id)
}

// HouseholdFile is the domain type; the alias keeps call sites short.
type HouseholdFile = domain.HouseholdFile

// HouseholdFile returns the whole file of a visible household.
func (s *Service) HouseholdFile(ctx context.Context, p domain.Principal, id uuid.UUID) (HouseholdFile, error) {
	h, err := s.Household(ctx, p, id)
	if err != nil {
		return HouseholdFile{}, err
	}
	ms, err := s.store.Members(ctx, h.CountyID, h.ID)
	if err != nil {
		return HouseholdFile{}, err
	}
	sh, ph, err := s.store.StatusHistory(ctx, h.CountyID, h.ID)
	if err != nil {
		return HouseholdFile{}, err
	}
	history, err := s.store.PairingHistory(ctx, h.CountyID, h.ID)
	if err != nil {
		return HouseholdFile{}, err
	}
	open := []domain.PairingRecord{}
	for _, pr := range history {
		if pr.EndOn == nil {
			open = append(open, pr)
		}
	}
	return HouseholdFile{Household: h, Members: ms, StatusHistory: sh, PovertyHistory: ph, OpenPairings: open, PairingHistory: history},
		s.auditIDNumbers(ctx, p, h.ID, ms...)
}

// NewHousehold is the input for registering a household.
type NewHousehold struct {
	RegionID    uuid.UUID
	Details     domain.HouseholdDetails
	Status      string
	PovertyType string
	ExitYear    *int
	EffectiveOn domain.Date // when the status took effect (default today)
	Members     []domain.MemberDetails
}

// CreateHousehold registers a household with its members in one step.
func (s *Service) CreateHousehold(ctx context.Context, p domain.Principal, in NewHousehold) (HouseholdFile, error) {
	if err := requireManager(p); err != nil {
		return HouseholdFile{}, err
	}
	today := s.today()
	var fe domain.FieldErrors
	region, err := s.visibleRegion(ctx, p, in.RegionID)
	if err != nil {
		if !domain.IsCode(err, domain.CodeNotFound) {
			return HouseholdFile{}, err
		}
		fe.Add("/region_id", "unknown", "region not found", "所属村或村民小组不存在")
	} else if region.Level != domain.LevelVillage && region.Level != domain.LevelGroup {
		fe.Add("/region_id", "invalid", "a household belongs to a village or a village group", "农户应归属到行政村或村民小组")
	}
	in.Details.Validate(&fe)
	if in.EffectiveOn.IsZero() {
		in.EffectiveOn = today
	}
	if err := domain.ValidateStatusChange(domain.Household{}, in.Status, in.ExitYear, in.PovertyType, in.EffectiveOn, today); err != nil {
		fe = append(fe, err.(*domain.Error).Fields...)
	}
	heads := 0
	seenID := map[string]int{}
	for i := range in.Members {
		prefix := "/members/" + itoa(i)
		in.Members[i].Validate(&fe, prefix, today)
		if in.Members[i].Relation == "head" {
			heads++
		}
		if id := in.Members[i].IDNumber; id != "" {
			if j, dup := seenID[id]; dup {
				fe.Add(prefix+"/id_number", "duplicate", "same ID number as member "+itoa(j), "与第"+itoa(j+1)+"位成员身份证号重复")
			}
			seenID[id] = i
		}
	}
	if len(in.Members) > 0 && heads != 1 {
		fe.Add("/members", "invalid", "exactly one member must be the head (relation \"head\")", "家庭成员中应有且只有一位户主")
	}
	if len(in.Members) > 30 {
		fe.Add("/members", "too_many", "at most 30 members", "家庭成员不能超过30人")
	}
	if err := fe.Err(); err != nil {
		return HouseholdFile{}, err
	}
	now := s.now().UTC()
	h := domain.Household{ID: uuid.New(), RegionID: region.ID, Status: in.Status, PovertyType: in.PovertyType, ExitYear: in.ExitYear,
		Version: 1, CreatedAt: now, UpdatedAt: now}
	applyDetails(&h, in.Details)
	if region.CountyID == nil {
		return HouseholdFile{}, domain.Invalid(domain.FieldError{Field: "/region_id", Reason: "invalid", Message: "region is not inside a county", MessageZH: "所属区划不在任何县内"})
	}
	h.CountyID = *region.CountyID
	h.VillageID = region.ID
	if region.Level == domain.LevelGroup && region.ParentID != nil {
		h.VillageID = *region.ParentID
	}
	if in.Status == domain.StatusRegistered {
		y := in.EffectiveOn.Year
		h.RegisteredYear = &y
	}
	members := make([]domain.Member, len(in.Members))
	for i, md := range in.Members {
		m := domain.Member{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, Version: 1, CreatedAt: now, UpdatedAt: now}
		m.Apply(md)
		members[i] = m
	}
	sc := domain.StatusChange{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, To: in.Status, ExitYear: in.ExitYear,
		EffectiveOn: in.EffectiveOn, Reason: "建档", ChangedBy: p.UserID, RecordedAt: now}
	var pc *domain.PovertyTypeChange
	if in.PovertyType != "" {
		pc = &domain.PovertyTypeChange{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, To: in.PovertyType,
			EffectiveOn: in.EffectiveOn, Reason: "建档", ChangedBy: p.UserID, RecordedAt: now}
	}
	err = s.store.CreateHousehold(ctx, HouseholdRegistration{Household: h, RegionPath: region.Path, Members: members, Status: sc, PovertyType: pc,
		Audit: householdAudit(p, "create", "household", h.ID, h.ID, map[string]any{"status": h.Status, "members": len(members)})})
	if err != nil {
		if domain.Reason(err) == "duplicate" {
			return HouseholdFile{}, domain.Invalid(domain.FieldError{Field: "/number", Reason: "duplicate",
				Message: "household number or a member's ID number is already registered in this county", MessageZH: "户编号或成员身份证号在本县已登记"})
		}
		return HouseholdFile{}, err
	}
	return s.HouseholdFile(ctx, p, h.ID)
}

func applyDetails(h *domain.Household, d domain.HouseholdDetails) {
	h.HouseholdDetails = d
	if h.Causes == nil {
		h.Causes = []string{}
	}
}

// UpdateHousehold replaces the editable fields of a household if it is still
// at version.
func (s *Service) UpdateHousehold(ctx context.Context, p domain.Principal, id uuid.UUID, version int64, patch func(domain.HouseholdDetails, *domain.FieldErrors) domain.HouseholdDetails) (domain.Household, error) {
	h, err := s.Household(ctx, p, id)
	if err != nil {
		return domain.Household{}, err
	}
	if err := requireManager(p); err != nil {
		return domain.Household{}, err
	}
	var fe domain.FieldErrors
	d := patch(h.HouseholdDetails, &fe)
	d.Validate(&fe)
	if err := fe.Err(); err != nil {
		return domain.Household{}, err
	}
	// An edit that changes nothing makes no version, as a resent push
	// edit makes none: a new version would send every phone that holds
	// the household a change to merge.
	if version == h.Version && reflect.DeepEqual(d, h.HouseholdDetails) {
		return h, nil
	}
	applyDetails(&h, d)
	return s.store.UpdateHousehold(ctx, h, version, householdAudit(p, "update", "household", h.ID, h.ID, nil))
}

// StatusInput changes a household's status, optionally its poverty type.
type StatusInput struct {
	Status      string
	PovertyType string
	ExitYear    *int
	EffectiveOn domain.Date
	Reason      string
	// Cause is why a household relapsed (domain.RelapseCauses): required
	// with status relapsed, refused with any other.
	Cause   string
	Version int64
}

// ChangeStatus records a dated status change (exit, relapse, removal, …).
func (s *Service) ChangeStatus(ctx context.Context, p domain.Principal, id uuid.UUID, in StatusInput) (HouseholdFile, error) {
	h, err := s.Household(ctx, p, id)
	if err != nil {
		return HouseholdFile{}, err
	}
	if err := requireManager(p); err != nil {
		return HouseholdFile{}, err
	}
	today := s.today()
	var fe domain.FieldErrors
	if err := domain.ValidateStatusChange(h, in.Status, in.ExitYear, in.PovertyType, in.EffectiveOn, today); err != nil {
		fe = append(fe, err.(*domain.Error).Fields...)
	}
	// The rules read the history in date order: a move dated before the
	// last one would sort behind it and leave the household, as the rules
	// see it, in its old status (as the poverty type's history refuses).
	history, _, err := s.store.StatusHistory(ctx, h.CountyID, h.ID)
	if err != nil {
		return HouseholdFile{}, err
	}
	dated := !in.EffectiveOn.IsZero() && !slices.ContainsFunc(fe, func(f domain.FieldError) bool { return f.Field == "/effective_on" })
	if n := len(history); n > 0 && dated && in.EffectiveOn.Before(history[n-1].EffectiveOn) {
		last := history[n-1].EffectiveOn.String()
		fe.Add("/effective_on", "out_of_range", "effective date is before the last recorded status change ("+last+")",
			"生效日期早于上一次状态变更（"+last+"）")
	}
	domain.CheckStatusWhy(&fe, in.Status, in.Cause, in.Reason)
	if err := fe.Err(); err != nil {
		return HouseholdFile{}, err
	}
	now := s.now().UTC()
	sc := domain.StatusChange{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, From: h.Status, To: in.Status, ExitYear: in.ExitYear,
		EffectiveOn: in.EffectiveOn, Reason: in.Reason, Cause: in.Cause, ChangedBy: p.UserID, RecordedAt: now}
	var pc *domain.PovertyTypeChange
	if in.PovertyType != "" && in.PovertyType != h.PovertyType {
		pc = &domain.PovertyTypeChange{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, From: h.PovertyType, To: in.PovertyType,
			EffectiveOn: in.EffectiveOn, Reason: in.Reason, ChangedBy: p.UserID, RecordedAt: now}
	}
	if err := s.store.ChangeHouseholdStatus(ctx, h, in.Version, sc, pc, householdAudit(p, "change_status", "household", h.ID, h.ID,
		map[string]any{"from": h.Status, "to": in.Status, "effective_on": in.EffectiveOn.String()})); err != nil {
		return HouseholdFile{}, err
	}
	return s.HouseholdFile(ctx, p, id)
}
