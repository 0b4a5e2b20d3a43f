package storage

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/sync"
)

type userRow struct {
	ID           uuid.UUID                `gorm:"column:id;primaryKey"`
	Username     string                   `gorm:"column:username"`
	DisplayName  string                   `gorm:"column:display_name"`
	Role         string                   `gorm:"column:role"`
	RegionID     uuid.UUID                `gorm:"column:region_id"`
	RegionPath   string                   `gorm:"column:region_path"`
	Phone        string                   `gorm:"column:phone"`
	UnitID       *uuid.UUID               `gorm:"column:unit_id"`
	Rank         string                   `gorm:"column:rank"`
	Duties       jsonValue[[]domain.Duty] `gorm:"column:duties"`
	PasswordHash string                   `gorm:"column:password_hash"`
	Active       bool                     `gorm:"column:active"`
	CreatedAt    time.Time                `gorm:"column:created_at"`
	UpdatedAt    time.Time                `gorm:"column:updated_at"`
}

func (userRow) TableName() string { return "users" }

func toDomainUser(r userRow) domain.User {
	d := r.Duties.V
	if d == nil {
		d = []domain.Duty{}
	}
	return domain.User{ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, Role: r.Role, RegionID: r.RegionID,
		RegionPath: r.RegionPath, Phone: r.Phone, UnitID: r.UnitID, Rank: r.Rank, Duties: d, Active: r.Active,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func toUserRow(u domain.User, passwordHash string) userRow {
	d := u.Duties
	if d == nil {
		d = []domain.Duty{}
	}
	return userRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, RegionID: u.RegionID,
		RegionPath: u.RegionPath, Phone: u.Phone, UnitID: u.UnitID, Rank: u.Rank, Duties: jsonValue[[]domain.Duty]{d},
		PasswordHash: passwordHash, Active: u.Active, CreatedAt: utc(u.CreatedAt), UpdatedAt: utc(u.UpdatedAt)}
}

// CreateUser inserts a user with a password hash.
func (s *Store) CreateUser(ctx context.Context, u domain.User, passwordHash string, audit domain.AuditEntry) error {
	return s.inTx(ctx, "user", func(tx *gorm.DB) error {
		row := toUserRow(u, passwordHash)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// User returns a user by id.
func (s *Store) User(ctx context.Context, id uuid.UUID) (domain.User, error) {
	var row userRow
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	return toDomainUser(row), translate(err, "user")
}

// sessionUserRow is a user row with its session's state.
type sessionUserRow struct {
	User        userRow
	SessionLive bool
}

var userColumns = []string{"id", "username", "display_name", "role", "region_id", "region_path", "phone", "unit_id", "rank", "duties",
	"password_hash", "active", "created_at", "updated_at"}

func (r *sessionUserRow) fields() []any {
	u := &r.User
	return []any{&u.ID, &u.Username, &u.DisplayName, &u.Role, &u.RegionID, &u.RegionPath, &u.Phone, &u.UnitID, &u.Rank, &u.Duties,
		&u.PasswordHash, &u.Active, &u.CreatedAt, &u.UpdatedAt, &r.SessionLive}
}

// sessionUserQuery reads a user and whether a login (token family) of
// theirs is in force: some token of the family is unrevoked. Logout, a
// detected reuse and a revoked device revoke them all, which ends the
// family's access tokens at once too.
var sessionUserQuery = "SELECT " + sessionUserColumns + " FROM users u WHERE u.id = ?"

// sessionUserColumns are sessionUserRow's, of users u; the login's family
// is their one parameter.
var sessionUserColumns = qualified("u", userColumns) + `, EXISTS (SELECT 1 FROM refresh_tokens
	WHERE family_id = ? AND user_id = u.id AND revoked_at IS NULL)`

// SessionUser returns the user an access token names, with whether the
// login (token family) it was issued under is still in force, in one query:
// every authenticated request asks, so it is scanned natively and kept as
// a prepared statement (a photo upload's fixed cost, B3).
func (s *Store) SessionUser(ctx context.Context, id, family uuid.UUID) (domain.User, bool, error) {
	row, err := oneRowPrepared(ctx, s, "user", sessionUserQuery, []any{family, id}, (*sessionUserRow).fields)
	return toDomainUser(row.User), row.SessionLive, err
}

// UserCredentials returns a user and their password hash by username.
func (s *Store) UserCredentials(ctx context.Context, username string) (domain.User, string, error) {
	var row userRow
	err := s.db.WithContext(ctx).Where("username = ?", username).Take(&row).Error
	return toDomainUser(row), row.PasswordHash, translate(err, "user")
}

// Users lists users by filter.
func (s *Store) Users(ctx context.Context, f domain.UserFilter) ([]domain.User, int64, error) {
	q := s.db.WithContext(ctx).Model(&userRow{})
	if f.WithinPath != "" {
		q = q.Where(like("region_path"), likePrefix(f.WithinPath))
	}
	if f.Role != "" {
		q = q.Where("role = ?", f.Role)
	}
	if f.UnitID != nil {
		q = q.Where("unit_id = ?", *f.UnitID)
	}
	if f.Query != "" {
		q = q.Where("("+like("display_name")+" OR "+like("username")+")", likeContains(f.Query), likeContains(f.Query))
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "user")
	}
	var rows []userRow
	if err := q.Order("username").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, translate(err, "user")
	}
	out := make([]domain.User, len(rows))
	for i, r := range rows {
		out[i] = toDomainUser(r)
	}
	return out, total, nil
}

// UpdateUser saves a user's profile (not the password).
func (s *Store) UpdateUser(ctx context.Context, u domain.User, audit domain.AuditEntry) error {
	return s.inTx(ctx, "user", func(tx *gorm.DB) error {
		row := toUserRow(u, "")
		var was userRow
		if err := s.locking(tx).Select("display_name", "phone").Where("id = ?", u.ID).Take(&was).Error; err != nil {
			return err
		}
		res := tx.Model(&userRow{}).Where("id = ?", u.ID).Updates(map[string]any{
			"display_name": row.DisplayName, "phone": row.Phone, "unit_id": row.UnitID, "rank": row.Rank,
			"duties": row.Duties, "active": row.Active, "region_id": row.RegionID, "region_path": row.RegionPath,
			"updated_at": s.stamp()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.NotFound("user")
		}
		if was.DisplayName != row.DisplayName || was.Phone != row.Phone {
			if err := s.announceCadreOf(tx, u.ID); err != nil {
				return err
			}
		}
		// Duties, unit and region decide the cadre's duty statuses: judge
		// them again this year.
		if u.Role == domain.RoleCadre {
			now := s.stamp()
			err := tx.Exec(`INSERT INTO compliance_queue (subject_kind, subject_id, year, county_id, enqueued_at)
				SELECT 'cadre', ?, ?, county_id, ? FROM regions WHERE id = ? AND county_id IS NOT NULL
				ON CONFLICT (subject_kind, subject_id, year) DO UPDATE SET enqueued_at = excluded.enqueued_at`,
				u.ID, domain.DateOf(now).Year, now, u.RegionID).Error
			if err != nil {
				return err
			}
		}
		return s.appendAudit(tx, audit)
	})
}

// announceCadreOf puts the pairings open today of a cadre whose name or
// phone changed into the feed again: a pulled pairing carries its cadre's
// name and phone, and the phones holding one (the cadre's and their
// colleagues' on the same households) read it anew with the next pull.
// Ended and future pairings are on no phone (a future one is read when its
// day is announced), so they need no row.
func (s *Store) announceCadreOf(tx *gorm.DB, cadreID uuid.UUID) error {
	d := toSQLDate(domain.DateOf(s.stamp()))
	var rows []pairingRow
	if err := tx.Where("cadre_id = ? AND "+pairingOpen(""), cadreID, d, d).Find(&rows).Error; err != nil {
		return err
	}
	changes := make([]feedEntry, len(rows))
	for i, r := range rows {
		changes[i] = pairingChange(toDomainPairing(r), sync.ChangeCadreRenamed)
	}
	return s.appendChanges(tx, changes)
}

// SetPassword replaces a user's password hash and revokes their refresh tokens.
func (s *Store) SetPassword(ctx context.Context, id uuid.UUID, hash string, audit domain.AuditEntry) error {
	return s.inTx(ctx, "user", func(tx *gorm.DB) error {
		res := tx.Model(&userRow{}).Where("id = ?", id).Updates(map[string]any{"password_hash": hash, "updated_at": s.stamp()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.NotFound("user")
		}
		if err := tx.Model(&refreshTokenRow{}).Where("user_id = ? AND revoked_at IS NULL", id).Update("revoked_at", s.stamp()).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// ReplacePasswordHash re-hashes a password in place (new parameters, same
// password): unlike SetPassword it keeps the user's sessions, and it
// changes nothing if the stored hash is no longer oldHash. Not a change
// of the user: updated_at stays.
func (s *Store) ReplacePasswordHash(ctx context.Context, id uuid.UUID, oldHash, newHash string) error {
	return s.db.WithContext(ctx).Model(&userRow{}).Where("id = ? AND password_hash = ?", id, oldHash).
		Update("password_hash", newHash).Error
}

type unitRow struct {
	ID        uuid.UUID `gorm:"column:id;primaryKey"`
	Name      string    `gorm:"column:name"`
	RegionID  uuid.UUID `gorm:"column:region_id"`
	CreatedAt time.Time `gorm:"column:created_at"`
}

func (unitRow) TableName() string { return "units" }

type unitAssignmentRow struct {
	ID        uuid.UUID  `gorm:"column:id;primaryKey"`
	UnitID    uuid.UUID  `gorm:"column:unit_id"`
	VillageID uuid.UUID  `gorm:"column:village_id"`
	GroupID   *uuid.UUID `gorm:"column:group_id"`
	CountyID  uuid.UUID  `gorm:"column:county_id"`
	StartOn   sqlDate    `gorm:"column:start_on"`
	EndOn     *sqlDate   `gorm:"column:end_on"`
}

func (unitAssignmentRow) TableName() string { return "unit_assignments" }

// unitPathRow is a unit joined with its region's path. Its fields are
// spelled out: GORM's Scan does not fill an embedded row struct.
type unitPathRow struct {
	ID        uuid.UUID `gorm:"column:id"`
	Name      string    `gorm:"column:name"`
	RegionID  uuid.UUID `gorm:"column:region_id"`
	CreatedAt time.Time `gorm:"column:created_at"`
	Path      string    `gorm:"column:path"`
}

func toUnitWithPath(r unitPathRow) registry.UnitWithPath {
	return registry.UnitWithPath{Unit: domain.Unit{ID: r.ID, Name: r.Name, RegionID: r.RegionID, CreatedAt: r.CreatedAt.UTC()}, RegionPath: r.Path}
}

// CreateUnit inserts an assisting unit.
func (s *Store) CreateUnit(ctx context.Context, u domain.Unit, audit domain.AuditEntry) error {
	return s.inTx(ctx, "unit", func(tx *gorm.DB) error {
		row := unitRow{ID: u.ID, Name: u.Name, RegionID: u.RegionID, CreatedAt: utc(u.CreatedAt)}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// Units lists units whose region lies in the subtree.
func (s *Store) Units(ctx context.Context, withinPath, query string, limit, offset int) ([]registry.UnitWithPath, int64, error) {
	q := s.db.WithContext(ctx).Table("units").Joins("JOIN regions r ON r.id = units.region_id")
	if withinPath != "" {
		q = q.Where(like("r.path"), likePrefix(withinPath))
	}
	if query != "" {
		q = q.Where(like("units.name"), likeContains(query))
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, translate(err, "unit")
	}
	var rows []unitPathRow
	if err := q.Select("units.id, units.name, units.region_id, units.created_at, r.path").Order("units.name").Limit(limit).Offset(offset).Scan(&rows).Error; err != nil {
		return nil, 0, translate(err, "unit")
	}
	out := make([]registry.UnitWithPath, len(rows))
	for i, r := range rows {
		out[i] = toUnitWithPath(r)
	}
	return out, total, nil
}

// Unit returns a unit with its region path.
func (s *Store) Unit(ctx context.Context, id uuid.UUID) (registry.UnitWithPath, error) {
	var r unitPathRow
	err := s.db.WithContext(ctx).Table("units").Joins("JOIN regions r ON r.id = units.region_id").
		Select("units.id, units.name, units.region_id, units.created_at, r.path").Where("units.id = ?", id).Take(&r).Error
	if err != nil {
		return registry.UnitWithPath{}, translate(err, "unit")
	}
	return toUnitWithPath(r), nil
}

// UnitByName finds a unit by its name in a region.
func (s *Store) UnitByName(ctx context.Context, regionID uuid.UUID, name string) (domain.Unit, error) {
	var r unitRow
	err := s.db.WithContext(ctx).Where("region_id = ? AND name = ?", regionID, name).Take(&r).Error
	return domain.Unit{ID: r.ID, Name: r.Name, RegionID: r.RegionID, CreatedAt: r.CreatedAt.UTC()}, translate(err, "unit")
}

// CreateUnitAssignment places a unit in a village or group.
func (s *Store) CreateUnitAssignment(ctx context.Context, a domain.UnitAssignment, audit domain.AuditEntry) error {
	return s.inTx(ctx, "assignment", func(tx *gorm.DB) error {
		row := unitAssignmentRow{ID: a.ID, UnitID: a.UnitID, VillageID: a.VillageID, GroupID: a.GroupID, CountyID: a.CountyID,
			StartOn: toSQLDate(a.StartOn), EndOn: toSQLDatePtr(a.EndOn)}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return s.appendAudit(tx, audit)
	})
}

// UnitAssignments lists a unit's assignments, newest first.
func (s *Store) UnitAssignments(ctx context.Context, unitID uuid.UUID) ([]domain.UnitAssignment, error) {
	var rows []unitAssignmentRow
	if err := s.db.WithContext(ctx).Where("unit_id = ?", unitID).Order("start_on DESC").Find(&rows).Error; err != nil {
		return nil, translate(err, "assignment")
	}
	out := make([]domain.UnitAssignment, len(rows))
	for i, r := range rows {
		out[i] = domain.UnitAssignment{ID: r.ID, UnitID: r.UnitID, VillageID: r.VillageID, GroupID: r.GroupID, CountyID: r.CountyID,
			StartOn: r.StartOn.date(), EndOn: datePtr(r.EndOn)}
	}
	return out, nil
}
