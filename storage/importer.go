package storage

// Reads and the single write behind the 台账 spreadsheet importer (package
// importer). The importer validates a whole file against what these reads
// return, then hands ApplyImport one plan that is written in one transaction,
// so an import is all-or-nothing.

import (
	"context"
	"database/sql/driver"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
)

// importChunk bounds the length of an IN list (PostgreSQL allows 65535 bind
// parameters, SQLite 32766). importBatch is the rows of one multi-row INSERT:
// the SQLite driver binds parameters in time quadratic in their number, so
// its statements stay near a thousand parameters.
const importChunk = 1000

func (s *Store) importBatch() int {
	if s.dialect == SQLite {
		return 40
	}
	return 500
}

// chunks splits xs into slices of at most n.
func chunks[T any](xs []T, n int) [][]T {
	var out [][]T
	for len(xs) > n {
		out = append(out, xs[:n])
		xs = xs[n:]
	}
	if len(xs) > 0 {
		out = append(out, xs)
	}
	return out
}

// ImportRegions returns the regions in the subtree withinPath whose name is
// one of names or whose code is one of codes. An empty withinPath matches
// nothing: an importer without a region sees no region.
func (s *Store) ImportRegions(ctx context.Context, withinPath string, names, codes []string) ([]domain.Region, error) {
	if withinPath == "" {
		return nil, nil
	}
	seen := map[uuid.UUID]bool{}
	var out []domain.Region
	run := func(col string, vals []string) error {
		for _, c := range chunks(vals, importChunk) {
			var rows []regionRow
			if err := s.db.WithContext(ctx).Where(like("path"), likePrefix(withinPath)).Where(col+" IN ?", c).Find(&rows).Error; err != nil {
				return err
			}
			for _, r := range rows {
				if !seen[r.ID] {
					seen[r.ID] = true
					out = append(out, toDomainRegion(r))
				}
			}
		}
		return nil
	}
	if err := run("name", names); err != nil {
		return nil, translate(err, "region")
	}
	if err := run("code", codes); err != nil {
		return nil, translate(err, "region")
	}
	return out, nil
}

// ImportUsers returns the users whose username is one of usernames, wherever
// they are (usernames are unique across the system), and the cadres in the
// subtree withinPath whose display name is one of displayNames.
func (s *Store) ImportUsers(ctx context.Context, usernames []string, withinPath string, displayNames []string) ([]domain.User, error) {
	seen := map[uuid.UUID]bool{}
	var out []domain.User
	add := func(rows []userRow) {
		for _, r := range rows {
			if !seen[r.ID] {
				seen[r.ID] = true
				out = append(out, toDomainUser(r))
			}
		}
	}
	for _, c := range chunks(usernames, importChunk) {
		var rows []userRow
		if err := s.db.WithContext(ctx).Where("username IN ?", c).Find(&rows).Error; err != nil {
			return nil, translate(err, "user")
		}
		add(rows)
	}
	if withinPath != "" {
		for _, c := range chunks(displayNames, importChunk) {
			var rows []userRow
			if err := s.db.WithContext(ctx).Where(like("region_path"), likePrefix(withinPath)).
				Where("role = ? AND display_name IN ?", domain.RoleCadre, c).Find(&rows).Error; err != nil {
				return nil, translate(err, "user")
			}
			add(rows)
		}
	}
	return out, nil
}

// ImportUnits returns the units sitting in one of regionIDs whose name is one
// of names.
func (s *Store) ImportUnits(ctx context.Context, regionIDs []uuid.UUID, names []string) ([]domain.Unit, error) {
	if len(regionIDs) == 0 || len(names) == 0 {
		return nil, nil
	}
	var out []domain.Unit
	for _, c := range chunks(names, importChunk) {
		var rows []unitRow
		if err := s.db.WithContext(ctx).Where("region_id IN ? AND name IN ?", regionIDs, c).Find(&rows).Error; err != nil {
			return nil, translate(err, "unit")
		}
		for _, r := range rows {
			out = append(out, domain.Unit{ID: r.ID, Name: r.Name, RegionID: r.RegionID, CreatedAt: r.CreatedAt.UTC()})
		}
	}
	return out, nil
}

// ImportExisting returns the households, members and open pairings that the
// lookups' natural keys match.
func (s *Store) ImportExisting(ctx context.Context, lookups []importer.Lookup) (importer.Existing, error) {
	var out importer.Existing
	for _, l := range lookups {
		if err := s.importExistingCounty(ctx, l, &out); err != nil {
			return importer.Existing{}, translate(err, "household")
		}
	}
	return out, nil
}

