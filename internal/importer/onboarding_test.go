package importer_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
)

// newVillageSheet is the one-row-per-household sample with 江河 in 新华村,
// which does not exist, given by its code; edit changes the rows.
func newVillageSheet(t *testing.T, edit func(rows [][]string)) []byte {
	t.Helper()
	header := append(slices.Clone(perHouseholdHeader), "村代码")
	rows := perHouseholdRows()
	for i := range rows {
		rows[i] = append(rows[i], "")
	}
	rows[2][2], rows[2][len(header)-1] = "新华村", "410122100203"
	if edit != nil {
		edit(rows)
	}
	return writeCSV(t, header, rows)
}

// TestNewRegionsAreListedWhateverTheErrors: with create_regions, the report
// lists the villages the file would create even when other rows have
// errors, in the dry run and in an import the errors stop (README: "the
// dry run included").
func TestNewRegionsAreListedWhateverTheErrors(t *testing.T) {
	want := []importer.NewRegionNote{{Row: 4, Level: domain.LevelVillage, Code: "410122100203", Name: "新华村", Parent: "城关镇"}}
	badID := func(rows [][]string) { rows[0][5] = badCheck(rows[0][5]) }
	badOwnRow := func(rows [][]string) { rows[2][5] = badCheck(rows[2][5]) }
	cases := []struct {
		name   string
		edit   func(rows [][]string)
		dryRun bool
		want   []importer.NewRegionNote
	}{
		{"dry run, an error in another household", badID, true, want},
		{"import, an error in another household: stopped, the village still listed", badID, false, want},
		{"dry run, an error in the new village's own household", badOwnRow, true, want},
		{"dry run, no errors", nil, true, want},
	}
	var ic []importCase
	for _, c := range cases {
		ic = append(ic, importCase{c.name, func(t *testing.T, e *env) {
			rep := e.run(t, newVillageSheet(t, c.edit), func(o *importer.Options) { o.CreateRegions, o.DryRun = true, c.dryRun })
			if c.edit != nil && (rep.OK() || rep.Applied) {
				t.Fatalf("errors %+v, applied %v", rep.Errors, rep.Applied)
			}
			if !slices.Equal(rep.NewRegions, c.want) {
				t.Errorf("new regions %+v, want %+v", rep.NewRegions, c.want)
			}
			if _, ok := e.region(t, "410122100203"); ok {
				t.Error("新华村 was created")
			}
		}})
	}
	runCases(t, ic)
}

// TestMessagesSayWhatTheFileSays: each message names what the file names
// and claims only what can be told.
func TestMessagesSayWhatTheFileSays(t *testing.T) {
	id := idNum("19650312", "011")
	if strings.HasSuffix(id, "X") {
		t.Fatal("pick an ID number without X")
	}
	cadreRow := func(number, head, seq, phone string) []string {
		r := oneHousehold(number, head, idNum("19700101", seq))
		r[cCadre], r[cCadrePhone] = "张伟", phone
		return r
	}
	cases := []struct {
		name       string
		file       func(t *testing.T, e *env) []byte
		want       errKey
		has, hasNo []string
	}{
		{
			name: "an unknown village given with its code is named by its name, with the code",
			file: func(t *testing.T, e *env) []byte { return newVillageSheet(t, nil) },
			want: errKey{4, "所在村", "unknown_region"},
			has:  []string{"「新华村（村代码410122100203）」"},
		},
		{
			name: "two 张伟 in the file and a third only in the system: two in the file, and the system's said apart",
			file: func(t *testing.T, e *env) []byte {
				u := domain.User{ID: uuid.New(), Username: "zhangwei", DisplayName: "张伟", Role: domain.RoleCadre, Phone: "13900000099",
					RegionID: e.admin.RegionID, RegionPath: e.admin.RegionPath, Active: true, CreatedAt: today.Start(), UpdatedAt: today.Start()}
				if err := e.store.CreateUser(context.Background(), u, "x", domain.AuditEntry{}); err != nil {
					t.Fatal(err)
				}
				return writeCSV(t, sampleHeader, [][]string{
					cadreRow("Z001", "甲一", "011", "13900000001"), cadreRow("Z002", "乙二", "021", "13900000002"), cadreRow("Z003", "丙三", "031", ""),
				})
			},
			want:  errKey{4, "帮扶责任人", "ambiguous_cadre"},
			has:   []string{"文件中有2名不同电话的帮扶责任人都叫「张伟」", "系统中另有1名同名帮扶干部"},
			hasNo: []string{"3名"},
		},
		{
			name: "an ID number written as a number with all 18 digits: stored as a number, no loss claimed",
			file: func(t *testing.T, e *env) []byte {
				return writeCSV(t, sampleHeader, [][]string{oneHousehold("N001", "甲一", id[:1]+"."+id[1:]+"E+17")})
			},
			want:  errKey{2, "身份证号", "stored_as_number"},
			has:   []string{"存成了数字", "应为文本"},
			hasNo: []string{"丢失"},
		},
		{
			name: "an ID number as Excel keeps a number, 15 digits: its last digits are lost",
			file: func(t *testing.T, e *env) []byte {
				return writeCSV(t, sampleHeader, [][]string{oneHousehold("N001", "甲一", id[:1]+"."+id[1:15]+"E+17")})
			},
			want: errKey{2, "身份证号", "stored_as_number"},
			has:  []string{"后几位已丢失"},
		},
	}
	var ic []importCase
	for _, c := range cases {
		ic = append(ic, importCase{c.name, func(t *testing.T, e *env) {
			rep := e.run(t, c.file(t, e))
			if got := errKeys(rep.Errors); len(got) != 1 || got[0] != c.want {
				t.Fatalf("errors %+v, want %+v", rep.Errors, c.want)
			}
			msg := rep.Errors[0].MessageZH
			for _, s := range c.has {
				if !strings.Contains(msg, s) {
					t.Errorf("%q does not say %q", msg, s)
				}
			}
			for _, s := range c.hasNo {
				if strings.Contains(msg, s) {
					t.Errorf("%q says %q", msg, s)
				}
			}
		}})
	}
	runCases(t, ic)
}

