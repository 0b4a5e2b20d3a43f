package importer

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

var regionCode = regexp.MustCompile(`^[0-9]{12}([0-9]{3})?$`)

// Name variants: offices write "城关" for 城关镇 and "东风村委会" for 东风村.
func countyNames(s string) []string { return []string{s, s + "县", s + "区", s + "市"} }

func townNames(s string) []string {
	s = strings.TrimSuffix(s, "人民政府")
	return []string{s, s + "镇", s + "乡", s + "街道", s + "街道办事处"}
}

func villageNames(s string) []string {
	out := []string{s}
	for _, suf := range []string{"村民委员会", "居民委员会", "村委会", "居委会"} {
		if base, ok := strings.CutSuffix(s, suf); ok && base != "" {
			out = append(out, base+"村", base+"社区", base)
		}
	}
	if !strings.HasSuffix(s, "村") && !strings.HasSuffix(s, "社区") {
		out = append(out, s+"村")
	}
	return out
}

func groupNames(s string) []string { return []string{s, s + "组", s + "村民小组"} }

// regionIndex holds the regions of the importer's subtree that the file names.
type regionIndex struct {
	byName map[string][]domain.Region
	byCode map[string]domain.Region
}

// find returns the regions of level that value names: by code, by exact
// name, or else by a name variant.
func (ix *regionIndex) find(value, level string, variants func(string) []string) []domain.Region {
	if regionCode.MatchString(value) {
		if reg, ok := ix.byCode[value]; ok && reg.Level == level {
			return []domain.Region{reg}
		}
		return nil
	}
	var exact, loose []domain.Region
	seen := map[uuid.UUID]bool{}
	for i, n := range variants(value) {
		for _, reg := range ix.byName[n] {
			if reg.Level != level || seen[reg.ID] {
				continue
			}
			seen[reg.ID] = true
			if i == 0 {
				exact = append(exact, reg)
			} else {
				loose = append(loose, reg)
			}
		}
	}
	if len(exact) > 0 {
		return exact
	}
	return loose
}

// placeKey is the region cells of a row.
// village is the 村代码 when the row has one; villageName is then the name
// the file gives beside it, for messages. groupCode is the 村民小组代码,
// which finds the group when the row has it.
type placeKey struct{ county, town, village, group, villageName, groupCode string }

// villageText names the village of k as the file does: by its name, with
// the code when the row gives one ("新华村（村代码410122100203）").
func (r *run) villageText(k placeKey) string {
	if k.villageName != "" && k.villageName != k.village && regionCode.MatchString(k.village) {
		return fmt.Sprintf("%s（%s%s）", k.villageName, r.head(colVillageCode), k.village)
	}
	return k.village
}

type placeResult struct {
	village, group *domain.Region
	// groupMissing: the row names a village group its village does not have.
	groupMissing bool
	errCol       col
	reason       string
	msg, msgZH   string
	warnZH, warn string
}

