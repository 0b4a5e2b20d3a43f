package registry

import (
	"context"
	"strconv"

	"github.com/google/uuid"

	"fieldvisit/domain"
)

func itoa(i int) string { return strconv.Itoa(i) }

// Members lists the members of a visible household.
func (s *Service) Members(ctx context.Context, p domain.Principal, householdID uuid.UUID) ([]domain.Member, error) {
	h, err := s.Household(ctx, p, householdID)
	if err != nil {
		return nil, err
	}
	return s.store.Members(ctx, h.CountyID, h.ID)
}

// Member returns one member of a visible household.
func (s *Service) Member(ctx context.Context, p domain.Principal, householdID, id uuid.UUID) (domain.Member, error) {
	h, err := s.Household(ctx, p, householdID)
	if err != nil {
		return domain.Member{}, err
	}
	return s.store.Member(ctx, h.CountyID, h.ID, id)
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
	if in.Relation == "head" {
		for _, m := range existing {
			if m.Relation == "head" {
				fe.Add("/relation", "duplicate", "the household already has a head", "该户已有户主")
			}
		}
	}
	if err := fe.Err(); err != nil {
		return domain.Member{}, err
	}
	now := s.now().UTC()
	m := domain.Member{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, Version: 1, CreatedAt: now, UpdatedAt: now}
	m.Apply(in)
	if err := s.store.CreateMember(ctx, m, audit(p, "create", "member", m.ID, "", map[string]any{"household_id": h.ID.String()})); err != nil {
		return domain.Member{}, duplicateID(err)
	}
	return m, nil
}

// UpdateMember replaces a member's fields if it is still at version.
func (s *Service) UpdateMember(ctx context.Context, p domain.Principal, householdID, id uuid.UUID, version int64, patch func(domain.MemberDetails) domain.MemberDetails) (domain.Member, error) {
	m, err := s.Member(ctx, p, householdID, id)
	if err != nil {
		return domain.Member{}, err
	}
	if err := requireManager(p); err != nil {
		return domain.Member{}, err
	}
	d := patch(m.MemberDetails)
	var fe domain.FieldErrors
	d.Validate(&fe, "", s.today())
	if err := fe.Err(); err != nil {
		return domain.Member{}, err
	}
	m.Apply(d)
	out, err := s.store.UpdateMember(ctx, m, version, audit(p, "update", "member", m.ID, "", map[string]any{"household_id": householdID.String()}))
	return out, duplicateID(err)
}

// DeleteMember removes a member.
func (s *Service) DeleteMember(ctx context.Context, p domain.Principal, householdID, id uuid.UUID) error {
	m, err := s.Member(ctx, p, householdID, id)
	if err != nil {
		return err
	}
	if err := requireManager(p); err != nil {
		return err
	}
	return s.store.DeleteMember(ctx, m.CountyID, m.HouseholdID, m.ID, audit(p, "delete", "member", m.ID, "", map[string]any{"household_id": householdID.String()}))
}

func duplicateID(err error) error {
	if domain.Reason(err) == "duplicate" {
		return domain.Invalid(domain.FieldError{Field: "/id_number", Reason: "duplicate", Message: "this ID number is already registered in the county", MessageZH: "该身份证号在本县已登记"})
	}
	return err
}