// TestValuesAreReadNotCompared: a cadre's phone is stored as the digits the
// matching reads, and one household's rows agree on a date however each
// writes it.
func TestValuesAreReadNotCompared(t *testing.T) {
	household := func(start1, start2, phone, phone2 string) []byte {
		head := oneHousehold("P001", "甲一", idNum("19700101", "011"))
		head[cCadre], head[cCadrePhone], head[cUnit], head[cStart] = "孙立", phone, "县农业农村局", start1
		son := oneHousehold("P001", "甲一", idNum("19950101", "021"))
		son[cRelation], son[cName], son[cCadre], son[cCadrePhone], son[cStart] = "之子", "甲二", "孙立", phone2, start2
		return writeCSV(t, sampleHeader, [][]string{head, son})
	}
	cases := []struct {
		name string
		file []byte
	}{
		{"a phone written with dashes is stored as its digits", household("2018-04-18", "", "138-0013-8000", "")},
		{"the same phone with and without dashes on two rows of a household is one phone", household("2018-04-18", "", "138-0013-8000", "13800138000")},
		{"2018/4/18 and Excel's day number 43208 are one date", household("2018/4/18", "43208", "13800138000", "13800138000")},
	}
	var ic []importCase
	for _, c := range cases {
		ic = append(ic, importCase{c.name, func(t *testing.T, e *env) {
			rep := e.run(t, c.file)
			noErrors(t, rep)
			u, _ := e.cadre(t, "13800138000")
			if u.DisplayName != "孙立" || u.Phone != "13800138000" {
				t.Errorf("the new cadre: %+v", u)
			}
		}})
	}
	runCases(t, ic)
}

// groupSheet is one household (石磊, H001) of village, given with its 村代码
// when villageCode is set, in the village group group with its 村民小组代码.
func groupSheet(t *testing.T, village, villageCode, group, groupCode string) []byte {
	t.Helper()
	header := append(slices.Clone(perHouseholdHeader), "村代码", "村民小组", "村民小组代码")
	row := append(perHouseholdRows()[0], villageCode, group, groupCode)
	row[2] = village
	return writeCSV(t, header, [][]string{row})
}

