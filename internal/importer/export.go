package importer

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
)

// RegisterStore is what a register export reads: the region asked for, the
// households under it a page at a time, and the audit log (the file
// carries clear 身份证号).
type RegisterStore interface {
	Region(ctx context.Context, id uuid.UUID) (domain.Region, error)
	// ImportRegions finds regions by name or code (the city of a county
	// that is its database's top region, by code).
	ImportRegions(ctx context.Context, withinPath string, names, codes []string) ([]domain.Region, error)
	// RegisterHouseholds calls fn with every household filed under
	// withinPath, in town, village, household-number, head-name order and
	// then by the household's content (head's 身份证号, group, members), so
	// that two databases holding the same register list it alike, with its
	// members (head first, then by 身份证号 and name) and its open pairing
	// that started first.
	RegisterHouseholds(ctx context.Context, withinPath string, fn func(RegisterHousehold) error) error
	Audit(ctx context.Context, e domain.AuditEntry) error
	// ReadsCurrent returns ctx for reads that must reflect everything
	// committed before now; the store answers them from wherever holds
	// that much (a read replica, or the primary).
	ReadsCurrent(ctx context.Context) context.Context
}

// RegisterHousehold is one household as the register export writes it.
type RegisterHousehold struct {
	Household domain.Household
	// The regions it is filed under; Group is zero when the household sits
	// directly in its village, City when its county is the tree's root.
	City, County, Town, Village, Group domain.Region
	Members                            []domain.Member
	Cadre                              *RegisterCadre // nil when nobody is paired with the household
	// Why: the cause (a domain.RelapseCauses code) of a relapsed
	// household's relapse and the reason of a removed household's removal,
	// from the status change that made it so; "" for other statuses.
	RelapseCause, RemovalReason string
}

// RegisterCadre is the 帮扶责任人 of a household: the cadre of its open
// pairing that started first (a 台账 names one per household). Username is
// written as 帮扶责任人账号, which Import resolves before the name.
type RegisterCadre struct {
	Username, Name, Phone, Rank, Unit string
	Since                             domain.Date
}

// ExportQuery asks for the household register of a region.
type ExportQuery struct {
	Actor    domain.Principal
	RegionID *uuid.UUID // nil: the actor's own region
	Format   string     // xlsx (default) or csv
	Today    domain.Date
	// TmpDir is where an XLSX file's rows wait past 16 MB (ledger.SpillTo).
	TmpDir string
}

// Download is a file ready to stream: Write runs after the caller was
// authorised and the query checked, so an error is still a clean answer
// until then.
type Download struct {
	Filename    string
	ContentType string
	Write       func(w io.Writer) error
}

// exportColumns are the headings the register export writes, in the
// order of a county 台账: each is a column Import reads, so the file
// re-imports as it is (序号 is one Import drops on purpose). Every region
// from the city down is named with its code, so that create_regions
// rebuilds the household's place in a database that has only the province
// (`fieldvisit init`); the province follows from the codes. 是否贫困村 is
// the village's mark, which create_regions gives the villages it creates.
// 家庭联系电话 is the household's phone and 联系电话 each member's own: the
// two differ, and one column for both changed one of them on the way back.
// 返贫原因 and 清退原因 are what a relapsed and a removed household need to
// be imported (last, so the columns an office knows keep their places).
var exportColumns = []col{colCity, colCityCode, colCounty, colCountyCode, colTown, colTownCode, colVillage, colVillageCode, colPoorVillage,
	colGroup, colGroupCode,
	colNumber, colHeadName,
	colRelation, colName, colIDNumber, colSize, colPovertyType, colStatus, colRegisteredYear, colExitYear, colCauses, colHouseholdPhone, colAddress, colPhone,
	colHealth, colDisability, colEducation, colWork, colCadre, colCadreAccount, colCadrePhone, colUnit, colRank, colPairStart,
	colRelapseCause, colRemovalReason}

