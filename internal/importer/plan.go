package importer

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// existing indexes what storage returned for the file's natural keys.
type existing struct {
	byNumber  map[string]*StoredHousehold // county|number
	byID      map[uuid.UUID]*StoredHousehold
	byHead    map[string][]*StoredHousehold // county|head name, of households without a number
	memberBy  map[string]domain.Member      // county|id number
	membersOf map[uuid.UUID][]domain.Member
	pairings  map[uuid.UUID][]domain.Pairing
}

func countyKey(county uuid.UUID, s string) string { return county.String() + "|" + s }

// matchExisting finds the stored household of each household in the file
// (by 户编号 in its county, else by the head's 身份证号) and the stored member
// of each row (by 身份证号 in the county, else by name in the household).
func (r *run) matchExisting() error {
	lookups := map[uuid.UUID]*Lookup{}
	var order []uuid.UUID
	for _, hh := range r.hhs {
		county := hh.countyID()
		if county == uuid.Nil {
			continue
		}
		l := lookups[county]
		if l == nil {
			l = &Lookup{CountyID: county}
			lookups[county] = l
			order = append(order, county)
		}
		if n := hh.val[colNumber]; n != "" {
			l.Numbers = append(l.Numbers, n)
		} else if hh.unkeyed() {
			l.HeadNames = append(l.HeadNames, hh.val[colHeadName])
		}
		for _, rw := range hh.rows {
			if rw.idNumber != "" {
				l.IDNumbers = append(l.IDNumbers, rw.idNumber)
			}
		}
	}
	if len(order) == 0 {
		return nil
	}
	ls := make([]Lookup, len(order))
	for i, c := range order {
		ls[i] = *lookups[c]
	}
	found, err := r.store.ImportExisting(r.ctx, ls)
	if err != nil {
		return err
	}
	ex := &existing{byNumber: map[string]*StoredHousehold{}, byID: map[uuid.UUID]*StoredHousehold{}, byHead: map[string][]*StoredHousehold{},
		memberBy: map[string]domain.Member{}, membersOf: map[uuid.UUID][]domain.Member{}, pairings: map[uuid.UUID][]domain.Pairing{}}
	for i := range found.Households {
		h := &found.Households[i]
		ex.byID[h.Household.ID] = h
		if h.Household.Number != "" {
			ex.byNumber[countyKey(h.Household.CountyID, h.Household.Number)] = h
		} else {
			k := countyKey(h.Household.CountyID, h.Household.HeadName)
			ex.byHead[k] = append(ex.byHead[k], h)
		}
	}
	for _, m := range found.Members {
		ex.membersOf[m.HouseholdID] = append(ex.membersOf[m.HouseholdID], m)
		if m.IDNumber != "" {
			ex.memberBy[countyKey(m.CountyID, m.IDNumber)] = m
		}
	}
	for _, p := range found.OpenPairings {
		ex.pairings[p.HouseholdID] = append(ex.pairings[p.HouseholdID], p)
	}
	r.ex = ex

	claimed := map[uuid.UUID]*household{}
	var hits []foreignHit
	for _, hh := range r.hhs {
		county := hh.countyID()
		if county == uuid.Nil {
			continue
		}
		var h *StoredHousehold
		number := hh.val[colNumber]
		if number != "" {
			h = ex.byNumber[countyKey(county, number)]
			if h != nil && !r.opt.Actor.InSubtree(h.RegionPath) {
				hits = append(hits, foreignHit{row: hh.at(colNumber), c: colNumber, value: number, stored: h})
				h = nil
				number = "" // taken elsewhere: not a key to match by
			}
		}
		if h == nil && hh.val[colNumber] == number && hh.head != nil && hh.head.idNumber != "" {
			if m, ok := ex.memberBy[countyKey(county, hh.head.idNumber)]; ok && m.Relation == "head" {
				// A head registered outside the importer's subtree is
				// reported on the head's row below, like any other member.
				if found := ex.byID[m.HouseholdID]; found != nil && r.opt.Actor.InSubtree(found.RegionPath) {
					h = found
					if number != "" && h.Household.Number != "" && h.Household.Number != number {
						r.fail(hh.at(colNumber), colNumber, "number_mismatch",
							fmt.Sprintf("this head of household is registered under household number %q", h.Household.Number),
							fmt.Sprintf("该户主已登记在%s为「%s」的农户中，与本行不一致", r.head(colNumber), h.Household.Number))
					}
				}
			}
		}
		if h == nil && hh.unkeyed() {
			h = r.matchByHead(hh, county)
		}
		if h != nil {
			if other := claimed[h.Household.ID]; other != nil {
				r.fail(hh.first(), colHeadName, "same_household", fmt.Sprintf("this is the same registered household as row %d", other.first().num),
					fmt.Sprintf("该户与第%d行的户是系统中的同一户", other.first().num))
			}
			claimed[h.Household.ID] = hh
			hh.existing = h
		}
		used := map[uuid.UUID]bool{}
		for _, rw := range hh.rows {
			if rw.idNumber != "" {
				if m, ok := ex.memberBy[countyKey(county, rw.idNumber)]; ok {
					if stored := ex.byID[m.HouseholdID]; stored == nil || !r.opt.Actor.InSubtree(stored.RegionPath) {
						hits = append(hits, foreignHit{row: rw, c: colIDNumber, value: rw.idNumber, stored: stored})
						continue
					}
					if h == nil || m.HouseholdID != h.Household.ID {
						stored := ex.byID[m.HouseholdID].Household
						r.fail(rw, colIDNumber, "registered_elsewhere",
							fmt.Sprintf("a person with this ID number is registered in another household (head %s, number %q)", stored.HeadName, stored.Number),
							fmt.Sprintf("该身份证号已登记在户主为「%s」的农户中%s；成员迁移请在系统中办理", stored.HeadName, numberNote(r.head(colNumber), stored.Number)))
						continue
					}
					rw.member = &m
					used[m.ID] = true
					continue
				}
			}
			if h == nil {
				continue
			}
			for _, m := range ex.membersOf[h.Household.ID] {
				if !used[m.ID] && m.Name == rw.val[colName] && (m.IDNumber == "" || rw.idNumber == "") {
					rw.member = &m
					used[m.ID] = true
					break
				}
			}
		}
		if h == nil {
			r.checkNewStatus(hh)
		}
	}
	return r.reportForeign(hits)
}

