package registry

import (
	"context"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// PairingQuery filters a pairing listing.
type PairingQuery struct {
	HouseholdID *uuid.UUID
	CadreID     *uuid.UUID
	ActiveOn    *domain.Date
}

// Pairings lists pairings of households in the caller's subtree. A cadre
// sees only their own pairings.
func (s *Service) Pairings(ctx context.Context, p domain.Principal, q PairingQuery, pg Page) ([]domain.Pairing, int64, error) {
	f := domain.PairingFilter{WithinPath: p.RegionPath, HouseholdID: q.HouseholdID, CadreID: q.CadreID, ActiveOn: q.ActiveOn, Limit: pg.Limit, Offset: pg.Offset}
	switch p.Role {
	case domain.RoleCadre:
		id := p.UserID
		f.CadreID = &id
	case domain.RoleInspector:
		return []domain.Pairing{}, 0, nil
	}
	return s.store.Pairings(ctx, f)
}

// Pairing returns one pairing the caller may see.
func (s *Service) Pairing(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Pairing, error) {
	pr, err := s.store.Pairing(ctx, p.RegionPath, id)
	if err != nil {
		return domain.Pairing{}, err
	}
	if (p.Role == domain.RoleCadre && pr.CadreID != p.UserID) || p.Role == domain.RoleInspector {
		return domain.Pairing{}, domain.NotFound("pairing")
	}
	return pr, nil
}

// pairable checks that cadreID is an active cadre whose region contains the
// household, so the cadre will actually see it.
func (s *Service) pairable(ctx context.Context, p domain.Principal, cadreID uuid.UUID, householdPath string, fe *domain.FieldErrors) error {
	c, err := s.store.User(ctx, cadreID)
	if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
		return err
	}
	switch {
	case err != nil || !p.InSubtree(c.RegionPath) || c.Role != domain.RoleCadre:
		fe.Add("/cadre_id", "unknown", "cadre not found", "帮扶干部不存在")
	case !c.Active:
		fe.Add("/cadre_id", "inactive", "the cadre's account is disabled", "该干部账号已停用")
	case len(householdPath) < len(c.RegionPath) || householdPath[:len(c.RegionPath)] != c.RegionPath:
		fe.Add("/cadre_id", "out_of_region", "the household lies outside the cadre's region", "该农户不在干部所属区域内")
	}
	return nil
}

// NewPairing pairs a cadre with a household from a date.
type NewPairing struct {
	HouseholdID uuid.UUID
	CadreID     uuid.UUID
	StartOn     domain.Date
}

// Pair creates a pairing (an additional responsible cadre is allowed).
func (s *Service) Pair(ctx context.Context, p domain.Principal, in NewPairing) (domain.Pairing, error) {
	if err := requireManager(p); err != nil {
		return domain.Pairing{}, err
	}
	var fe domain.FieldErrors
	h, path, err := s.householdWithPath(ctx, p, in.HouseholdID)
	if err != nil {
		if !domain.IsCode(err, domain.CodeNotFound) {
			return domain.Pairing{}, err
		}
		fe.Add("/household_id", "unknown", "household not found", "农户不存在")
	} else if err := s.pairable(ctx, p, in.CadreID, path, &fe); err != nil {
		return domain.Pairing{}, err
	}
	if in.StartOn.IsZero() {
		in.StartOn = s.today()
	}
	if err := fe.Err(); err != nil {
		return domain.Pairing{}, err
	}
	pr := domain.Pairing{ID: uuid.New(), CountyID: h.CountyID, HouseholdID: h.ID, CadreID: in.CadreID, StartOn: in.StartOn, CreatedBy: p.UserID, CreatedAt: s.now().UTC()}
	if err := s.store.Pair(ctx, &pr, nil, householdAudit(p, "create", "pairing", pr.ID, h.ID, map[string]any{"household_id": h.ID.String(), "cadre_id": in.CadreID.String()})); err != nil {
		if domain.Reason(err) == "duplicate" {
			return domain.Pairing{}, domain.Invalid(domain.FieldError{Field: "/cadre_id", Reason: "duplicate", Message: "this cadre is already paired with the household", MessageZH: "该干部已与该户结对"})
		}
		return domain.Pairing{}, err
	}
	return pr, nil
}

