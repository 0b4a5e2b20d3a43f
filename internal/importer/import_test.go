package importer_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
	"github.com/fieldvisit/fieldvisit/internal/testkit/storetest"
	"github.com/fieldvisit/fieldvisit/storage"
)

var today = domain.Date{Year: 2024, Month: 6, Day: 15}

// env is a migrated database with the region tree of the sample files:
//
//	河南省 › 郑州市 › 示范县 › 城关镇 › 东风村 (› 第一组), 红旗村
//	                        › 李庄乡 › 东风村 (same name, other town)
//	             › 邻县 › 新城镇 › 向阳村 (outside the importer's county)
//
// an admin of 示范县 who imports, and the cadre 李明 (liming).
type env struct {
	db      *storage.DB
	store   *storage.Store
	admin   domain.Principal
	regions map[string]domain.Region // by code
}

func newEnv(t *testing.T, dialect string) *env {
	t.Helper()
	ctx := context.Background()
	db := storetest.Open(t, dialect)
	e := &env{db: db, store: storage.NewStore(db, nil), regions: map[string]domain.Region{}}
	add := func(parentCode, level, code, name string) {
		r := domain.Region{ID: uuid.New(), Level: level, Code: code, Name: name}
		r.Path = "/" + r.ID.String() + "/"
		if parentCode != "" {
			p := e.regions[parentCode]
			r.ParentID = &p.ID
			r.Path = p.Path + r.ID.String() + "/"
			r.CountyID = p.CountyID
		}
		if level == domain.LevelCounty {
			r.CountyID = &r.ID
		}
		if err := e.store.CreateRegion(ctx, r, domain.AuditEntry{}); err != nil {
			t.Fatalf("seed region %s: %v", name, err)
		}
		e.regions[code] = r
	}
	add("", domain.LevelProvince, "410000000000", "河南省")
	add("410000000000", domain.LevelCity, "410100000000", "郑州市")
	add("410100000000", domain.LevelCounty, "410122000000", "示范县")
	add("410122000000", domain.LevelTown, "410122100000", "城关镇")
	add("410122100000", domain.LevelVillage, "410122100201", "东风村")
	add("410122100000", domain.LevelVillage, "410122100202", "红旗村")
	add("410122100201", domain.LevelGroup, "410122100201001", "第一组")
	add("410122000000", domain.LevelTown, "410122200000", "李庄乡")
	add("410122200000", domain.LevelVillage, "410122200201", "东风村")
	add("410100000000", domain.LevelCounty, "410123000000", "邻县")
	add("410123000000", domain.LevelTown, "410123100000", "新城镇")
	add("410123100000", domain.LevelVillage, "410123100201", "向阳村")

	county := e.regions["410122000000"]
	adminUser := e.seedUser(t, "countyadmin", "县管理员", domain.RoleAdmin, county)
	e.admin = domain.Principal{UserID: adminUser.ID, Username: adminUser.Username, Role: domain.RoleAdmin, RegionID: county.ID, RegionPath: county.Path}
	e.seedUser(t, "liming", "李明", domain.RoleCadre, county)
	return e
}

func (e *env) seedUser(t *testing.T, username, name, role string, region domain.Region) domain.User {
	t.Helper()
	now := domain.Date{Year: 2024, Month: 1, Day: 1}.Start()
	u := domain.User{ID: uuid.New(), Username: username, DisplayName: name, Role: role, RegionID: region.ID, RegionPath: region.Path,
		Active: true, CreatedAt: now, UpdatedAt: now}
	if err := e.store.CreateUser(context.Background(), u, "x", domain.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	return u
}

// run imports b as the county admin on the fixed import date.
func (e *env) run(t *testing.T, b []byte, opts ...func(*importer.Options)) importer.Report {
	t.Helper()
	opt := importer.Options{Actor: e.admin, Today: today, Source: "test"}
	for _, o := range opts {
		o(&opt)
	}
	rep, err := importer.Import(context.Background(), e.store, bytes.NewReader(b), opt)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}

var tables = []string{"households", "members", "household_status_changes", "household_poverty_type_changes", "pairings", "users", "units", "audit_log"}

// rowCounts counts the rows of every table an import writes.
func (e *env) rowCounts(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tb := range tables {
		var n int64
		if err := e.db.Gorm.Table(tb).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		out[tb] = n
	}
	return out
}

func (e *env) households(t *testing.T) map[string]domain.Household {
	t.Helper()
	hs, _, err := e.store.Households(context.Background(), domain.HouseholdFilter{Scope: e.admin.HouseholdScope(), Today: today, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]domain.Household{}
	for _, h := range hs {
		out[h.HeadName] = h
	}
	return out
}

func (e *env) members(t *testing.T, h domain.Household) []domain.Member {
	t.Helper()
	ms, err := e.store.Members(context.Background(), h.CountyID, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func (e *env) cadre(t *testing.T, username string) (domain.User, string) {
	t.Helper()
	u, hash, err := e.store.UserCredentials(context.Background(), username)
	if err != nil {
		t.Fatalf("user %s: %v", username, err)
	}
	return u, hash
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sampleCSV(t *testing.T) []byte { return readFile(t, "households_sample.csv") }

// edited returns the sample as CSV after edit changed its rows.
func edited(t *testing.T, edit func(rows [][]string) [][]string) []byte {
	return writeCSV(t, sampleHeader, edit(sampleRows()))
}

// oneHousehold is a minimal valid household row in 东风村 of 城关镇.
func oneHousehold(number, head, id string) []string {
	r := make([]string, len(sampleHeader))
	r[cTown], r[cVillage], r[cNumber], r[cHead], r[cRelation], r[cName], r[cID] = "城关镇", "东风村", number, head, "户主", head, id
	r[cType], r[cCauses] = "一般贫困户", "因病"
	return r
}

type errKey struct {
	Row    int
	Column string
	Reason string
}

func errKeys(es []importer.RowError) []errKey {
	out := make([]errKey, len(es))
	for i, e := range es {
		out[i] = errKey{e.Row, e.Column, e.Reason}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out
}

func wantCounts(t *testing.T, what string, got, want importer.Counts) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

func noErrors(t *testing.T, rep importer.Report) {
	t.Helper()
	if !rep.OK() {
		t.Fatalf("unexpected errors: %+v", rep.Errors)
	}
}

var firstImport = struct{ households, members, cadres, units, pairings importer.Counts }{
	households: importer.Counts{Created: 10},
	members:    importer.Counts{Created: 30},
	cadres:     importer.Counts{Created: 2, Unchanged: 1},
	units:      importer.Counts{Created: 2},
	pairings:   importer.Counts{Created: 9},
}

func wantFirstImport(t *testing.T, rep importer.Report) {
	t.Helper()
	noErrors(t, rep)
	if !rep.Applied || rep.Rows != 30 {
		t.Errorf("applied=%v rows=%d, want applied and 30 rows", rep.Applied, rep.Rows)
	}
	wantCounts(t, "households", rep.Households, firstImport.households)
	wantCounts(t, "members", rep.Members, firstImport.members)
	wantCounts(t, "cadres", rep.Cadres, firstImport.cadres)
	wantCounts(t, "units", rep.Units, firstImport.units)
	wantCounts(t, "pairings", rep.Pairings, firstImport.pairings)
}

// importCase is one specification: it runs on a fresh database of each
// dialect (runCases).
type importCase struct {
	name string
	run  func(t *testing.T, e *env)
}

func runCases(t *testing.T, cases []importCase) {
	for _, dialect := range storetest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) { c.run(t, newEnv(t, dialect)) })
			}
		})
	}
}

