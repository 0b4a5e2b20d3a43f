package app

import (
	"context"
	"encoding/csv"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
)

// idNumber completes a 17-digit ID number with its check character.
func idNumber(first17 string) string { return first17 + string(domain.IDNumberCheckChar(first17)) }

// registerSheet is a county 台账 of a town the small county does not have
// yet (created from its codes, 前进村 marked a 贫困村): a registered
// household of three with every member field, an exited one and a general
// one, two paired with a cadre the file creates.
func registerSheet() string {
	head := "县/区,乡镇,乡镇代码,所属村,村代码,是否贫困村,户编号,户主姓名,与户主关系,姓名,身份证号,家庭人口,贫困户属性,户类型,脱贫年度,致贫原因,联系电话,住址,健康状况,残疾等级,文化程度,务工状况,帮扶责任人,帮扶责任人电话,帮扶单位,职级,结对开始日期"
	rows := []string{
		"示范县,新华乡,410122101000,前进村,410122101201,是,4101221012010001,王建国,户主,王建国," + idNumber("41012219600101003") + ",3,低保,在册,,因病、缺资金,+86 138 0013 8000,前进村三组12号,长期慢性病,二级,小学,务农,赵干部,13900000001,县水利局,科级,2025-03-01",
		"示范县,新华乡,410122101000,前进村,410122101201,是,4101221012010001,王建国,配偶,刘桂英," + idNumber("41012219620202004") + ",,,,,,,,健康,无,初中,本地务工,,,,,",
		"示范县,新华乡,410122101000,前进村,410122101201,是,4101221012010001,王建国,子女,王小明," + idNumber("41012220120303005") + ",,,,,,,,健康,无,小学,在校生,,,,,",
		"示范县,新华乡,410122101000,胜利村,410122101202,否,4101221012020001,孙德福,户主,孙德福," + idNumber("41012219550505006") + ",1,一般,已脱贫,2019,缺劳力,,胜利村一组,患有大病,无,文盲或半文盲,无劳动力,赵干部,13900000001,县水利局,科级,2024-06-15",
		"示范县,新华乡,410122101000,胜利村,410122101202,否,4101221012020002,周春生,户主,周春生," + idNumber("41012219800808007") + ",1,,一般农户,,,13700000002,胜利村二组,健康,无,高中,外出务工,,,,,",
	}
	return head + "\n" + strings.Join(rows, "\n") + "\n"
}

// importReport posts a 台账 file as the admin and returns the report.
func (e *testEnv) importReport(t *testing.T, token string, file []byte, query string) importer.Report {
	t.Helper()
	r := e.do(t, "POST", "/api/v1/imports"+query, token, file)
	if r.Status != http.StatusOK {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	var rep importer.Report
	r.json(t, &rep)
	return rep
}

// csvRows reads a CSV download (byte-order mark and all).
func csvRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	cr := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\uFEFF")))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("not a CSV file: %v", err)
	}
	return rows
}

// sameTable compares two exports below their title lines (the headings
// and every data row), naming the first row that differs.
func sameTable(t *testing.T, what string, want, got [][]string) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("%s: %d rows, want %d:\n%q\nwant\n%q", what, len(got), len(want), got, want)
	}
	// A spreadsheet reader drops a row's empty trailing cells; a CSV keeps them.
	line := func(cells []string) string { return strings.TrimRight(strings.Join(cells, "|"), "|") }
	for i := 2; i < len(want); i++ {
		if line(want[i]) != line(got[i]) {
			t.Fatalf("%s: row %d is\n%q\nwant\n%q", what, i+1, got[i], want[i])
		}
	}
}

