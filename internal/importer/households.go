package importer

import (
	"fmt"
	"strconv"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// household is the rows of one household and what they say about it.
type household struct {
	rows []*row
	head *row
	val  [numCols]string // household cells, as the rows agree on them
	src  [numCols]*row   // the row each household cell was taken from

	village, group      *domain.Region
	povertyType, status string // status defaulted for a new household
	relapseCause        string // 返贫原因
	removalReason       string // 清退原因
	exitYear            *int
	registeredYear      *int // 建档年份
	causes              []string
	phone               string
	cadre               *cadreRef
	existing            *StoredHousehold
	declaredSize        *int // 家庭人口 of a one-row-per-household sheet
	// memberless: the household is one row that lists no member, as the
	// export writes a household registered without members (or whose
	// members were all removed). It is written without members.
	memberless bool
	// headless: the household lists members and none is its head.
	headless bool
}

// unkeyed reports whether the file gives the household neither a 户编号
// nor a head's 身份证号: it is known by its village and 户主姓名 alone, as
// the export writes a household registered without both.
func (h *household) unkeyed() bool {
	return h.val[colNumber] == "" && (h.head == nil || h.head.idNumber == "")
}

// memberRows are the rows of the household that list a member.
func (h *household) memberRows() []*row {
	if h.memberless {
		return nil
	}
	return h.rows
}

// bad reports whether any row of the household has an error.
func (h *household) bad() bool {
	for _, rw := range h.rows {
		if rw.bad {
			return true
		}
	}
	return false
}

// first is the row household-level errors are reported on: the head's row,
// or the household's first row.
func (h *household) first() *row {
	if h.head != nil {
		return h.head
	}
	return h.rows[0]
}

// at is the row a household cell came from (first() when the cell is empty).
func (h *household) at(c col) *row {
	if h.src[c] != nil {
		return h.src[c]
	}
	return h.first()
}

func (h *household) countyID() uuid.UUID {
	if h.village == nil || h.village.CountyID == nil {
		return uuid.Nil
	}
	return *h.village.CountyID
}

// groupHouseholds puts rows into households: by 户编号 when a row has one,
// else by village, head name and the head's ID number (a member row takes the
// head row nearest above it with that village and head name, or the first
// below it).
func (r *run) groupHouseholds() {
	type headKey struct{ place, name string }
	place := func(rw *row) string {
		if rw.village != nil {
			return rw.village.ID.String()
		}
		return "?" + rw.val[colCounty] + "\x00" + rw.val[colTown] + "\x00" + rw.val[colVillage]
	}
	headID := func(h *row) string {
		if h.idNumber != "" {
			return h.idNumber
		}
		return "row" + strconv.Itoa(h.num)
	}
	heads := map[headKey][]*row{}
	unnumbered := map[headKey]int{} // rows without 户编号, by village and head
	for _, rw := range r.rows {
		if rw.val[colNumber] != "" {
			continue
		}
		k := headKey{place(rw), rw.val[colHeadName]}
		unnumbered[k]++
		if rw.relation == "head" {
			heads[k] = append(heads[k], rw)
		}
	}
	byKey := map[string]*household{}
	numbered := map[string]*row{}
	for _, rw := range r.rows {
		var key string
		if r.householdRows() {
			// Every row is a household of its own; a 户编号 given twice is a
			// mistake, not a household spread over two rows.
			key = "r\x00" + strconv.Itoa(rw.num)
			if n := rw.val[colNumber]; n != "" {
				if first := numbered[n]; first != nil {
					r.fail(rw, colNumber, "duplicate", fmt.Sprintf("the same household number is on row %d", first.num),
						fmt.Sprintf("%s与第%d行重复", r.head(colNumber), first.num))
				} else {
					numbered[n] = rw
				}
			}
		} else if n := rw.val[colNumber]; n != "" {
			key = "n\x00" + n
		} else if rw.memberless && unnumbered[headKey{place(rw), rw.val[colHeadName]}] == 1 {
			// No other row names this head in this village: a household of
			// its own. With others (the rows below it continuing its
			// household cells, say) it is one of their rows, missing its
			// member cells.
			key = "m\x00" + strconv.Itoa(rw.num)
		} else {
			k := headKey{place(rw), rw.val[colHeadName]}
			hid := ""
			if rw.relation == "head" {
				hid = headID(rw)
			} else {
				var pick *row
				for _, h := range heads[k] {
					if h.num < rw.num {
						pick = h
					} else {
						if pick == nil {
							pick = h
						}
						break
					}
				}
				if pick != nil {
					hid = headID(pick)
				}
			}
			key = "h\x00" + k.place + "\x00" + k.name + "\x00" + hid
		}
		hh := byKey[key]
		if hh == nil {
			hh = &household{}
			byKey[key] = hh
			r.hhs = append(r.hhs, hh)
		}
		hh.rows = append(hh.rows, rw)
		rw.hh = hh
	}
	for _, hh := range r.hhs {
		r.checkHousehold(hh)
	}
}

// checkHousehold checks what the rows of a household must agree on.
func (r *run) checkHousehold(hh *household) {
	hh.memberless = len(hh.rows) == 1 && hh.rows[0].memberless
	if !hh.memberless {
		// A row without a member among rows that list the household's
		// members is a member row with its member cells missing.
		for _, rw := range hh.rows {
			if rw.memberless {
				r.required(rw, colName)
				r.required(rw, colRelation)
			}
		}
	}
	relationErr := false
	for _, rw := range hh.rows {
		switch {
		case rw.relation == "head" && hh.head == nil:
			hh.head = rw
		case rw.relation == "head":
			r.fail(rw, colRelation, "two_heads", fmt.Sprintf("the household already has a head of household on row %d", hh.head.num),
				fmt.Sprintf("该户有两名户主（另一名在第%d行）", hh.head.num))
		case rw.relation == "":
			relationErr = true
		}
	}
	// No head among the members is a household as the register API leaves
	// one whose head was removed (died, moved out) before a new head is
	// named: 户主姓名 still names it. planNew warns of it.
	hh.headless = hh.head == nil && !relationErr && !hh.memberless
	for c := col(0); c < numCols; c++ {
		if !columns[c].household {
			continue
		}
		var chosen *row
		if hh.head != nil && hh.head.val[c] != "" {
			chosen = hh.head
		} else {
			for _, rw := range hh.rows {
				if rw.val[c] != "" {
					chosen = rw
					break
				}
			}
		}
		if chosen == nil {
			continue
		}
		hh.val[c], hh.src[c] = chosen.val[c], chosen
		for _, rw := range hh.rows {
			if v := rw.val[c]; v != "" && !sameHouseholdValue(c, rw, chosen) {
				r.fail(rw, c, "inconsistent", fmt.Sprintf("%s %q differs from %q on row %d of the same household", columns[c].en, v, chosen.val[c], chosen.num),
					fmt.Sprintf("同一户的%s不一致：本行为「%s」，第%d行为「%s」", r.head(c), v, chosen.num, chosen.val[c]))
			}
		}
	}
	if src := hh.src[colVillage]; src != nil {
		hh.village, hh.group = src.village, src.group
	}
	if src := hh.src[colSize]; src != nil && src.size > 0 && r.householdRows() {
		n := src.size
		hh.declaredSize = &n
	} else if n := len(hh.memberRows()); src != nil && src.size > 0 && src.size != n {
		r.fail(src, colSize, "size_mismatch", fmt.Sprintf("household size is %d but the file has %d member rows for this household", src.size, n),
			fmt.Sprintf("%s为%d，但文件中该户有%d名成员", r.head(colSize), src.size, n))
	}
	if h := hh.head; h != nil && h.val[colName] != "" && hh.val[colHeadName] != "" && h.val[colName] != hh.val[colHeadName] {
		r.fail(h, colName, "head_name_mismatch", fmt.Sprintf("the head of household is named %q here but %q in 户主姓名", h.val[colName], hh.val[colHeadName]),
			fmt.Sprintf("户主本人的姓名「%s」与%s「%s」不一致", h.val[colName], r.head(colHeadName), hh.val[colHeadName]))
	}
	if src := hh.src[colPovertyType]; src != nil {
		hh.povertyType = src.povertyType
	}
	if src := hh.src[colStatus]; src != nil {
		hh.status = src.status
	}
	if src := hh.src[colExitYear]; src != nil {
		hh.exitYear = src.exitYear
	}
	if src := hh.src[colRelapseCause]; src != nil {
		hh.relapseCause = src.relapseCause
	}
	hh.removalReason = hh.val[colRemovalReason]
	if src := hh.src[colRegisteredYear]; src != nil {
		hh.registeredYear = src.registeredYear
	}
	hh.causes = []string{}
	for _, rw := range hh.rows {
		for _, c := range rw.causes {
			if !contains(hh.causes, c) {
				hh.causes = append(hh.causes, c)
			}
		}
	}
	switch {
	case hh.src[colHouseholdPhone] != nil:
		hh.phone = hh.src[colHouseholdPhone].householdPhone
	case r.colIdx[colHouseholdPhone] >= 0 && !hh.memberless:
		// The file gives the household's phone apart from its members'
		// and leaves it empty: none, or unchanged; a member's is theirs.
	case hh.head != nil && hh.head.phone != "":
		hh.phone = hh.head.phone
	default:
		// Without a head, the first phone of the household's rows: on the
		// row of a household without members, 联系电话 is the household's.
		for _, rw := range hh.rows {
			if rw.phone != "" {
				hh.phone = rw.phone
				break
			}
		}
	}
}

// checkDuplicateIDs reports an ID number that appears on two rows.
func (r *run) checkDuplicateIDs() {
	first := map[string]*row{}
	for _, rw := range r.rows {
		if rw.idNumber == "" {
			continue
		}
		if f := first[rw.idNumber]; f != nil {
			r.fail(rw, colIDNumber, "duplicate", fmt.Sprintf("the same ID number is on row %d", f.num),
				fmt.Sprintf("%s与第%d行重复", r.head(colIDNumber), f.num))
			continue
		}
		first[rw.idNumber] = rw
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !contains(b, x) {
			return false
		}
	}
	return true
}

// sameHouseholdValue reports whether two rows of a household give c alike:
// as written, or as read — one date written 2018/4/18 and stored as Excel's
// day number 43208, one phone written with and without dashes.
func sameHouseholdValue(c col, a, b *row) bool {
	if a.val[c] == b.val[c] {
		return true
	}
	switch c {
	case colPairStart:
		return a.pairStart != nil && b.pairStart != nil && *a.pairStart == *b.pairStart
	case colCadrePhone:
		return a.cadrePhone != "" && digitsOf(a.cadrePhone) == digitsOf(b.cadrePhone)
	}
	return false
}
