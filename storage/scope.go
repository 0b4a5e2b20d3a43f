package storage

import (
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect"
)

// The one SQL spelling of who sees which household: a caller's region
// subtree, a cadre's pairings and duties in force, a pairing in force on a
// day. Every consumer's queries (the register's lists, the sync feed, the
// visit-rule reports, photo access) filter through these, so a list and a
// single read can never disagree.

// scopeHouseholds restricts q (over households) to what scope allows.
func scopeHouseholds(q *gorm.DB, scope domain.HouseholdScope, today domain.Date) *gorm.DB {
	cond, args := scopeCondition("households", scope, today)
	return q.Where(cond, args...)
}

// scopeCondition is the condition that household alias t lies in scope on
// today, with its arguments: what scopeHouseholds adds to a GORM query,
// for queries written as SQL.
func scopeCondition(t string, scope domain.HouseholdScope, today domain.Date) (string, []any) {
	if scope.Nothing {
		return "1 = 0", nil
	}
	if scope.InspectorID != nil {
		return onActiveTask(t), []any{*scope.InspectorID}
	}
	if scope.RegionPath == "" {
		return "1 = 0", nil
	}
	cond, args := like(t+".region_path"), []any{likePrefix(scope.RegionPath)}
	if scope.CadreID != nil {
		c, a := pairedOrDuty(t, scope, today)
		cond, args = cond+" AND "+c, append(args, a...)
	}
	return cond, args
}

// householdsIn is a subquery of the ids of the households in scope on
// today, for an "IN (?)" condition.
func (s *Store) householdsIn(scope domain.HouseholdScope, today domain.Date) *gorm.DB {
	return scopeHouseholds(s.db.Model(&householdRow{}).Select("households.id"), scope, today)
}

// pairedOrDuty is the condition that a cadre's household (table alias t)
// is paired with them on today or lies in the region of one of their
// duties in force: a region's subtree is every path through its id.
func pairedOrDuty(t string, scope domain.HouseholdScope, today domain.Date) (string, []any) {
	d := toSQLDate(today)
	cond := pairedWith(t)
	args := []any{*scope.CadreID, d, d}
	for _, r := range scope.DutyRegions(today) {
		c, arg := inRegion(t+".region_path", r)
		cond += " OR " + c
		args = append(args, arg)
	}
	return "(" + cond + ")", args
}

// onActiveTask is the condition that household alias t is on one of an
// inspector's active inspection tasks (argument: the inspector). The
// partial index inspection_tasks_inspector holds exactly the active ones.
func onActiveTask(t string) string {
	return "EXISTS (SELECT 1 FROM inspection_tasks it WHERE it.inspector_id = ? AND it.active AND it.household_id = " + t + ".id AND it.county_id = " +
		t + ".county_id)"
}

// inspectedHouseholds is a derived table (alias it) of the households on an
// inspector's active tasks, each once however many campaigns drew it
// (argument: the inspector): a walk starts from it as a cadre's starts
// from their pairings.
const inspectedHouseholds = "(SELECT DISTINCT county_id, household_id FROM inspection_tasks WHERE inspector_id = ? AND active) it"

// pairingsOf selects the pairings of household alias t (as p).
func pairingsOf(t string) string {
	return "SELECT 1 FROM pairings p WHERE p.county_id = " + t + ".county_id AND p.household_id = " + t + ".id"
}

// pairedWith is the condition that household alias t is paired with a
// cadre on a day (arguments: the cadre, the day, the day).
func pairedWith(t string) string {
	return "EXISTS (" + pairingsOf(t) + " AND p.cadre_id = ? AND " + pairingOpen("p") + ")"
}

// unpairedNow is the condition that a household has no pairing in force on
// a day (arguments: the day, the day).
var unpairedNow = "NOT EXISTS (" + pairingsOf("households") + " AND " + pairingOpen("p") + ")"

// inRegion is the condition that path column col lies in region r's
// subtree: paths are built of region ids, so the subtree is every path
// through r.
func inRegion(col string, r uuid.UUID) (string, any) {
	return like(col), likeContains("/" + r.String() + "/")
}

// pairingOpen is the condition that the pairing row (alias p; "" for the
// unqualified table) is in force on a day (arguments: the day, the day),
// as domain.Pairing.ActiveOn reads it.
func pairingOpen(p string) string {
	if p != "" {
		p += "."
	}
	return p + "start_on <= ? AND (" + p + "end_on IS NULL OR " + p + "end_on > ?)"
}

// visitShown is the condition that visit alias v may be shown to reader r,
// with its arguments: the one SQL spelling of domain.VisitReader's rule.
// An inspection visit at a household drawn for a running unannounced
// campaign is hidden from everyone the campaign is hidden from
// (inspect.Campaign.VisibleTo: all but its creator, its inspectors and
// the admins above its region) except the visit's author, until the
// campaign ends. The secret households are an uncorrelated subquery over
// the running unannounced campaigns' samples: PostgreSQL hashes it once
// per statement (a hashed SubPlan) and SQLite materialises it once, so a
// county's million-visit 台账 pays one probe per inspection visit, not a
// subquery per row.
func visitShown(v string, r domain.VisitReader) (string, []any) {
	secret := "SELECT s.household_id FROM inspection_sample s JOIN inspection_campaigns c ON c.id = s.campaign_id" +
		" WHERE c.mode = '" + inspect.ModeUnannounced + "' AND c.status <> '" + inspect.StatusEnded + "' AND c.created_by <> ?" +
		" AND NOT EXISTS (SELECT 1 FROM inspection_inspectors i WHERE i.campaign_id = c.id AND i.user_id = ?)"
	args := []any{r.UserID, r.UserID, r.UserID}
	if r.Admin && r.RegionPath != "" {
		secret += " AND NOT " + like("c.region_path")
		args = append(args, likePrefix(r.RegionPath))
	}
	return "NOT (" + v + ".kind = '" + domain.KindInspection + "' AND " + v + ".cadre_id <> ? AND " + v + ".household_id IN (" + secret + "))", args
}

// shownTo restricts q (over visits as alias v) to what reader r may see.
func shownTo(q *gorm.DB, v string, r domain.VisitReader) *gorm.DB {
	cond, args := visitShown(v, r)
	return q.Where(cond, args...)
}

// ofHouseholds restricts q to the rows of table t (visits, members,
// pairings, plan items, risk warnings: tables whose household index leads
// with county_id) that belong to households. Named by household id alone,
// PostgreSQL cannot use that index and reads the whole table: a batch of
// 500 households among a county's million visits took 528 ms so, and
// 86–127 ms with their counties named (docs/benchmarks.md, "Exit candidates").
func ofHouseholds(q *gorm.DB, t string, households []uuid.UUID) *gorm.DB {
	return q.Where(t+".county_id IN (SELECT county_id FROM households WHERE id IN ?) AND "+t+".household_id IN ?", households, households)
}