// nameCadres gives the county's two cadres display names as an office
// writes them. The fixture's are their usernames, and a 帮扶责任人 cell that
// looks like a username is read as one: a database without those accounts
// (one that has only the province) would refuse it.
func (e *testEnv) nameCadres(t *testing.T) {
	t.Helper()
	for id, name := range map[uuid.UUID]string{e.cadreA.ID: "钱干部", e.cadreB.ID: "孙干部"} {
		if _, err := e.app.Registry.UpdateUser(context.Background(), e.admin, id, registry.UserChanges{DisplayName: &name}); err != nil {
			t.Fatal(err)
		}
	}
}

// nameCadresAlike gives the county's cadre A the display name "cadre-b",
// which is cadre B's username and display name (the fixture's display
// names are the usernames): only the 帮扶责任人账号 tells their households
// apart.
func (e *testEnv) nameCadresAlike(t *testing.T) {
	t.Helper()
	name := e.cadreB.Username
	if _, err := e.app.Registry.UpdateUser(context.Background(), e.admin, e.cadreA.ID, registry.UserChanges{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
}

// registerWithoutMembers registers, through the register service, the two
// ways a household comes to have no members: 王五 of 红旗村, numbered,
// registered as 低保 in 2019 and paired with cadre B, created without
// members; and 赵六 of 一组, a general household without a number, whose
// one member was removed.
func (e *testEnv) registerWithoutMembers(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	wang := storetest.Must(e.app.Registry.CreateHousehold(ctx, e.admin, registry.NewHousehold{RegionID: e.villageB.ID, Status: domain.StatusRegistered,
		PovertyType: domain.PovertyDibao, EffectiveOn: domain.Date{Year: 2019, Month: time.May, Day: 1},
		Details: domain.HouseholdDetails{Number: "4101221002020009", HeadName: "王五", Phone: "13700000009",
			Address: "红旗村五组", Causes: []string{"illness"}}}))(t)
	e.pair(t, wang.Household.ID, e.cadreB.ID)
	li := storetest.Must(e.app.Registry.CreateHousehold(ctx, e.admin, registry.NewHousehold{RegionID: e.groupA.ID, Status: domain.StatusGeneral,
		Details: domain.HouseholdDetails{HeadName: "赵六", Phone: "13700000010"},
		Members: []domain.MemberDetails{{Name: "赵六", Relation: domain.RelationHead, IDNumber: idNumber("41012219700707001")}}}))(t)
	if err := e.app.Registry.DeleteMember(ctx, e.admin, li.Household.ID, li.Members[0].ID); err != nil {
		t.Fatal(err)
	}
}

// registerAsTheAPIAllows registers, through the register service, the
// households the register API takes that the importer once refused: 甲
// (numbered) and 乙 (no number), whose heads have no 身份证号 yet; 丙
// (numbered) and 丁 (no number), whose heads were removed, their other
// members kept; 戊, exited in 2019 and relapsed (因病); and 己, removed
// after review (清退) with its reason.
func (e *testEnv) registerAsTheAPIAllows(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	create := func(number, head string, members ...domain.MemberDetails) registry.HouseholdFile {
		t.Helper()
		return storetest.Must(e.app.Registry.CreateHousehold(ctx, e.admin, registry.NewHousehold{RegionID: e.villageB.ID, Status: domain.StatusRegistered,
			PovertyType: domain.PovertyOrdinary, EffectiveOn: domain.Date{Year: 2016, Month: time.March, Day: 1},
			Details: domain.HouseholdDetails{Number: number, HeadName: head, Causes: []string{"illness"}},
			Members: append([]domain.MemberDetails{{Name: head, Relation: domain.RelationHead}}, members...)}))(t)
	}
	move := func(h registry.HouseholdFile, in registry.StatusInput) registry.HouseholdFile {
		t.Helper()
		in.Version = h.Household.Version
		return storetest.Must(e.app.Registry.ChangeStatus(ctx, e.admin, h.Household.ID, in))(t)
	}
	removeHead := func(h registry.HouseholdFile) {
		t.Helper()
		if err := e.app.Registry.DeleteMember(ctx, e.admin, h.Household.ID, h.Members[0].ID); err != nil {
			t.Fatal(err)
		}
	}
	create("4101221002020011", "甲", domain.MemberDetails{Name: "甲妻", Relation: "spouse", IDNumber: idNumber("41012219800101031")})
	create("", "乙")
	removeHead(create("4101221002020013", "丙", domain.MemberDetails{Name: "丙子", Relation: "child"}))
	removeHead(create("", "丁", domain.MemberDetails{Name: "丁女", Relation: "child", IDNumber: idNumber("41012220050101032")}))
	exit2019 := 2019
	relapsed := move(create("4101221002020015", "戊"), registry.StatusInput{Status: domain.StatusExited, ExitYear: &exit2019,
		EffectiveOn: domain.Date{Year: 2019, Month: time.December, Day: 10}})
	move(relapsed, registry.StatusInput{Status: domain.StatusRelapsed, Cause: "serious_illness", Reason: "户主患病，医疗支出骤增",
		EffectiveOn: domain.Date{Year: 2021, Month: time.May, Day: 1}})
	move(create("4101221002020016", "己"), registry.StatusInput{Status: domain.StatusRemoved, Reason: "回头看核查：家庭收入超标，识别不精准",
		EffectiveOn: domain.Date{Year: 2017, Month: time.June, Day: 1}})
}

// phoneHouseholdApart gives household A a phone of its own (13700000011)
// and its head another (13800000012), as the register API allows.
func (e *testEnv) phoneHouseholdApart(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	h := e.householdA.Household
	storetest.Must(e.app.Registry.UpdateHousehold(ctx, e.admin, h.ID, h.Version, func(d domain.HouseholdDetails, _ *domain.FieldErrors) domain.HouseholdDetails {
		d.Phone = "13700000011"
		return d
	}))(t)
	head := e.householdA.Members[0]
	storetest.Must(e.app.Registry.UpdateMember(ctx, e.admin, h.ID, head.ID, head.Version, func(d domain.MemberDetails) domain.MemberDetails {
		d.Phone = "13800000012"
		return d
	}))(t)
}

// pairedCadres is the usernames of the cadres of each household's open
// pairings, by head of household.
func (e *testEnv) pairedCadres(t *testing.T) map[string][]string {
	t.Helper()
	var rows []struct{ HeadName, Username string }
	err := e.app.DB.Gorm.Table("pairings p").Select("h.head_name, u.username").
		Joins("JOIN households h ON h.id = p.household_id").Joins("JOIN users u ON u.id = p.cadre_id").
		Where("p.end_on IS NULL").Order("h.head_name, u.username").Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range rows {
		out[r.HeadName] = append(out[r.HeadName], r.Username)
	}
	return out
}

// deactivateCadreA deactivates cadre A, who stays paired with household A.
func (e *testEnv) deactivateCadreA(t *testing.T) {
	t.Helper()
	inactive := false
	storetest.Must(e.app.Registry.UpdateUser(context.Background(), e.admin, e.cadreA.ID, registry.UserChanges{Active: &inactive}))(t)
}

// registeredYears is the year each household was registered as poor
// (0: not recorded), by head of household.
func (e *testEnv) registeredYears(t *testing.T) map[string]int {
	t.Helper()
	var rows []struct {
		HeadName       string
		RegisteredYear *int
	}
	if err := e.app.DB.Gorm.Table("households").Select("head_name, registered_year").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.HeadName] = 0
		if r.RegisteredYear != nil {
			out[r.HeadName] = *r.RegisteredYear
		}
	}
	return out
}