func (s *Store) importExistingCounty(ctx context.Context, l importer.Lookup, out *importer.Existing) error {
	db := s.db.WithContext(ctx)
	byNumber, err := importKeyed[householdRow](s, db, "households", "number", "text", l.CountyID, l.Numbers, " AND t.number <> ''")
	if err != nil {
		return err
	}
	byIDNumber, err := importKeyed[memberRow](s, db, "members", "id_number", "text", l.CountyID, l.IDNumbers, " AND t.id_number <> ''")
	if err != nil {
		return err
	}
	byHead, err := importKeyed[householdRow](s, db, "households", "head_name", "text", l.CountyID, l.HeadNames, " AND t.number = ''")
	if err != nil {
		return err
	}
	households := map[uuid.UUID]householdRow{}
	for _, h := range append(byNumber, byHead...) {
		households[h.ID] = h
	}
	var missing []string
	wanted := map[uuid.UUID]bool{}
	for _, m := range byIDNumber {
		if _, ok := households[m.HouseholdID]; !ok && !wanted[m.HouseholdID] {
			wanted[m.HouseholdID] = true
			missing = append(missing, m.HouseholdID.String())
		}
	}
	more, err := importKeyed[householdRow](s, db, "households", "id", "uuid", l.CountyID, missing, "")
	if err != nil {
		return err
	}
	for _, h := range more {
		households[h.ID] = h
	}
	ids := make([]string, 0, len(households))
	var why []string // the relapsed and removed, whose cause or reason the import compares
	status := map[uuid.UUID]string{}
	for id, h := range households {
		ids = append(ids, id.String())
		if h.Status == domain.StatusRelapsed || h.Status == domain.StatusRemoved {
			why = append(why, id.String())
			status[id] = h.Status
		}
	}
	changes, err := importKeyed[statusChangeRow](s, db, "household_status_changes", "household_id", "uuid", l.CountyID, why,
		" AND t.to_status IN ('"+domain.StatusRelapsed+"', '"+domain.StatusRemoved+"')")
	if err != nil {
		return err
	}
	made := madeSo(changes, status) // as the export reads it
	for id, h := range households {
		sh := toStoredHousehold(h)
		sh.RelapseCause, sh.RemovalReason = made[id].why(h.Status)
		out.Households = append(out.Households, sh)
	}
	members, err := importKeyed[memberRow](s, db, "members", "household_id", "uuid", l.CountyID, ids, "")
	if err != nil {
		return err
	}
	for _, m := range members {
		out.Members = append(out.Members, toDomainMember(m))
	}
	pairings, err := importKeyed[pairingRow](s, db, "pairings", "household_id", "uuid", l.CountyID, ids, " AND t.end_on IS NULL")
	if err != nil {
		return err
	}
	for _, p := range pairings {
		out.OpenPairings = append(out.OpenPairings, toDomainPairing(p))
	}
	return nil
}

func toStoredHousehold(r householdRow) importer.StoredHousehold {
	return importer.StoredHousehold{Household: toDomainHousehold(r), RegionPath: r.RegionPath}
}

