package importer_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
)

var regionHeader = []string{"乡镇", "乡镇代码", "村", "村代码", "是否贫困村", "经度", "纬度"}

// regionRows extend 示范县 (see newEnv): an existing village marked poor and
// placed, a new village in 城关镇, and a new town 张集镇 whose villages come
// before its own row.
func regionRows() [][]string {
	return [][]string{
		{"城关镇", "410122100000", "东风村", "410122100201", "是", "115.1", "32.2"},
		{"城关镇", "", "新华村", "410122100203", "否", "", ""},
		{"张集镇", "410122300000", "张集村", "410122300201", "是", "115.3", "32.4"},
		{"张集镇", "", "王庄村", "410122300202", "", "", ""},
		{"张集镇", "410122300000", "", "", "", "115.25", "32.35"},
	}
}

// region reads a region by code through the importer's own port.
func (e *env) region(t *testing.T, code string) (domain.Region, bool) {
	t.Helper()
	rs, err := e.store.ImportRegions(context.Background(), "/", nil, []string{code})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) == 0 {
		return domain.Region{}, false
	}
	return rs[0], true
}

func (e *env) regionCount(t *testing.T) int64 {
	t.Helper()
	var n int64
	if err := e.db.Gorm.Table("regions").Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRegionSheets: the region tree imports from a sheet of names and
// 12-digit codes with the poor-village mark and centroids, and a household
// sheet may create the villages it names (issue 19, item 2).
func TestRegionSheets(t *testing.T) {
	runCases(t, []importCase{
		{"a region sheet creates towns and villages under the county, marks poor villages, places centroids, and changes nothing when imported again", func(t *testing.T, e *env) {
			rep := e.run(t, writeCSV(t, regionHeader, regionRows()))
			noErrors(t, rep)
			if rep.Kind != importer.KindRegions || rep.Layout != "" || !rep.Applied {
				t.Errorf("kind %q layout %q applied %v, want a region sheet applied", rep.Kind, rep.Layout, rep.Applied)
			}
			wantCounts(t, "regions", rep.Regions, importer.Counts{Created: 4, Updated: 1})
			wantNotes := []importer.NewRegionNote{
				{Row: 3, Level: domain.LevelVillage, Code: "410122100203", Name: "新华村", Parent: "城关镇"},
				{Row: 4, Level: domain.LevelTown, Code: "410122300000", Name: "张集镇", Parent: "示范县"},
				{Row: 4, Level: domain.LevelVillage, Code: "410122300201", Name: "张集村", Parent: "张集镇"},
				{Row: 5, Level: domain.LevelVillage, Code: "410122300202", Name: "王庄村", Parent: "张集镇"},
			}
			if !slices.Equal(rep.NewRegions, wantNotes) {
				t.Errorf("new regions %+v, want %+v", rep.NewRegions, wantNotes)
			}
			county := e.regions["410122000000"]
			town, _ := e.region(t, "410122300000")
			zj, ok := e.region(t, "410122300201")
			if !ok || !zj.IsPoorVillage || zj.Centroid == nil || *zj.Centroid != (domain.GeoPoint{Lat: 32.4, Lon: 115.3}) ||
				zj.ParentID == nil || *zj.ParentID != town.ID || zj.CountyID == nil || *zj.CountyID != county.ID || zj.Path != town.Path+zj.ID.String()+"/" {
				t.Errorf("张集村: %+v (town %+v)", zj, town)
			}
			if town.Level != domain.LevelTown || town.Centroid == nil || town.Centroid.Lon != 115.25 || town.ParentID == nil || *town.ParentID != county.ID {
				t.Errorf("张集镇 (its own row after its villages): %+v", town)
			}
			if df, _ := e.region(t, "410122100201"); !df.IsPoorVillage || df.Centroid == nil || df.ID != e.regions["410122100201"].ID {
				t.Errorf("东风村 (existing, marked poor): %+v", df)
			}
			if wz, _ := e.region(t, "410122300202"); wz.IsPoorVillage || wz.Centroid != nil {
				t.Errorf("王庄村 (no mark, no centroid): %+v", wz)
			}
			again := e.run(t, writeCSV(t, regionHeader, regionRows()))
			noErrors(t, again)
			wantCounts(t, "regions again", again.Regions, importer.Counts{Unchanged: 5})
			if len(again.NewRegions) != 0 {
				t.Errorf("a re-import creates %+v", again.NewRegions)
			}
		}},

		{"a dry run lists the regions it would create and writes none", func(t *testing.T, e *env) {
			before := e.regionCount(t)
			rep := e.run(t, writeCSV(t, regionHeader, regionRows()), func(o *importer.Options) { o.DryRun = true })
			noErrors(t, rep)
			if rep.Applied || len(rep.NewRegions) != 4 || rep.Regions.Created != 4 {
				t.Errorf("dry run: applied %v, %d new regions, counts %+v", rep.Applied, len(rep.NewRegions), rep.Regions)
			}
			if after := e.regionCount(t); after != before {
				t.Errorf("a dry run wrote regions: %d → %d", before, after)
			}
		}},

		{"a province admin's sheet creates the city and county above the towns, from names and the codes that follow from a village's", func(t *testing.T, e *env) {
			province := e.regions["410000000000"]
			admin := e.admin
			admin.RegionID, admin.RegionPath = province.ID, province.Path
			header := []string{"市", "县/区", "乡镇", "村", "村代码", "贫困村"}
			rows := [][]string{{"开封市", "兰考县", "城关镇", "胡寨村", "410225100201", "是"}}
			rep := e.run(t, writeCSV(t, header, rows), func(o *importer.Options) { o.Actor = admin })
			noErrors(t, rep)
			var got []string
			for _, n := range rep.NewRegions {
				got = append(got, n.Level+" "+n.Code+" "+n.Name+" < "+n.Parent)
			}
			want := []string{"city 410200000000 开封市 < 河南省", "county 410225000000 兰考县 < 开封市",
				"town 410225100000 城关镇 < 兰考县", "village 410225100201 胡寨村 < 城关镇"}
			if !slices.Equal(got, want) {
				t.Errorf("new regions %q, want %q", got, want)
			}
			county, _ := e.region(t, "410225000000")
			if v, _ := e.region(t, "410225100201"); v.CountyID == nil || *v.CountyID != county.ID || !v.IsPoorVillage {
				t.Errorf("胡寨村 %+v, county %+v", v, county)
			}
		}},

		{"every bad row is named by row and column and nothing is written", func(t *testing.T, e *env) {
			rows := [][]string{
				{"城关镇", "410122100000", "东风村", "410122100201", "", "", ""}, // 2: fine
				{"城关镇", "410122100000", "错村", "410122200301", "", "", ""},  // 3: village of another town
				{"城关镇", "", "镇级村", "410122100000", "", "", ""},             // 4: a town's code as a village's
				{"新城镇", "", "外县村", "410123100209", "", "", ""},             // 5: under 邻县, outside the admin's county
				{"", "", "无名镇村", "410122900201", "", "", ""},               // 6: town 410122900000 missing and unnamed
				{"城关镇", "", "新华村", "410122100203", "", "115.1", "132.2"},   // 7: latitude out of range
				{"城关镇", "410122100000", "", "", "是", "", ""},               // 8: a town marked poor
				{"城关镇", "", "红旗村", "410122100201", "", "", ""},             // 9: 东风村's code again
				{"城关镇", "", "新华村", "4101221002", "", "", ""},               // 10: not 12 digits
			}
			before := e.rowCounts(t)
			regionsBefore := e.regionCount(t)
			rep := e.run(t, writeCSV(t, regionHeader, rows))
			want := []errKey{
				{3, "乡镇代码", "code_mismatch"}, {4, "村代码", "code_level"}, {5, "村代码", "outside_scope"},
				{6, "乡镇", "required"}, {7, "纬度", "invalid_format"}, {8, "是否贫困村", "invalid"},
				{9, "村代码", "duplicate"}, {10, "村代码", "invalid_format"},
			}
			if got := errKeys(rep.Errors); !slices.Equal(got, errKeys(toErrs(want))) {
				t.Errorf("errors\n got %+v\nwant %+v", got, want)
			}
			for _, e := range rep.Errors {
				if !hasHan(e.MessageZH) || e.Message == "" {
					t.Errorf("row %d: messages %q / %q", e.Row, e.MessageZH, e.Message)
				}
			}
			if rep.Applied || len(rep.NewRegions) != 0 {
				t.Errorf("applied %v with new regions %+v", rep.Applied, rep.NewRegions)
			}
			if !maps.Equal(before, e.rowCounts(t)) || e.regionCount(t) != regionsBefore {
				t.Error("a region sheet with errors wrote something")
			}
		}},

		{"a household sheet names a village that does not exist: refused with a hint, created with create_regions and shown in the dry run", func(t *testing.T, e *env) {
			header := append(slices.Clone(perHouseholdHeader), "村代码")
			rows := perHouseholdRows()
			for i := range rows {
				rows[i] = append(rows[i], "")
			}
			rows[2][2], rows[2][len(header)-1] = "新华村", "410122100203"
			b := writeCSV(t, header, rows)

			refused := e.run(t, b)
			if got := errKeys(refused.Errors); len(got) != 1 || got[0] != (errKey{4, "所在村", "unknown_region"}) {
				t.Errorf("without create_regions: %+v", got)
			}

			create := func(o *importer.Options) { o.CreateRegions = true }
			dry := e.run(t, b, create, func(o *importer.Options) { o.DryRun = true })
			noErrors(t, dry)
			want := []importer.NewRegionNote{{Row: 4, Level: domain.LevelVillage, Code: "410122100203", Name: "新华村", Parent: "城关镇"}}
			if !slices.Equal(dry.NewRegions, want) || dry.Regions.Created != 1 || dry.Applied {
				t.Errorf("dry run: %+v %+v applied=%v", dry.NewRegions, dry.Regions, dry.Applied)
			}
			if _, ok := e.region(t, "410122100203"); ok {
				t.Fatal("the dry run created the village")
			}

			rep := e.run(t, b, create)
			noErrors(t, rep)
			v, ok := e.region(t, "410122100203")
			if !ok || v.ParentID == nil || *v.ParentID != e.regions["410122100000"].ID {
				t.Fatalf("新华村 not created under 城关镇: %+v", v)
			}
			if h := e.households(t)["江河"]; h.VillageID != v.ID || h.RegionID != v.ID {
				t.Errorf("江河 filed under %v, want the new village %v", h.VillageID, v.ID)
			}
			again := e.run(t, b, create)
			noErrors(t, again)
			if len(again.NewRegions) != 0 || again.Households.Unchanged != 3 {
				t.Errorf("again: %+v %+v", again.NewRegions, again.Households)
			}
		}},
	})
}

// TestARegionRowsCannotHaveIsRefusedOnce: a region every row needs and
// none can have — the city of a county-level database's export, which the
// province lacks and the file names by 市代码 alone; a province outside the
// importer's county — is one problem of the file, reported once on the
// first row with how many rows need it, not once a row; nothing of those
// rows is written, dry run or not.
func TestARegionRowsCannotHaveIsRefusedOnce(t *testing.T) {
	const rows = 40
	// households are rows households in 兰考县 (410225) of 开封市, which
	// newEnv's province lacks, named by 市代码 alone, as a county-level
	// database exports them.
	households := func(t *testing.T) []byte {
		header := append(slices.Clone(sampleHeader), "市", "市代码", "村代码")
		var out [][]string
		for i := range rows {
			r := oneHousehold(fmt.Sprintf("K%03d", i+1), fmt.Sprintf("户主%d", i+1), idNum("19800101", fmt.Sprintf("%03d", i+1)))
			r[cCounty], r[cVillage] = "兰考县", "胡寨村"
			out = append(out, append(r, "", "410200000000", "410225100201"))
		}
		return writeCSV(t, header, out)
	}
	villages := func(t *testing.T) []byte {
		var out [][]string
		for i := range rows {
			out = append(out, []string{"", "410200000000", "兰考县", "城关镇", fmt.Sprintf("村%d", i+1), fmt.Sprintf("410225100%03d", 201+i)})
		}
		return writeCSV(t, []string{"市", "市代码", "县/区", "乡镇", "村", "村代码"}, out)
	}
	province := func(e *env) domain.Principal {
		p := e.regions["410000000000"]
		admin := e.admin
		admin.RegionID, admin.RegionPath = p.ID, p.Path
		return admin
	}
	cases := []struct {
		name    string
		file    func(t *testing.T) []byte
		byCity  bool // the province admin imports, else the county's
		want    errKey
		mention []string // in the Chinese message
	}{
		{"a household sheet of a city the province lacks", households, true, errKey{2, "市", "required"},
			[]string{"410200000000", "「市」列", fmt.Sprintf("第2行起共%d行", rows)}},
		{"a region sheet of a city the province lacks", villages, true, errKey{2, "市", "required"},
			[]string{"410200000000", "「市」列", fmt.Sprintf("第2行起共%d行", rows)}},
		{"a household sheet of another city, by a county's admin", households, false, errKey{2, "村代码", "outside_scope"},
			[]string{"河南省", fmt.Sprintf("第2行起共%d行", rows)}},
	}
	var ic []importCase
	for _, c := range cases {
		ic = append(ic, importCase{c.name, func(t *testing.T, e *env) {
			before, regionsBefore := e.rowCounts(t), e.regionCount(t)
			for _, dryRun := range []bool{true, false} {
				rep := e.run(t, c.file(t), func(o *importer.Options) {
					o.CreateRegions, o.DryRun = true, dryRun
					if c.byCity {
						o.Actor = province(e)
					}
				})
				if got := errKeys(rep.Errors); !slices.Equal(got, []errKey{c.want}) {
					t.Fatalf("dry run %v: errors %+v, want %+v once", dryRun, rep.Errors, c.want)
				}
				for _, s := range c.mention {
					if !strings.Contains(rep.Errors[0].MessageZH, s) {
						t.Errorf("dry run %v: %q does not say %q", dryRun, rep.Errors[0].MessageZH, s)
					}
				}
				if rep.Applied || rep.ErrorsOmitted != 0 || len(rep.NewRegions) != 0 {
					t.Errorf("dry run %v: applied %v, %d errors omitted, new regions %+v", dryRun, rep.Applied, rep.ErrorsOmitted, rep.NewRegions)
				}
			}
			if !maps.Equal(before, e.rowCounts(t)) || e.regionCount(t) != regionsBefore {
				t.Error("a refused file wrote something")
			}
		}})
	}
	runCases(t, ic)
}