// EndInput ends a pairing, or hands it to another cadre when NewCadreID is set.
type EndInput struct {
	On         domain.Date
	Reason     string
	NewCadreID *uuid.UUID
}

// EndPairing ends a pairing; with NewCadreID it re-pairs the household in the
// same step so it is never without a responsible cadre. A household still
// registered (or exited: 脱贫不脱钩, 包保不撤) cannot lose its last cadre.
func (s *Service) EndPairing(ctx context.Context, p domain.Principal, id uuid.UUID, in EndInput) (domain.Pairing, *domain.Pairing, error) {
	old, err := s.Pairing(ctx, p, id)
	if err != nil {
		return domain.Pairing{}, nil, err
	}
	if err := requireManager(p); err != nil {
		return domain.Pairing{}, nil, err
	}
	var fe domain.FieldErrors
	if in.On.IsZero() {
		in.On = s.today()
	}
	if old.EndOn != nil {
		fe.Add("/", "already_ended", "the pairing has already ended", "该结对关系已解除")
	}
	if in.On.Before(old.StartOn) {
		fe.Add("/on", "out_of_range", "the end date is before the pairing started", "解除日期早于结对开始日期")
	}
	domain.CheckText(&fe, "/reason", "原因", in.Reason, 1, 500)
	h, path, err := s.householdWithPath(ctx, p, old.HouseholdID)
	if err != nil {
		return domain.Pairing{}, nil, err
	}
	var next *domain.Pairing
	if in.NewCadreID != nil {
		if *in.NewCadreID == old.CadreID {
			fe.Add("/new_cadre_id", "invalid", "the new cadre is the current one", "新帮扶干部与原干部相同")
		} else if err := s.pairable(ctx, p, *in.NewCadreID, path, &fe); err != nil {
			return domain.Pairing{}, nil, err
		}
		next = &domain.Pairing{ID: uuid.New(), CountyID: h.CountyID, HouseholdID: h.ID, CadreID: *in.NewCadreID, StartOn: in.On, CreatedBy: p.UserID, CreatedAt: s.now().UTC()}
	} else if mustStayPaired(h.Status) {
		open, err := s.store.OpenPairings(ctx, h.CountyID, h.ID)
		if err != nil {
			return domain.Pairing{}, nil, err
		}
		if len(open) <= 1 {
			fe.Add("/new_cadre_id", "required", "a registered or exited household must keep a responsible cadre: name the new cadre", "未脱贫户和脱贫户必须始终有帮扶责任人（不脱贫不脱钩、包保不撤），请指定新的帮扶干部")
		}
	}
	if err := fe.Err(); err != nil {
		return domain.Pairing{}, nil, err
	}
	end := in.On
	old.EndOn, old.EndReason = &end, in.Reason
	detail := map[string]any{"household_id": h.ID.String(), "on": in.On.String()}
	if next != nil {
		detail["new_cadre_id"] = next.CadreID.String()
	}
	if err := s.store.Pair(ctx, next, []domain.Pairing{old}, householdAudit(p, "end", "pairing", old.ID, h.ID, detail)); err != nil {
		if domain.Reason(err) == "duplicate" {
			return domain.Pairing{}, nil, domain.Invalid(domain.FieldError{Field: "/new_cadre_id", Reason: "duplicate", Message: "this cadre is already paired with the household", MessageZH: "该干部已与该户结对"})
		}
		return domain.Pairing{}, nil, err
	}
	return old, next, nil
}

func mustStayPaired(status string) bool {
	return status == domain.StatusRegistered || status == domain.StatusExited || status == domain.StatusRelapsed
}

func (s *Service) householdWithPath(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.Household, string, error) {
	h, err := s.Household(ctx, p, id)
	if err != nil {
		return domain.Household{}, "", err
	}
	r, err := s.store.Region(ctx, h.RegionID)
	if err != nil {
		return domain.Household{}, "", err
	}
	return h, r.Path, nil
}