// Export is the household register and pairings of a region as the county
// 台账 Import reads: one row per member, the household's cells repeated on
// each (a household without members has one row, its member cells empty),
// in XLSX or CSV. Admins and supervisors export their subtree; the
// file carries clear 身份证号, which cadres and inspectors are never shown,
// so they are refused. The export is recorded in the audit log.
//
// What the layout cannot hold is left out: a household paired with
// several cadres lists the one paired first (ended pairings not at all),
// 家庭人口 is the members listed (a size declared by a one-row-per-household
// register is not kept), status and poverty type are the current ones
// without their dated history, and the household file's home location,
// housing, land, income and notes are not 台账 columns.
func Export(ctx context.Context, store RegisterStore, q ExportQuery) (Download, error) {
	if err := Authorize(q.Actor); err != nil {
		return Download{}, err
	}
	if q.Format != "" && q.Format != ledger.XLSX && q.Format != ledger.CSV {
		return Download{}, domain.Invalid(domain.FieldError{Field: "format", Reason: "invalid_enum", Message: "format must be xlsx or csv", MessageZH: "导出格式应为xlsx或csv"})
	}
	format := q.Format
	if format == "" {
		format = ledger.XLSX
	}
	regionID := q.Actor.RegionID
	if q.RegionID != nil {
		regionID = *q.RegionID
	}
	r, err := store.Region(ctx, regionID)
	if domain.IsCode(err, domain.CodeNotFound) || err == nil && !q.Actor.InSubtree(r.Path) {
		return Download{}, domain.NotFound("region")
	}
	if err != nil {
		return Download{}, err
	}
	var actorID *uuid.UUID
	if id := q.Actor.UserID; id != uuid.Nil {
		actorID = &id
	}
	err = store.Audit(ctx, domain.AuditEntry{ActorID: actorID, ActorName: q.Actor.Username, Action: "export_register", ObjectType: "region",
		ObjectID: r.ID.String(), RegionPath: r.Path, RequestID: q.Actor.RequestID, Detail: map[string]any{"format": format, "route": q.Actor.Route}})
	if err != nil {
		return Download{}, err
	}
	headings := make([]string, 0, len(exportColumns)+1)
	widths := make([]float64, 0, len(exportColumns)+1)
	headings, widths = append(headings, "序号"), append(widths, 6)
	for _, c := range exportColumns {
		headings = append(headings, columns[c].zh)
		widths = append(widths, exportWidth(c))
	}
	write, err := ledger.Stream(format, "户信息", "建档立卡户及结对帮扶台账", fmt.Sprintf("%s 制表日期：%s", r.Name, q.Today), ledger.Columns(headings, widths...), func(t ledger.Table) error {
		n := 0
		cities := map[string]domain.Region{}
		reads := store.ReadsCurrent(ctx)
		err := store.RegisterHouseholds(reads, r.Path, func(h RegisterHousehold) error {
			if h.City.Code == "" {
				city, err := cityAbove(reads, store, h.County, cities)
				if err != nil {
					return err
				}
				h.City = city
			}
			members := h.Members
			if len(members) == 0 {
				// A household registered without members (or whose members
				// were all removed) is still on the register: one row with
				// its member cells empty, which Import reads back as such.
				members = []domain.Member{{}}
			}
			for _, m := range members {
				n++
				if err := t.Row(registerRow(n, h, m)...); err != nil {
					return err
				}
			}
			return nil
		})
		return err
	}, ledger.SpillTo(q.TmpDir))
	if err != nil {
		return Download{}, err
	}
	return Download{Filename: fmt.Sprintf("户信息台账-%s-%s.%s", r.Name, q.Today, format), ContentType: ledger.ContentType(format), Write: write}, nil
}

// cityAbove is the 市 of a county its database has no city above (one set
// up at county level): the code follows from the county's 12-digit code
// (2 digits province, 2 city, 2 county, then town and village), the name
// only when the database holds a city of that code. Import needs the code
// to place the county in a province's tree. cities caches the answers.
func cityAbove(ctx context.Context, store RegisterStore, county domain.Region, cities map[string]domain.Region) (domain.Region, error) {
	if !regionCode.MatchString(county.Code) || len(county.Code) != 12 || codeLevel(county.Code) != domain.LevelCounty {
		return domain.Region{}, nil
	}
	code := ancestorCode(county.Code, 4)
	if c, ok := cities[code]; ok {
		return c, nil
	}
	city := domain.Region{Code: code}
	found, err := store.ImportRegions(ctx, "/", nil, []string{code})
	if err != nil {
		return domain.Region{}, err
	}
	for _, reg := range found {
		if reg.Level == domain.LevelCity {
			city.Name = reg.Name
		}
	}
	cities[code] = city
	return city, nil
}

// registerRow is the cells of one member's row (m is zero on the row of a
// household without members), labels where the layout has a vocabulary (a
// county office reads labels; Import reads them back).
func registerRow(n int, h RegisterHousehold, m domain.Member) []any {
	hh := h.Household
	var size, registeredYear, exitYear any
	if len(h.Members) > 0 {
		size = len(h.Members)
	}
	if hh.RegisteredYear != nil {
		registeredYear = *hh.RegisteredYear
	}
	if hh.ExitYear != nil && hh.Status == domain.StatusExited {
		exitYear = *hh.ExitYear
	}
	var cadre, account, cadrePhone, unit, rank, since any
	if c := h.Cadre; c != nil {
		cadre, account, cadrePhone, unit, rank = c.Name, c.Username, c.Phone, c.Unit, label(domain.Ranks, c.Rank)
		since = ledger.Day{Time: c.Since.Start()}
	}
	poor := "否"
	if h.Village.IsPoorVillage {
		poor = "是"
	}
	return []any{n, h.City.Name, h.City.Code, h.County.Name, h.County.Code, h.Town.Name, h.Town.Code, h.Village.Name, h.Village.Code, poor,
		h.Group.Name, h.Group.Code, hh.Number, hh.HeadName,
		label(domain.Relations, m.Relation), m.Name, m.IDNumber, size, label(domain.PovertyTypes, hh.PovertyType), label(domain.Statuses, hh.Status),
		registeredYear, exitYear, labelList(domain.Causes, hh.Causes), hh.Phone, hh.Address, m.Phone, label(domain.HealthStates, m.Health), label(domain.Disabilities, m.Disability),
		label(domain.EducationLevels, m.Education), label(domain.WorkStates, m.Work), cadre, account, cadrePhone, unit, rank, since,
		label(domain.RelapseCauses, h.RelapseCause), h.RemovalReason}
}

func label(v domain.Vocabulary, code string) string {
	if code == "" {
		return ""
	}
	if l, ok := v.Label(code); ok {
		return l
	}
	return code
}

func labelList(v domain.Vocabulary, codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = label(v, c)
	}
	return strings.Join(out, "、")
}

// exportWidth is a column's width in characters: wide enough for an ID
// number, an address or a 12-digit code.
func exportWidth(c col) float64 {
	switch c {
	case colIDNumber:
		return 21
	case colAddress:
		return 24
	case colCityCode, colCountyCode, colTownCode, colVillageCode, colPhone, colHouseholdPhone, colCadrePhone, colNumber:
		return 15
	case colGroupCode:
		return 17
	case colPairStart, colUnit, colCadreAccount, colRelapseCause:
		return 12
	case colRemovalReason:
		return 24
	}
	return 9
}
