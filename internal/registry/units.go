package registry

import (
	"context"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// UnitWithPath is an assisting unit with the path of the region it sits in,
// which decides who may see it.
type UnitWithPath struct {
	domain.Unit
	RegionPath string
}

// Units lists assisting units in the caller's subtree.
func (s *Service) Units(ctx context.Context, p domain.Principal, query string, pg Page) ([]UnitWithPath, int64, error) {
	return s.store.Units(ctx, p.RegionScope(), query, pg.Limit, pg.Offset)
}

// Unit returns a unit in the caller's subtree with its assignments.
func (s *Service) Unit(ctx context.Context, p domain.Principal, id uuid.UUID) (UnitWithPath, []domain.UnitAssignment, error) {
	u, err := s.store.Unit(ctx, id)
	if err != nil {
		return UnitWithPath{}, nil, err
	}
	if !p.InSubtree(u.RegionPath) {
		return UnitWithPath{}, nil, domain.NotFound("unit")
	}
	as, err := s.store.UnitAssignments(ctx, id)
	return u, as, err
}

// CreateUnit adds an assisting unit in a region of the caller's subtree.
func (s *Service) CreateUnit(ctx context.Context, p domain.Principal, name string, regionID uuid.UUID) (UnitWithPath, error) {
	if err := requireManager(p); err != nil {
		return UnitWithPath{}, err
	}
	var fe domain.FieldErrors
	domain.CheckText(&fe, "/name", "单位名称", name, 1, 100)
	r, err := s.visibleRegion(ctx, p, regionID)
	if err != nil {
		if !domain.IsCode(err, domain.CodeNotFound) {
			return UnitWithPath{}, err
		}
		fe.Add("/region_id", "unknown", "region not found", "所属区划不存在")
	}
	if err := fe.Err(); err != nil {
		return UnitWithPath{}, err
	}
	u := domain.Unit{ID: uuid.New(), Name: name, RegionID: r.ID, CreatedAt: s.now().UTC()}
	if err := s.store.CreateUnit(ctx, u, audit(p, "create", "unit", u.ID, r.Path, map[string]any{"name": name})); err != nil {
		if domain.Reason(err) == "duplicate" {
			return UnitWithPath{}, domain.Invalid(domain.FieldError{Field: "/name", Reason: "duplicate", Message: "a unit with this name exists in the region", MessageZH: "该区划内已有同名单位"})
		}
		return UnitWithPath{}, err
	}
	return UnitWithPath{Unit: u, RegionPath: r.Path}, nil
}

// AssignUnit places a unit in a village (optionally one of its groups).
func (s *Service) AssignUnit(ctx context.Context, p domain.Principal, unitID, villageID uuid.UUID, groupID *uuid.UUID, start domain.Date, end *domain.Date) (domain.UnitAssignment, error) {
	if _, _, err := s.Unit(ctx, p, unitID); err != nil {
		return domain.UnitAssignment{}, err
	}
	if err := requireManager(p); err != nil {
		return domain.UnitAssignment{}, err
	}
	var fe domain.FieldErrors
	village, err := s.visibleRegion(ctx, p, villageID)
	if err != nil || village.Level != domain.LevelVillage {
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return domain.UnitAssignment{}, err
		}
		fe.Add("/village_id", "unknown", "village not found", "行政村不存在")
	}
	if groupID != nil {
		g, err := s.visibleRegion(ctx, p, *groupID)
		if err != nil || g.Level != domain.LevelGroup || g.ParentID == nil || *g.ParentID != villageID {
			if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
				return domain.UnitAssignment{}, err
			}
			fe.Add("/group_id", "unknown", "group not found in the village", "该村没有这个村民小组")
		}
	}
	if start.IsZero() {
		fe.Required("/start_on", "开始日期")
	}
	if end != nil && !start.IsZero() && end.Before(start) {
		fe.Add("/end_on", "out_of_range", "end date is before start date", "结束日期早于开始日期")
	}
	if err := fe.Err(); err != nil {
		return domain.UnitAssignment{}, err
	}
	a := domain.UnitAssignment{ID: uuid.New(), UnitID: unitID, VillageID: villageID, GroupID: groupID, CountyID: *village.CountyID, StartOn: start, EndOn: end}
	if err := s.store.CreateUnitAssignment(ctx, a, audit(p, "assign", "unit", unitID, village.Path, map[string]any{"village_id": villageID.String()})); err != nil {
		return domain.UnitAssignment{}, err
	}
	return a, nil
}
