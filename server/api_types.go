package server

import (
	"time"

	"github.com/google/uuid"

	"fieldvisit/domain"
	"fieldvisit/registry"
	"fieldvisit/storage"
)

// API types: what the wire carries. Domain and storage types never reach
// the encoder directly, so a field added to either cannot leak by accident.

type pageOut[T any] struct {
	Items  []T   `json:"items"`
	Total  int64 `json:"total"`
	Limit  int   `json:"limit"`
	Offset int   `json:"offset"`
}

type regionOut struct {
	ID            uuid.UUID  `json:"id"`
	ParentID      *uuid.UUID `json:"parent_id"`
	Level         string     `json:"level"`
	LevelLabel    string     `json:"level_label"`
	Code          string     `json:"code"`
	Name          string     `json:"name"`
	CountyID      *uuid.UUID `json:"county_id"`
	IsPoorVillage bool       `json:"is_poor_village"`
}

func toRegionOut(r domain.Region) regionOut {
	l, _ := domain.RegionLevels.Label(r.Level)
	return regionOut{ID: r.ID, ParentID: r.ParentID, Level: r.Level, LevelLabel: l, Code: r.Code, Name: r.Name, CountyID: r.CountyID, IsPoorVillage: r.IsPoorVillage}
}

type householdOut struct {
	ID                 uuid.UUID        `json:"id"`
	CountyID           uuid.UUID        `json:"county_id"`
	RegionID           uuid.UUID        `json:"region_id"`
	VillageID          uuid.UUID        `json:"village_id"`
	Number             string           `json:"number"`
	HeadName           string           `json:"head_name"`
	Address            string           `json:"address"`
	Phone              string           `json:"phone"`
	Home               *domain.GeoPoint `json:"home"`
	HousingStructure   string           `json:"housing_structure"`
	HousingSafetyGrade string           `json:"housing_safety_grade"`
	HousingArea        *float64         `json:"housing_area"`
	ArableLand         *float64         `json:"arable_land"`
	AnnualIncome       *float64         `json:"annual_income"`
	IncomeNotes        string           `json:"income_notes"`
	Causes             []string         `json:"causes"`
	PovertyType        string           `json:"poverty_type"`
	PovertyTypeLabel   string           `json:"poverty_type_label"`
	Status             string           `json:"status"`
	StatusLabel        string           `json:"status_label"`
	ExitYear           *int             `json:"exit_year"`
	RegisteredYear     *int             `json:"registered_year"`
	Version            int64            `json:"version"`
	CreatedAt          time.Time        `json:"created_at"`
	UpdatedAt          time.Time        `json:"updated_at"`
}

func toHouseholdOut(h domain.Household) householdOut {
	pl, _ := domain.PovertyTypes.Label(h.PovertyType)
	sl, _ := domain.Statuses.Label(h.Status)
	causes := h.Causes
	if causes == nil {
		causes = []string{}
	}
	return householdOut{ID: h.ID, CountyID: h.CountyID, RegionID: h.RegionID, VillageID: h.VillageID, Number: h.Number, HeadName: h.HeadName,
		Address: h.Address, Phone: h.Phone, Home: h.Home, HousingStructure: h.HousingStructure, HousingSafetyGrade: h.HousingSafetyGrade,
		HousingArea: h.HousingArea, ArableLand: h.ArableLand, AnnualIncome: h.AnnualIncome, IncomeNotes: h.IncomeNotes, Causes: causes,
		PovertyType: h.PovertyType, PovertyTypeLabel: pl, Status: h.Status, StatusLabel: sl, ExitYear: h.ExitYear,
		RegisteredYear: h.RegisteredYear, Version: h.Version, CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt}
}

type memberOut struct {
	ID          uuid.UUID    `json:"id"`
	HouseholdID uuid.UUID    `json:"household_id"`
	Name        string       `json:"name"`
	Relation    string       `json:"relation"`
	IDNumber    string       `json:"id_number"`
	IDMasked    bool         `json:"id_number_masked"`
	Gender      string       `json:"gender"`
	BirthDate   *domain.Date `json:"birth_date"`
	Health      string       `json:"health"`
	Disability  string       `json:"disability"`
	Education   string       `json:"education"`
	Work        string       `json:"work"`
	Phone       string       `json:"phone"`
	Version     int64        `json:"version"`
}

// toMemberOut masks the 身份证号 for roles that do not keep the register.
func toMemberOut(m domain.Member, p domain.Principal) memberOut {
	id, masked := m.IDNumber, false
	if !p.SeesIDNumbers() && id != "" {
		id, masked = domain.MaskIDNumber(id), true
	}
	return memberOut{ID: m.ID, HouseholdID: m.HouseholdID, Name: m.Name, Relation: m.Relation, IDNumber: id, IDMasked: masked,
		Gender: m.Gender, BirthDate: m.BirthDate, Health: m.Health, Disability: m.Disability, Education: m.Education,
		Work: m.Work, Phone: m.Phone, Version: m.Version}
}