// matchByHead finds the stored household of a household the file gives no
// key (household.unkeyed: no 户编号, and no head's 身份证号 — no members,
// no head among them, or a head without a number): the one household of
// its village with that head and no number either, which is how the export
// writes a household registered without both. Two such households cannot
// be told apart: the row is refused, asking for the 户编号.
func (r *run) matchByHead(hh *household, county uuid.UUID) *StoredHousehold {
	var found []*StoredHousehold
	for _, h := range r.ex.byHead[countyKey(county, hh.val[colHeadName])] {
		if h.Household.VillageID == hh.village.ID && r.opt.Actor.InSubtree(h.RegionPath) {
			found = append(found, h)
		}
	}
	if len(found) > 1 {
		r.fail(hh.first(), colHeadName, "ambiguous",
			fmt.Sprintf("%d households of this village headed by %s have no household number; give the household number", len(found), hh.val[colHeadName]),
			fmt.Sprintf("本村有%d户户主为「%s」且没有%s的农户，无法确定是哪一户；请填写%s", len(found), hh.val[colHeadName], r.head(colNumber), r.head(colNumber)))
		return nil
	}
	if len(found) == 1 {
		return found[0]
	}
	return nil
}

// numberNote names a stored household's number, when it has one.
func numberNote(heading, number string) string {
	if number == "" {
		return ""
	}
	return fmt.Sprintf("（%s「%s」）", heading, number)
}

// foreignHit is a 身份证号 or 户编号 of the file that the county's register
// holds outside the importer's region subtree.
type foreignHit struct {
	row    *row
	c      col    // colIDNumber or colNumber
	value  string // the ID number or household number of the file
	stored *StoredHousehold
}

