package importer_test

import (
	"slices"
	"testing"

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
