package registry

import (
	"context"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// RegionQuery filters a region listing.
type RegionQuery struct {
	ParentID *uuid.UUID
	Level    string
	Query    string
}

// Regions lists regions in the caller's subtree.
func (s *Service) Regions(ctx context.Context, p domain.Principal, q RegionQuery, pg Page) ([]domain.Region, int64, error) {
	if q.Level != "" && !domain.RegionLevels.Has(q.Level) {
		return nil, 0, domain.Invalid(domain.FieldError{Field: "level", Reason: "invalid_enum", Message: "unknown region level", MessageZH: "行政级别无效"})
	}
	return s.store.Regions(ctx, domain.RegionFilter{WithinPath: p.RegionScope(), ParentID: q.ParentID, Level: q.Level, Query: q.Query, Limit: pg.Limit, Offset: pg.Offset})
}

// Region returns a region in the caller's subtree.
func (s *Service) Region(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Region, error) {
	return s.visibleRegion(ctx, p, id)
}

// NewRegion is the input for creating a region.
type NewRegion struct {
	ParentID      *uuid.UUID
	Level         string
	Code          string
	Name          string
	IsPoorVillage bool
}

// CreateRegion adds a region under a parent in the admin's subtree.
func (s *Service) CreateRegion(ctx context.Context, p domain.Principal, in NewRegion) (domain.Region, error) {
	if err := requireAdmin(p); err != nil {
		return domain.Region{}, err
	}
	r := domain.Region{ID: uuid.New(), ParentID: in.ParentID, Level: in.Level, Code: in.Code, Name: in.Name, IsPoorVillage: in.IsPoorVillage}
	var parent *domain.Region
	if in.ParentID != nil {
		pr, err := s.visibleRegion(ctx, p, *in.ParentID)
		if err != nil {
			if domain.IsCode(err, domain.CodeNotFound) {
				return domain.Region{}, domain.Invalid(domain.FieldError{Field: "/parent_id", Reason: "unknown", Message: "parent region not found", MessageZH: "上级区划不存在"})
			}
			return domain.Region{}, err
		}
		parent = &pr
	}
	if err := domain.ValidateRegion(r, parent); err != nil {
		return domain.Region{}, err
	}
	r.Path = "/" + r.ID.String() + "/"
	if parent != nil {
		r.Path = parent.Path + r.ID.String() + "/"
		r.CountyID = parent.CountyID
	}
	if r.Level == domain.LevelCounty {
		id := r.ID
		r.CountyID = &id
	}
	if err := s.store.CreateRegion(ctx, r, audit(p, "create", "region", r.ID, r.Path, map[string]any{"code": r.Code, "name": r.Name})); err != nil {
		if domain.Reason(err) == "duplicate" {
			return domain.Region{}, domain.Invalid(domain.FieldError{Field: "/code", Reason: "duplicate", Message: "a region with this code exists", MessageZH: "该区划代码已存在"})
		}
		return domain.Region{}, err
	}
	return r, nil
}

// RegionChanges are the editable fields of a region.
type RegionChanges struct {
	Name          *string
	IsPoorVillage *bool
}

// UpdateRegion renames a region or marks a poor village.
func (s *Service) UpdateRegion(ctx context.Context, p domain.Principal, id uuid.UUID, ch RegionChanges) (domain.Region, error) {
	r, err := s.visibleRegion(ctx, p, id)
	if err != nil {
		return domain.Region{}, err
	}
	if err := requireManager(p); err != nil {
		return domain.Region{}, err
	}
	if ch.Name != nil {
		r.Name = *ch.Name
	}
	if ch.IsPoorVillage != nil {
		r.IsPoorVillage = *ch.IsPoorVillage
	}
	var parent *domain.Region
	if r.ParentID != nil {
		pr, err := s.store.Region(ctx, *r.ParentID)
		if err != nil {
			return domain.Region{}, err
		}
		parent = &pr
	}
	if err := domain.ValidateRegion(r, parent); err != nil {
		return domain.Region{}, err
	}
	if err := s.store.UpdateRegion(ctx, r, audit(p, "update", "region", r.ID, r.Path, map[string]any{"name": r.Name, "is_poor_village": r.IsPoorVillage})); err != nil {
		return domain.Region{}, err
	}
	return r, nil
}