// DefaultMaxForeignHits is how many of the file's 身份证号 and 户编号 one
// import may find registered outside the importer's region subtree before
// the whole file is refused (Options.MaxForeignHits overrides it).
//
// An ID number registered elsewhere in the county must still block its
// household: the register holds a person once (members are unique by
// county and 身份证号). But the answer is an oracle: a town's supervisor
// could upload arbitrary numbers as a dry run and learn who in the other
// towns is a registered poor household member. So, for a key registered
// outside the importer's subtree:
//
//   - the problem says only that it is registered in another region and to
//     check with the county ("该身份证号已在其他地区登记，请与县级管理员核实"),
//     with one reason code whatever was found (member or head, which
//     region, household, name): the household is treated as new
//     otherwise, so nothing else in the report differs either;
//   - every hit is written to the audit log, dry run or not, before the
//     report is returned (no report without its audit entries): actor,
//     import, file, row, column, the masked ID number and the household
//     found, placed at the region holding both the importer and that
//     household (the county), so the county's admins see it and the
//     importer's own subtree does not;
//   - past MaxForeignHits hits the import is refused as a whole with one
//     problem naming no row, so such a file answers no more than "more
//     than five". Five because a town's genuine sheet has at most the odd
//     person who moved in from another town, each of whom needs a call to
//     the county anyway; more means the wrong town's sheet or a list of
//     numbers being checked. The limit is per import: a list split into
//     files of five still gets its answers, but every file leaves its hits
//     at the county (a daily budget per user would count those entries).
//
// Keys in the importer's own subtree get the specific messages (which
// household, its head and number): the importer may read those anyway.
const DefaultMaxForeignHits = 5

// maxAuditedHits caps the audit entries one import writes, one per hit;
// past it one more entry counts the rest.
const maxAuditedHits = 100

// reportForeign audits the hits and reports them (DefaultMaxForeignHits).
func (r *run) reportForeign(hits []foreignHit) error {
	if len(hits) == 0 {
		return nil
	}
	refused := len(hits) > r.opt.MaxForeignHits
	if err := r.auditForeign(hits, refused); err != nil {
		return err
	}
	if refused {
		r.fail(nil, colIDNumber, "too_many_registered_elsewhere",
			fmt.Sprintf("more than %d ID numbers or household numbers of this file are registered in other regions; the import was refused and recorded; check with the county administrator", r.opt.MaxForeignHits),
			fmt.Sprintf("本文件中有超过%d个身份证号或户编号已在其他地区登记，导入已被拒绝并记录备查；请与县级管理员核实", r.opt.MaxForeignHits))
		return nil
	}
	for _, hit := range hits {
		if hit.c == colNumber {
			r.fail(hit.row, colNumber, "registered_elsewhere_region", "this household number is registered in another region; check with the county administrator",
				"该户编号已在其他地区登记，请与县级管理员核实")
			continue
		}
		r.fail(hit.row, colIDNumber, "registered_elsewhere_region", "this ID number is registered in another region; check with the county administrator",
			"该身份证号已在其他地区登记，请与县级管理员核实")
	}
	return nil
}

// auditForeign writes one audit entry per hit (at most maxAuditedHits, and
// one counting the rest).
func (r *run) auditForeign(hits []foreignHit, refused bool) error {
	var actorID *uuid.UUID
	if a := r.opt.Actor.UserID; a != uuid.Nil {
		actorID = &a
	}
	entry := func(detail map[string]any, stored *StoredHousehold) domain.AuditEntry {
		detail["import_id"] = r.rep.ImportID.String()
		detail["source"] = r.opt.Source
		detail["dry_run"] = r.opt.DryRun
		detail["refused"] = refused
		e := domain.AuditEntry{ActorID: actorID, ActorName: r.opt.Actor.Username, Action: "import_registered_elsewhere", ObjectType: "import",
			ObjectID: r.rep.ImportID.String(), RegionPath: r.opt.Actor.RegionPath, RequestID: r.opt.Actor.RequestID, Detail: detail}
		if stored != nil {
			id := stored.Household.ID
			e.HouseholdID = &id
			e.RegionPath = commonPath(r.opt.Actor.RegionPath, stored.RegionPath)
		}
		return e
	}
	for i, hit := range hits {
		if i == maxAuditedHits {
			d := map[string]any{"hits": len(hits), "not_listed": len(hits) - maxAuditedHits}
			return r.store.Audit(r.ctx, entry(d, nil))
		}
		d := map[string]any{"row": hit.row.num, "column": r.head(hit.c)}
		if hit.c == colIDNumber {
			d["id_number"] = domain.MaskIDNumber(hit.value)
		} else {
			d["household_number"] = hit.value
		}
		if err := r.store.Audit(r.ctx, entry(d, hit.stored)); err != nil {
			return err
		}
	}
	return nil
}