// The specification of the member layout.
var cases = []importCase{
	{"the sample CSV creates 10 households, 30 members, 2 new cadres with their units and 9 pairings", func(t *testing.T, e *env) {
		rep := e.run(t, sampleCSV(t))
		wantFirstImport(t, rep)
		if rep.Format != importer.FormatCSV || rep.Encoding != importer.EncodingUTF8 {
			t.Errorf("format %s/%s, want csv/utf-8", rep.Format, rep.Encoding)
		}
		if len(rep.Warnings) != 0 {
			t.Errorf("unexpected warnings: %+v", rep.Warnings)
		}
		counts := e.rowCounts(t)
		for tb, want := range map[string]int64{"households": 10, "members": 30, "household_status_changes": 10,
			"household_poverty_type_changes": 8, "pairings": 9, "users": 4, "units": 2, "audit_log": 1} {
			if counts[tb] != want {
				t.Errorf("%s has %d rows, want %d", tb, counts[tb], want)
			}
		}

		hs := e.households(t)
		wang := hs["王建国"]
		group := e.regions["410122100201001"]
		if wang.Number != "4101221002010001" || wang.Status != domain.StatusExited || wang.ExitYear == nil || *wang.ExitYear != 2019 ||
			wang.PovertyType != domain.PovertyOrdinary || !slices.Equal(wang.Causes, []string{"illness", "lack_skills"}) ||
			wang.Phone != "13800000001" || wang.Address != "东风村一组12号" || wang.Version != 1 ||
			wang.RegionID != group.ID || wang.VillageID != e.regions["410122100201"].ID || wang.CountyID != e.regions["410122000000"].ID {
			t.Errorf("王建国's household: %+v", wang)
		}
		if h := hs["黄大山"]; h.Status != domain.StatusEdge || h.PovertyType != "" || h.VillageID != e.regions["410122100202"].ID {
			t.Errorf("黄大山 (edge, village by code): %+v", h)
		}
		if h := hs["张桂英"]; h.Status != domain.StatusRegistered || h.PovertyType != domain.PovertyDibao || h.ExitYear != nil {
			t.Errorf("张桂英 (registered dibao): %+v", h)
		}
		if h := hs["郑和平"]; h.Status != domain.StatusGeneral {
			t.Errorf("郑和平 (general): %+v", h)
		}
		if h := hs["罗军"]; !slices.Equal(h.Causes, []string{"illness", "lack_labor"}) || h.Phone != "13800000009" {
			t.Errorf("罗军: %+v", h)
		}
		ms := e.members(t, wang)
		if len(ms) != 4 || ms[0].Name != "王建国" || ms[0].Relation != "head" || ms[0].Gender != "male" ||
			ms[0].BirthDate == nil || ms[0].BirthDate.String() != "1965-03-12" || ms[0].Phone != "13800000001" {
			t.Errorf("王建国's members: %+v", ms)
		}
		for _, m := range ms {
			if m.Name == "李秀兰" && (m.Gender != "female" || m.Relation != "spouse" || m.Health != "chronic" || m.Education != "primary") {
				t.Errorf("李秀兰: %+v", m)
			}
		}
		if ms := e.members(t, hs["杨秀英"]); len(ms) != 4 {
			t.Errorf("杨秀英's household (continuation rows) has %d members, want 4", len(ms))
		}
		if ms := e.members(t, hs["罗军"]); len(ms) != 3 {
			t.Errorf("罗军's household (head's row not first) has %d members, want 3", len(ms))
		}
		sc, pc, err := e.store.StatusHistory(context.Background(), wang.CountyID, wang.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(sc) != 1 || sc[0].From != "" || sc[0].To != domain.StatusExited || sc[0].EffectiveOn != today || sc[0].Reason != "导入" ||
			sc[0].ChangedBy != e.admin.UserID || len(pc) != 1 || pc[0].To != domain.PovertyOrdinary {
			t.Errorf("王建国's history: %+v %+v", sc, pc)
		}

		wf, hash := e.cadre(t, "13900000002")
		if wf.DisplayName != "王芳" || wf.Role != domain.RoleCadre || wf.Rank != domain.RankSectionLevel || wf.UnitID == nil ||
			wf.Phone != "13900000002" || wf.RegionPath != e.admin.RegionPath || !wf.Active || strings.HasPrefix(hash, "$argon2") || hash == "" {
			t.Errorf("new cadre 王芳: %+v (hash %q)", wf, hash)
		}
		unit, err := e.store.Unit(context.Background(), *wf.UnitID)
		if err != nil || unit.Name != "县农业农村局" || unit.RegionID != e.regions["410122000000"].ID {
			t.Errorf("王芳's unit: %+v, %v", unit, err)
		}
		zq, _ := e.cadre(t, "13700000003")
		if zq.DisplayName != "赵强" || zq.Rank != domain.RankStaff {
			t.Errorf("new cadre 赵强: %+v", zq)
		}
		ps, _, err := e.store.Pairings(context.Background(), domain.PairingFilter{WithinPath: e.admin.RegionPath, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		starts := map[uuid.UUID]string{}
		for _, p := range ps {
			starts[p.HouseholdID] = p.StartOn.String() + " " + p.CadreID.String()
		}
		liming, _ := e.cadre(t, "liming")
		for head, want := range map[string]string{"王建国": "2016-03-01 " + liming.ID.String(), "张桂英": "2020-01-15 " + wf.ID.String(),
			"陈志强": today.String() + " " + zq.ID.String()} {
			if got := starts[hs[head].ID]; got != want {
				t.Errorf("%s's pairing: %q, want %q", head, got, want)
			}
		}
		if _, ok := starts[hs["郑和平"].ID]; ok {
			t.Error("郑和平 has no cadre in the file but was paired")
		}
		log, _, err := e.store.AuditLog(context.Background(), domain.AuditFilter{WithinPath: e.admin.RegionPath, ObjectType: "households", ObjectID: rep.ImportID.String(), Limit: 10})
		if err != nil || len(log) != 1 || log[0].Action != "import" {
			t.Fatalf("audit entry: %+v, %v", log, err)
		}
		for _, m := range ms {
			if strings.Contains(fmt.Sprint(log[0].Detail), m.IDNumber) {
				t.Error("the audit entry holds an ID number")
			}
		}
	}},

	{"the sample XLSX (title row, second sheet, Excel numbers and dates) imports like the CSV", func(t *testing.T, e *env) {
		rep := e.run(t, readFile(t, "households_sample.xlsx"))
		wantFirstImport(t, rep)
		if rep.Format != importer.FormatXLSX || rep.Sheet != "户信息" {
			t.Errorf("format %s sheet %q, want xlsx 户信息", rep.Format, rep.Sheet)
		}
		hs := e.households(t)
		ps, _, _ := e.store.Pairings(context.Background(), domain.PairingFilter{WithinPath: e.admin.RegionPath, HouseholdID: ptr(hs["王建国"].ID), Limit: 10})
		if len(ps) != 1 || ps[0].StartOn.String() != "2016-03-01" {
			t.Errorf("pairing start from an Excel date: %+v", ps)
		}
		if h := hs["刘德华"]; h.ExitYear == nil || *h.ExitYear != 2020 {
			t.Errorf("exit year from an Excel number: %+v", h)
		}
		// The same households as from the CSV: importing the CSV now changes nothing.
		again := e.run(t, sampleCSV(t))
		noErrors(t, again)
		wantCounts(t, "households after CSV", again.Households, importer.Counts{Unchanged: 10})
		wantCounts(t, "members after CSV", again.Members, importer.Counts{Unchanged: 30})
	}},

	{"re-importing the same file changes nothing", func(t *testing.T, e *env) {
		wantFirstImport(t, e.run(t, sampleCSV(t)))
		before := e.rowCounts(t)
		hsBefore := e.households(t)
		rep := e.run(t, sampleCSV(t))
		noErrors(t, rep)
		wantCounts(t, "households", rep.Households, importer.Counts{Unchanged: 10})
		wantCounts(t, "members", rep.Members, importer.Counts{Unchanged: 30})
		wantCounts(t, "cadres", rep.Cadres, importer.Counts{Unchanged: 3})
		wantCounts(t, "pairings", rep.Pairings, importer.Counts{Unchanged: 9})
		wantCounts(t, "units", rep.Units, importer.Counts{})
		if len(rep.Warnings) != 0 {
			t.Errorf("warnings on re-import: %+v", rep.Warnings)
		}
		if after := e.rowCounts(t); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("row counts changed: %v → %v", before, after)
		}
		for name, h := range e.households(t) {
			if h.Version != hsBefore[name].Version || !h.UpdatedAt.Equal(hsBefore[name].UpdatedAt) {
				t.Errorf("%s's household was touched: %+v", name, h)
			}
		}
	}},

	{"a changed phone number on re-import updates that household and its head", func(t *testing.T, e *env) {
		wantFirstImport(t, e.run(t, sampleCSV(t)))
		rep := e.run(t, edited(t, func(rows [][]string) [][]string {
			rows[0][cPhone] = "13811112222"
			return rows
		}))
		noErrors(t, rep)
		wantCounts(t, "households", rep.Households, importer.Counts{Updated: 1, Unchanged: 9})
		wantCounts(t, "members", rep.Members, importer.Counts{Updated: 1, Unchanged: 29})
		h := e.households(t)["王建国"]
		if h.Phone != "13811112222" || h.Version != 2 {
			t.Errorf("household after update: phone %q version %d, want 13811112222 and 2", h.Phone, h.Version)
		}
		if ms := e.members(t, h); ms[0].Phone != "13811112222" || ms[0].Version != 2 {
			t.Errorf("head after update: %+v", ms[0])
		}
	}},

	{"the error file reports every error with row, column and both languages, and writes nothing", func(t *testing.T, e *env) {
		before := e.rowCounts(t)
		rep := e.run(t, readFile(t, "households_errors.csv"))
		want := []errKey{
			{4, "身份证号", "invalid_check_digit"},
			{5, "所属村", "unknown_region"},
			{6, "户主姓名", "required"},
			{7, "贫困户属性", "invalid_enum"},
			{8, "家庭人口", "size_mismatch"},
			{10, "姓名", "control_character"},
			{11, "身份证号", "duplicate"},
		}
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint(errKeys(toErrs(want))) {
			t.Errorf("errors:\n got  %v\n want %v\nfull: %+v", got, errKeys(toErrs(want)), rep.Errors)
		}
		for _, er := range rep.Errors {
			if er.Message == "" || er.MessageZH == "" || !hasHan(er.MessageZH) {
				t.Errorf("error without messages in both languages: %+v", er)
			}
		}
		if rep.Applied {
			t.Error("a file with errors was applied")
		}
		wantCounts(t, "households", rep.Households, importer.Counts{Skipped: 9})
		wantCounts(t, "members", rep.Members, importer.Counts{Skipped: 11})
		if after := e.rowCounts(t); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("rows were written: %v → %v", before, after)
		}
		fe := rep.FieldErrors()
		if len(fe) != len(rep.Errors) || fe[0].Field == "" || !strings.HasPrefix(fe[0].Field, "row ") {
			t.Errorf("field errors: %+v", fe)
		}
	}},

	{"AllowPartial imports only the households whose rows are all valid", func(t *testing.T, e *env) {
		rep := e.run(t, readFile(t, "households_errors.csv"), func(o *importer.Options) { o.AllowPartial = true })
		if len(rep.Errors) != 7 || !rep.Applied {
			t.Errorf("want the 7 errors reported and the rest applied; got applied=%v errors %+v", rep.Applied, rep.Errors)
		}
		wantCounts(t, "households", rep.Households, importer.Counts{Created: 2, Skipped: 7})
		wantCounts(t, "members", rep.Members, importer.Counts{Created: 3, Skipped: 8})
		wantCounts(t, "pairings", rep.Pairings, importer.Counts{Created: 2, Skipped: 7})
		var names []string
		for name := range e.households(t) {
			names = append(names, name)
		}
		sort.Strings(names)
		if !slices.Equal(names, []string{"赵六", "钱七"}) {
			t.Errorf("households written: %v, want 赵六 and 钱七", names)
		}
		if c := e.rowCounts(t); c["members"] != 3 || c["pairings"] != 2 {
			t.Errorf("rows: %v", c)
		}
	}},

	{"a GBK (GB18030) CSV from Excel on Chinese Windows round-trips the Chinese byte-exact", func(t *testing.T, e *env) {
		utf := writeCSV(t, sampleHeader, sampleRows())
		gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(utf)
		if err != nil {
			t.Fatal(err)
		}
		rep := e.run(t, gbk)
		wantFirstImport(t, rep)
		if rep.Encoding != importer.EncodingGB18030 {
			t.Errorf("encoding %q, want gb18030", rep.Encoding)
		}
		var got, want []string
		hs := e.households(t)
		for _, h := range hs {
			for _, m := range e.members(t, h) {
				got = append(got, m.Name)
			}
		}
		for _, r := range sampleRows() {
			want = append(want, r[cName])
			if r[cAddress] != "" && hs[r[cHead]].Address != r[cAddress] {
				t.Errorf("address of %s: %q, want %q", r[cHead], hs[r[cHead]].Address, r[cAddress])
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("names after GBK import:\n got  %q\n want %q", got, want)
		}
		if u, _ := e.cadre(t, "13900000002"); u.DisplayName != "王芳" {
			t.Errorf("cadre name after GBK: %q", u.DisplayName)
		}
	}},

	{"a UTF-16 tab-separated export (Excel's \"Unicode text\") with a footer row imports too", func(t *testing.T, e *env) {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Comma = '\t'
		w.UseCRLF = true
		footer := make([]string, len(sampleHeader))
		footer[cNo] = "填表人：张三    审核人：李四"
		if err := w.WriteAll(append([][]string{sampleHeader}, append(sampleRows(), footer)...)); err != nil {
			t.Fatal(err)
		}
		utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(b.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		rep := e.run(t, utf16)
		wantFirstImport(t, rep)
		if rep.Encoding != importer.EncodingUTF16 {
			t.Errorf("encoding %q", rep.Encoding)
		}
	}},

	{"SQL-looking names are stored verbatim", func(t *testing.T, e *env) {
		evil := "Robert'); DROP TABLE households;--"
		r := oneHousehold("X001", evil, idNum("19800101", "001"))
		r[cAddress] = `1' OR '1'='1`
		r[cCadre] = `李明"; DELETE FROM users; --`
		rep := e.run(t, writeCSV(t, sampleHeader, [][]string{r}))
		noErrors(t, rep)
		h, ok := e.households(t)[evil]
		if !ok || h.Address != `1' OR '1'='1` {
			t.Fatalf("household not stored verbatim: %+v", e.households(t))
		}
		if ms := e.members(t, h); len(ms) != 1 || ms[0].Name != evil {
			t.Errorf("member: %+v", ms)
		}
		users, _, err := e.store.Users(context.Background(), domain.UserFilter{Query: "DELETE", Limit: 10})
		if err != nil || len(users) != 1 || users[0].DisplayName != `李明"; DELETE FROM users; --` {
			t.Errorf("cadre stored verbatim: %+v %v", users, err)
		}
		if c := e.rowCounts(t); c["users"] != 3 {
			t.Errorf("users: %d", c["users"])
		}
	}},

	{"a village outside the importer's region subtree is unknown, and nothing is written", func(t *testing.T, e *env) {
		r := oneHousehold("Y001", "孙悟空", idNum("19800101", "011"))
		r[cCounty], r[cTown], r[cVillage] = "", "新城镇", "向阳村"
		ok := oneHousehold("Y002", "猪八戒", idNum("19800101", "021"))
		rep := e.run(t, writeCSV(t, sampleHeader, [][]string{ok, r}))
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{3, "所属村", "unknown_region"}}) {
			t.Errorf("errors: %+v", rep.Errors)
		}
		if c := e.rowCounts(t); c["households"] != 0 {
			t.Errorf("households written: %d", c["households"])
		}
		// The same village by its code is just as unknown.
		r[cVillage] = "410123100201"
		r[cTown] = ""
		rep = e.run(t, writeCSV(t, sampleHeader, [][]string{r}))
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{2, "所属村", "unknown_region"}}) {
			t.Errorf("errors by code: %+v", rep.Errors)
		}
	}},

	{"a village name used in two towns needs the town", func(t *testing.T, e *env) {
		r := oneHousehold("Z001", "唐僧", idNum("19800101", "031"))
		r[cTown] = ""
		rep := e.run(t, writeCSV(t, sampleHeader, [][]string{r}))
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{2, "所属村", "ambiguous_region"}}) {
			t.Errorf("errors: %+v", rep.Errors)
		}
		r[cTown] = "李庄" // without 乡, as offices write it
		rep = e.run(t, writeCSV(t, sampleHeader, [][]string{r}))
		noErrors(t, rep)
		if h := e.households(t)["唐僧"]; h.VillageID != e.regions["410122200201"].ID {
			t.Errorf("filed under %v, want 李庄乡's 东风村", h.VillageID)
		}
	}},

	{"missing required columns are file-level errors naming them", func(t *testing.T, e *env) {
		var header []string
		var rows [][]string
		drop := map[int]bool{cID: true, cHead: true}
		for i, h := range sampleHeader {
			if !drop[i] {
				header = append(header, h)
			}
		}
		for _, r := range sampleRows() {
			var out []string
			for i, c := range r {
				if !drop[i] {
					out = append(out, c)
				}
			}
			rows = append(rows, out)
		}
		rep := e.run(t, writeCSV(t, header, rows))
		want := []errKey{{0, "户主姓名", "missing_column"}, {0, "身份证号", "missing_column"}}
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint(errKeys(toErrs(want))) {
			t.Errorf("errors: %+v", rep.Errors)
		}
		if rep.Applied || e.rowCounts(t)["households"] != 0 {
			t.Error("written despite missing columns")
		}
	}},

	{"headings with spaces, stars, line breaks and common variants are recognised", func(t *testing.T, e *env) {
		header := slices.Clone(sampleHeader)
		header[cVillage] = " 行政村 "
		header[cHead] = "户主\n姓名*"
		header[cID] = "身份证号码（必填）"
		header[cSize] = "家庭人口数"
		header[cRelation] = "与户主的关系"
		rep := e.run(t, writeCSV(t, header, sampleRows()))
		wantFirstImport(t, rep)
	}},

	{"household rules: one head at most, exit year for exited, phone format, consistent household cells", func(t *testing.T, e *env) {
		noHead := oneHousehold("R001", "甲", idNum("19800101", "041"))
		noHead[cRelation] = "配偶" // a household without a head is imported (see below)
		twoHeads1 := oneHousehold("R002", "乙", idNum("19800101", "051"))
		twoHeads2 := oneHousehold("R002", "乙", idNum("19800101", "061"))
		twoHeads2[cName] = "乙二"
		exited := oneHousehold("R003", "丙", idNum("19800101", "071"))
		exited[cStatus] = "已脱贫"
		phone := oneHousehold("R004", "丁", idNum("19800101", "081"))
		phone[cPhone] = "call me"
		inconsistent1 := oneHousehold("R005", "戊", idNum("19800101", "091"))
		inconsistent2 := oneHousehold("R005", "戊", idNum("19800101", "101"))
		inconsistent2[cRelation], inconsistent2[cName], inconsistent2[cType] = "之子", "戊二", "五保"
		relapsed := oneHousehold("R006", "己", idNum("19800101", "111"))
		relapsed[cStatus] = "返贫"
		long := oneHousehold("R007", "庚", idNum("19800101", "151"))
		long[cAddress] = strings.Repeat("长", 201)
		rep := e.run(t, writeCSV(t, sampleHeader, [][]string{noHead, twoHeads1, twoHeads2, exited, phone, inconsistent1, inconsistent2, relapsed, long}))
		want := []errKey{
			{4, "与户主关系", "two_heads"},
			{5, "脱贫年度", "required"},
			{6, "联系电话", "invalid_format"},
			{8, "贫困户属性", "inconsistent"},
			{9, "返贫原因", "required"},
			{10, "住址", "too_long"},
		}
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint(errKeys(toErrs(want))) {
			t.Errorf("errors:\n got  %v\n want %v\nfull: %+v", got, errKeys(toErrs(want)), rep.Errors)
		}
	}},

	{"relapsed and removed households are created with their 返贫原因 and 清退原因; without them, or with them on another status, the row is refused at the column", func(t *testing.T, e *env) {
		header := append(slices.Clone(sampleHeader), "返贫原因", "清退原因")
		hh := func(number, head, id, status, cause, reason string) []string {
			r := append(oneHousehold(number, head, id), cause, reason)
			r[cStatus] = status
			return r
		}
		noType := hh("S007", "庚", idNum("19800101", "471"), "返贫户", "因灾", "")
		noType[cType] = ""
		rows := [][]string{
			hh("S001", "甲", idNum("19800101", "411"), "返贫", "因病", ""),                 // row 2
			hh("S002", "乙", idNum("19800101", "421"), "清退", "", "回头看核查：家庭收入超标，识别不精准"), // row 3
			hh("S003", "丙", idNum("19800101", "431"), "返贫", "", ""),                   // row 4: no cause
			hh("S004", "丁", idNum("19800101", "441"), "清退", "", ""),                   // row 5: no reason
			hh("S005", "戊", idNum("19800101", "451"), "在册未脱贫", "因病", ""),              // row 6: a cause, not relapsed
			hh("S006", "己", idNum("19800101", "461"), "边缘户", "", "收入超标"),              // row 7: a reason, not removed
			noType, // row 8
			hh("S008", "辛", idNum("19800101", "481"), "返贫", "中彩票", ""), // row 9
		}
		rep := e.run(t, writeCSV(t, header, rows), func(o *importer.Options) { o.AllowPartial = true })
		want := []errKey{
			{4, "返贫原因", "required"},
			{5, "清退原因", "required"},
			{6, "返贫原因", "not_allowed"},
			{7, "清退原因", "not_allowed"},
			{8, "贫困户属性", "required"},
			{9, "返贫原因", "invalid_enum"},
		}
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint(errKeys(toErrs(want))) {
			t.Errorf("errors:\n got  %v\n want %v\nfull: %+v", got, errKeys(toErrs(want)), rep.Errors)
		}
		wantCounts(t, "households", rep.Households, importer.Counts{Created: 2, Skipped: 6})
		hs := e.households(t)
		for head, want := range map[string]domain.StatusChange{
			"甲": {To: domain.StatusRelapsed, Cause: "serious_illness", Reason: "导入"},
			"乙": {To: domain.StatusRemoved, Reason: "回头看核查：家庭收入超标，识别不精准"},
		} {
			h := hs[head]
			sc, _, err := e.store.StatusHistory(context.Background(), h.CountyID, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			if h.Status != want.To || h.PovertyType != domain.PovertyOrdinary || len(sc) != 1 || sc[0].To != want.To || sc[0].Cause != want.Cause || sc[0].Reason != want.Reason {
				t.Errorf("household %s: %s (%s), history %+v; want %s with cause %q, reason %q", head, h.Status, h.PovertyType, sc, want.To, want.Cause, want.Reason)
			}
		}
	}},

	{"a head without 身份证号 and a household without a head import as the register API keeps them, and again as the same households", func(t *testing.T, e *env) {
		// The register API takes a head whose number is still being
		// collected, and removing a head leaves the household without one
		// until a new head is named; its export must import back, into a
		// fresh database and where it came from.
		member := func(number, head, rel, name, id string) []string {
			r := oneHousehold(number, head, id)
			r[cRelation], r[cName] = rel, name
			return r
		}
		rows := [][]string{
			oneHousehold("K001", "甲", ""),                             // row 2
			member("K001", "甲", "配偶", "甲妻", idNum("19800101", "311")), // row 3
			oneHousehold("", "乙", ""),                                 // row 4: no number either
			member("", "乙", "之子", "乙子", ""),                           // row 5
			member("K003", "丙", "配偶", "丙妻", idNum("19800101", "321")), // row 6: no head
			member("K003", "丙", "之子", "丙子", ""),                       // row 7
			member("", "丁", "之女", "丁女", idNum("19800101", "331")),     // row 8: no head, no number
		}
		file := writeCSV(t, sampleHeader, rows)
		rep := e.run(t, file)
		noErrors(t, rep)
		if got, want := errKeys(rep.Warnings), errKeys(toErrs([]errKey{{6, "与户主关系", "no_head"}, {8, "与户主关系", "no_head"}})); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("warnings: got %v, want %v (%+v)", got, want, rep.Warnings)
		}
		wantCounts(t, "households", rep.Households, importer.Counts{Created: 4})
		wantCounts(t, "members", rep.Members, importer.Counts{Created: 7})
		hs := e.households(t)
		for head, n := range map[string]int{"甲": 2, "乙": 2, "丙": 2, "丁": 1} {
			if got := len(e.members(t, hs[head])); got != n {
				t.Errorf("household %s has %d members, want %d", head, got, n)
			}
		}

		again := e.run(t, file)
		noErrors(t, again)
		if len(again.Warnings) != 0 {
			t.Errorf("warnings importing again: %+v", again.Warnings)
		}
		wantCounts(t, "households", again.Households, importer.Counts{Unchanged: 4})
		wantCounts(t, "members", again.Members, importer.Counts{Unchanged: 7})
		if c := e.rowCounts(t); c["households"] != 4 || c["members"] != 7 {
			t.Errorf("importing again wrote %d households, %d members; want 4, 7", c["households"], c["members"])
		}
	}},

	{"a row with every member cell empty is a household without members; a row with some member cells and not 姓名 and 与户主关系 is refused", func(t *testing.T, e *env) {
		// memberless is a household's row with its member cells empty (the
		// phone is the household's), as the export writes a household
		// registered without members.
		memberless := func(number, head string) []string {
			r := oneHousehold(number, head, "")
			r[cRelation], r[cName], r[cPhone] = "", "", "13700000001"
			return r
		}
		alone := memberless("M001", "甲")
		health := memberless("M002", "乙")
		health[cHealth] = "健康"
		id := memberless("M003", "丙")
		id[cID] = idNum("19800101", "171")
		head := oneHousehold("M004", "丁", idNum("19800101", "181"))
		besideHead := memberless("M004", "丁")
		sized := memberless("M005", "戊")
		sized[cSize] = "2"
		rep := e.run(t, writeCSV(t, sampleHeader, [][]string{alone, health, id, head, besideHead, sized}), func(o *importer.Options) { o.AllowPartial = true })
		want := []errKey{
			{3, "与户主关系", "required"}, {3, "姓名", "required"},
			{4, "与户主关系", "required"}, {4, "姓名", "required"},
			{6, "与户主关系", "required"}, {6, "姓名", "required"},
			{7, "家庭人口", "size_mismatch"},
		}
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint(errKeys(toErrs(want))) {
			t.Errorf("errors:\n got  %v\n want %v\nfull: %+v", got, errKeys(toErrs(want)), rep.Errors)
		}
		wantCounts(t, "households", rep.Households, importer.Counts{Created: 1, Skipped: 4})
		wantCounts(t, "members", rep.Members, importer.Counts{Skipped: 4})
		if h := e.households(t)["甲"]; h.Number != "M001" || h.Phone != "13700000001" || h.Status != domain.StatusRegistered || len(e.members(t, h)) != 0 {
			t.Errorf("the household without members: %+v with %d members", h, len(e.members(t, h)))
		}

		// Imported again, each is the household it created: 甲 by its
		// 户编号, 己 (no number) as the one of 东风村 headed by 己 without one.
		file := writeCSV(t, sampleHeader, [][]string{alone, memberless("", "己")})
		wantCounts(t, "households", e.run(t, file).Households, importer.Counts{Created: 1, Unchanged: 1})
		again := e.run(t, file)
		noErrors(t, again)
		wantCounts(t, "households", again.Households, importer.Counts{Unchanged: 2})
		wantCounts(t, "members", again.Members, importer.Counts{})

		// Two households of 东风村 headed by 庚, without numbers: a row of 庚
		// without members could be either, and is refused.
		noErrors(t, e.run(t, writeCSV(t, sampleHeader, [][]string{oneHousehold("", "庚", idNum("19800101", "191")), oneHousehold("", "庚", idNum("19800101", "201"))})))
		ambiguous := e.run(t, writeCSV(t, sampleHeader, [][]string{memberless("", "庚")}))
		if got := errKeys(ambiguous.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{2, "户主姓名", "ambiguous"}}) || ambiguous.Applied {
			t.Errorf("a row of one of two households headed by 庚: %+v", ambiguous)
		}

		// The household cells above the rows of its members, which continue
		// them (as merged cells do), are not a household of their own: the
		// row is a member row without 姓名 and 与户主关系, as before.
		headBelow := make([]string, len(sampleHeader))
		headBelow[cRelation], headBelow[cName], headBelow[cID] = "户主", "癸", idNum("19800101", "261")
		merged := e.run(t, writeCSV(t, sampleHeader, [][]string{memberless("", "癸"), headBelow}))
		if got := errKeys(merged.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{2, "与户主关系", "required"}, {2, "姓名", "required"}}) || merged.Applied {
			t.Errorf("household cells above the head's row: %+v", merged)
		}
	}},

	{"row numbers are the spreadsheet's: title rows, blank lines and multi-line cells count as Excel shows them", func(t *testing.T, e *env) {
		ok := oneHousehold("N001", "甲", idNum("19800101", "131"))
		ok[cAddress] = "东风村\n12号" // a line break inside a quoted cell
		bad := oneHousehold("N002", "乙", idNum("19800101", "141"))
		bad[cPhone] = "12"
		var b bytes.Buffer
		b.WriteString("示范县建档立卡户台账" + strings.Repeat(",", len(sampleHeader)-1) + "\r\n") // row 1
		b.Write(writeCSV(t, sampleHeader, [][]string{ok}))                              // rows 2 and 3
		b.WriteString("\r\n")                                                           // row 4, empty
		b.Write(records(t, bad))                                                        // row 5
		rep := e.run(t, b.Bytes())
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{5, "联系电话", "invalid_format"}}) {
			t.Errorf("errors: %+v", rep.Errors)
		}
		if rep.Rows != 2 {
			t.Errorf("rows %d, want 2", rep.Rows)
		}
	}},

	{"invalid UTF-8 in one cell of a UTF-8 file is reported on that cell", func(t *testing.T, e *env) {
		b := bytes.Replace(sampleCSV(t), []byte("王小明"), []byte("王\xff明"), 1)
		rep := e.run(t, b)
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{4, "姓名", "invalid_utf8"}}) {
			t.Errorf("errors: %+v", rep.Errors)
		}
		if rep.Encoding != importer.EncodingUTF8 || e.rowCounts(t)["households"] != 0 {
			t.Errorf("encoding %s, households written %d", rep.Encoding, e.rowCounts(t)["households"])
		}
	}},

	{"an ID number that Excel stored as a number is reported with a hint, on the row Excel shows", func(t *testing.T, e *env) {
		f := excelize.NewFile()
		defer f.Close()
		r := oneHousehold("X009", "壬", "")
		cells := make([]any, len(r))
		for i, v := range r {
			cells[i] = v
		}
		cells[cID] = 4.10122198001011e17
		hdr := make([]any, len(sampleHeader))
		for i, h := range sampleHeader {
			hdr[i] = h
		}
		if err := f.SetSheetRow("Sheet1", "A1", &hdr); err != nil {
			t.Fatal(err)
		}
		if err := f.SetSheetRow("Sheet1", "A4", &cells); err != nil { // rows 2 and 3 empty
			t.Fatal(err)
		}
		buf, err := f.WriteToBuffer()
		if err != nil {
			t.Fatal(err)
		}
		rep := e.run(t, buf.Bytes())
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{4, "身份证号", "stored_as_number"}}) || !strings.Contains(rep.Errors[0].MessageZH, "文本") {
			t.Errorf("errors: %+v", rep.Errors)
		}
	}},

	{"the household's phone on a head's row does not become the head's own on a re-import", func(t *testing.T, e *env) {
		r := oneHousehold("Q001", "癸", idNum("19800101", "181"))
		r[cPhone] = "13812345678"
		file := writeCSV(t, sampleHeader, [][]string{r})
		noErrors(t, e.run(t, file))
		h := e.households(t)["癸"]
		head := e.members(t, h)[0]
		if h.Phone != "13812345678" || head.Phone != "13812345678" {
			t.Fatalf("after the first import: household %q, head %q", h.Phone, head.Phone)
		}
		// The head's own phone is taken off; the register export would
		// then write the household's phone on the head's row, as this file does.
		head.Phone = ""
		if _, err := e.store.UpdateMember(context.Background(), head, head.Version, domain.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		rep := e.run(t, file)
		noErrors(t, rep)
		wantCounts(t, "members", rep.Members, importer.Counts{Unchanged: 1})
		wantCounts(t, "households", rep.Households, importer.Counts{Unchanged: 1})
	}},

	{"家庭联系电话 is the household's phone and 联系电话 the member's own; empty, it takes neither from the head's row", func(t *testing.T, e *env) {
		header := append(slices.Clone(sampleHeader), "家庭联系电话")
		apart := append(oneHousehold("Q002", "壬", idNum("19800101", "191")), "13700000001")
		apart[cPhone] = "13800000002"
		headOnly := append(oneHousehold("Q003", "辛", idNum("19800101", "201")), "")
		headOnly[cPhone] = "13800000003"
		// On the row of a household without members, 联系电话 can only be
		// the household's.
		memberless := append(oneHousehold("Q004", "庚", ""), "")
		memberless[cRelation], memberless[cName], memberless[cPhone] = "", "", "13800000004"
		file := writeCSV(t, header, [][]string{apart, headOnly, memberless})
		noErrors(t, e.run(t, file))
		hs := e.households(t)
		for _, c := range []struct{ head, household, member string }{{"壬", "13700000001", "13800000002"}, {"辛", "", "13800000003"}} {
			if h, m := hs[c.head], e.members(t, hs[c.head])[0]; h.Phone != c.household || m.Phone != c.member {
				t.Errorf("%s: household's phone %q, head's %q; want %q and %q", c.head, h.Phone, m.Phone, c.household, c.member)
			}
		}
		if h := hs["庚"]; h.Phone != "13800000004" {
			t.Errorf("the household without members has phone %q, want its row's 联系电话", h.Phone)
		}
		again := e.run(t, file)
		wantCounts(t, "households", again.Households, importer.Counts{Unchanged: 3})
		wantCounts(t, "members", again.Members, importer.Counts{Unchanged: 2})
	}},

	{"建档年份 is the year a new household was registered; without it the year is not recorded", func(t *testing.T, e *env) {
		header := append(slices.Clone(sampleHeader), "建档年份")
		registered := append(oneHousehold("Y001", "甲", idNum("19800101", "211")), "")
		exited := append(oneHousehold("Y002", "乙", idNum("19800101", "221")), "2016年")
		exited[cStatus], exited[cExit] = "已脱贫", "2019"
		general := append(oneHousehold("Y003", "丙", idNum("19800101", "231")), "")
		general[cType], general[cStatus] = "", "一般农户"
		file := writeCSV(t, header, [][]string{registered, exited, general})
		noErrors(t, e.run(t, file))
		hs := e.households(t)
		for head, want := range map[string]int{"甲": 0, "乙": 2016, "丙": 0} {
			got := 0
			if y := hs[head].RegisteredYear; y != nil {
				got = *y
			}
			if got != want {
				t.Errorf("%s: registered in %d, want %d (0: not recorded)", head, got, want)
			}
		}
		// A stored household's year changes with its status records, not by import.
		exited[len(header)-1] = "2015"
		rep := e.run(t, writeCSV(t, header, [][]string{registered, exited, general}))
		noErrors(t, rep)
		wantCounts(t, "households", rep.Households, importer.Counts{Unchanged: 3})
		if got := errKeys(rep.Warnings); fmt.Sprint(got) != fmt.Sprint([]errKey{{3, "建档年份", "registered_year_not_applied"}}) {
			t.Errorf("warnings: %+v", rep.Warnings)
		}
		notYear := append(oneHousehold("Y004", "丁", idNum("19800101", "241")), "去年")
		future := append(oneHousehold("Y005", "戊", idNum("19800101", "251")), "2025")
		bad := e.run(t, writeCSV(t, header, [][]string{notYear, future}))
		if got := errKeys(bad.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{2, "建档年份", "invalid_format"}, {3, "建档年份", "out_of_range"}}) {
			t.Errorf("errors: %+v", bad.Errors)
		}
	}},

	{"two people of one name are told apart by their phones", func(t *testing.T, e *env) {
		county := e.regions["410122000000"]
		li1 := e.seedUser(t, "lishaohua1", "李少华", domain.RoleCadre, county)
		li2 := e.seedUser(t, "lishaohua2", "李少华", domain.RoleCadre, county)
		for _, u := range []*domain.User{&li1, &li2} {
			u.Phone = map[string]string{"lishaohua1": "13800000001", "lishaohua2": "13800000002"}[u.Username]
			if err := e.store.UpdateUser(context.Background(), *u, domain.AuditEntry{}); err != nil {
				t.Fatal(err)
			}
		}
		// An export names cadres by display name and phone: it re-imports.
		a, b := oneHousehold("P001", "甲", idNum("19800101", "131")), oneHousehold("P002", "乙", idNum("19800101", "141"))
		a[cCadre], a[cCadrePhone], b[cCadre], b[cCadrePhone] = "李少华", "13800000002", "李少华", "138-0000-0001"
		// A new county's file: two people named 钱新民, two phones, and a
		// row of the second without a phone.
		c, d, f := oneHousehold("P003", "丙", idNum("19800101", "151")), oneHousehold("P004", "丁", idNum("19800101", "161")), oneHousehold("P005", "戊", idNum("19800101", "171"))
		c[cCadre], c[cCadrePhone], d[cCadre], d[cCadrePhone], f[cCadre] = "钱新民", "13900000001", "钱新民", "13900000002", "钱新民"
		rep := e.run(t, writeCSV(t, sampleHeader, [][]string{a, b, c, d, f}))
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{6, "帮扶责任人", "ambiguous_cadre"}}) {
			// the phoneless row names one of two people: it cannot say which
			t.Fatalf("errors: %+v", rep.Errors)
		}
		rep = e.run(t, writeCSV(t, sampleHeader, [][]string{a, b, c, d}))
		noErrors(t, rep)
		wantCounts(t, "cadres", rep.Cadres, importer.Counts{Unchanged: 2, Created: 2})
		ps, _, _ := e.store.Pairings(context.Background(), domain.PairingFilter{WithinPath: e.admin.RegionPath, Limit: 10})
		cadreOf := map[uuid.UUID]uuid.UUID{}
		for _, p := range ps {
			cadreOf[p.HouseholdID] = p.CadreID
		}
		byNumber := map[string]uuid.UUID{} // by the head's name: 甲 is P001
		for name, h := range e.households(t) {
			byNumber[map[string]string{"甲": "P001", "乙": "P002", "丙": "P003", "丁": "P004"}[name]] = cadreOf[h.ID]
		}
		if byNumber["P001"] != li2.ID || byNumber["P002"] != li1.ID {
			t.Errorf("李少华's households went to %v and %v, want lishaohua2 and lishaohua1", byNumber["P001"], byNumber["P002"])
		}
		if byNumber["P003"] == uuid.Nil || byNumber["P003"] == byNumber["P004"] {
			t.Errorf("the two 钱新民 hold P003 %v and P004 %v: want two cadres", byNumber["P003"], byNumber["P004"])
		}
	}},

	{"a deactivated cadre keeps the households paired with them and is refused for any other", func(t *testing.T, e *env) {
		wang := e.seedUser(t, "wangwu", "王五", domain.RoleCadre, e.regions["410122000000"])
		paired := oneHousehold("D001", "甲", idNum("19800101", "271"))
		paired[cCadre] = "wangwu"
		noErrors(t, e.run(t, writeCSV(t, sampleHeader, [][]string{paired})))
		wang.Active = false
		if err := e.store.UpdateUser(context.Background(), wang, domain.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
		again := e.run(t, writeCSV(t, sampleHeader, [][]string{paired}))
		noErrors(t, again)
		wantCounts(t, "pairings", again.Pairings, importer.Counts{Unchanged: 1})
		unpaired := oneHousehold("D002", "乙", idNum("19800101", "281"))
		unpaired[cCadre] = "wangwu"
		rep := e.run(t, writeCSV(t, sampleHeader, [][]string{paired, unpaired}))
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{3, "帮扶责任人", "inactive_cadre"}}) || rep.Applied {
			t.Errorf("a new household paired with the deactivated cadre: %+v", rep)
		}
	}},

	{"a town's supervisor re-imports households paired with a county cadre, and pairs no other with them", func(t *testing.T, e *env) {
		header := append(slices.Clone(sampleHeader), "帮扶责任人账号")
		paired := append(oneHousehold("S001", "甲", idNum("19800101", "291")), "liming")
		paired[cCadre] = "李明"
		noErrors(t, e.run(t, writeCSV(t, header, [][]string{paired}))) // the county's admin pairs 李明, a cadre of the county
		town := e.regions["410122100000"]
		supervisor := func(o *importer.Options) {
			o.Actor = domain.Principal{Username: "town-supervisor", Role: domain.RoleSupervisor, RegionID: town.ID, RegionPath: town.Path}
		}
		again := e.run(t, writeCSV(t, header, [][]string{paired}), supervisor)
		noErrors(t, again)
		wantCounts(t, "pairings", again.Pairings, importer.Counts{Unchanged: 1})
		// Another household is refused as before, and the name of the
		// account, outside the town, is not told.
		other := append(oneHousehold("S002", "乙", idNum("19800101", "301")), "liming")
		other[cCadre] = "张冒名"
		rep := e.run(t, writeCSV(t, header, [][]string{paired, other}), supervisor)
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{3, "帮扶责任人账号", "unknown_cadre"}}) || rep.Applied || len(rep.Warnings) != 0 {
			t.Errorf("a new household paired with the county's cadre by the town's supervisor: %+v", rep)
		}
	}},

	{"two cadres with the same name must be named by username", func(t *testing.T, e *env) {
		county := e.regions["410122000000"]
		e.seedUser(t, "zhangwei1", "张伟", domain.RoleCadre, county)
		w2 := e.seedUser(t, "zhangwei2", "张伟", domain.RoleCadre, county)
		r := oneHousehold("C001", "庚", idNum("19800101", "121"))
		r[cCadre] = "张伟"
		rep := e.run(t, writeCSV(t, sampleHeader, [][]string{r}))
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{2, "帮扶责任人", "ambiguous_cadre"}}) {
			t.Fatalf("errors: %+v", rep.Errors)
		}
		if !strings.Contains(rep.Errors[0].MessageZH, "zhangwei1") || !strings.Contains(rep.Errors[0].MessageZH, "用户名") {
			t.Errorf("message should list the usernames: %q", rep.Errors[0].MessageZH)
		}
		r[cCadre] = "zhangwei2"
		rep = e.run(t, writeCSV(t, sampleHeader, [][]string{r}))
		noErrors(t, rep)
		wantCounts(t, "cadres", rep.Cadres, importer.Counts{Unchanged: 1})
		ps, _, _ := e.store.Pairings(context.Background(), domain.PairingFilter{WithinPath: e.admin.RegionPath, Limit: 10})
		if len(ps) != 1 || ps[0].CadreID != w2.ID {
			t.Errorf("pairing: %+v", ps)
		}
		r[cCadre] = "nosuchuser"
		rep = e.run(t, writeCSV(t, sampleHeader, [][]string{r}))
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{2, "帮扶责任人", "unknown_cadre"}}) {
			t.Errorf("errors: %+v", rep.Errors)
		}
	}},

	{"帮扶责任人账号 names the cadre exactly; a 帮扶责任人 that disagrees is warned of", func(t *testing.T, e *env) {
		county := e.regions["410122000000"]
		look := e.seedUser(t, "wangfang", "liming", domain.RoleCadre, county) // named like 李明's username
		header := append(slices.Clone(sampleHeader), "帮扶责任人账号")
		row := func(number, head, id, cadre, account string) []string {
			r := oneHousehold(number, head, id)
			r[cCadre] = cadre
			return append(r, account)
		}
		rows := [][]string{
			row("A001", "甲", idNum("19800101", "131"), "liming", "wangfang"),
			row("A002", "乙", idNum("19800101", "141"), "李明", "liming"),
			row("A003", "丙", idNum("19800101", "151"), "王芳", "wangfang"),
			row("A004", "丁", idNum("19800101", "161"), "钱新民", "qianxinmin"),
		}
		rep := e.run(t, writeCSV(t, header, rows))
		noErrors(t, rep)
		if got := errKeys(rep.Warnings); fmt.Sprint(got) != fmt.Sprint([]errKey{{4, "帮扶责任人", "cadre_name_mismatch"}}) {
			t.Errorf("warnings: %+v", rep.Warnings)
		}
		wantCounts(t, "cadres", rep.Cadres, importer.Counts{Created: 1, Unchanged: 2})
		liming, _ := e.cadre(t, "liming")
		qian, _ := e.cadre(t, "qianxinmin")
		if qian.DisplayName != "钱新民" {
			t.Errorf("the new cadre from an account: %+v", qian)
		}
		ps, _, _ := e.store.Pairings(context.Background(), domain.PairingFilter{WithinPath: e.admin.RegionPath, Limit: 10})
		cadreOf := map[uuid.UUID]uuid.UUID{}
		for _, p := range ps {
			cadreOf[p.HouseholdID] = p.CadreID
		}
		hs := e.households(t)
		if cadreOf[hs["甲"].ID] != look.ID || cadreOf[hs["乙"].ID] != liming.ID || cadreOf[hs["丙"].ID] != look.ID || cadreOf[hs["丁"].ID] != qian.ID {
			t.Errorf("pairings by account: %+v", ps)
		}
		// An account that is not a cadre's, and a new one without a name.
		rows = [][]string{row("A005", "戊", idNum("19800101", "171"), "县管理员", "countyadmin"), row("A006", "己", idNum("19800101", "181"), "", "nobody")}
		rep = e.run(t, writeCSV(t, header, rows))
		if got := errKeys(rep.Errors); fmt.Sprint(got) != fmt.Sprint([]errKey{{2, "帮扶责任人账号", "not_cadre"}, {3, "帮扶责任人", "required"}}) {
			t.Errorf("errors: %+v", rep.Errors)
		}
	}},

	{"a 返贫原因 or 清退原因 other than the one recorded for an existing household is a warning at its column, and not applied", func(t *testing.T, e *env) {
		// A cause goes with the status change that made the household
		// relapsed or removed: the household file records it, with its date.
		header := append(slices.Clone(sampleHeader), "返贫原因", "清退原因")
		hh := func(number, head, id, status, cause, reason string) []string {
			r := append(oneHousehold(number, head, id), cause, reason)
			r[cStatus] = status
			return r
		}
		first := [][]string{
			hh("W001", "甲", idNum("19800101", "511"), "返贫", "因病", ""),
			hh("W002", "乙", idNum("19800101", "521"), "清退", "", "收入超标"),
			hh("W003", "丙", idNum("19800101", "531"), "在册未脱贫", "", ""),
			hh("W004", "丁", idNum("19800101", "541"), "返贫", "因病", ""),
		}
		rep := e.run(t, writeCSV(t, header, first))
		noErrors(t, rep)
		wantCounts(t, "households", rep.Households, importer.Counts{Created: 4})
		again := [][]string{
			hh("W001", "甲", idNum("19800101", "511"), "返贫", "因灾", ""),    // row 2: another cause
			hh("W002", "乙", idNum("19800101", "521"), "清退", "", "识别不精准"), // row 3: another reason
			hh("W003", "丙", idNum("19800101", "531"), "返贫", "因病", ""),    // row 4: a relapse with its cause
			hh("W004", "丁", idNum("19800101", "541"), "返贫", "因病", ""),    // row 5: as recorded
			hh("W005", "戊", idNum("19800101", "551"), "在册未脱贫", "", ""),   // row 6: new
		}
		rep = e.run(t, writeCSV(t, header, again))
		noErrors(t, rep)
		wantCounts(t, "households", rep.Households, importer.Counts{Created: 1, Unchanged: 4})
		want := []errKey{{2, "返贫原因", "relapse_cause_not_applied"}, {3, "清退原因", "removal_reason_not_applied"},
			{4, "户类型", "status_not_applied"}, {4, "返贫原因", "relapse_cause_not_applied"}}
		if got := errKeys(rep.Warnings); fmt.Sprint(got) != fmt.Sprint(errKeys(toErrs(want))) {
			t.Errorf("warnings:\n got  %v\n want %v\nfull: %+v", got, errKeys(toErrs(want)), rep.Warnings)
		}
		for _, w := range rep.Warnings {
			if w.Row == 2 && !strings.Contains(w.MessageZH, "系统中该户返贫原因为「大病」，文件中为「因灾」；状态变更请在户档案中办理，导入不改变已有户的状态") {
				t.Errorf("row 2's warning says %q", w.MessageZH)
			}
		}
		hs := e.households(t)
		for head, want := range map[string]domain.StatusChange{
			"甲": {To: domain.StatusRelapsed, Cause: "serious_illness", Reason: "导入"},
			"乙": {To: domain.StatusRemoved, Reason: "收入超标"},
			"丙": {To: domain.StatusRegistered, Reason: "导入"},
		} {
			h := hs[head]
			sc, _, err := e.store.StatusHistory(context.Background(), h.CountyID, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			if h.Status != want.To || len(sc) != 1 || sc[0].Cause != want.Cause || sc[0].Reason != want.Reason {
				t.Errorf("household %s: %s, history %+v; want %s with cause %q, reason %q as first imported", head, h.Status, sc, want.To, want.Cause, want.Reason)
			}
		}
	}},

	{"status and poverty-type changes of existing households are warnings and not applied", func(t *testing.T, e *env) {
		wantFirstImport(t, e.run(t, sampleCSV(t)))
		rep := e.run(t, edited(t, func(rows [][]string) [][]string {
			rows[4][cStatus], rows[4][cExit] = "已脱贫", "2023" // 张桂英
			rows[7][cType] = "低保"                            // 刘德华
			return rows
		}))
		noErrors(t, rep)
		wantCounts(t, "households", rep.Households, importer.Counts{Unchanged: 10})
		want := []errKey{{6, "户类型", "status_not_applied"}, {9, "贫困户属性", "poverty_type_not_applied"}}
		if got := errKeys(rep.Warnings); fmt.Sprint(got) != fmt.Sprint(errKeys(toErrs(want))) {
			t.Errorf("warnings: %+v", rep.Warnings)
		}
		hs := e.households(t)
		if hs["张桂英"].Status != domain.StatusRegistered || hs["刘德华"].PovertyType != domain.PovertyWubao {
			t.Errorf("status or type changed by import: %+v %+v", hs["张桂英"], hs["刘德华"])
		}
	}},

	{"a new member in an existing household is added; empty cells keep stored values", func(t *testing.T, e *env) {
		wantFirstImport(t, e.run(t, sampleCSV(t)))
		rep := e.run(t, edited(t, func(rows [][]string) [][]string {
			rows[5][cHealth], rows[5][cEdu] = "", "" // 张强: empty cells
			baby := slices.Clone(rows[6])
			baby[cName], baby[cID], baby[cRelation] = "张小贝", idNum("20230301", "082"), "孙女"
			rows[4][cSize] = "4"
			return slices.Insert(rows, 7, baby)
		}))
		noErrors(t, rep)
		wantCounts(t, "members", rep.Members, importer.Counts{Created: 1, Unchanged: 30})
		for _, m := range e.members(t, e.households(t)["张桂英"]) {
			if m.Name == "张强" && (m.Health != "healthy" || m.Education != "junior") {
				t.Errorf("empty cells cleared stored values: %+v", m)
			}
		}
	}},

	{"DryRun validates and counts but writes nothing", func(t *testing.T, e *env) {
		before := e.rowCounts(t)
		rep := e.run(t, sampleCSV(t), func(o *importer.Options) { o.DryRun = true })
		noErrors(t, rep)
		wantCounts(t, "households", rep.Households, importer.Counts{Created: 10})
		if rep.Applied {
			t.Error("dry run applied")
		}
		if after := e.rowCounts(t); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("dry run wrote: %v → %v", before, after)
		}
	}},

	{"progress runs from 0 to the total, never backwards", func(t *testing.T, e *env) {
		var calls [][2]int
		e.run(t, sampleCSV(t), func(o *importer.Options) {
			o.Progress = func(done, total int) { calls = append(calls, [2]int{done, total}) }
		})
		if len(calls) < 2 {
			t.Fatalf("progress calls: %v", calls)
		}
		last := calls[len(calls)-1]
		if last[0] != last[1] || last[1] != 60 {
			t.Errorf("last progress %v, want 60/60", last)
		}
		for i := 1; i < len(calls); i++ {
			if calls[i][0] < calls[i-1][0] {
				t.Errorf("progress went backwards: %v", calls)
			}
		}
	}},

	{"files that are empty, not CSV/XLSX, or too big are refused naming the field file", func(t *testing.T, e *env) {
		for name, c := range map[string]struct {
			b    []byte
			opts func(*importer.Options)
		}{
			"empty":          {b: nil},
			"only a BOM":     {b: []byte("\ufeff\r\n")},
			"headings only":  {b: writeCSV(t, sampleHeader, nil)},
			"PDF":            {b: []byte("%PDF-1.7\n...")},
			"old .xls":       {b: []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00")},
			"broken zip":     {b: []byte("PK\x03\x04garbage")},
			"binary":         {b: bytes.Repeat([]byte{0, 1, 2, 3}, 100)},
			"too many rows":  {b: sampleCSV(t), opts: func(o *importer.Options) { o.MaxRows = 29 }},
			"too many bytes": {b: sampleCSV(t), opts: func(o *importer.Options) { o.MaxBytes = 100 }},
		} {
			opt := importer.Options{Actor: e.admin, Today: today}
			if c.opts != nil {
				c.opts(&opt)
			}
			_, err := importer.Import(context.Background(), e.store, bytes.NewReader(c.b), opt)
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeInvalid || len(de.Fields) != 1 || de.Fields[0].Field != "file" || de.Fields[0].MessageZH == "" {
				t.Errorf("%s: got %v, want invalid naming file", name, err)
			}
		}
		if c := e.rowCounts(t); c["households"] != 0 {
			t.Error("written")
		}
	}},

	{"ApplyImport is one transaction: a failure at its last record leaves nothing written", func(t *testing.T, e *env) {
		before := e.rowCounts(t)
		v := e.regions["410122100201"]
		now := today.Start()
		h := domain.Household{ID: uuid.New(), CountyID: *v.CountyID, RegionID: v.ID, VillageID: v.ID, HouseholdDetails: domain.HouseholdDetails{HeadName: "甲"},
			Status: domain.StatusGeneral, Version: 1, CreatedAt: now, UpdatedAt: now}
		m := domain.Member{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, MemberDetails: domain.MemberDetails{Name: "甲", Relation: "head"}, Version: 1, CreatedAt: now, UpdatedAt: now}
		err := e.store.ApplyImport(context.Background(), importer.Plan{
			Households: []importer.NewHousehold{{Household: h, RegionPath: v.Path}},
			Members:    []domain.Member{m},
			StatusChanges: []domain.StatusChange{{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, To: h.Status,
				EffectiveOn: today, RecordedAt: now}},
			// a cadre that does not exist: the foreign key fails last
			Pairings: []domain.Pairing{{ID: uuid.New(), CountyID: h.CountyID, HouseholdID: h.ID, CadreID: uuid.New(), StartOn: today, CreatedAt: now}},
			Audit:    domain.AuditEntry{Action: "import", ObjectType: "households"},
		})
		if err == nil {
			t.Fatal("a pairing with an unknown cadre was written")
		}
		if after := e.rowCounts(t); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("rows left behind: %v → %v", before, after)
		}
	}},

	{"when the database is down the import is a Go error, not a report", func(t *testing.T, e *env) {
		e.db.Close()
		_, err := importer.Import(context.Background(), e.store, bytes.NewReader(sampleCSV(t)), importer.Options{Actor: e.admin, Today: today})
		if err == nil {
			t.Fatal("import with a closed database succeeded")
		}
	}},

	{"only admins and supervisors may import", func(t *testing.T, e *env) {
		cadre := e.admin
		cadre.Role = domain.RoleCadre
		_, err := importer.Import(context.Background(), e.store, bytes.NewReader(sampleCSV(t)), importer.Options{Actor: cadre, Today: today})
		if !domain.IsCode(err, domain.CodeForbidden) {
			t.Errorf("got %v, want forbidden", err)
		}
	}},
}

func TestImport(t *testing.T) { runCases(t, cases) }

// records encodes rows as CSV lines without a heading.
func records(t *testing.T, rows ...[]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func toErrs(ks []errKey) []importer.RowError {
	out := make([]importer.RowError, len(ks))
	for i, k := range ks {
		out[i] = importer.RowError{Row: k.Row, Column: k.Column, Reason: k.Reason}
	}
	return out
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4E00 && r <= 0x9FFF {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
