package domain

import (
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
}

// Manages reports whether the caller administers data in their subtree
// (admins and supervisors); cadres and inspectors only read and record.
func (p Principal) Manages() bool { return p.Role == RoleAdmin || p.Role == RoleSupervisor }

// SeesIDNumbers reports whether the role needs full 身份证号: supervisors and
// admins keep the register; cadres and inspectors see the masked form.
func (p Principal) SeesIDNumbers() bool { return p.Manages() }

// InSubtree reports whether an object at path lies in the caller's region subtree.
func (p Principal) InSubtree(path string) bool {
	return p.RegionPath != "" && strings.HasPrefix(path, p.RegionPath)
}

// HouseholdScope says which households a caller may see. Storage turns it
// into a WHERE clause, so lists and single reads apply the same rule.
type HouseholdScope struct {
	RegionPath string     // subtree prefix the household must lie in
	CadreID    *uuid.UUID // when set, only households this cadre is paired with now
	Nothing    bool       // the caller sees no household (an inspector with no task)
}

// HouseholdScope returns the caller's household visibility:
//   - admin, supervisor: every household in their region subtree;
//   - cadre: the households they are paired with now (in their subtree);
//   - inspector: only the households of their active inspection tasks, which
//     the inspections feature grants; until then none.
func (p Principal) HouseholdScope() HouseholdScope {
	switch p.Role {
	case RoleAdmin, RoleSupervisor:
		return HouseholdScope{RegionPath: p.RegionPath}
	case RoleCadre:
		id := p.UserID
		return HouseholdScope{RegionPath: p.RegionPath, CadreID: &id}
	default:
		return HouseholdScope{Nothing: true}
	}
}

// RegionScope returns the region subtree a caller may browse: everyone sees
// their own subtree (a cadre's is their village or town, for context).
func (p Principal) RegionScope() string { return p.RegionPath }
