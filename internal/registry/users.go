package registry

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// mayManageUser says whether the caller may create or change a user of role
// in region path: admins any role in their subtree, supervisors cadres and
// inspectors in theirs.
func mayManageUser(p domain.Principal, role, path string) bool {
	if !p.InSubtree(path) {
		return false
	}
	switch p.Role {
	case domain.RoleAdmin:
		return true
	case domain.RoleSupervisor:
		return role == domain.RoleCadre || role == domain.RoleInspector
	}
	return false
}

// RolesManagedBy are the roles p may give a user (mayManageUser): what a
// form should offer.
func RolesManagedBy(p domain.Principal) []string {
	var out []string
	for _, r := range domain.Roles {
		if mayManageUser(p, r.Code, p.RegionPath) {
			out = append(out, r.Code)
		}
	}
	return out
}

// UserQuery filters a user listing.
type UserQuery struct {
	Role   string
	UnitID *uuid.UUID
	Query  string
}

// Users lists users in a manager's subtree.
func (s *Service) Users(ctx context.Context, p domain.Principal, q UserQuery, pg Page) ([]domain.User, int64, error) {
	if err := requireManager(p); err != nil {
		return nil, 0, err
	}
	if q.Role != "" && !domain.Roles.Has(q.Role) {
		return nil, 0, domain.Invalid(domain.FieldError{Field: "role", Reason: "invalid_enum", Message: "unknown role", MessageZH: "角色无效"})
	}
	return s.store.Users(ctx, domain.UserFilter{WithinPath: p.RegionPath, Role: q.Role, UnitID: q.UnitID, Query: q.Query, Limit: pg.Limit, Offset: pg.Offset})
}

// User returns a user: oneself, or anyone in a manager's subtree.
func (s *Service) User(ctx context.Context, p domain.Principal, id uuid.UUID) (domain.User, error) {
	u, err := s.store.User(ctx, id)
	if err != nil {
		return domain.User{}, err
	}
	if u.ID == p.UserID {
		return u, nil
	}
	// Cadres and inspectors see no other user; answering 404 rather than
	// 403 keeps them from learning which accounts exist.
	if !p.InSubtree(u.RegionPath) || !p.Manages() {
		return domain.User{}, domain.NotFound("user")
	}
	return u, nil
}

// NewUser is the input for creating a user.
type NewUser struct {
	User     domain.User // ID, RegionPath, timestamps are set here
	Password string
}

// CreateUser adds a user with a password.
func (s *Service) CreateUser(ctx context.Context, p domain.Principal, in NewUser) (domain.User, error) {
	if err := requireManager(p); err != nil {
		return domain.User{}, err
	}
	u := in.User
	var fe domain.FieldErrors
	domain.ValidateUser(u, &fe)
	domain.ValidatePassword(&fe, "/password", in.Password)
	region, err := s.visibleRegion(ctx, p, u.RegionID)
	if err != nil {
		if !domain.IsCode(err, domain.CodeNotFound) {
			return domain.User{}, err
		}
		fe.Add("/region_id", "unknown", "region not found", "所属区划不存在")
	}
	if err := s.checkUnitAndDuties(ctx, p, u, &fe); err != nil {
		return domain.User{}, err
	}
	if err := fe.Err(); err != nil {
		return domain.User{}, err
	}
	if !mayManageUser(p, u.Role, region.Path) {
		return domain.User{}, domain.Forbidden()
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return domain.User{}, err
	}
	now := s.now().UTC()
	u.ID, u.RegionPath, u.Active, u.CreatedAt, u.UpdatedAt = uuid.New(), region.Path, true, now, now
	if u.Duties == nil {
		u.Duties = []domain.Duty{}
	}
	if err := s.store.CreateUser(ctx, u, hash, audit(p, "create", "user", u.ID, u.RegionPath, map[string]any{"username": u.Username, "role": u.Role})); err != nil {
		if domain.Reason(err) == "duplicate" {
			return domain.User{}, domain.Invalid(domain.FieldError{Field: "/username", Reason: "duplicate", Message: "username is taken", MessageZH: "用户名已被使用"})
		}
		return domain.User{}, err
	}
	return u, nil
}

func (s *Service) checkUnitAndDuties(ctx context.Context, p domain.Principal, u domain.User, fe *domain.FieldErrors) error {
	if u.UnitID != nil {
		unit, err := s.store.Unit(ctx, *u.UnitID)
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return err
		}
		if err != nil || !p.InSubtree(unit.RegionPath) {
			fe.Add("/unit_id", "unknown", "unit not found", "帮扶单位不存在")
		}
	}
	for i, d := range u.Duties {
		if d.RegionID == nil {
			continue
		}
		if _, err := s.visibleRegion(ctx, p, *d.RegionID); err != nil {
			if !domain.IsCode(err, domain.CodeNotFound) {
				return err
			}
			fe.Add("/duties/"+itoa(i)+"/region_id", "unknown", "region not found", "职责所在区划不存在")
		}
	}
	return nil
}

// UserChanges are the editable fields of a user.
type UserChanges struct {
	DisplayName *string
	Phone       *string
	RegionID    *uuid.UUID
	UnitID      *uuid.UUID
	ClearUnit   bool
	Rank        *string
	Duties      *[]domain.Duty
	Active      *bool
}