// resolveRegions looks up every village (and town, county, group) the file
// names, within the actor's region subtree, and sets each row's village.
func (r *run) resolveRegions() error {
	names, codes := map[string]bool{}, map[string]bool{}
	add := func(v string, variants func(string) []string) {
		if v == "" {
			return
		}
		if regionCode.MatchString(v) {
			codes[v] = true
			return
		}
		for _, n := range variants(v) {
			names[n] = true
		}
	}
	for _, rw := range r.rows {
		add(rw.val[colCounty], countyNames)
		add(rw.val[colTown], townNames)
		add(rw.val[colVillage], villageNames)
		add(rw.val[colVillageCode], villageNames)
		add(rw.val[colGroup], groupNames)
		add(rw.val[colGroupCode], groupNames)
	}
	// The importer's subtree, and the regions above it: a town
	// supervisor's export names its county, and re-importing it must find
	// that county (its villages still have to lie in the town). One read of
	// the whole tree, kept to those two.
	own, within := r.opt.Actor.RegionPath, r.opt.Actor.RegionPath
	if own != "" {
		within = "/"
	}
	regions, err := r.store.ImportRegions(r.ctx, within, keys(names), keys(codes))
	if err != nil {
		return err
	}
	regions = slices.DeleteFunc(regions, func(reg domain.Region) bool {
		return !strings.HasPrefix(reg.Path, own) && !strings.HasPrefix(own, reg.Path)
	})
	ix := &regionIndex{byName: map[string][]domain.Region{}, byCode: map[string]domain.Region{}}
	for _, reg := range regions {
		ix.byName[reg.Name] = append(ix.byName[reg.Name], reg)
		ix.byCode[reg.Code] = reg
	}
	cache := map[placeKey]placeResult{}
	warned := map[placeKey]bool{}
	var missing []*placeRequest
	var newGroups []*row // rows whose village group create_regions makes, from its code
	for _, rw := range r.rows {
		if rw.val[colVillage] == "" {
			continue
		}
		// The village's code, when the sheet has it, finds the village; its
		// name must then agree.
		village := rw.val[colVillage]
		if code := rw.val[colVillageCode]; code != "" {
			village = code
		}
		k := placeKey{rw.val[colCounty], rw.val[colTown], village, rw.val[colGroup], rw.val[colVillage], rw.val[colGroupCode]}
		res, ok := cache[k]
		if !ok {
			res = r.resolvePlace(ix, k)
			if v := res.village; v != nil && village != rw.val[colVillage] && !regionCode.MatchString(rw.val[colVillage]) &&
				!sameRegionName(v.Name, rw.val[colVillage], domain.LevelVillage) {
				res = placeResult{errCol: colVillage, reason: "inconsistent",
					msg:   fmt.Sprintf("village code %s is %q in the register, the file says %q", v.Code, v.Name, rw.val[colVillage]),
					msgZH: fmt.Sprintf("%s%s在系统中为「%s」，文件中为「%s」", r.head(colVillageCode), v.Code, v.Name, rw.val[colVillage])}
			}
			cache[k] = res
		}
		if res.village == nil && res.reason == "unknown_region" && res.errCol == colVillage && r.opt.CreateRegions {
			q := &placeRequest{row: rw, deepest: len(treeLevels) - 1}
			for i, lv := range treeLevels {
				q.names[i], q.codes[i] = rw.val[lv.name], rw.val[lv.code]
			}
			if regionCode.MatchString(q.names[q.deepest]) {
				q.codes[q.deepest], q.names[q.deepest] = q.names[q.deepest], ""
			}
			missing = append(missing, q)
			if k.group != "" || k.groupCode != "" {
				newGroups = append(newGroups, rw) // a new village has no groups yet
			}
			continue
		}
		if res.village == nil {
			r.fail(rw, res.errCol, res.reason, res.msg, res.msgZH)
			continue
		}
		rw.village, rw.group = res.village, res.group
		if res.groupMissing && r.opt.CreateRegions && k.groupCode != "" {
			newGroups = append(newGroups, rw)
			continue
		}
		if res.warnZH != "" && !warned[k] {
			warned[k] = true
			r.warn(rw.num, colGroup, "unknown_group", res.warn, res.warnZH)
		}
	}
	if err := r.createMissingRegions(missing, newGroups); err != nil {
		return err
	}
	r.markVillages()
	return nil
}

// markVillages takes a household sheet's 是否贫困村 (the register export
// writes it) for the villages create_regions creates: the first row that
// marks a new village sets its mark. A household import does not change
// the mark of a village that exists, nor the one an earlier row gave a new
// village: a row that contradicts it is warned of, once per village, and
// the mark stays as it was.
func (r *run) markVillages() {
	markedBy := map[string]int{} // a new village's code → the row that marked it
	warned := map[string]bool{}
	for _, rw := range r.rows {
		v, poor := rw.village, rw.poorVillage
		if v == nil || poor == nil || rw.bad {
			continue
		}
		isNew := r.tree != nil && r.tree.created[v.Code] == v
		first, marked := markedBy[v.Code]
		if isNew && !marked {
			v.IsPoorVillage, markedBy[v.Code] = *poor, rw.num
			continue
		}
		if v.IsPoorVillage == *poor || warned[v.Code] {
			continue
		}
		warned[v.Code] = true
		now, nowEN := "非贫困村", "not a poor village"
		if v.IsPoorVillage {
			now, nowEN = "贫困村", "a poor village"
		}
		given := rw.val[colPoorVillage]
		if isNew {
			r.warn(rw.num, colPoorVillage, "poor_village_not_applied",
				fmt.Sprintf("row %d makes the new village %s %s, this row says %q; the first row's mark is kept", first, v.Name, nowEN, given),
				fmt.Sprintf("第%d行将新建的「%s」标为%s，本行%s为「%s」；以第%d行为准", first, v.Name, now, r.head(colPoorVillage), given, first))
			continue
		}
		r.warn(rw.num, colPoorVillage, "poor_village_not_applied",
			fmt.Sprintf("village %s is %s in the register, the file says %q; a household import does not change the mark (import a region sheet or edit the region)", v.Name, nowEN, given),
			fmt.Sprintf("系统中「%s」为%s，文件中%s为「%s」；导入户信息不修改贫困村标识（请导入行政区划表或在区划管理中修改），该村的标识未变", v.Name, now, r.head(colPoorVillage), given))
	}
}