// importKeyed selects the rows of table in county whose col is one of vals.
//
// PostgreSQL gets the values as one array joined with unnest: a list of a
// thousand parameters makes its cached generic plan compare every row of the
// county with every value (minutes for a county of 60,000 members). SQLite
// gets IN lists of importChunk values, which it turns into a lookup table.
func importKeyed[T any](s *Store, db *gorm.DB, table, col, pgType string, county uuid.UUID, vals []string, extra string) ([]T, error) {
	if len(vals) == 0 {
		return nil, nil
	}
	if s.dialect == Postgres {
		var out []T
		err := db.Raw("SELECT t.* FROM "+table+" t JOIN unnest(?::"+pgType+"[]) AS k(v) ON t."+col+" = k.v WHERE t.county_id = ?"+extra,
			pgArray(vals), county).Scan(&out).Error
		return out, err
	}
	var out []T
	for _, c := range chunks(vals, importChunk) {
		var part []T
		if err := db.Raw("SELECT t.* FROM "+table+" t WHERE t.county_id = ? AND t."+col+" IN ?"+extra, county, c).Scan(&part).Error; err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}

// pgArray is a PostgreSQL array literal of text, bound as one parameter.
type pgArray []string

func (a pgArray) Value() (driver.Value, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

// ApplyImport writes the plan in one transaction: either every record is
// written and the audit entry appended, or nothing is. A stale version on an
// update is a conflict (someone edited the record since the import read it).
func (s *Store) ApplyImport(ctx context.Context, p importer.Plan) error {
	return s.inTx(ctx, "import", func(tx *gorm.DB) error {
		done, batch := 0, s.importBatch()
		step := func(n int) {
			done += n
			if p.Progress != nil && n > 0 {
				p.Progress(done)
			}
		}
		created := s.stamp()
		regions := make([]regionRow, len(p.Regions))
		for i, r := range p.Regions {
			regions[i] = toRegionRow(r, created)
		}
		if err := insertBatches(tx, regions, batch, step); err != nil {
			return err
		}
		for _, r := range p.RegionUpdates {
			row := toRegionRow(r, created)
			res := tx.Model(&regionRow{}).Where("id = ?", r.ID).Updates(map[string]any{"name": row.Name,
				"is_poor_village": row.IsPoorVillage, "centroid_lat": row.CentroidLat, "centroid_lon": row.CentroidLon})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return domain.Conflict("a region was removed during the import; run it again", "导入期间有行政区划被删除，请重新导入")
			}
			step(1)
		}
		units := make([]unitRow, len(p.Units))
		for i, u := range p.Units {
			units[i] = unitRow{ID: u.ID, Name: u.Name, RegionID: u.RegionID, CreatedAt: utc(u.CreatedAt)}
		}
		if err := insertBatches(tx, units, batch, step); err != nil {
			return err
		}
		users := make([]userRow, len(p.Users))
		for i, u := range p.Users {
			users[i] = toUserRow(u.User, u.PasswordHash)
		}
		if err := insertBatches(tx, users, batch, step); err != nil {
			return err
		}
		households := make([]householdRow, len(p.Households))
		for i, h := range p.Households {
			households[i] = toHouseholdRow(h.Household, h.RegionPath)
		}
		if err := insertBatches(tx, households, batch, step); err != nil {
			return err
		}
		now := s.stamp()
		for _, u := range p.HouseholdUpdates {
			h := u.Household
			row := toHouseholdRow(h, "")
			res := tx.Model(&householdRow{}).Where("county_id = ? AND id = ? AND version = ?", h.CountyID, h.ID, u.ExpectedVersion).
				Updates(map[string]any{"number": row.Number, "head_name": row.HeadName, "address": row.Address, "phone": row.Phone,
					"causes": row.Causes, "declared_size": row.DeclaredSize, "version": gorm.Expr("version + 1"), "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return domain.Conflict("a household was changed by someone else during the import; run it again", "导入期间有农户信息被他人修改，请重新导入")
			}
			step(1)
		}
		members := make([]memberRow, len(p.Members))
		for i, m := range p.Members {
			members[i] = toMemberRow(m)
		}
		if err := insertBatches(tx, members, batch, step); err != nil {
			return err
		}
		for _, u := range p.MemberUpdates {
			row := toMemberRow(u.Member)
			res := tx.Model(&memberRow{}).Where("county_id = ? AND household_id = ? AND id = ? AND version = ?", row.CountyID, row.HouseholdID, row.ID, u.ExpectedVersion).
				Updates(map[string]any{"name": row.Name, "relation": row.Relation, "id_number": row.IDNumber, "gender": row.Gender,
					"birth_date": row.BirthDate, "health": row.Health, "disability": row.Disability, "education": row.Education,
					"work": row.Work, "phone": row.Phone, "version": gorm.Expr("version + 1"), "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 0 {
				return domain.Conflict("a member was changed by someone else during the import; run it again", "导入期间有家庭成员信息被他人修改，请重新导入")
			}
			step(1)
		}
		statuses := make([]statusChangeRow, len(p.StatusChanges))
		for i, c := range p.StatusChanges {
			statuses[i] = toStatusChangeRow(c)
		}
		if err := insertBatches(tx, statuses, batch, step); err != nil {
			return err
		}
		types := make([]povertyTypeChangeRow, len(p.PovertyTypeChanges))
		for i, c := range p.PovertyTypeChanges {
			types[i] = toPovertyTypeChangeRow(c)
		}
		if err := insertBatches(tx, types, batch, step); err != nil {
			return err
		}
		pairings := make([]pairingRow, len(p.Pairings))
		for i, pr := range p.Pairings {
			pairings[i] = toPairingRow(pr)
		}
		if err := insertBatches(tx, pairings, batch, step); err != nil {
			return err
		}
		if err := s.appendChanges(tx, importChanges(p)); err != nil {
			return err
		}
		return s.appendAudit(tx, p.Audit)
	})
}

// insertBatches inserts rows in multi-row INSERTs of batch rows.
func insertBatches[T any](tx *gorm.DB, rows []T, batch int, step func(int)) error {
	for _, c := range chunks(rows, batch) {
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		step(len(c))
	}
	return nil
}

// importChanges lists the feed rows of an import, so phones that already
// synced learn what it created or changed.
func importChanges(p importer.Plan) []feedEntry {
	var cs []feedEntry
	for _, h := range p.Households {
		cs = append(cs, householdChange(h.Household, "create"))
	}
	for _, u := range p.HouseholdUpdates {
		h := u.Household
		h.Version = u.ExpectedVersion + 1
		cs = append(cs, householdChange(h, "update"))
	}
	for _, m := range p.Members {
		cs = append(cs, memberChange(m, "create"))
	}
	for _, u := range p.MemberUpdates {
		m := u.Member
		m.Version = u.ExpectedVersion + 1
		cs = append(cs, memberChange(m, "update"))
	}
	for _, pr := range p.Pairings {
		cs = append(cs, pairingChange(pr, "create"))
	}
	return cs
}