// commonPath is the deepest region path both a and b lie in ("/" for none).
func commonPath(a, b string) string {
	as, bs := strings.Split(strings.Trim(a, "/"), "/"), strings.Split(strings.Trim(b, "/"), "/")
	out := "/"
	for i := 0; i < len(as) && i < len(bs) && as[i] == bs[i] && as[i] != ""; i++ {
		out += as[i] + "/"
	}
	return out
}

// checkNewStatus checks the status of a household the import creates, as
// domain.ValidateOpeningStatus does for any status the county's register
// holds (relapsed and removed too): registered when a poverty type is given
// and no status, else general; an exit needs the year; registered, exited
// and relapsed need the poverty type; a relapse its 返贫原因 and a removal
// its 清退原因, which go with those statuses only.
func (r *run) checkNewStatus(hh *household) {
	if hh.status == "" {
		if hh.val[colStatus] != "" {
			return // the label was not understood; already reported
		}
		hh.status = domain.StatusGeneral
		if hh.povertyType != "" {
			hh.status = domain.StatusRegistered
		}
	}
	if hh.val[colRelapseCause] != "" && hh.relapseCause == "" {
		return // the cause was not understood; already reported
	}
	label, _ := domain.Statuses.Label(hh.status)
	if hh.removalReason != "" && hh.status != domain.StatusRemoved {
		r.fail(hh.at(colRemovalReason), colRemovalReason, "not_allowed", "a removal reason goes with status removed (清退) only",
			fmt.Sprintf("「%s」的农户不填写%s；只有清退户填写", label, r.head(colRemovalReason)))
	}
	err := domain.ValidateOpeningStatus(hh.status, hh.exitYear, hh.povertyType, hh.relapseCause, hh.removalReason, r.opt.Today)
	de, ok := err.(*domain.Error)
	if !ok {
		return
	}
	for _, fe := range de.Fields {
		switch fe.Field {
		case "/status":
			r.fail(hh.at(colStatus), colStatus, fe.Reason, "household status: "+fe.Message, fe.MessageZH)
		case "/exit_year":
			r.fail(hh.at(colExitYear), colExitYear, fe.Reason, "exit year: "+fe.Message, fe.MessageZH)
		case "/poverty_type":
			r.fail(hh.at(colPovertyType), colPovertyType, fe.Reason, "a registered, exited or relapsed household needs its poverty type",
				fmt.Sprintf("「%s」的农户必须填写%s", label, r.head(colPovertyType)))
		case "/cause":
			if fe.Reason == "required" {
				r.fail(hh.at(colRelapseCause), colRelapseCause, fe.Reason, "a relapsed household needs its relapse cause",
					fmt.Sprintf("「%s」的农户必须填写%s（%s）", label, r.head(colRelapseCause), labels(domain.RelapseCauses)))
			} else {
				r.fail(hh.at(colRelapseCause), colRelapseCause, fe.Reason, "a relapse cause goes with status relapsed (返贫) only",
					fmt.Sprintf("「%s」的农户不填写%s；只有返贫户填写", label, r.head(colRelapseCause)))
			}
		case "/reason":
			// Only a removal needs it (its length the column bounds).
			r.fail(hh.at(colRemovalReason), colRemovalReason, fe.Reason, "a removed household needs the reason it was removed",
				fmt.Sprintf("「%s」的农户必须填写%s", label, r.head(colRemovalReason)))
		}
	}
}

// details are the member fields of a row over the stored ones (nil for a new
// member): empty cells keep what is stored.
func (rw *row) details(stored *domain.Member) domain.MemberDetails {
	var d domain.MemberDetails
	if stored != nil {
		d = domain.MemberDetails{Name: stored.Name, Relation: stored.Relation, IDNumber: stored.IDNumber, Health: stored.Health,
			Disability: stored.Disability, Education: stored.Education, Work: stored.Work, Phone: stored.Phone}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&d.Name, rw.val[colName])
	set(&d.Relation, rw.relation)
	set(&d.IDNumber, rw.idNumber)
	set(&d.Health, rw.health)
	set(&d.Disability, rw.disability)
	set(&d.Education, rw.education)
	set(&d.Work, rw.work)
	set(&d.Phone, rw.phone)
	return d
}