// createMissingRegions plans, with Options.CreateRegions, the villages (and
// towns, counties and cities) a household sheet names that do not exist,
// from the codes it gives, and then the village groups, from theirs.
func (r *run) createMissingRegions(missing []*placeRequest, groups []*row) error {
	if len(missing) == 0 && len(groups) == 0 {
		return nil
	}
	groupCodes := make([]string, 0, len(groups))
	for _, rw := range groups {
		if c := strings.TrimSpace(rw.val[colGroupCode]); c != "" {
			groupCodes = append(groupCodes, c)
		}
	}
	t, err := r.newTree(missing, groupCodes)
	if err != nil {
		return err
	}
	for _, q := range missing {
		if v := t.resolve(q); v != nil {
			q.row.village = v
		}
	}
	t.reportRefusals()
	for _, rw := range groups {
		if rw.village != nil {
			rw.group = t.group(rw)
		}
	}
	r.tree = t
	return nil
}

func (r *run) resolvePlace(ix *regionIndex, k placeKey) placeResult {
	unknown := func(c col, v string) placeResult {
		return placeResult{errCol: c, reason: "unknown_region",
			msg: fmt.Sprintf("%s %q is not in your region tree (import the region sheet first, or create it with create_regions and its code in %s)",
				columns[c].en, v, columns[colVillageCode].zh),
			msgZH: fmt.Sprintf("%s「%s」不存在或不在您管辖的行政区划内（请先导入行政区划表，或在%s列填写代码并选择自动创建区划）",
				r.head(c), v, columns[colVillageCode].zh)}
	}
	villages := ix.find(k.village, domain.LevelVillage, villageNames)
	if len(villages) == 0 {
		return unknown(colVillage, r.villageText(k))
	}
	if k.town != "" {
		towns := ix.find(k.town, domain.LevelTown, townNames)
		if len(towns) == 0 {
			return unknown(colTown, k.town)
		}
		villages = filterRegions(villages, func(v domain.Region) bool {
			for _, t := range towns {
				if v.ParentID != nil && *v.ParentID == t.ID {
					return true
				}
			}
			return false
		})
		if len(villages) == 0 {
			return placeResult{errCol: colVillage, reason: "unknown_region",
				msg:   fmt.Sprintf("village %q is not in town %q", r.villageText(k), k.town),
				msgZH: fmt.Sprintf("%s「%s」下没有%s「%s」", r.head(colTown), k.town, r.head(colVillage), r.villageText(k))}
		}
	}
	if k.county != "" {
		counties := ix.find(k.county, domain.LevelCounty, countyNames)
		if len(counties) == 0 {
			return unknown(colCounty, k.county)
		}
		villages = filterRegions(villages, func(v domain.Region) bool {
			for _, c := range counties {
				if v.CountyID != nil && *v.CountyID == c.ID {
					return true
				}
			}
			return false
		})
		if len(villages) == 0 {
			return placeResult{errCol: colVillage, reason: "unknown_region",
				msg:   fmt.Sprintf("village %q is not in county %q", r.villageText(k), k.county),
				msgZH: fmt.Sprintf("%s「%s」下没有%s「%s」", r.head(colCounty), k.county, r.head(colVillage), r.villageText(k))}
		}
	}
	if len(villages) > 1 {
		return placeResult{errCol: colVillage, reason: "ambiguous_region",
			msg:   fmt.Sprintf("%d villages are named %q; fill in the town or use the 12-digit village code", len(villages), k.village),
			msgZH: fmt.Sprintf("有%d个名为「%s」的村，请填写%s或使用12位村级区划代码", len(villages), k.village, columns[colTown].zh)}
	}
	v := villages[0]
	if v.CountyID == nil {
		return unknown(colVillage, r.villageText(k))
	}
	res := placeResult{village: &v}
	if k.group != "" || k.groupCode != "" {
		group := k.group
		if k.groupCode != "" {
			group = k.groupCode
		}
		groups := filterRegions(ix.find(group, domain.LevelGroup, groupNames), func(g domain.Region) bool {
			return g.ParentID != nil && *g.ParentID == v.ID
		})
		if len(groups) == 1 {
			res.group = &groups[0]
		} else {
			res.groupMissing = true
			res.warn, res.warnZH = r.unknownGroup(k.group, k.groupCode, v.Name)
		}
	}
	return res
}

func filterRegions(rs []domain.Region, keep func(domain.Region) bool) []domain.Region {
	var out []domain.Region
	for _, reg := range rs {
		if keep(reg) {
			out = append(out, reg)
		}
	}
	return out
}

// countyPath cuts a region path down to the county's ("/p/c/county/").
func countyPath(path string, county uuid.UUID) string {
	seg := "/" + county.String() + "/"
	if i := strings.Index(path, seg); i >= 0 {
		return path[:i+len(seg)]
	}
	return path
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// unknownGroup is the warning for a village group its village does not
// have: the household is filed under the village.
func (r *run) unknownGroup(name, code, village string) (msg, msgZH string) {
	if name == "" {
		name = code
	}
	return fmt.Sprintf("village group %q is not in the region tree under %s; the household is filed under the village", name, village),
		fmt.Sprintf("%s「%s」不在%s的行政区划中，该户登记在行政村下", r.head(colGroup), name, village)
}
