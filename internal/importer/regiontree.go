package importer

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// NewRegionNote is a region an import creates (or, in a dry run, would
// create), with the row that asked for it and its parent's name.
type NewRegionNote struct {
	Row    int    `json:"row"`
	Level  string `json:"level"`
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent"`
}

// treeLevels are the levels a sheet names, top down, with their columns and
// the length of the national code's prefix that is theirs: 12 digits are
// province (2), city (2), county (2), town (3) and village (3).
type treeLevel struct {
	level      string
	name, code col
	prefix     int
}

var treeLevels = []treeLevel{
	{domain.LevelCity, colCity, colCityCode, 4},
	{domain.LevelCounty, colCounty, colCountyCode, 6},
	{domain.LevelTown, colTown, colTownCode, 9},
	{domain.LevelVillage, colVillage, colVillageCode, 12},
}

// ancestorCode is the code of the region at prefix digits above code:
// 411530101201 → town 411530101000, county 411530000000.
func ancestorCode(code string, prefix int) string {
	return code[:prefix] + strings.Repeat("0", 12-prefix)
}

// codeLevel is the level a 12-digit code's zeros say it is at.
func codeLevel(code string) string {
	switch {
	case strings.HasSuffix(code, "0000000000"):
		return domain.LevelProvince
	case strings.HasSuffix(code, "00000000"):
		return domain.LevelCity
	case strings.HasSuffix(code, "000000"):
		return domain.LevelCounty
	case strings.HasSuffix(code, "000"):
		return domain.LevelTown
	}
	return domain.LevelVillage
}

var levelZH = map[string]string{domain.LevelProvince: "省", domain.LevelCity: "市", domain.LevelCounty: "县/区",
	domain.LevelTown: "乡镇", domain.LevelVillage: "村"}

// placeRequest is one path down the tree that a row names: the names and
// codes it gives per tree level, down to the deepest level it names.
type placeRequest struct {
	row      *row
	names    [4]string
	codes    [4]string
	deepest  int
	poor     *bool
	centroid *domain.GeoPoint
}

// tree resolves and plans region paths against the stored regions (found
// by code anywhere, so that a code outside the importer's region is told
// as such) and the regions this import creates.
type tree struct {
	r        *run
	stored   map[string]domain.Region
	created  map[string]*domain.Region
	order    []*domain.Region
	notes    []NewRegionNote
	updated  map[string]*domain.Region
	touched  map[string]int // deepest code → the row that named it
	unchange int
	warned   map[string]bool // village code and group name of a group warned of
	// refusals are the regions rows need and cannot have, by code: each is
	// reported once, on the first row that needs it (reportRefusals).
	refusals map[string]*refusal
	refused  []*refusal
}

// refusal is a region the file needs and cannot have (its province is
// missing, it lies outside the importer's region, it has no name to be
// created by): one problem of the file, whichever rows need it. Every row
// of a county-level export names its city the same way; a 2,000-row file
// said the same thing 2,000 times.
type refusal struct {
	row                *row
	c                  col
	reason, msg, msgZH string
	rows               int
}

// newTree loads the stored regions the requests' codes (and their
// ancestors' codes) name, and those of more codes (village groups').
func (r *run) newTree(reqs []*placeRequest, more []string) (*tree, error) {
	want := map[string]bool{}
	for _, c := range more {
		want[c] = true
	}
	for _, q := range reqs {
		code := q.codes[q.deepest]
		if !regionCode.MatchString(code) || len(code) != 12 {
			continue
		}
		want[ancestorCode(code, 2)] = true
		for i := 0; i <= q.deepest; i++ {
			want[ancestorCode(code, treeLevels[i].prefix)] = true
		}
	}
	stored, err := r.store.ImportRegions(r.ctx, "/", nil, keys(want))
	if err != nil {
		return nil, err
	}
	t := &tree{r: r, stored: map[string]domain.Region{}, created: map[string]*domain.Region{}, updated: map[string]*domain.Region{},
		touched: map[string]int{}, warned: map[string]bool{}, refusals: map[string]*refusal{}}
	for _, reg := range stored {
		t.stored[reg.Code] = reg
	}
	return t, nil
}

// find returns the region with code, stored or created by this import.
func (t *tree) find(code string) (*domain.Region, bool) {
	if reg, ok := t.created[code]; ok {
		return reg, true
	}
	if reg, ok := t.updated[code]; ok {
		return reg, false
	}
	if reg, ok := t.stored[code]; ok {
		return &reg, false
	}
	return nil, false
}