// TestVillageGroupsByCode: a household sheet's 村民小组代码 finds its group,
// and with create_regions creates the group its village lacks (the
// register export writes the code, so that a database without the county
// gets the household back in its group). Without the code, or without
// create_regions, the household is filed under its village with a
// warning, as before the column existed.
func TestVillageGroupsByCode(t *testing.T) {
	cases := []struct {
		name                 string
		village, villageCode string
		group, groupCode     string
		create               bool
		wantErr              []errKey
		wantWarnings         []string
		wantRegion           string // the code of the region the household is filed under
		wantNew              []importer.NewRegionNote
	}{
		{name: "a stored group is found by its code, whatever the file calls it", village: "东风村", group: "一组", groupCode: "410122100201001",
			wantRegion: "410122100201001"},
		{name: "a group the village lacks is created from its code", village: "东风村", group: "二组", groupCode: "410122100201002", create: true,
			wantRegion: "410122100201002",
			wantNew:    []importer.NewRegionNote{{Row: 2, Level: domain.LevelGroup, Code: "410122100201002", Name: "二组", Parent: "东风村"}}},
		{name: "without create_regions the household is filed under the village", village: "东风村", group: "二组", groupCode: "410122100201002",
			wantWarnings: []string{"unknown_group"}, wantRegion: "410122100201"},
		{name: "a new village is created with its new group", village: "新华村", villageCode: "410122100203", group: "一组", groupCode: "410122100203001", create: true,
			wantRegion: "410122100203001",
			wantNew: []importer.NewRegionNote{
				{Row: 2, Level: domain.LevelVillage, Code: "410122100203", Name: "新华村", Parent: "城关镇"},
				{Row: 2, Level: domain.LevelGroup, Code: "410122100203001", Name: "一组", Parent: "新华村"},
			}},
		{name: "a new village's group without a code is warned of, not dropped in silence", village: "新华村", villageCode: "410122100203", group: "一组", create: true,
			wantWarnings: []string{"unknown_group"}, wantRegion: "410122100203",
			wantNew: []importer.NewRegionNote{{Row: 2, Level: domain.LevelVillage, Code: "410122100203", Name: "新华村", Parent: "城关镇"}}},
		{name: "a group code outside the village is refused", village: "东风村", group: "二组", groupCode: "410122100202002", create: true,
			wantErr: []errKey{{2, "村民小组代码", "code_mismatch"}}},
		{name: "a group code of twelve digits is refused", village: "东风村", group: "二组", groupCode: "410122100201", create: true,
			wantErr: []errKey{{2, "村民小组代码", "invalid_format"}}},
		{name: "a group code with no name cannot be created", village: "东风村", groupCode: "410122100201002", create: true,
			wantErr: []errKey{{2, "村民小组", "required"}}},
	}
	var ic []importCase
	for _, c := range cases {
		ic = append(ic, importCase{c.name, func(t *testing.T, e *env) {
			rep := e.run(t, groupSheet(t, c.village, c.villageCode, c.group, c.groupCode), func(o *importer.Options) { o.CreateRegions = c.create })
			if c.wantErr != nil {
				if got := errKeys(rep.Errors); !slices.Equal(got, c.wantErr) || rep.Applied {
					t.Fatalf("errors %+v (applied %v), want %+v", rep.Errors, rep.Applied, c.wantErr)
				}
				return
			}
			noErrors(t, rep)
			var warnings []string
			for _, w := range rep.Warnings {
				warnings = append(warnings, w.Reason)
			}
			if !slices.Equal(warnings, c.wantWarnings) {
				t.Errorf("warnings %+v, want %v", rep.Warnings, c.wantWarnings)
			}
			if !slices.Equal(rep.NewRegions, c.wantNew) {
				t.Errorf("new regions %+v, want %+v", rep.NewRegions, c.wantNew)
			}
			filed, ok := e.region(t, c.wantRegion)
			if h := e.households(t)["石磊"]; !ok || h.RegionID != filed.ID {
				t.Errorf("石磊 is filed under %s, want %s %+v", h.RegionID, c.wantRegion, filed)
			}
			if g, ok := e.region(t, c.groupCode); ok && c.wantRegion == c.groupCode {
				village, _ := e.region(t, g.Code[:12])
				if g.Level != domain.LevelGroup || g.ParentID == nil || *g.ParentID != village.ID || g.Path != village.Path+g.ID.String()+"/" ||
					g.CountyID == nil || *g.CountyID != *village.CountyID {
					t.Errorf("the group %+v under %+v", g, village)
				}
			}
		}})
	}
	runCases(t, ic)
}

// poorVillageSheet is the first households of the one-row-per-household
// sample, each in the village a cell triple names: 所在村, 村代码 and
// 是否贫困村.
func poorVillageSheet(t *testing.T, places [][3]string) []byte {
	t.Helper()
	header := append(slices.Clone(perHouseholdHeader), "村代码", "是否贫困村")
	rows := perHouseholdRows()[:len(places)]
	for i, p := range places {
		rows[i] = append(rows[i], p[1], p[2])
		rows[i][2] = p[0]
	}
	return writeCSV(t, header, rows)
}

