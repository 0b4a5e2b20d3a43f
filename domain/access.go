package domain

import (
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Principal is the authenticated caller as every service sees it.
type Principal struct {
	UserID     uuid.UUID
	Username   string
	Role       string
	RegionID   uuid.UUID
	RegionPath string
	DeviceID   string
	RequestID  string
	// Route is the API operation the caller is using ("GET
	// /api/v1/households/:id/members"): the why of an audit entry.
	Route string
	// Duties are the cadre's duties (DESIGN §6): each one's region is part
	// of where they record visits while it is in force.
	Duties []Duty
}

// Manages reports whether the caller administers data in their subtree
// (admins and supervisors); cadres and inspectors only read and record.
func (p Principal) Manages() bool { return p.Role == RoleAdmin || p.Role == RoleSupervisor }

// SeesIDNumbers reports whether the role needs full 身份证号: supervisors and
// admins keep the register (every read of a clear number is audited);
// cadres and inspectors see the masked form (MaskIDNumber) and no birth
// date beyond its year, so that nothing they are shown rebuilds the number.
func (p Principal) SeesIDNumbers() bool { return p.Manages() }

// InSubtree reports whether an object at path lies in the caller's region subtree.
func (p Principal) InSubtree(path string) bool {
	return p.RegionPath != "" && strings.HasPrefix(path, p.RegionPath)
}

// HouseholdScope says which households a caller may see. Storage turns it
// into a WHERE clause, so lists and single reads apply the same rule.
type HouseholdScope struct {
	RegionPath string     // subtree prefix the household must lie in
	CadreID    *uuid.UUID // when set, only households this cadre is paired with now, or in a duty region
	Duties     []Duty     // with CadreID: a household in the region of a duty in force that day is in scope too
	// InspectorID, when set, is the whole rule: only the households of
	// this inspector's active inspection tasks, wherever they lie (a
	// cross-inspection sends a town's inspector to another town).
	InspectorID *uuid.UUID
	Nothing     bool // the caller sees no household
}

// DutyRegions returns the regions of the duties in force on day, sorted
// and without repeats.
func (s HouseholdScope) DutyRegions(day Date) []uuid.UUID {
	var out []uuid.UUID
	for _, d := range s.Duties {
		if d.RegionID == nil || !d.ActiveOn(day) || slices.Contains(out, *d.RegionID) {
			continue
		}
		out = append(out, *d.RegionID)
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// HouseholdScope returns the caller's household visibility:
//   - admin, supervisor: every household in their region subtree;
//   - cadre: the households they are paired with now, and those in the
//     region of a duty in force (a town head's town, a resident's
//     village: DESIGN §6 has them visit households nobody paired them
//     with), within their subtree;
//   - inspector: only the households of their active inspection tasks
//     (written by a campaign's draw, deactivated when it ends), so they
//     leave the inspector's phone with the campaign. The task is the
//     grant, not the inspector's own region: a cross-inspection sends
//     them to another town.
func (p Principal) HouseholdScope() HouseholdScope {
	switch p.Role {
	case RoleAdmin, RoleSupervisor:
		return HouseholdScope{RegionPath: p.RegionPath}
	case RoleCadre:
		id := p.UserID
		return HouseholdScope{RegionPath: p.RegionPath, CadreID: &id, Duties: p.Duties}
	case RoleInspector:
		id := p.UserID
		return HouseholdScope{InspectorID: &id}
	default:
		return HouseholdScope{Nothing: true}
	}
}

// VisitReader is who reads visits, as the one rule that hides some of
// them needs to know them: an inspection visit at a household drawn for a
// running unannounced campaign (明察暗访) stays hidden, as the campaign
// and its sample do (inspect.Campaign.VisibleTo), from everyone but the
// campaign's creator, its inspectors, the admins whose region contains
// the campaign's, and the visit's own author, until the campaign ends.
// The zero VisitReader is nobody: it sees no such visit, which is how the
// stored compliance judgements (shared by every reader) are built.
// Storage spells the rule as one SQL condition (storage/scope.go).
type VisitReader struct {
	UserID     uuid.UUID
	Admin      bool
	RegionPath string // with Admin: the campaigns in this subtree are the admin's to see
}

// VisitReader returns the caller as a reader of visits.
func (p Principal) VisitReader() VisitReader {
	return VisitReader{UserID: p.UserID, Admin: p.Role == RoleAdmin, RegionPath: p.RegionPath}
}

// RegionScope returns the region subtree a caller may browse: everyone sees
// their own subtree (a cadre's is their village or town, for context).
func (p Principal) RegionScope() string { return p.RegionPath }
