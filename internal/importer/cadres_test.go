package importer_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
)

// cadreCell is what one household's row says of its 帮扶责任人.
type cadreCell struct{ name, phone, account string }

// accountAndNameCase is a file naming 张伟 by account on some rows and by
// name only on others, over the users seed adds to the county.
type accountAndNameCase struct {
	name  string
	seed  func(t *testing.T, e *env)
	cells []cadreCell // one household each, rows 2, 3, …
	// errs, when set, are the file's errors (nothing is written);
	// otherwise pairedWith is the username each household (by row) ends
	// up paired with, and cadres what the report counts of them.
	errs       []errKey
	zhMentions []string // in the first error's Chinese message
	pairedWith []string
	cadres     importer.Counts
	warnings   []errKey
}

// TestACadreNamedByAccountAndByNameIsOneCadre: a 帮扶责任人 named by
// 帮扶责任人账号 on one row and by name only (with the same phone, or none)
// on another is one cadre, whether the account exists (even with another
// cadre of that name in the county, or under another display name) or
// the import creates it; a row without an account that could be either of
// two people the file names is refused at 帮扶责任人, not guessed. The dry
// run reports what the import then does.
func TestACadreNamedByAccountAndByNameIsOneCadre(t *testing.T) {
	county := func(e *env) domain.Region { return e.regions["410122000000"] }
	cases := []accountAndNameCase{
		{
			name:       "a new account, the name without a phone",
			cells:      []cadreCell{{"张伟", "13900000001", "zhangwei"}, {"张伟", "", ""}},
			pairedWith: []string{"zhangwei", "zhangwei"}, cadres: importer.Counts{Created: 1},
		},
		{
			name:       "a new account, the name with its phone",
			cells:      []cadreCell{{"张伟", "", ""}, {"张伟", "139-0000-0001", ""}, {"张伟", "13900000001", "zhangwei"}},
			pairedWith: []string{"zhangwei", "zhangwei", "zhangwei"}, cadres: importer.Counts{Created: 1},
		},
		{
			name: "an existing account, with another cadre of the name in the county",
			seed: func(t *testing.T, e *env) {
				e.seedUser(t, "zhangwei", "张伟", domain.RoleCadre, county(e))
				e.seedUser(t, "zhangwei2", "张伟", domain.RoleCadre, county(e))
			},
			cells:      []cadreCell{{"张伟", "", "zhangwei"}, {"张伟", "", ""}},
			pairedWith: []string{"zhangwei", "zhangwei"}, cadres: importer.Counts{Unchanged: 1},
		},
		{
			name: "an existing account the system names otherwise",
			seed: func(t *testing.T, e *env) {
				e.seedUser(t, "zhangwei", "张伟（城关镇）", domain.RoleCadre, county(e))
			},
			cells:      []cadreCell{{"张伟", "13900000001", "zhangwei"}, {"张伟", "13900000001", ""}},
			pairedWith: []string{"zhangwei", "zhangwei"}, cadres: importer.Counts{Unchanged: 1},
			warnings: []errKey{{2, "帮扶责任人", "cadre_name_mismatch"}},
		},
		{
			name:       "two accounts of the name, a row with one's phone",
			cells:      []cadreCell{{"张伟", "13900000001", "zhangwei1"}, {"张伟", "13900000002", "zhangwei2"}, {"张伟", "13900000002", ""}},
			pairedWith: []string{"zhangwei1", "zhangwei2", "zhangwei2"}, cadres: importer.Counts{Created: 2},
		},
		{
			name:       "an account and a row with another phone are two people",
			cells:      []cadreCell{{"张伟", "13900000001", "zhangwei"}, {"张伟", "13900000005", ""}},
			pairedWith: []string{"zhangwei", "13900000005"}, cadres: importer.Counts{Created: 2},
		},
		{
			name:  "two accounts of the name, a row without a phone",
			cells: []cadreCell{{"张伟", "13900000001", "zhangwei1"}, {"张伟", "13900000002", "zhangwei2"}, {"张伟", "", ""}},
			errs:  []errKey{{4, "帮扶责任人", "ambiguous_cadre"}}, zhMentions: []string{"zhangwei1", "zhangwei2", "请填写本行的帮扶责任人账号"},
		},
		{
			name: "two existing accounts of the name, a row without a phone",
			seed: func(t *testing.T, e *env) {
				e.seedUser(t, "zhangwei1", "张伟", domain.RoleCadre, county(e))
				e.seedUser(t, "zhangwei2", "张伟", domain.RoleCadre, county(e))
			},
			cells: []cadreCell{{"张伟", "", ""}, {"张伟", "", "zhangwei1"}, {"张伟", "", "zhangwei2"}},
			errs:  []errKey{{2, "帮扶责任人", "ambiguous_cadre"}}, zhMentions: []string{"zhangwei1", "zhangwei2"},
		},
		{
			name:  "an account and another phone of the name, a row without a phone",
			cells: []cadreCell{{"张伟", "13900000001", "zhangwei"}, {"张伟", "13900000005", ""}, {"张伟", "", ""}},
			errs:  []errKey{{4, "帮扶责任人", "ambiguous_cadre"}}, zhMentions: []string{"zhangwei", "13900000005"},
		},
	}
	for _, dialect := range storetest.Dialects {
		for _, c := range cases {
			t.Run(dialect+"/"+c.name, func(t *testing.T) { c.run(t, newEnv(t, dialect)) })
		}
	}
}