func sameMember(a, b domain.Member) bool {
	sameBirth := (a.BirthDate == nil) == (b.BirthDate == nil) && (a.BirthDate == nil || *a.BirthDate == *b.BirthDate)
	return a.Name == b.Name && a.Relation == b.Relation && a.IDNumber == b.IDNumber && a.Gender == b.Gender && sameBirth &&
		a.Health == b.Health && a.Disability == b.Disability && a.Education == b.Education && a.Work == b.Work && a.Phone == b.Phone
}

// apply plans the writes for the households that are imported and hands the
// plan to storage in one transaction.
func (r *run) apply() error {
	write := !r.fatal && (r.rep.OK() || r.opt.AllowPartial)
	var plan Plan
	for _, hh := range r.hhs {
		if !write || hh.bad() || hh.village == nil {
			r.rep.Households.Skipped++
			r.rep.Members.Skipped += len(hh.memberRows())
			if hh.val[colCadre] != "" || hh.val[colCadreAccount] != "" {
				r.rep.Pairings.Skipped++
			}
			continue
		}
		if hh.existing == nil {
			r.planNew(&plan, hh)
		} else {
			r.planExisting(&plan, hh)
		}
	}
	r.countCadres(&plan)
	r.planRegions(&plan, write)
	if !write {
		r.progress(r.total)
		return nil
	}
	return r.write(plan)
}

// planRegions adds the regions a household sheet creates to the plan: those
// on the way to a village of a household that is written.
func (r *run) planRegions(plan *Plan, write bool) {
	if r.tree == nil {
		return
	}
	used := map[string]bool{}
	for _, hh := range plan.Households {
		used[hh.RegionPath] = true
	}
	needed := func(reg *domain.Region) bool {
		for path := range used {
			if strings.HasPrefix(path, reg.Path) {
				return true
			}
		}
		return false
	}
	for _, reg := range r.tree.order {
		if write && needed(reg) {
			plan.Regions = append(plan.Regions, *reg)
			r.rep.Regions.Created++
		} else {
			r.rep.Regions.Skipped++
		}
	}
	// Written, the report lists what was created (or, in a dry run, would
	// be); stopped by errors, what the file would create once they are
	// put right, so that the admin checks the new villages in the same pass.
	for _, n := range r.tree.notes {
		if reg := r.tree.created[n.Code]; reg != nil && (!write || needed(reg)) {
			r.rep.NewRegions = append(r.rep.NewRegions, n)
		}
	}
}

// write hands a plan to storage in one transaction with its audit entry
// (a dry run writes nothing) and marks the report applied.
func (r *run) write(plan Plan) error {
	if r.opt.DryRun {
		r.progress(r.total)
		return nil
	}
	if n := plan.Len(); n > 0 {
		rows := len(r.rows)
		plan.Progress = func(done int) { r.progress(rows + done*rows/n) }
		var actorID *uuid.UUID
		if a := r.opt.Actor.UserID; a != uuid.Nil {
			actorID = &a
		}
		plan.Audit = domain.AuditEntry{ActorID: actorID, ActorName: r.opt.Actor.Username, Action: "import", ObjectType: r.rep.Kind,
			ObjectID: r.rep.ImportID.String(), RegionPath: r.opt.Actor.RegionPath, RequestID: r.opt.Actor.RequestID,
			Detail: map[string]any{
				"source": r.opt.Source, "format": r.rep.Format, "rows": r.rep.Rows, "partial": !r.rep.OK(),
				"households": r.rep.Households, "members": r.rep.Members, "cadres": r.rep.Cadres,
				"units": r.rep.Units, "pairings": r.rep.Pairings, "regions": r.rep.Regions, "errors": len(r.rep.Errors) + r.rep.ErrorsOmitted,
			}}
		if err := r.store.ApplyImport(r.ctx, plan); err != nil {
			return err
		}
	}
	r.rep.Applied = true
	r.progress(r.total)
	return nil
}