// poorVillages is the codes of the villages marked 贫困村.
func (e *testEnv) poorVillages(t *testing.T) []string {
	t.Helper()
	var codes []string
	err := e.app.DB.Gorm.Table("regions").Where("level = ? AND is_poor_village = ?", domain.LevelVillage, true).Order("code").Pluck("code", &codes).Error
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// roundTripTarget is a fresh database an export is imported into (with
// create_regions), and what the import creates there; the rest of the
// export's households it finds unchanged. refusedAt, when set, is the
// column the import refuses every row at instead.
type roundTripTarget struct {
	name                                           string
	fresh                                          func(t *testing.T, dialect string) *testEnv
	households, members, pairings, cadres, regions int
	refusedAt                                      string
	// warnings are the reasons of the warnings the import gives, in order
	// (none where the export came from: nothing there is new).
	warnings []string
}

// TestRegisterExportRoundTrip: the household register and pairings export
// as the county 台账 the importer reads. Imported with create_regions into
// a fresh database it gives back the same rows — every household, member
// and pairing field the file holds — from XLSX and from CSV, each pairing
// with the same cadre (the file names them by 帮扶责任人账号, their
// username, beside their name), each village with its 贫困村 mark
// (是否贫困村) and each household with the year it was registered
// (建档年份). Imported again where it came from it changes nothing.
//
// A county's register goes into a database whose county lacks the town
// (created from the file's codes), and into one that has only the
// province, as `fieldvisit init` leaves it, where the city, the county, the
// towns, the villages and the village group are all created from the
// file's 市/县/乡镇/村/村民小组 names and codes and the cadres from their
// accounts and names. Two cadres both named cadre-b, one of them the
// account cadre-a, keep their own households. A database set up at county
// level has no city: its export gives the 市代码 from the county's code (the
// name it does not know), and a province without that city refuses the
// file at 市 — it creates no nameless or made-up city — until the city is
// created.
func TestRegisterExportRoundTrip(t *testing.T) {
	cases := []struct {
		name   string
		source func(t *testing.T, dialect string) *testEnv
		// nameCadres names the fixture's cadres, in the source and in each
		// target that has them; seed is imported into the source first,
		// and register run on it.
		nameCadres func(e *testEnv, t *testing.T)
		seed       string
		register   func(e *testEnv, t *testing.T)
		// In the export: households, and data rows (a row per member, one
		// per household without members).
		households, rows int
		cells            []string // in the CSV export
		targets          []roundTripTarget
	}{
		{
			name: "a county's register", source: newTestEnv, nameCadres: (*testEnv).nameCadres, seed: registerSheet(),
			households: 5, rows: 7,
			cells: []string{"'+86 138 0013 8000", "低保贫困户,在册未脱贫,2024,,因病", "因病、缺资金", "郑州市,410100000000,示范县,410122000000", "东风村,410122100201,是,一组,410122100201001",
				"红旗村,410122100202,否,", "前进村,410122101201,是,", "赵干部,13900000001,13900000001,县水利局", "钱干部,cadre-a,,县农业农村局"},
			targets: []roundTripTarget{
				// The town 新华乡 and its two villages.
				{name: "a county without the town", fresh: newTestEnv, households: 3, members: 5, pairings: 2, cadres: 1, regions: 3},
				// 郑州市, 示范县, 城关镇 and 新华乡, their four villages and 一组.
				{name: "only the province", fresh: newProvinceTestEnv, households: 5, members: 7, pairings: 4, cadres: 3, regions: 9},
			},
		},
		{
			name: "two cadres named cadre-b", source: newTestEnv, nameCadres: (*testEnv).nameCadresAlike,
			households: 2, rows: 2, cells: []string{",cadre-b,cadre-a,", ",cadre-b,cadre-b,"},
			targets: []roundTripTarget{
				{name: "the same county", fresh: newTestEnv},
				// 郑州市, 示范县, 城关镇, its two villages and 一组.
				{name: "only the province", fresh: newProvinceTestEnv, households: 2, members: 2, pairings: 2, cadres: 2, regions: 6},
			},
		},
		{
			name: "a county-level database", source: newCountyDatabaseTestEnv,
			households: 2, rows: 2, cells: []string{",,410100000000,示范县,410122000000,"},
			targets: []roundTripTarget{
				{name: "a county-level database", fresh: newCountyDatabaseTestEnv},
				{name: "only the province", fresh: newProvinceTestEnv, refusedAt: "市"},
			},
		},
		{
			// The export names the cadre of household A's open pairing,
			// deactivated or not; where that pairing is stored, the import
			// keeps it.
			name: "a deactivated cadre still paired", source: newTestEnv, nameCadres: (*testEnv).nameCadres, register: (*testEnv).deactivateCadreA,
			households: 2, rows: 2, cells: []string{"钱干部,cadre-a,"},
			targets: []roundTripTarget{
				{name: "the same county", fresh: newTestEnv},
				// 郑州市, 示范县, 城关镇, its two villages and 一组.
				{name: "only the province", fresh: newProvinceTestEnv, households: 2, members: 2, pairings: 2, cadres: 2, regions: 6},
			},
		},
		{
			// 家庭联系电话 is the household's phone, 联系电话 the head's own.
			name: "a household's phone apart from its head's", source: newTestEnv, nameCadres: (*testEnv).nameCadres, register: (*testEnv).phoneHouseholdApart,
			households: 2, rows: 2, cells: []string{",13700000011,,13800000012,"},
			targets: []roundTripTarget{
				// 郑州市, 示范县, 城关镇, its two villages and 一组.
				{name: "only the province", fresh: newProvinceTestEnv, households: 2, members: 2, pairings: 2, cadres: 2, regions: 6},
			},
		},
		{
			// Each is one row, its household cells filled and its member
			// cells empty, and comes back without members: 王五 by its
			// 户编号, 赵六 by village and head (it has no number).
			name: "households without members", source: newTestEnv, nameCadres: (*testEnv).nameCadres, register: (*testEnv).registerWithoutMembers,
			households: 4, rows: 4,
			cells: []string{"一组,410122100201001,,赵六,,,,,,一般农户,,,,13700000010,,",
				"4101221002020009,王五,,,,,低保贫困户,在册未脱贫,2019,,因病,13700000009,红旗村五组,,,,,,孙干部,cadre-b,"},
			targets: []roundTripTarget{
				{name: "the same county", fresh: newTestEnv, households: 2, pairings: 1},
				// 郑州市, 示范县, 城关镇, its two villages and 一组.
				{name: "only the province", fresh: newProvinceTestEnv, households: 4, members: 2, pairings: 3, cadres: 2, regions: 6},
			},
		},
		{
			// Heads without 身份证号, households whose heads were removed
			// (imported with a warning each), a relapsed household with its
			// 返贫原因 and a removed one with its 清退原因: each comes back,
			// those without 户编号 by village and head.
			name: "households as the register API allows them", source: newTestEnv, nameCadres: (*testEnv).nameCadres, register: (*testEnv).registerAsTheAPIAllows,
			households: 8, rows: 9,
			cells: []string{",4101221002020011,甲,户主,甲,,2,一般贫困户,在册未脱贫,2016,", ",4101221002020013,丙,子女,丙子,,1,",
				",一般贫困户,返贫,2016,,因病", ",大病,\n", ",一般贫困户,清退,2016,,因病", ",,回头看核查：家庭收入超标，识别不精准\n"},
			targets: []roundTripTarget{
				{name: "the same county", fresh: newTestEnv, households: 6, members: 7, warnings: []string{"no_head", "no_head"}},
				// 郑州市, 示范县, 城关镇, its two villages and 一组.
				{name: "only the province", fresh: newProvinceTestEnv, households: 8, members: 9, pairings: 2, cadres: 2, regions: 6,
					warnings: []string{"no_head", "no_head"}},
			},
		},
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		for _, c := range cases {
			t.Run(dialect+"/"+c.name, func(t *testing.T) {
				e := c.source(t, dialect)
				admin := e.login(t, "admin")
				if c.nameCadres != nil {
					c.nameCadres(e, t)
				}
				if c.seed != "" {
					seeded := e.importReport(t, admin, []byte(c.seed), "?create_regions=true")
					if seeded.Households.Created != 3 || seeded.Members.Created != 5 || seeded.Pairings.Created != 2 {
						t.Fatalf("seeding import: %+v", seeded)
					}
				}
				if c.register != nil {
					c.register(e, t)
				}
				county := "/api/v1/exports/register?region_id=" + e.county.ID.String()
				xlsx := e.do(t, "GET", county, admin, nil)
				csvFile := e.do(t, "GET", county+"&format=csv", admin, nil)
				if xlsx.Status != http.StatusOK || csvFile.Status != http.StatusOK || !strings.HasPrefix(csvFile.Header.Get("Content-Type"), "text/csv") {
					t.Fatalf("export: %d %d %s", xlsx.Status, csvFile.Status, csvFile.Body)
				}
				rows := xlsxRows(t, xlsx.Body)
				// Title lines and headings, then a row per member.
				if len(rows) != 3+c.rows || rows[2][0] != "序号" || rows[2][1] != "市" || rows[2][9] != "是否贫困村" || rows[2][16] != "身份证号" {
					t.Fatalf("export rows: %q", rows)
				}
				// The same cells in both formats, but for the apostrophe that keeps
				// a CSV cell from running as a formula.
				sameTable(t, "csv and xlsx", rows, csvRows(t, []byte(strings.ReplaceAll(string(csvFile.Body), "'+86", "+86"))))
				for _, cell := range c.cells {
					if !strings.Contains(string(csvFile.Body), cell) {
						t.Fatalf("the csv export lacks %q:\n%s", cell, csvFile.Body)
					}
				}
				pairs, poor, registered := e.pairedCadres(t), e.poorVillages(t), e.registeredYears(t)

				again := e.importReport(t, admin, csvFile.Body, "")
				if c := again.Households; c.Created+c.Updated+again.Members.Created+again.Members.Updated+again.Pairings.Created+again.Cadres.Created != 0 || len(again.Warnings) != 0 {
					t.Fatalf("re-import where it came from changed something: %+v", again)
				}
				if again.Households.Unchanged != c.households {
					t.Fatalf("re-import where it came from: %d households unchanged, want %d", again.Households.Unchanged, c.households)
				}
				if got := e.pairedCadres(t); !reflect.DeepEqual(got, pairs) {
					t.Fatalf("re-import where it came from paired %v, was %v", got, pairs)
				}

				exports := map[string][]byte{ledger.XLSX: xlsx.Body, ledger.CSV: csvFile.Body}
				for _, target := range c.targets {
					for _, format := range []string{ledger.XLSX, ledger.CSV} {
						t.Run(target.name+"/"+format, func(t *testing.T) {
							fresh := target.fresh(t, dialect)
							freshAdmin := fresh.login(t, "admin")
							if fresh.cadreA.ID != uuid.Nil && c.nameCadres != nil {
								c.nameCadres(fresh, t)
							}
							if target.refusedAt != "" {
								importRefused(t, fresh, freshAdmin, exports[format], target.refusedAt)
								return
							}
							moved := fresh.importReport(t, freshAdmin, exports[format], "?create_regions=true")
							var warned []string
							for _, w := range moved.Warnings {
								warned = append(warned, w.Reason)
							}
							if !moved.Applied || len(moved.Errors) != 0 || !slices.Equal(warned, target.warnings) ||
								moved.Households.Created != target.households || moved.Households.Unchanged != c.households-target.households ||
								moved.Members.Created != target.members || moved.Pairings.Created != target.pairings ||
								moved.Cadres.Created != target.cadres || moved.Regions.Created != target.regions {
								t.Fatalf("import into the fresh database: %+v", moved)
							}
							if got := fresh.pairedCadres(t); !reflect.DeepEqual(got, pairs) {
								t.Errorf("the fresh database pairs %v, want %v", got, pairs)
							}
							// Inspections draw by it and 贫困村出列 starts from it.
							if got := fresh.poorVillages(t); !slices.Equal(got, poor) {
								t.Errorf("the fresh database's poor villages are %v, want %v", got, poor)
							}
							// Visits dated before it are flagged (走访日期早于该户建档时间).
							if got := fresh.registeredYears(t); !reflect.DeepEqual(got, registered) {
								t.Errorf("the fresh database's households were registered in %v, want %v", got, registered)
							}
							// The admin's own region, which holds the one county.
							back := "/api/v1/exports/register"
							sameTable(t, "xlsx after the round trip", rows, xlsxRows(t, fresh.do(t, "GET", back, freshAdmin, nil).Body))
							sameTable(t, "csv after the round trip", csvRows(t, csvFile.Body), csvRows(t, fresh.do(t, "GET", back+"?format=csv", freshAdmin, nil).Body))
						})
					}
				}
			})
		}
	}
}

// importRefused imports an export of a county-level database into a
// province that lacks its city: every row is refused at column (市), naming
// the city's code, and nothing is written; once the province admin creates
// the city, the same file imports.
func importRefused(t *testing.T, e *testEnv, admin string, file []byte, column string) {
	t.Helper()
	r := e.do(t, "POST", "/api/v1/imports?create_regions=true", admin, file)
	var body struct {
		Report importer.Report `json:"report"`
	}
	r.json(t, &body)
	if r.Status != http.StatusUnprocessableEntity || body.Report.Applied || len(body.Report.Errors) == 0 {
		t.Fatalf("import into a province without the city: %d %s", r.Status, r.Body)
	}
	for _, re := range body.Report.Errors {
		if re.Column != column || re.Reason != "required" || !strings.Contains(re.MessageZH, "410100000000") || !strings.Contains(re.MessageZH, "「"+column+"」列") {
			t.Errorf("row %d: %s %s %s, want %s required naming the city's code and the column", re.Row, re.Column, re.Reason, re.MessageZH, column)
		}
	}
	var regions int64
	if err := e.app.DB.Gorm.Table("regions").Count(&regions).Error; err != nil || regions != 1 {
		t.Errorf("the refused import left %d regions (%v), want the province alone", regions, err)
	}
	e.addRegion(t, e.fixture.Province, domain.LevelCity, "410100000000", "郑州市")
	if moved := e.importReport(t, admin, file, "?create_regions=true"); !moved.Applied || len(moved.Errors) != 0 || moved.Households.Created != 2 {
		t.Errorf("import once the province has the city: %+v", moved)
	}
}

// TestRegisterExportScope: the export carries clear 身份证号, so only admins
// and supervisors get it, for their subtree; each export is audited.
func TestRegisterExportScope(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		supA := e.login(t, "supervisor-a")
		audited := func() int64 {
			var n int64
			if err := e.app.DB.Gorm.Table("audit_log").Where("action = ?", "export_register").Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		r := e.do(t, "GET", "/api/v1/exports/register?format=csv", supA, nil)
		rows := csvRows(t, r.Body)
		cell := func(heading string) string { return rows[3][slices.Index(rows[2], heading)] }
		if r.Status != http.StatusOK || len(rows) != 4 || cell("户主姓名") != "张三" || cell("村民小组") != "一组" || cell("帮扶责任人") != "cadre-a" {
			t.Fatalf("supervisor A's own region: %d %q", r.Status, rows)
		}
		if audited() != 1 {
			t.Errorf("the export was not audited")
		}
		// The supervisor's file names the county above their village: it
		// re-imports as theirs, changing nothing.
		back := e.importReport(t, supA, r.Body, "?dry_run=true")
		if c := back.Households; len(back.Errors) != 0 || c.Created+c.Updated+back.Pairings.Created+back.Members.Created+back.Members.Updated != 0 || c.Unchanged != 1 {
			t.Errorf("supervisor A re-importing their own export: %+v", back)
		}
		for _, tc := range []struct {
			who, query string
			status     int
		}{
			{"supervisor-a", "region_id=" + e.villageB.ID.String(), http.StatusNotFound},
			{"supervisor-a", "region_id=" + e.county.ID.String(), http.StatusNotFound},
			{"supervisor-b", "region_id=" + e.villageA.ID.String(), http.StatusNotFound},
			{"admin", "region_id=" + uuid.NewString(), http.StatusNotFound},
			{"cadre-a", "region_id=" + e.villageA.ID.String(), http.StatusForbidden},
			{"inspector", "", http.StatusForbidden},
			{"admin", "format=pdf", http.StatusUnprocessableEntity},
		} {
			r := e.do(t, "GET", "/api/v1/exports/register?"+tc.query, e.login(t, tc.who), nil)
			if r.Status != tc.status {
				t.Errorf("%s %s: %d, want %d: %s", tc.who, tc.query, r.Status, tc.status, r.Body)
				continue
			}
			if p := r.problem(t); tc.status == http.StatusUnprocessableEntity && !p.hasField("format") {
				t.Errorf("format=pdf: the problem does not name the field: %+v", p)
			}
		}
		if audited() != 1 {
			t.Errorf("a refused export was audited")
		}
	})
}

