package registry

import (
	"context"
	"strconv"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

func itoa(i int) string { return strconv.Itoa(i) }

// Members lists the members of a visible household.
func (s *Service) Members(ctx context.Context, p domain.Principal, householdID uuid.UUID) ([]domain.Member, error) {
	h, err := s.Household(ctx, p, householdID)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.Members(ctx, h.CountyID, h.ID)
	if err != nil {
		return nil, err
	}
	return ms, s.auditIDNumbers(ctx, p, h.ID, ms...)
}

// Member returns one member of a visible household.
func (s *Service) Member(ctx context.Context, p domain.Principal, householdID, id uuid.UUID) (domain.Member, error) {
	m, err := s.member(ctx, p, householdID, id)
	if err != nil {
		return domain.Member{}, err
	}
	return m, s.auditIDNumbers(ctx, p, householdID, m)
}

// member finds a member of a visible household, for a caller that does
// not show it (so reads no ID number).
func (s *Service) member(ctx context.Context, p domain.Principal, householdID, id uuid.UUID) (domain.Member, error) {
	h, err := s.Household(ctx, p, householdID)
	if err != nil {
		return domain.Member{}, err
	}
	return s.store.Member(ctx, h.CountyID, h.ID, id)
}

// auditIDNumbers records that the caller is about to be shown the clear
// 身份证号 of these members of a household: who, which household, why (the
// route), how many. Roles shown the masked form read nothing and record
// nothing. The read fails if the entry cannot be written.
func (s *Service) auditIDNumbers(ctx context.Context, p domain.Principal, householdID uuid.UUID, ms ...domain.Member) error {
	if !p.SeesIDNumbers() {
		return nil
	}
	n := 0
	for _, m := range ms {
		if m.IDNumber != "" {
			n++
		}
	}
	if n == 0 {
		return nil
	}
	return s.store.Audit(ctx, householdAudit(p, "read_id_numbers", "household", householdID, householdID,
		map[string]any{"route": p.Route, "id_numbers": n}))
}

// CreateMember adds a member to a household.
func (s *Service) CreateMember(ctx context.Context, p domain.Principal, householdID uuid.UUID, in domain.MemberDetails) (domain.Member, error) {
	h, err := s.Household(ctx, p, householdID)
	if err != nil {
		return domain.Member{}, err
	}
	if err := requireManager(p); err != nil {
		return domain.Member{}, err
	}
	var fe domain.FieldErrors
	in.Validate(&fe, "", s.today())
	existing, err := s.store.Members(ctx, h.CountyID, h.ID)
	if err != nil {
		return domain.Member{}, err
	}
	if in.Relation == domain.RelationHead {
		headOf(existing, uuid.Nil, &fe)
	}
	if err := fe.Err(); err != nil {
		return domain.Member{}, err
	}
	now := s.now().UTC()
	m := domain.Member{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, Version: 1, CreatedAt: now, UpdatedAt: now}
	m.Apply(in)
	if err := s.store.CreateMember(ctx, m, householdAudit(p, "create", "member", m.ID, h.ID, map[string]any{"household_id": h.ID.String()})); err != nil {
		return domain.Member{}, duplicateID(err)
	}
	return m, s.auditIDNumbers(ctx, p, h.ID, m)
}

// UpdateMember replaces a member's fields if it is still at version.
func (s *Service) UpdateMember(ctx context.Context, p domain.Principal, householdID, id uuid.UUID, version int64, patch func(domain.MemberDetails) domain.MemberDetails) (domain.Member, error) {
	m, err := s.member(ctx, p, householdID, id)
	if err != nil {
		return domain.Member{}, err
	}
	if err := requireManager(p); err != nil {
		return domain.Member{}, err
	}
	d := patch(m.MemberDetails)
	var fe domain.FieldErrors
	d.Validate(&fe, "", s.today())
	if d.Relation == domain.RelationHead && m.Relation != domain.RelationHead {
		// As CreateMember: one head a household. Two were stored here, and
		// the register's export of them did not import back (two_heads).
		ms, err := s.store.Members(ctx, m.CountyID, m.HouseholdID)
		if err != nil {
			return domain.Member{}, err
		}
		headOf(ms, m.ID, &fe)
	}
	if err := fe.Err(); err != nil {
		return domain.Member{}, err
	}
	if version == m.Version && d == m.MemberDetails { // as UpdateHousehold: no change, no version
		return m, nil
	}
	m.Apply(d)
	out, err := s.store.UpdateMember(ctx, m, version, householdAudit(p, "update", "member", m.ID, householdID, map[string]any{"household_id": householdID.String()}))
	if err != nil {
		return domain.Member{}, duplicateID(err)
	}
	return out, s.auditIDNumbers(ctx, p, householdID, out)
}

// headOf reports in fe a head among ms other than the member not: a
// household has one head at most (it may have none, its head removed and
// no new one named yet).
func headOf(ms []domain.Member, not uuid.UUID, fe *domain.FieldErrors) {
	for _, m := range ms {
		if m.Relation == domain.RelationHead && m.ID != not {
			fe.Add("/relation", "duplicate", "the household already has a head", "该户已有户主")
			return
		}
	}
}

// DeleteMember removes a member.
func (s *Service) DeleteMember(ctx context.Context, p domain.Principal, householdID, id uuid.UUID) error {
	m, err := s.member(ctx, p, householdID, id)
	if err != nil {
		return err
	}
	if err := requireManager(p); err != nil {
		return err
	}
	return s.store.DeleteMember(ctx, m.CountyID, m.HouseholdID, m.ID, householdAudit(p, "delete", "member", m.ID, householdID, map[string]any{"household_id": householdID.String()}))
}

func duplicateID(err error) error {
	if domain.Reason(err) == "duplicate" {
		return domain.Invalid(domain.FieldError{Field: "/id_number", Reason: "duplicate", Message: "this ID number is already registered in the county", MessageZH: "该身份证号在本县已登记"})
	}
	return err
}
