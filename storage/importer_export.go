package storage

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
)

// registerPage is how many households the register export reads at once:
// their members and pairings come in one query each per page.
const registerPage = 500

type registerHouseholdScan struct {
	Household   householdRow `gorm:"embedded"`
	CityName    string       `gorm:"column:city_name"`
	CityCode    string       `gorm:"column:city_code"`
	CountyName  string       `gorm:"column:county_name"`
	CountyCode  string       `gorm:"column:county_code"`
	TownName    string       `gorm:"column:town_name"`
	TownCode    string       `gorm:"column:town_code"`
	VillageName string       `gorm:"column:village_name"`
	VillageCode string       `gorm:"column:village_code"`
	VillagePoor bool         `gorm:"column:village_poor"`
	GroupName   string       `gorm:"column:group_name"`
	GroupCode   string       `gorm:"column:group_code"`
}

type registerCadreScan struct {
	HouseholdID uuid.UUID `gorm:"column:household_id"`
	StartOn     sqlDate   `gorm:"column:start_on"`
	Username    string    `gorm:"column:username"`
	DisplayName string    `gorm:"column:display_name"`
	Phone       string    `gorm:"column:phone"`
	Rank        string    `gorm:"column:rank"`
	UnitName    string    `gorm:"column:unit_name"`
}

// RegisterHouseholds pages through the households filed under withinPath
// in the order a county office reads its register (town, village, household
// number, head's name), so a county's register is never held in memory at
// once. Two databases holding the same register must list it the same way,
// so the order is on the register's content: households that tie on those
// keys (no 户编号, one head name in one village: two 王明 of 桂花村) are
// held until their run ends, across pages, and put in registerLess's
// order; only households alike in every cell that order reads fall back
// on their row id.
func (s *Store) RegisterHouseholds(ctx context.Context, withinPath string, fn func(importer.RegisterHousehold) error) error {
	db := s.db.WithContext(ctx)
	var run []importer.RegisterHousehold // households of one tie, which the next page may continue
	flush := func() error {
		slices.SortStableFunc(run, registerCompare)
		for _, h := range run {
			if err := fn(h); err != nil {
				return err
			}
		}
		run = run[:0]
		return nil
	}
	for offset := 0; ; offset += registerPage {
		var page []registerHouseholdScan
		err := db.Table("households h").
			Select("h.*, COALESCE(ci.name, '') AS city_name, COALESCE(ci.code, '') AS city_code, COALESCE(c.name, '') AS county_name, COALESCE(c.code, '') AS county_code, COALESCE(t.name, '') AS town_name, "+
				"COALESCE(t.code, '') AS town_code, v.name AS village_name, COALESCE(v.code, '') AS village_code, v.is_poor_village AS village_poor, "+
				"COALESCE(g.name, '') AS group_name, COALESCE(g.code, '') AS group_code").
			Joins("JOIN regions v ON v.id = h.village_id").
			Joins("LEFT JOIN regions t ON t.id = v.parent_id").
			Joins("LEFT JOIN regions c ON c.id = h.county_id").
			Joins("LEFT JOIN regions ci ON ci.id = c.parent_id").
			Joins("LEFT JOIN regions g ON g.id = h.region_id AND h.region_id <> h.village_id").
			Where(like("h.region_path"), likePrefix(withinPath)).
			// h.id last only makes the pages a partition; the ties it
			// breaks are sorted again by content below.
			Order("t.code, t.name, v.code, v.name, h.number, h.head_name, h.id").
			Limit(registerPage).Offset(offset).Scan(&page).Error
		if err != nil {
			return translate(err, "household")
		}
		hs, err := registerPageOf(db, page)
		if err != nil {
			return err
		}
		for _, h := range hs {
			if len(run) > 0 && !registerTie(run[0], h) {
				if err := flush(); err != nil {
					return err
				}
			}
			run = append(run, h)
		}
		if len(page) < registerPage {
			return flush()
		}
	}
}

// registerTie says whether two households sit together in the SQL order
// of RegisterHouseholds with nothing of it telling them apart.
func registerTie(a, b importer.RegisterHousehold) bool {
	return a.Household.VillageID == b.Household.VillageID && a.Household.Number == b.Household.Number && a.Household.HeadName == b.Household.HeadName
}

// registerCompare orders households that tie on village, number and head
// name by what the register shows of them: the head's 身份证号, the group,
// the members (in the order written), the household's own cells; the row
// id only when all of these are alike.
func registerCompare(a, b importer.RegisterHousehold) int {
	headID := func(h importer.RegisterHousehold) string {
		if len(h.Members) > 0 && h.Members[0].Relation == domain.RelationHead {
			return h.Members[0].IDNumber
		}
		return ""
	}
	ha, hb := a.Household, b.Household
	return cmp.Or(
		cmp.Compare(headID(a), headID(b)),
		cmp.Compare(a.Group.Code, b.Group.Code), cmp.Compare(a.Group.Name, b.Group.Name),
		slices.CompareFunc(a.Members, b.Members, registerMemberCompare),
		cmp.Compare(ha.Address, hb.Address), cmp.Compare(ha.Phone, hb.Phone), cmp.Compare(ha.Status, hb.Status), cmp.Compare(ha.PovertyType, hb.PovertyType),
		strings.Compare(ha.ID.String(), hb.ID.String()))
}

