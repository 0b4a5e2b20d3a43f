package importer_test

import (
	"context"
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