type statusChangeOut struct {
	From        string      `json:"from"`
	To          string      `json:"to"`
	ExitYear    *int        `json:"exit_year"`
	EffectiveOn domain.Date `json:"effective_on"`
	Reason      string      `json:"reason"`
	RecordedAt  time.Time   `json:"recorded_at"`
}

type pairingOut struct {
	ID          uuid.UUID    `json:"id"`
	HouseholdID uuid.UUID    `json:"household_id"`
	CadreID     uuid.UUID    `json:"cadre_id"`
	StartOn     domain.Date  `json:"start_on"`
	EndOn       *domain.Date `json:"end_on"`
	EndReason   string       `json:"end_reason"`
	CreatedAt   time.Time    `json:"created_at"`
}

func toPairingOut(p domain.Pairing) pairingOut {
	return pairingOut{ID: p.ID, HouseholdID: p.HouseholdID, CadreID: p.CadreID, StartOn: p.StartOn, EndOn: p.EndOn, EndReason: p.EndReason, CreatedAt: p.CreatedAt}
}

type householdFileOut struct {
	householdOut
	Members            []memberOut       `json:"members"`
	StatusHistory      []statusChangeOut `json:"status_history"`
	PovertyTypeHistory []statusChangeOut `json:"poverty_type_history"`
	Pairings           []pairingOut      `json:"pairings"`
}

func toHouseholdFileOut(f registry.HouseholdFile, p domain.Principal) householdFileOut {
	out := householdFileOut{householdOut: toHouseholdOut(f.Household), Members: []memberOut{}, StatusHistory: []statusChangeOut{},
		PovertyTypeHistory: []statusChangeOut{}, Pairings: []pairingOut{}}
	for _, m := range f.Members {
		out.Members = append(out.Members, toMemberOut(m, p))
	}
	for _, s := range f.StatusHistory {
		out.StatusHistory = append(out.StatusHistory, statusChangeOut{From: s.From, To: s.To, ExitYear: s.ExitYear, EffectiveOn: s.EffectiveOn, Reason: s.Reason, RecordedAt: s.RecordedAt})
	}
	for _, s := range f.PovertyHistory {
		out.PovertyTypeHistory = append(out.PovertyTypeHistory, statusChangeOut{From: s.From, To: s.To, EffectiveOn: s.EffectiveOn, Reason: s.Reason, RecordedAt: s.RecordedAt})
	}
	for _, pr := range f.OpenPairings {
		out.Pairings = append(out.Pairings, toPairingOut(pr))
	}
	return out
}

type userOut struct {
	ID          uuid.UUID     `json:"id"`
	Username    string        `json:"username"`
	DisplayName string        `json:"display_name"`
	Role        string        `json:"role"`
	RegionID    uuid.UUID     `json:"region_id"`
	Phone       string        `json:"phone"`
	UnitID      *uuid.UUID    `json:"unit_id"`
	Rank        string        `json:"rank"`
	Duties      []domain.Duty `json:"duties"`
	Active      bool          `json:"active"`
	CreatedAt   time.Time     `json:"created_at"`
}

func toUserOut(u domain.User) userOut {
	d := u.Duties
	if d == nil {
		d = []domain.Duty{}
	}
	return userOut{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, RegionID: u.RegionID, Phone: u.Phone,
		UnitID: u.UnitID, Rank: u.Rank, Duties: d, Active: u.Active, CreatedAt: u.CreatedAt}
}

type unitOut struct {
	ID          uuid.UUID       `json:"id"`
	Name        string          `json:"name"`
	RegionID    uuid.UUID       `json:"region_id"`
	Assignments []assignmentOut `json:"assignments,omitempty"`
}

type assignmentOut struct {
	ID        uuid.UUID    `json:"id"`
	UnitID    uuid.UUID    `json:"unit_id"`
	VillageID uuid.UUID    `json:"village_id"`
	GroupID   *uuid.UUID   `json:"group_id"`
	StartOn   domain.Date  `json:"start_on"`
	EndOn     *domain.Date `json:"end_on"`
}

func toUnitOut(u storage.UnitWithPath) unitOut {
	return unitOut{ID: u.ID, Name: u.Name, RegionID: u.RegionID}
}

func toAssignmentOut(a domain.UnitAssignment) assignmentOut {
	return assignmentOut{ID: a.ID, UnitID: a.UnitID, VillageID: a.VillageID, GroupID: a.GroupID, StartOn: a.StartOn, EndOn: a.EndOn}
}

type deviceOut struct {
	ID        uuid.UUID  `json:"id"`
	DeviceID  string     `json:"device_id"`
	Name      string     `json:"name"`
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
	RevokedAt *time.Time `json:"revoked_at"`
}

func toDeviceOut(d domain.Device) deviceOut {
	return deviceOut{ID: d.ID, DeviceID: d.DeviceID, Name: d.Name, FirstSeen: d.FirstSeen, LastSeen: d.LastSeen, RevokedAt: d.RevokedAt}
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