// checkCodes checks the codes a request gives and fills in the ones it
// leaves out from the deepest code. It reports whether they agree.
func (t *tree) checkCodes(q *placeRequest) bool {
	r, rw := t.r, q.row
	lv := treeLevels[q.deepest]
	code := q.codes[q.deepest]
	if code == "" {
		r.fail(rw, lv.code, "required", fmt.Sprintf("the %s needs its 12-digit national code", lv.level),
			fmt.Sprintf("%s不能为空（12位国家统计用区划代码）", r.head(lv.code)))
		return false
	}
	if !regionCode.MatchString(code) || len(code) != 12 {
		r.fail(rw, lv.code, "invalid_format", fmt.Sprintf("%q is not a 12-digit national code", code),
			fmt.Sprintf("%s「%s」应为12位国家统计用区划代码", r.head(lv.code), code))
		return false
	}
	if got := codeLevel(code); got != lv.level {
		r.fail(rw, lv.code, "code_level", fmt.Sprintf("%s is the code of a %s, not of a %s", code, got, lv.level),
			fmt.Sprintf("%s「%s」是%s级代码，不是%s级代码", r.head(lv.code), code, levelZH[got], levelZH[lv.level]))
		return false
	}
	ok := true
	for i := 0; i < q.deepest; i++ {
		up := treeLevels[i]
		want := ancestorCode(code, up.prefix)
		if q.codes[i] != "" && q.codes[i] != want {
			r.fail(rw, up.code, "code_mismatch", fmt.Sprintf("%s %s does not contain %s %s (its code would be %s)", up.level, q.codes[i], lv.level, code, want),
				fmt.Sprintf("%s「%s」与%s「%s」不对应（应为%s）", r.head(up.code), q.codes[i], r.head(lv.code), code, want))
			ok = false
		}
		q.codes[i] = want
	}
	return ok
}

// resolve finds or plans every region of q's path. It returns the deepest
// region, or nil after reporting why it cannot be had.
func (t *tree) resolve(q *placeRequest) *domain.Region {
	r, rw := t.r, q.row
	if !t.checkCodes(q) {
		return nil
	}
	// The lowest level of the path that exists already anchors it.
	anchor, at := (*domain.Region)(nil), -1
	for i := q.deepest; i >= 0; i-- {
		if reg, _ := t.find(q.codes[i]); reg != nil {
			anchor, at = reg, i
			break
		}
	}
	if anchor == nil {
		province := ancestorCode(q.codes[q.deepest], 2)
		reg, _ := t.find(province)
		if reg == nil {
			top := treeLevels[0]
			t.refuse(rw, top.code, province, "unknown_region", fmt.Sprintf("province %s does not exist; create it with fieldvisit init", province),
				fmt.Sprintf("省级区划%s不存在，请先用fieldvisit init创建", province))
			return nil
		}
		anchor = reg
	}
	if !r.opt.Actor.InSubtree(anchor.Path) {
		// Creating under a region, or changing one, needs it in the
		// importer's subtree (their own region is in it).
		c := treeLevels[q.deepest].code
		t.refuse(rw, c, anchor.Code, "outside_scope", fmt.Sprintf("%s %s lies outside your region", anchor.Name, anchor.Code),
			fmt.Sprintf("「%s」（%s）不在您管辖的行政区划内", anchor.Name, anchor.Code))
		return nil
	}
	for i := 0; i <= at; i++ {
		// A name the sheet gives for an existing region must be its name.
		lv := treeLevels[i]
		reg, _ := t.find(q.codes[i])
		if reg == nil || q.names[i] == "" || i == q.deepest || sameRegionName(reg.Name, q.names[i], lv.level) {
			continue
		}
		r.fail(rw, lv.name, "inconsistent", fmt.Sprintf("%s %s is %q in the register, the file says %q", lv.level, reg.Code, reg.Name, q.names[i]),
			fmt.Sprintf("代码%s在系统中为「%s」，文件中为「%s」", reg.Code, reg.Name, q.names[i]))
		return nil
	}
	parent := anchor
	for i := at + 1; i <= q.deepest; i++ {
		lv := treeLevels[i]
		if q.names[i] == "" {
			// Never a region without its name (nor a placeholder one: the
			// next county of the city, naming it, would be refused as
			// inconsistent). A county set up alone exports its 市 by code only.
			t.refuse(rw, lv.name, q.codes[i], "required", fmt.Sprintf("%s %s does not exist; give its name in %s to create it, or create it first", lv.level, q.codes[i], columns[lv.name].zh),
				fmt.Sprintf("%s%s不存在，请在「%s」列填写其名称以便创建，或先在行政区划中创建该%s", levelZH[lv.level], q.codes[i], r.head(lv.name), levelZH[lv.level]))
			return nil
		}
		reg := domain.Region{ID: uuid.New(), ParentID: &parent.ID, Level: lv.level, Code: q.codes[i], Name: q.names[i],
			CountyID: parent.CountyID, Path: parent.Path}
		reg.Path += reg.ID.String() + "/"
		if lv.level == domain.LevelCounty {
			reg.CountyID = &reg.ID
		}
		if i == q.deepest {
			reg.IsPoorVillage = q.poor != nil && *q.poor
			reg.Centroid = q.centroid
		}
		if err := domain.ValidateRegion(reg, parent); err != nil {
			t.failRegion(rw, lv, err)
			return nil
		}
		t.created[reg.Code] = &reg
		t.order = append(t.order, &reg)
		t.notes = append(t.notes, NewRegionNote{Row: rw.num, Level: reg.Level, Code: reg.Code, Name: reg.Name, Parent: parent.Name})
		parent = &reg
	}
	if at == q.deepest {
		t.change(q, anchor)
	}
	return parent
}