func (r *run) planNew(plan *Plan, hh *household) {
	v := hh.village
	regionID, path := v.ID, v.Path
	if hh.group != nil {
		regionID, path = hh.group.ID, hh.group.Path
	}
	h := domain.Household{ID: uuid.New(), CountyID: hh.countyID(), RegionID: regionID, VillageID: v.ID,
		HouseholdDetails: domain.HouseholdDetails{Number: hh.val[colNumber], HeadName: hh.val[colHeadName], Address: hh.val[colAddress],
			Phone: hh.phone, Causes: hh.causes},
		PovertyType: hh.povertyType, Status: hh.status, DeclaredSize: hh.declaredSize, Version: 1, CreatedAt: r.now, UpdatedAt: r.now}
	if hh.status == domain.StatusExited {
		h.ExitYear = hh.exitYear
	}
	// 建档年份, which the export writes. Without it the year stays unknown:
	// a register imported years after its households were registered
	// would otherwise date them all to the import, and flag as 走访日期早于
	// 建档时间 every visit of the years between.
	h.RegisteredYear = hh.registeredYear
	plan.Households = append(plan.Households, NewHousehold{Household: h, RegionPath: path})
	r.rep.Households.Created++
	if hh.headless {
		r.warn(hh.first().num, colRelation, "no_head", "none of the household's members is its head (户主); it is registered so, under its 户主姓名",
			fmt.Sprintf("该户成员中没有「与户主关系」为「户主」的人，已按%s「%s」登记；请核实户主", r.head(colHeadName), h.HeadName))
	}
	for _, rw := range hh.memberRows() {
		m := domain.Member{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, Version: 1, CreatedAt: r.now, UpdatedAt: r.now}
		m.Apply(rw.details(nil))
		plan.Members = append(plan.Members, m)
		r.rep.Members.Created++
	}
	// A removal keeps its reason as the status move into it does (the
	// export writes it back as 清退原因); a relapse its cause.
	reason := "导入"
	if h.Status == domain.StatusRemoved {
		reason = hh.removalReason
	}
	plan.StatusChanges = append(plan.StatusChanges, domain.StatusChange{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID,
		To: h.Status, ExitYear: h.ExitYear, EffectiveOn: r.opt.Today, Reason: reason, Cause: hh.relapseCause, ChangedBy: r.opt.Actor.UserID, RecordedAt: r.now})
	if h.PovertyType != "" {
		plan.PovertyTypeChanges = append(plan.PovertyTypeChanges, domain.PovertyTypeChange{ID: uuid.New(), HouseholdID: h.ID,
			CountyID: h.CountyID, To: h.PovertyType, EffectiveOn: r.opt.Today, Reason: "导入", ChangedBy: r.opt.Actor.UserID, RecordedAt: r.now})
	}
	r.planPairing(plan, hh, h, nil)
}