// UpdateUser changes a user's profile, region or duties.
func (s *Service) UpdateUser(ctx context.Context, p domain.Principal, id uuid.UUID, ch UserChanges) (domain.User, error) {
	u, err := s.User(ctx, p, id)
	if err != nil {
		return domain.User{}, err
	}
	if !mayManageUser(p, u.Role, u.RegionPath) {
		return domain.User{}, domain.Forbidden()
	}
	if ch.DisplayName != nil {
		u.DisplayName = *ch.DisplayName
	}
	if ch.Phone != nil {
		u.Phone = *ch.Phone
	}
	if ch.UnitID != nil {
		u.UnitID = ch.UnitID
	}
	if ch.ClearUnit {
		u.UnitID = nil
	}
	if ch.Rank != nil {
		u.Rank = *ch.Rank
	}
	if ch.Duties != nil {
		u.Duties = *ch.Duties
	}
	if ch.Active != nil {
		if !*ch.Active && u.ID == p.UserID {
			return domain.User{}, domain.Invalid(domain.FieldError{Field: "/active", Reason: "invalid", Message: "you cannot deactivate yourself", MessageZH: "不能停用自己的账号"})
		}
		u.Active = *ch.Active
	}
	var fe domain.FieldErrors
	domain.ValidateUser(u, &fe)
	if ch.RegionID != nil {
		r, err := s.visibleRegion(ctx, p, *ch.RegionID)
		if err != nil {
			if !domain.IsCode(err, domain.CodeNotFound) {
				return domain.User{}, err
			}
			fe.Add("/region_id", "unknown", "region not found", "所属区划不存在")
		} else {
			u.RegionID, u.RegionPath = r.ID, r.Path
		}
	}
	// Only the unit and duties the edit sets are judged: what it leaves as
	// it was may lie outside the editor's region (a county bureau as the
	// unit of a village's cadre, a duty at the town above), and a town's
	// supervisor renaming such a cadre must not be refused for it.
	changed := u
	if ch.UnitID == nil {
		changed.UnitID = nil
	}
	if ch.Duties == nil {
		changed.Duties = nil
	}
	if err := s.checkUnitAndDuties(ctx, p, changed, &fe); err != nil {
		return domain.User{}, err
	}
	if err := fe.Err(); err != nil {
		return domain.User{}, err
	}
	if err := s.store.UpdateUser(ctx, u, audit(p, "update", "user", u.ID, u.RegionPath, nil)); err != nil {
		return domain.User{}, err
	}
	return s.store.User(ctx, u.ID)
}

// SetPassword sets a user's password: one's own, given the current one (a
// stolen access token alone must not take the account over), or a managed
// user's.
func (s *Service) SetPassword(ctx context.Context, p domain.Principal, id uuid.UUID, password, current string) error {
	u, err := s.User(ctx, p, id)
	if err != nil {
		return err
	}
	if u.ID != p.UserID && !mayManageUser(p, u.Role, u.RegionPath) {
		return domain.Forbidden()
	}
	var fe domain.FieldErrors
	domain.ValidatePassword(&fe, "/password", password)
	if u.ID == p.UserID {
		if err := s.checkCurrent(ctx, &fe, u, current); err != nil {
			return err
		}
	}
	if err := fe.Err(); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.store.SetPassword(ctx, u.ID, hash, audit(p, "set_password", "user", u.ID, u.RegionPath, nil))
}

// Guesses at one's own current password are throttled as guesses at a
// login are: without it, whoever holds a session (a phone or a console
// left signed in, a stolen token) could try passwords here without end,
// and with the right one take the account over. The failures are counted
// per account, apart from the login's, so that they lock this check only.
const (
	currentPasswordFailures = 5
	currentPasswordWindow   = 15 * time.Minute
	currentPasswordLock     = 15 * time.Minute
)

// checkCurrent adds a field error unless current is u's password; it
// refuses (429) once the account's guesses here are locked.
func (s *Service) checkCurrent(ctx context.Context, fe *domain.FieldErrors, u domain.User, current string) error {
	if current == "" {
		fe.Required("/current_password", "当前密码")
		return nil
	}
	key, now := "current-password:"+u.ID.String(), s.now()
	until, err := s.store.LockedUntil(ctx, key, now)
	if err != nil {
		return err
	}
	if !until.IsZero() {
		return &domain.Error{Code: domain.CodeRateLimited, Message: "too many wrong current passwords; try again later",
			MessageZH: "当前密码输错次数过多，请稍后再试", RetryAfter: until.Sub(now)}
	}
	_, hash, err := s.store.UserCredentials(ctx, u.Username)
	if err != nil {
		return err
	}
	ok, err := s.hasher.Verify(ctx, current, hash)
	if err != nil {
		return err
	}
	if !ok {
		fe.Add("/current_password", "mismatch", "the current password is wrong", "当前密码不正确")
		return s.store.RecordLoginFailure(ctx, key, now, currentPasswordWindow, currentPasswordFailures, currentPasswordLock)
	}
	return s.store.ClearLoginFailures(ctx, key)
}

// Devices lists a user's phones (one's own, or a managed user's).
func (s *Service) Devices(ctx context.Context, p domain.Principal, userID uuid.UUID) ([]domain.Device, error) {
	if _, err := s.User(ctx, p, userID); err != nil {
		return nil, err
	}
	return s.store.Devices(ctx, userID)
}

// RevokeDevice retires a phone: its refresh tokens stop working.
func (s *Service) RevokeDevice(ctx context.Context, p domain.Principal, userID, id uuid.UUID) (domain.Device, error) {
	u, err := s.User(ctx, p, userID)
	if err != nil {
		return domain.Device{}, err
	}
	if u.ID != p.UserID && !mayManageUser(p, u.Role, u.RegionPath) {
		return domain.Device{}, domain.Forbidden()
	}
	if err := s.store.RevokeDevice(ctx, userID, id, audit(p, "revoke", "device", id, u.RegionPath, nil)); err != nil {
		return domain.Device{}, err
	}
	return s.store.Device(ctx, userID, id)
}