// refuse marks rw bad for want of the region of code, which it cannot
// have for the reason given; the first row that wants it carries the
// problem (reportRefusals), the others count.
func (t *tree) refuse(rw *row, c col, code, reason, msg, msgZH string) {
	rw.bad = true
	if t.r.seen[cellKey{rw.num, c}] {
		return // the cell has its problem already
	}
	key := reason + "/" + code
	if f := t.refusals[key]; f != nil {
		f.rows++
		return
	}
	f := &refusal{row: rw, c: c, reason: reason, msg: msg, msgZH: msgZH, rows: 1}
	t.refusals[key] = f
	t.refused = append(t.refused, f)
}

// reportRefusals reports each refusal once, on its first row, saying how
// many rows it stops, as a column without a heading is reported once from
// its first row.
func (t *tree) reportRefusals() {
	r := t.r
	for _, f := range t.refused {
		msg, msgZH := f.msg, f.msgZH
		if f.rows > 1 {
			msg += fmt.Sprintf(" (%d rows from row %d need it; none of them is imported)", f.rows, f.row.num)
			msgZH += fmt.Sprintf("（第%d行起共%d行需要该区划，均未导入）", f.row.num, f.rows)
		}
		r.fail(f.row, f.c, f.reason, msg, msgZH)
	}
	t.refused = nil
}

// groupLevel is the village group's columns, for failRegion.
var groupLevel = treeLevel{domain.LevelGroup, colGroup, colGroupCode, 15}

// group finds or plans the village group a row names under its village
// (stored, or created by this import): by its 15-digit code, the village's
// 12 and three more. A row that gives no code has its household filed under
// the village, with a warning, as when create_regions is off.
func (t *tree) group(rw *row) *domain.Region {
	r, v := t.r, rw.village
	name, code := rw.val[colGroup], strings.TrimSpace(rw.val[colGroupCode])
	if code == "" {
		if key := v.Code + "/" + name; !t.warned[key] {
			t.warned[key] = true
			msg, msgZH := r.unknownGroup(name, code, v.Name)
			r.warn(rw.num, colGroup, "unknown_group", msg, msgZH)
		}
		return nil
	}
	if !regionCode.MatchString(code) || len(code) != 15 {
		r.fail(rw, colGroupCode, "invalid_format", fmt.Sprintf("%q is not a 15-digit village group code", code),
			fmt.Sprintf("%s「%s」应为15位村民小组代码（12位村代码加3位组号）", r.head(colGroupCode), code))
		return nil
	}
	if !strings.HasPrefix(code, v.Code) {
		r.fail(rw, colGroupCode, "code_mismatch", fmt.Sprintf("village group %s does not lie in village %s (its code starts %s)", code, v.Code, v.Code),
			fmt.Sprintf("%s「%s」与村代码「%s」不对应（应以%s开头）", r.head(colGroupCode), code, v.Code, v.Code))
		return nil
	}
	if reg, _ := t.find(code); reg != nil {
		if reg.Level != domain.LevelGroup || reg.ParentID == nil || *reg.ParentID != v.ID {
			r.fail(rw, colGroupCode, "inconsistent", fmt.Sprintf("code %s is %q in the register, not a group of %s", code, reg.Name, v.Name),
				fmt.Sprintf("代码%s在系统中为「%s」，不是%s的村民小组", code, reg.Name, v.Name))
			return nil
		}
		return reg
	}
	if name == "" {
		r.fail(rw, colGroup, "required", fmt.Sprintf("village group %s does not exist; give its name to create it", code),
			fmt.Sprintf("村民小组%s不存在，请填写%s以便创建", code, r.head(colGroup)))
		return nil
	}
	reg := domain.Region{ID: uuid.New(), ParentID: &v.ID, Level: domain.LevelGroup, Code: code, Name: name, CountyID: v.CountyID,
		Path: v.Path}
	reg.Path += reg.ID.String() + "/"
	if err := domain.ValidateRegion(reg, v); err != nil {
		t.failRegion(rw, groupLevel, err)
		return nil
	}
	t.created[code] = &reg
	t.order = append(t.order, &reg)
	t.notes = append(t.notes, NewRegionNote{Row: rw.num, Level: reg.Level, Code: reg.Code, Name: reg.Name, Parent: v.Name})
	return &reg
}