func (r *run) planExisting(plan *Plan, hh *household) {
	old := hh.existing.Household
	h := old
	if n := hh.val[colNumber]; n != "" {
		h.Number = n
	}
	h.HeadName = hh.val[colHeadName]
	if a := hh.val[colAddress]; a != "" {
		h.Address = a
	}
	if hh.phone != "" {
		h.Phone = hh.phone
	}
	if len(hh.causes) > 0 && !sameSet(h.Causes, hh.causes) {
		h.Causes = hh.causes
	}
	if hh.declaredSize != nil {
		h.DeclaredSize = hh.declaredSize
	}
	sizeChanged := (h.DeclaredSize == nil) != (old.DeclaredSize == nil) || h.DeclaredSize != nil && *h.DeclaredSize != *old.DeclaredSize
	if h.Number != old.Number || h.HeadName != old.HeadName || h.Address != old.Address || h.Phone != old.Phone || !sameSet(h.Causes, old.Causes) || sizeChanged {
		plan.HouseholdUpdates = append(plan.HouseholdUpdates, HouseholdFileUpdate{Household: h, ExpectedVersion: old.Version})
		r.rep.Households.Updated++
	} else {
		r.rep.Households.Unchanged++
	}
	r.warnNotApplied(hh, *hh.existing)

	matched := 0
	for _, rw := range hh.memberRows() {
		if rw.member == nil {
			m := domain.Member{ID: uuid.New(), HouseholdID: h.ID, CountyID: h.CountyID, Version: 1, CreatedAt: r.now, UpdatedAt: r.now}
			m.Apply(rw.details(nil))
			plan.Members = append(plan.Members, m)
			r.rep.Members.Created++
			continue
		}
		matched++
		m := *rw.member
		d := rw.details(rw.member)
		// An export without 家庭联系电话 wrote the household's phone on the
		// head's row when the head had none of their own (the importer reads
		// the household's phone from there): read back, it is the
		// household's, not the head's.
		if r.colIdx[colHouseholdPhone] < 0 && rw.member.Phone == "" && rw.phone != "" && rw.phone == old.Phone && rw.member.Relation == "head" {
			d.Phone = ""
		}
		m.Apply(d)
		if sameMember(m, *rw.member) {
			r.rep.Members.Unchanged++
			continue
		}
		plan.MemberUpdates = append(plan.MemberUpdates, MemberUpdate{Member: m, ExpectedVersion: rw.member.Version})
		r.rep.Members.Updated++
	}
	stored := len(r.ex.membersOf[old.ID])
	if r.householdRows() {
		// The sheet lists heads only: the other members stay as registered,
		// and a register that lists more of them than 家庭人口 says is told.
		if hh.declaredSize != nil && stored > 1 && stored != *hh.declaredSize {
			r.warn(hh.first().num, colSize, "size_differs", fmt.Sprintf("household size is %d but %d members are registered", *hh.declaredSize, stored),
				fmt.Sprintf("%s为%d，但系统中该户登记了%d名成员", r.head(colSize), *hh.declaredSize, stored))
		}
	} else if extra := stored - matched; extra > 0 {
		r.warn(hh.first().num, -1, "members_not_in_file", fmt.Sprintf("%d more members of this household are registered but not in the file; they were kept", extra),
			fmt.Sprintf("系统中该户还有%d名成员不在文件中，已保留未删除", extra))
	}
	r.planPairing(plan, hh, h, r.ex.pairings[old.ID])
}

// warnNotApplied reports the differences an import does not apply to a
// stored household: status, exit year and poverty type change through dated
// records, and a move to another village through its own procedure. A
// 返贫原因 or 清退原因 is the cause of a status change: a file that gives
// another than the one recorded is told so, cell by cell, as a status is.
func (r *run) warnNotApplied(hh *household, stored StoredHousehold) {
	old := stored.Household
	r.warnWhyNotApplied(hh, old, colRelapseCause, domain.StatusRelapsed, "relapse cause", hh.relapseCause, stored.RelapseCause, func(code string) string {
		l, _ := domain.RelapseCauses.Label(code)
		return l
	})
	r.warnWhyNotApplied(hh, old, colRemovalReason, domain.StatusRemoved, "removal reason", hh.removalReason, stored.RemovalReason, func(s string) string { return s })
	if hh.val[colStatus] != "" && hh.status != "" && hh.status != old.Status {
		now, _ := domain.Statuses.Label(old.Status)
		want, _ := domain.Statuses.Label(hh.status)
		r.warn(hh.at(colStatus).num, colStatus, "status_not_applied",
			fmt.Sprintf("the household is %s in the register, the file says %s; status changes are recorded with a date through the status change function, not by import", old.Status, hh.status),
			fmt.Sprintf("系统中该户为「%s」，文件中为「%s」；户类型变更须通过状态变更功能办理（需填写生效日期），导入不作修改", now, want))
	} else if hh.status == domain.StatusExited && old.Status == domain.StatusExited && hh.exitYear != nil && old.ExitYear != nil && *hh.exitYear != *old.ExitYear {
		r.warn(hh.at(colExitYear).num, colExitYear, "exit_year_not_applied",
			fmt.Sprintf("the register says the household exited in %d, the file says %d; not changed by import", *old.ExitYear, *hh.exitYear),
			fmt.Sprintf("系统中该户脱贫年度为%d，文件中为%d；导入不作修改", *old.ExitYear, *hh.exitYear))
	}
	if y := hh.registeredYear; y != nil && (old.RegisteredYear == nil || *y != *old.RegisteredYear) {
		now := "未记录"
		if old.RegisteredYear != nil {
			now = strconv.Itoa(*old.RegisteredYear)
		}
		r.warn(hh.at(colRegisteredYear).num, colRegisteredYear, "registered_year_not_applied",
			fmt.Sprintf("the register says the household was registered in %s, the file says %d; not changed by import", now, *y),
			fmt.Sprintf("系统中该户建档年份为%s，文件中为%d；建档年份随状态变更记录，导入不作修改", now, *y))
	}
	if hh.povertyType != "" && hh.povertyType != old.PovertyType {
		now, _ := domain.PovertyTypes.Label(old.PovertyType)
		want, _ := domain.PovertyTypes.Label(hh.povertyType)
		r.warn(hh.at(colPovertyType).num, colPovertyType, "poverty_type_not_applied",
			fmt.Sprintf("the register has poverty type %q, the file %q; poverty type changes are recorded with a date, not by import", old.PovertyType, hh.povertyType),
			fmt.Sprintf("系统中该户贫困户属性为「%s」，文件中为「%s」；属性变更须通过状态变更功能办理，导入不作修改", now, want))
	}
	regionID := hh.village.ID
	if hh.group != nil {
		regionID = hh.group.ID
	}
	if old.VillageID != hh.village.ID || (hh.group != nil && old.RegionID != regionID) {
		r.warn(hh.at(colVillage).num, colVillage, "region_not_applied",
			"the household is registered in another village or group; moving it is not done by import",
			"该户在系统中登记在其他村或村民小组；迁移不通过导入办理，未作修改")
	}
}