// TestTheHeadsNameIsOneFact: a household's 户主姓名 and its head member's
// name are renamed together, whichever is edited, each as a new version
// (phones holding either get the change), so the register exports as the
// importer reads it: a supervisor who renamed the head on the household
// could not re-import their own export (户主姓名 and the head's row
// disagreed).
func TestTheHeadsNameIsOneFact(t *testing.T) {
	dialects(t, func(t *testing.T, e *testEnv) {
		ctx := context.Background()
		sup := e.login(t, "supervisor-a")
		h := e.householdA.Household
		path := "/api/v1/households/" + h.ID.String()
		head := func() (domain.Household, domain.Member) {
			t.Helper()
			hh, err := e.app.Store.HouseholdByID(ctx, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			ms, err := e.app.Store.Members(ctx, h.CountyID, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m.Relation == domain.RelationHead {
					return hh, m
				}
			}
			t.Fatal("no head member")
			return hh, domain.Member{}
		}
		hh, m := head()
		if r := e.do(t, "PATCH", path, sup, map[string]any{"version": hh.Version, "head_name": "张三丰"}); r.Status != http.StatusOK {
			t.Fatalf("rename on the household: %d %s", r.Status, r.Body)
		}
		if hh2, m2 := head(); hh2.HeadName != "张三丰" || m2.Name != "张三丰" || m2.Version != m.Version+1 {
			t.Errorf("after renaming the household: 户主姓名 %q, head member %q v%d (was v%d)", hh2.HeadName, m2.Name, m2.Version, m.Version)
		}
		export := e.do(t, "GET", "/api/v1/exports/register?format=csv", sup, nil)
		if back := e.importReport(t, sup, export.Body, "?dry_run=true"); len(back.Errors) != 0 || back.Households.Unchanged != 1 {
			t.Errorf("re-importing the export after the rename: %+v", back)
		}
		hh, m = head()
		if r := e.do(t, "PATCH", path+"/members/"+m.ID.String(), sup, map[string]any{"version": m.Version, "name": "张山"}); r.Status != http.StatusOK {
			t.Fatalf("rename on the member: %d %s", r.Status, r.Body)
		}
		if hh2, m2 := head(); hh2.HeadName != "张山" || m2.Name != "张山" || hh2.Version != hh.Version+1 {
			t.Errorf("after renaming the head member: 户主姓名 %q v%d (was v%d), head member %q", hh2.HeadName, hh2.Version, hh.Version, m2.Name)
		}
	})
}