// change applies what a row says of a region that exists (or that an
// earlier row created): a new name, the poor-village mark, the centroid.
func (t *tree) change(q *placeRequest, reg *domain.Region) {
	rw, lv := q.row, treeLevels[q.deepest]
	next := *reg
	if n := q.names[q.deepest]; n != "" && !sameRegionName(reg.Name, n, lv.level) {
		next.Name = n
	}
	if q.poor != nil {
		next.IsPoorVillage = *q.poor
	}
	if q.centroid != nil {
		next.Centroid = q.centroid
	}
	samePoint := (next.Centroid == nil) == (reg.Centroid == nil) && (next.Centroid == nil || *next.Centroid == *reg.Centroid)
	if next.Name == reg.Name && next.IsPoorVillage == reg.IsPoorVillage && samePoint {
		if _, ok := t.created[reg.Code]; !ok {
			t.unchange++
		}
		return
	}
	var parent *domain.Region
	if reg.ParentID != nil {
		parent = &domain.Region{Level: domain.ParentLevel(reg.Level)}
	}
	if err := domain.ValidateRegion(next, parent); err != nil {
		t.failRegion(rw, lv, err)
		return
	}
	if created, ok := t.created[reg.Code]; ok {
		*created = next
		return
	}
	t.updated[reg.Code] = &next
}

// failRegion reports a region's validation errors on the row's cells.
func (t *tree) failRegion(rw *row, lv treeLevel, err error) {
	de, ok := err.(*domain.Error)
	if !ok {
		t.r.fail(rw, lv.name, "invalid", err.Error(), err.Error())
		return
	}
	for _, fe := range de.Fields {
		c := lv.name
		switch {
		case fe.Field == "/code":
			c = lv.code
		case fe.Field == "/is_poor_village":
			c = colPoorVillage
		case strings.HasPrefix(fe.Field, "/centroid"):
			c = colLon
			if strings.HasSuffix(fe.Field, "/lat") {
				c = colLat
			}
		}
		t.r.fail(rw, c, fe.Reason, fe.Message, t.r.head(c)+"："+fe.MessageZH)
	}
}

// sameRegionName says whether a sheet's name means the stored one: offices
// write 城关 for 城关镇 and 东风村委会 for 东风村.
func sameRegionName(stored, given, level string) bool {
	variants := map[string]func(string) []string{domain.LevelCity: countyNames, domain.LevelCounty: countyNames,
		domain.LevelTown: townNames, domain.LevelVillage: villageNames}[level]
	if variants == nil {
		return stored == given
	}
	for _, v := range variants(given) {
		if v == stored {
			return true
		}
	}
	return false
}