// TestPoorVillageOnHouseholdSheets: a household sheet's 是否贫困村 (the
// register export writes it) marks the villages create_regions creates, so
// a register moved into a fresh database keeps its 贫困村 (inspections'
// draw strata and 贫困村出列 read the mark). It never changes a mark: a
// row that contradicts a stored village, or the mark an earlier row gave a
// new one, is warned of on its row and the mark stays. A value that is
// neither yes nor no is an error on its row and column, and nothing is
// written.
func TestPoorVillageOnHouseholdSheets(t *testing.T) {
	const xinhua, dongfeng = "410122100203", "410122100201"
	cases := []struct {
		name     string
		places   [][3]string
		create   bool
		wantErr  []errKey
		wantWarn []errKey
		wantPoor map[string]bool // village code → its mark after the import
	}{
		{name: "a new village marked 是 is created poor", create: true,
			places:   [][3]string{{"新华村", xinhua, "是"}},
			wantPoor: map[string]bool{xinhua: true}},
		{name: "a new village marked 否 is created not poor", create: true,
			places:   [][3]string{{"新华村", xinhua, "否"}},
			wantPoor: map[string]bool{xinhua: false}},
		{name: "a new village without a mark is created not poor", create: true,
			places:   [][3]string{{"新华村", xinhua, ""}},
			wantPoor: map[string]bool{xinhua: false}},
		{name: "the first row that marks a new village sets the mark", create: true,
			places:   [][3]string{{"新华村", xinhua, ""}, {"新华村", xinhua, "是"}, {"新华村", xinhua, "是"}},
			wantPoor: map[string]bool{xinhua: true}},
		{name: "a later row that contradicts a new village's mark is warned of, the first row's mark stays", create: true,
			places:   [][3]string{{"新华村", xinhua, "是"}, {"新华村", xinhua, "否"}, {"新华村", xinhua, "否"}},
			wantWarn: []errKey{{3, "是否贫困村", "poor_village_not_applied"}},
			wantPoor: map[string]bool{xinhua: true}},
		{name: "a stored village's mark agreeing with the file: nothing to say",
			places:   [][3]string{{"东风村", dongfeng, "否"}},
			wantPoor: map[string]bool{dongfeng: false}},
		{name: "a stored village's mark contradicted: a warning naming the row, the mark unchanged", create: true,
			places:   [][3]string{{"东风村", dongfeng, "否"}, {"东风村", dongfeng, "是"}},
			wantWarn: []errKey{{3, "是否贫困村", "poor_village_not_applied"}},
			wantPoor: map[string]bool{dongfeng: false}},
		{name: "without create_regions a contradicted mark is warned of too",
			places:   [][3]string{{"东风村", "", "贫困村"}},
			wantWarn: []errKey{{2, "是否贫困村", "poor_village_not_applied"}},
			wantPoor: map[string]bool{dongfeng: false}},
		{name: "an unreadable mark on a new village is an error on its row and column", create: true,
			places:  [][3]string{{"新华村", xinhua, "是"}, {"新华村", xinhua, "待定"}},
			wantErr: []errKey{{3, "是否贫困村", "invalid_enum"}}},
		{name: "an unreadable mark on a stored village is an error too",
			places:  [][3]string{{"东风村", "", "2"}},
			wantErr: []errKey{{2, "是否贫困村", "invalid_enum"}}},
	}
	var ic []importCase
	for _, c := range cases {
		ic = append(ic, importCase{c.name, func(t *testing.T, e *env) {
			before, regionsBefore := e.rowCounts(t), e.regionCount(t)
			rep := e.run(t, poorVillageSheet(t, c.places), func(o *importer.Options) { o.CreateRegions = c.create })
			if c.wantErr != nil {
				if got := errKeys(rep.Errors); !slices.Equal(got, c.wantErr) || rep.Applied {
					t.Fatalf("errors %+v (applied %v), want %+v", rep.Errors, rep.Applied, c.wantErr)
				}
				if !maps.Equal(before, e.rowCounts(t)) || e.regionCount(t) != regionsBefore {
					t.Error("an import with an unreadable mark wrote something")
				}
				return
			}
			noErrors(t, rep)
			if got := errKeys(rep.Warnings); !slices.Equal(got, c.wantWarn) {
				t.Errorf("warnings %+v, want %+v", rep.Warnings, c.wantWarn)
			}
			for _, w := range rep.Warnings {
				if !strings.Contains(w.MessageZH, "贫困村") || w.Message == "" {
					t.Errorf("the warning does not say what it is about: %+v", w)
				}
			}
			if rep.Households.Created != len(c.places) {
				t.Errorf("households %+v, want %d created", rep.Households, len(c.places))
			}
			for code, poor := range c.wantPoor {
				if v, ok := e.region(t, code); !ok || v.IsPoorVillage != poor {
					t.Errorf("village %s: %+v, want poor %v", code, v, poor)
				}
			}
		}})
	}
	runCases(t, ic)
}
