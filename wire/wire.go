// Package wire holds the JSON representations fieldvisit speaks: the
// resource API, the sync feed and the Go client SDK share them. Domain and
// storage types never reach an encoder directly, so a field added to either
// cannot leak by accident; converters are the small From* functions. A pull
// page, the largest answer by far, is not left to encoding/json: PageWriter
// assembles it from records that append their own JSON (append.go).
package wire

import (
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

type Page[T any] struct {
	Items  []T   `json:"items"`
	Total  int64 `json:"total"`
	Limit  int   `json:"limit"`
	Offset int   `json:"offset"`
}

type Region struct {
	ID            uuid.UUID  `json:"id"`
	ParentID      *uuid.UUID `json:"parent_id"`
	Level         string     `json:"level"`
	LevelLabel    string     `json:"level_label"`
	Code          string     `json:"code"`
	Name          string     `json:"name"`
	CountyID      *uuid.UUID `json:"county_id"`
	IsPoorVillage bool       `json:"is_poor_village"`
	Centroid      *GeoPoint  `json:"centroid,omitempty"`
}

func FromRegion(r domain.Region) Region {
	l, _ := domain.RegionLevels.Label(r.Level)
	return Region{ID: r.ID, ParentID: r.ParentID, Level: r.Level, LevelLabel: l, Code: r.Code, Name: r.Name, CountyID: r.CountyID,
		IsPoorVillage: r.IsPoorVillage, Centroid: FromGeoPoint(r.Centroid)}
}

type Household struct {
	ID                 uuid.UUID `json:"id"`
	CountyID           uuid.UUID `json:"county_id"`
	RegionID           uuid.UUID `json:"region_id"`
	VillageID          uuid.UUID `json:"village_id"`
	Number             string    `json:"number"`
	HeadName           string    `json:"head_name"`
	Address            string    `json:"address"`
	Phone              string    `json:"phone"`
	Home               *GeoPoint `json:"home"`
	HousingStructure   string    `json:"housing_structure"`
	HousingSafetyGrade string    `json:"housing_safety_grade"`
	HousingArea        *float64  `json:"housing_area"`
	ArableLand         *float64  `json:"arable_land"`
	AnnualIncome       *float64  `json:"annual_income"`
	IncomeNotes        string    `json:"income_notes"`
	Causes             []string  `json:"causes"`
	PovertyType        string    `json:"poverty_type"`
	PovertyTypeLabel   string    `json:"poverty_type_label"`
	Status             string    `json:"status"`
	StatusLabel        string    `json:"status_label"`
	ExitYear           *int      `json:"exit_year"`
	RegisteredYear     *int      `json:"registered_year"`
	DeclaredSize       *int      `json:"declared_size,omitempty"`
	Version            int64     `json:"version"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

func FromHousehold(h domain.Household) Household {
	pl, _ := domain.PovertyTypes.Label(h.PovertyType)
	sl, _ := domain.Statuses.Label(h.Status)
	causes := h.Causes
	if causes == nil {
		causes = []string{}
	}
	return Household{ID: h.ID, CountyID: h.CountyID, RegionID: h.RegionID, VillageID: h.VillageID, Number: h.Number, HeadName: h.HeadName,
		Address: h.Address, Phone: h.Phone, Home: FromGeoPoint(h.Home), HousingStructure: h.HousingStructure, HousingSafetyGrade: h.HousingSafetyGrade,
		HousingArea: h.HousingArea, ArableLand: h.ArableLand, AnnualIncome: h.AnnualIncome, IncomeNotes: h.IncomeNotes, Causes: causes,
		PovertyType: h.PovertyType, PovertyTypeLabel: pl, Status: h.Status, StatusLabel: sl, ExitYear: h.ExitYear,
		RegisteredYear: h.RegisteredYear, DeclaredSize: h.DeclaredSize, Version: h.Version, CreatedAt: h.CreatedAt, UpdatedAt: h.UpdatedAt}
}

type Member struct {
	ID          uuid.UUID    `json:"id"`
	HouseholdID uuid.UUID    `json:"household_id"`
	Name        string       `json:"name"`
	Relation    string       `json:"relation"`
	IDNumber    string       `json:"id_number"`
	IDMasked    bool         `json:"id_number_masked"`
	Gender      string       `json:"gender"`
	BirthDate   *domain.Date `json:"birth_date"` // null where the number is masked
	BirthYear   *int         `json:"birth_year"`
	Health      string       `json:"health"`
	Disability  string       `json:"disability"`
	Education   string       `json:"education"`
	Work        string       `json:"work"`
	Phone       string       `json:"phone"`
	Version     int64        `json:"version"`
}

// FromMember converts a member; unless clearID, the 身份证号 is masked and
// the birth date it encodes is given as a year only, so that no field
// rebuilds the number (the rule is in the README's security section).
// Callers pass Principal.SeesIDNumbers, and audit what they show.
func FromMember(m domain.Member, clearID bool) Member {
	out := Member{ID: m.ID, HouseholdID: m.HouseholdID, Name: m.Name, Relation: m.Relation, IDNumber: m.IDNumber,
		Gender: m.Gender, BirthDate: m.BirthDate, Health: m.Health, Disability: m.Disability, Education: m.Education,
		Work: m.Work, Phone: m.Phone, Version: m.Version}
	if m.BirthDate != nil {
		y := m.BirthDate.Year
		out.BirthYear = &y
	}
	if !clearID && m.IDNumber != "" {
		out.IDNumber, out.IDMasked, out.BirthDate = domain.MaskIDNumber(m.IDNumber), true, nil
	}
	return out
}

type StatusChange struct {
	From        string      `json:"from"`
	To          string      `json:"to"`
	ExitYear    *int        `json:"exit_year"`
	EffectiveOn domain.Date `json:"effective_on"`
	Reason      string      `json:"reason"`
	// Cause is a relapse's cause (relapse_causes); left out otherwise.
	Cause      string    `json:"cause,omitempty"`
	RecordedAt time.Time `json:"recorded_at"`
}

type Pairing struct {
	ID          uuid.UUID    `json:"id"`
	HouseholdID uuid.UUID    `json:"household_id"`
	CadreID     uuid.UUID    `json:"cadre_id"`
	StartOn     domain.Date  `json:"start_on"`
	EndOn       *domain.Date `json:"end_on"`
	EndReason   string       `json:"end_reason"`
	CreatedAt   time.Time    `json:"created_at"`
}

func FromPairing(p domain.Pairing) Pairing {
	return Pairing{ID: p.ID, HouseholdID: p.HouseholdID, CadreID: p.CadreID, StartOn: p.StartOn, EndOn: p.EndOn, EndReason: p.EndReason, CreatedAt: p.CreatedAt}
}

// PairingRecord is a pairing with its cadre's name and phone: a
// household's file lists the cadres it has had, and a phone the cadres
// paired with its households (the 明白卡's 帮扶责任人及联系方式).
type PairingRecord struct {
	Pairing
	CadreName  string `json:"cadre_name"`
	CadrePhone string `json:"cadre_phone"`
}

func FromPairingRecord(p domain.PairingRecord) PairingRecord {
	return PairingRecord{Pairing: FromPairing(p.Pairing), CadreName: p.CadreName, CadrePhone: p.CadrePhone}
}

type HouseholdFile struct {
	Household
	Members            []Member        `json:"members"`
	StatusHistory      []StatusChange  `json:"status_history"`
	PovertyTypeHistory []StatusChange  `json:"poverty_type_history"`
	Pairings           []PairingRecord `json:"pairings"`        // open ones, with their cadre
	PairingHistory     []PairingRecord `json:"pairing_history"` // all, ended ones too, oldest first
}

func FromHouseholdFile(f domain.HouseholdFile, p domain.Principal) HouseholdFile {
	out := HouseholdFile{Household: FromHousehold(f.Household), Members: []Member{}, StatusHistory: []StatusChange{},
		PovertyTypeHistory: []StatusChange{}, Pairings: []PairingRecord{}, PairingHistory: []PairingRecord{}}
	for _, m := range f.Members {
		out.Members = append(out.Members, FromMember(m, p.SeesIDNumbers()))
	}
	for _, s := range f.StatusHistory {
		out.StatusHistory = append(out.StatusHistory, StatusChange{From: s.From, To: s.To, ExitYear: s.ExitYear, EffectiveOn: s.EffectiveOn, Reason: s.Reason, Cause: s.Cause, RecordedAt: s.RecordedAt})
	}
	for _, s := range f.PovertyHistory {
		out.PovertyTypeHistory = append(out.PovertyTypeHistory, StatusChange{From: s.From, To: s.To, EffectiveOn: s.EffectiveOn, Reason: s.Reason, RecordedAt: s.RecordedAt})
	}
	for _, pr := range f.OpenPairings {
		out.Pairings = append(out.Pairings, FromPairingRecord(pr))
	}
	for _, pr := range f.PairingHistory {
		out.PairingHistory = append(out.PairingHistory, FromPairingRecord(pr))
	}
	return out
}

type User struct {
	ID          uuid.UUID  `json:"id"`
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	Role        string     `json:"role"`
	RegionID    uuid.UUID  `json:"region_id"`
	Phone       string     `json:"phone"`
	UnitID      *uuid.UUID `json:"unit_id"`
	Rank        string     `json:"rank"`
	Duties      []Duty     `json:"duties"`
	Active      bool       `json:"active"`
	CreatedAt   time.Time  `json:"created_at"`
}

func FromUser(u domain.User) User {
	d := FromDuties(u.Duties)
	return User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, RegionID: u.RegionID, Phone: u.Phone,
		UnitID: u.UnitID, Rank: u.Rank, Duties: d, Active: u.Active, CreatedAt: u.CreatedAt}
}

type Unit struct {
	ID          uuid.UUID    `json:"id"`
	Name        string       `json:"name"`
	RegionID    uuid.UUID    `json:"region_id"`
	Assignments []Assignment `json:"assignments,omitempty"`
}

type Assignment struct {
	ID        uuid.UUID    `json:"id"`
	UnitID    uuid.UUID    `json:"unit_id"`
	VillageID uuid.UUID    `json:"village_id"`
	GroupID   *uuid.UUID   `json:"group_id"`
	StartOn   domain.Date  `json:"start_on"`
	EndOn     *domain.Date `json:"end_on"`
}

func FromUnit(u domain.Unit) Unit {
	return Unit{ID: u.ID, Name: u.Name, RegionID: u.RegionID}
}

func FromAssignment(a domain.UnitAssignment) Assignment {
	return Assignment{ID: a.ID, UnitID: a.UnitID, VillageID: a.VillageID, GroupID: a.GroupID, StartOn: a.StartOn, EndOn: a.EndOn}
}

type Device struct {
	ID        uuid.UUID  `json:"id"`
	DeviceID  string     `json:"device_id"`
	Name      string     `json:"name"`
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
	RevokedAt *time.Time `json:"revoked_at"`
}

func FromDevice(d domain.Device) Device {
	return Device{ID: d.ID, DeviceID: d.DeviceID, Name: d.Name, FirstSeen: d.FirstSeen, LastSeen: d.LastSeen, RevokedAt: d.RevokedAt}
}

func Map[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// AuditEntry is one line of the audit log as an admin reads it.
type AuditEntry struct {
	ID          uuid.UUID      `json:"id"`
	At          time.Time      `json:"at"`
	ActorID     *uuid.UUID     `json:"actor_id"`
	ActorName   string         `json:"actor_name"`
	Action      string         `json:"action"`
	ObjectType  string         `json:"object_type"`
	ObjectID    string         `json:"object_id"`
	HouseholdID *uuid.UUID     `json:"household_id"`
	Detail      map[string]any `json:"detail"`
	RequestID   string         `json:"request_id"`
}

func FromAuditRecord(r domain.AuditRecord) AuditEntry {
	d := r.Detail
	if d == nil {
		d = map[string]any{}
	}
	return AuditEntry{ID: r.ID, At: r.At, ActorID: r.ActorID, ActorName: r.ActorName, Action: r.Action, ObjectType: r.ObjectType,
		ObjectID: r.ObjectID, HouseholdID: r.HouseholdID, Detail: d, RequestID: r.RequestID}
}