// request reads the tree cells of a row. It returns nil (after reporting
// why) when the row names no region or a cell is malformed.
func (r *run) request(rw *row) *placeRequest {
	q := &placeRequest{row: rw, deepest: -1}
	for i, lv := range treeLevels {
		q.names[i], q.codes[i] = rw.val[lv.name], strings.TrimSpace(rw.val[lv.code])
		if q.names[i] != "" || q.codes[i] != "" {
			q.deepest = i
		}
	}
	if q.deepest < 0 {
		r.fail(rw, colVillage, "required", "the row names no region", "该行没有填写任何行政区划")
		return nil
	}
	poor, ok := r.poorMark(rw)
	if ok && poor != nil && *poor && treeLevels[q.deepest].level != domain.LevelVillage {
		r.fail(rw, colPoorVillage, "invalid", "only a village can be a poor village", "只有行政村可以标记为贫困村")
		ok = false
	}
	q.poor = poor
	lon, lat := rw.val[colLon], rw.val[colLat]
	if lon != "" || lat != "" {
		x, errX := strconv.ParseFloat(lon, 64)
		y, errY := strconv.ParseFloat(lat, 64)
		switch {
		case lon == "" || lat == "":
			c := colLon
			if lat == "" {
				c = colLat
			}
			r.fail(rw, c, "required", "a centroid needs both longitude and latitude", "中心点坐标须同时填写经度和纬度")
			ok = false
		case errX != nil || math.IsNaN(x) || x < -180 || x > 180:
			r.fail(rw, colLon, "invalid_format", fmt.Sprintf("longitude %q must be a number from -180 to 180", lon),
				fmt.Sprintf("%s「%s」应为-180到180之间的数", r.head(colLon), lon))
			ok = false
		case errY != nil || math.IsNaN(y) || y < -90 || y > 90:
			r.fail(rw, colLat, "invalid_format", fmt.Sprintf("latitude %q must be a number from -90 to 90", lat),
				fmt.Sprintf("%s「%s」应为-90到90之间的数（经纬度是否填反？）", r.head(colLat), lat))
			ok = false
		default:
			q.centroid = &domain.GeoPoint{Lat: y, Lon: x}
		}
	}
	if !ok {
		return nil
	}
	return q
}

// poorMark reads a row's 是否贫困村: nil when the cell is empty; ok is
// false, after the cell is reported, when it is neither yes nor no.
func (r *run) poorMark(rw *row) (mark *bool, ok bool) {
	v := rw.val[colPoorVillage]
	if v == "" {
		return nil, true
	}
	p, known := parseYesNo(v)
	if !known {
		r.fail(rw, colPoorVillage, "invalid_enum", fmt.Sprintf("poor village %q must be 是 or 否", v),
			fmt.Sprintf("%s「%s」应为「是」或「否」", r.head(colPoorVillage), v))
		return nil, false
	}
	return &p, true
}

// parseYesNo reads a yes/no cell as offices fill it.
func parseYesNo(s string) (value, ok bool) {
	switch strings.ToLower(domain.FoldLabel(s)) {
	case "是", "y", "yes", "1", "true", "√", "贫困村", "重点村":
		return true, true
	case "否", "n", "no", "0", "false", "×", "x", "非贫困村", "/":
		return false, true
	}
	return false, false
}

// importRegionSheet imports a region sheet: every row names a path down the
// tree (市 › 县/区 › 乡镇 › 村, names and 12-digit codes; a parent's code
// follows from its child's), the regions missing on it are created under
// the lowest one that exists, and the region the row ends at takes the
// row's name, poor-village mark and centroid. A region sheet is all or
// nothing, whatever AllowPartial says: a village is no use without its town.
func (r *run) importRegionSheet() error {
	reqs := make([]*placeRequest, 0, len(r.rows))
	for _, rw := range r.rows {
		r.readCells(rw)
		if rw.bad {
			continue
		}
		if q := r.request(rw); q != nil {
			reqs = append(reqs, q)
		}
	}
	r.progress(len(r.rows))
	t, err := r.newTree(reqs, nil)
	if err != nil {
		return err
	}
	for _, q := range reqs {
		code := q.codes[q.deepest]
		if first, dup := t.touched[code]; dup && code != "" {
			lv := treeLevels[q.deepest]
			r.fail(q.row, lv.code, "duplicate", fmt.Sprintf("the same region is on row %d", first),
				fmt.Sprintf("%s与第%d行重复", r.head(lv.code), first))
			continue
		}
		if code != "" {
			t.touched[code] = q.row.num
		}
		t.resolve(q)
	}
	t.reportRefusals()
	var plan Plan
	for _, reg := range t.order {
		plan.Regions = append(plan.Regions, *reg)
	}
	for _, reg := range t.updated {
		plan.RegionUpdates = append(plan.RegionUpdates, *reg)
	}
	r.rep.NewRegions = append(r.rep.NewRegions, t.notes...)
	write := !r.fatal && r.rep.OK()
	if !write {
		r.rep.Regions.Skipped = len(plan.Regions) + len(plan.RegionUpdates)
		r.rep.NewRegions = []NewRegionNote{}
		return nil
	}
	r.rep.Regions = Counts{Created: len(plan.Regions), Updated: len(plan.RegionUpdates), Unchanged: t.unchange}
	return r.write(plan)
}