// warnWhyNotApplied warns when the file gives a stored household a cause
// (c: 返贫原因 or 清退原因, of the status it goes with) other than the one
// its status change recorded; file is the cause as read ("" when the cell
// is empty or was not understood, which is reported already), and the
// message quotes the cell as the file says it.
func (r *run) warnWhyNotApplied(hh *household, old domain.Household, c col, status, what, file, recorded string, label func(string) string) {
	if file == "" || file == recorded {
		return
	}
	now, en := "「"+label(recorded)+"」", fmt.Sprintf("%q", recorded)
	if old.Status != status {
		st, _ := domain.Statuses.Label(old.Status)
		now, en = "无（该户为「"+st+"」）", "none (the household is "+old.Status+")"
	} else if recorded == "" {
		now, en = "未记录", "not recorded"
	}
	r.warn(hh.at(c).num, c, strings.ReplaceAll(what, " ", "_")+"_not_applied",
		fmt.Sprintf("the register has %s %s, the file %q; it goes with a status change, which the household file records, not an import", what, en, file),
		fmt.Sprintf("系统中该户%s为%s，文件中为「%s」；状态变更请在户档案中办理，导入不改变已有户的状态", r.head(c), now, hh.val[c]))
}

// planPairing pairs the household with its 帮扶责任人 unless an open pairing
// already does.
func (r *run) planPairing(plan *Plan, hh *household, h domain.Household, open []domain.Pairing) {
	ref := hh.cadre
	if ref == nil || (ref.user == nil && ref.newUser == nil) {
		return
	}
	cadreID := ref.id()
	ref.used = true
	for _, p := range open {
		if p.CadreID == cadreID {
			r.rep.Pairings.Unchanged++
			return
		}
	}
	start := r.opt.Today
	if src := hh.src[colPairStart]; src != nil && src.pairStart != nil {
		start = *src.pairStart
	}
	plan.Pairings = append(plan.Pairings, domain.Pairing{ID: uuid.New(), CountyID: h.CountyID, HouseholdID: h.ID, CadreID: cadreID,
		StartOn: start, CreatedBy: r.opt.Actor.UserID, CreatedAt: r.now})
	r.rep.Pairings.Created++
}

// countCadres adds the cadres and units the written households need to the
// plan and counts them.
func (r *run) countCadres(plan *Plan) {
	seen := map[*cadreRef]bool{}
	units := map[*unitRef]bool{}
	for _, hh := range r.hhs {
		ref := hh.cadre
		if ref == nil || seen[ref] {
			continue
		}
		seen[ref] = true
		if !ref.used {
			r.rep.Cadres.Skipped++
			continue
		}
		if ref.newUser == nil {
			r.rep.Cadres.Unchanged++
			continue
		}
		plan.Users = append(plan.Users, *ref.newUser)
		r.rep.Cadres.Created++
		if u := ref.newUnit; u != nil && !units[u] {
			units[u] = true
			if u.isNew {
				plan.Units = append(plan.Units, u.unit)
				r.rep.Units.Created++
			} else {
				r.rep.Units.Unchanged++
			}
		}
	}
}