func (c accountAndNameCase) run(t *testing.T, e *env) {
	if c.seed != nil {
		c.seed(t, e)
	}
	header := append(slices.Clone(sampleHeader), "帮扶责任人账号")
	var rows [][]string
	for i, cell := range c.cells {
		r := oneHousehold(fmt.Sprintf("Z%03d", i+1), fmt.Sprintf("户主%d", i+1), idNum("19800101", fmt.Sprintf("%02d1", i+1)))
		r[cCadre], r[cCadrePhone] = cell.name, cell.phone
		rows = append(rows, append(r, cell.account))
	}
	file := writeCSV(t, header, rows)
	before := e.rowCounts(t)
	preview := e.run(t, file, func(o *importer.Options) { o.DryRun = true })
	if c.errs != nil {
		for _, rep := range []importer.Report{preview, e.run(t, file)} {
			if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint(c.errs) {
				t.Fatalf("errors (dry run %v): %+v", rep.DryRun, rep.Errors)
			}
			for _, s := range c.zhMentions {
				if !strings.Contains(rep.Errors[0].MessageZH, s) {
					t.Errorf("message %q does not say %q", rep.Errors[0].MessageZH, s)
				}
			}
		}
		if after := e.rowCounts(t); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("a refused file wrote: %v, before %v", after, before)
		}
		return
	}
	rep := e.run(t, file)
	for _, r := range []importer.Report{preview, rep} {
		noErrors(t, r)
		wantCounts(t, fmt.Sprintf("cadres (dry run %v)", r.DryRun), r.Cadres, c.cadres)
		wantCounts(t, fmt.Sprintf("pairings (dry run %v)", r.DryRun), r.Pairings, importer.Counts{Created: len(c.cells)})
		if got := errKeys(r.Warnings); fmt.Sprint(got) != fmt.Sprint(errKeys(toErrs(c.warnings))) {
			t.Errorf("warnings (dry run %v): %+v", r.DryRun, r.Warnings)
		}
	}
	ps, _, err := e.store.Pairings(context.Background(), domain.PairingFilter{WithinPath: e.admin.RegionPath, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	hs := e.households(t)
	for i, username := range c.pairedWith {
		want, _ := e.cadre(t, username)
		h := hs[fmt.Sprintf("户主%d", i+1)]
		var got []string
		for _, p := range ps {
			if p.HouseholdID == h.ID {
				got = append(got, p.CadreID.String())
			}
		}
		if len(got) != 1 || got[0] != want.ID.String() {
			t.Errorf("row %d is paired with %v, want %s (%s)", i+2, got, username, want.ID)
		}
	}
}