// registerMemberCompare is the order of a household's members in the
// register: the head first, then by 身份证号 and name, then by the rest of
// what the row shows (two members without 身份证号 and of one name would
// otherwise follow their row ids).
func registerMemberCompare(x, y domain.Member) int {
	head := func(m domain.Member) int {
		if m.Relation == domain.RelationHead {
			return 0
		}
		return 1
	}
	return cmp.Or(cmp.Compare(head(x), head(y)), cmp.Compare(x.IDNumber, y.IDNumber), cmp.Compare(x.Name, y.Name), cmp.Compare(x.Relation, y.Relation),
		cmp.Compare(x.Phone, y.Phone), cmp.Compare(x.Health, y.Health), cmp.Compare(x.Disability, y.Disability), cmp.Compare(x.Education, y.Education),
		cmp.Compare(x.Work, y.Work))
}

// registerPageOf is a page of households with their members (head first),
// first open pairing and status cause or reason.
func registerPageOf(db *gorm.DB, page []registerHouseholdScan) ([]importer.RegisterHousehold, error) {
	if len(page) == 0 {
		return nil, nil
	}
	ids := make([]uuid.UUID, len(page))
	for i, h := range page {
		ids[i] = h.Household.ID
	}
	var members []memberRow
	// Head first, then by ID number and name; registerMemberCompare settles
	// the ties the SQL order leaves to the row id.
	err := ofHouseholds(db.Table("members"), "members", ids).Order("household_id, CASE WHEN relation = 'head' THEN 0 ELSE 1 END, id_number, name, id").Find(&members).Error
	if err != nil {
		return nil, translate(err, "member")
	}
	byHousehold := map[uuid.UUID][]domain.Member{}
	for _, m := range members {
		byHousehold[m.HouseholdID] = append(byHousehold[m.HouseholdID], toDomainMember(m))
	}
	for _, ms := range byHousehold {
		slices.SortStableFunc(ms, registerMemberCompare)
	}
	var cadres []registerCadreScan
	err = ofHouseholds(db.Table("pairings p"), "p", ids).Select("p.household_id, p.start_on, u.username, u.display_name, u.phone, u.rank, COALESCE(n.name, '') AS unit_name").
		Joins("JOIN users u ON u.id = p.cadre_id").
		Joins("LEFT JOIN units n ON n.id = u.unit_id").
		Where("p.end_on IS NULL").
		Order("p.household_id, p.start_on, u.display_name, p.id").Scan(&cadres).Error
	if err != nil {
		return nil, translate(err, "pairing")
	}
	why, err := statusWhy(db, page)
	if err != nil {
		return nil, err
	}
	first := map[uuid.UUID]*importer.RegisterCadre{}
	for _, c := range cadres {
		if first[c.HouseholdID] == nil {
			first[c.HouseholdID] = &importer.RegisterCadre{Username: c.Username, Name: c.DisplayName, Phone: c.Phone, Rank: c.Rank, Unit: c.UnitName, Since: c.StartOn.date()}
		}
	}
	out := make([]importer.RegisterHousehold, 0, len(page))
	for _, h := range page {
		rh := importer.RegisterHousehold{Household: toDomainHousehold(h.Household),
			City:    domain.Region{Name: h.CityName, Code: h.CityCode},
			County:  domain.Region{Name: h.CountyName, Code: h.CountyCode},
			Town:    domain.Region{Name: h.TownName, Code: h.TownCode},
			Village: domain.Region{Name: h.VillageName, Code: h.VillageCode, IsPoorVillage: h.VillagePoor},
			Group:   domain.Region{Name: h.GroupName, Code: h.GroupCode},
			Members: byHousehold[h.Household.ID], Cadre: first[h.Household.ID]}
		rh.RelapseCause, rh.RemovalReason = why[h.Household.ID].why(h.Household.Status)
		out = append(out, rh)
	}
	return out, nil
}

// statusWhy reads, for the relapsed and removed households of a page, the
// status change that made each so (madeSo): its cause and reason are what
// the export writes as 返贫原因 and 清退原因.
func statusWhy(db *gorm.DB, page []registerHouseholdScan) (map[uuid.UUID]statusChangeRow, error) {
	status := map[uuid.UUID]string{}
	var ids []uuid.UUID
	for _, h := range page {
		if st := h.Household.Status; st == domain.StatusRelapsed || st == domain.StatusRemoved {
			status[h.Household.ID] = st
			ids = append(ids, h.Household.ID)
		}
	}
	if len(ids) == 0 {
		return map[uuid.UUID]statusChangeRow{}, nil
	}
	var rows []statusChangeRow
	err := ofHouseholds(db.Table("household_status_changes"), "household_status_changes", ids).
		Where("to_status IN ?", []string{domain.StatusRelapsed, domain.StatusRemoved}).Find(&rows).Error
	if err != nil {
		return nil, translate(err, "household")
	}
	return madeSo(rows, status), nil
}

// madeSo picks, of status changes into relapsed or removed, the one that
// made each household what it is now: the latest (by effective date, then
// recording) into the status given for it. The export and the import's
// comparison read a household's 返贫原因 and 清退原因 from it alike.
func madeSo(changes []statusChangeRow, status map[uuid.UUID]string) map[uuid.UUID]statusChangeRow {
	slices.SortStableFunc(changes, func(a, b statusChangeRow) int {
		return cmp.Or(strings.Compare(a.EffectiveOn.date().String(), b.EffectiveOn.date().String()), a.RecordedAt.Compare(b.RecordedAt))
	})
	out := map[uuid.UUID]statusChangeRow{}
	for _, c := range changes {
		if c.ToStatus == status[c.HouseholdID] {
			out[c.HouseholdID] = c // the later wins
		}
	}
	return out
}

// why is what a register row says of a household in status, from the
// change that made it so: a relapse its cause, a removal its reason.
func (c statusChangeRow) why(status string) (cause, reason string) {
	switch status {
	case domain.StatusRelapsed:
		return c.Cause, ""
	case domain.StatusRemoved:
		return "", c.Reason
	}
	return "", ""
}
