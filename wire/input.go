package wire

import (
	"strconv"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Request shapes. A client's values arrive here and are converted to domain
// types by the ToDomain and Apply methods, so that domain struct tags never
// define what a client may send, and every path that writes a field (a
// resource route and a phone's push) converts and judges it the same way.

// GeoPointIn is a position as a client sends it. Both coordinates are
// required: a missing or null one is refused rather than read as 0, which
// would be a real place (in the Gulf of Guinea) and feed the distance flags.
type GeoPointIn struct {
	Lat *float64 `json:"lat"`
	Lon *float64 `json:"lon"`
}

// ToDomain converts p, recording at ptr (the point's JSON pointer) a
// coordinate that is missing; ranges are the domain's to judge.
func (p GeoPointIn) ToDomain(fe *domain.FieldErrors, ptr string) domain.GeoPoint {
	var out domain.GeoPoint
	if p.Lat == nil {
		fe.Required(ptr+"/lat", "纬度")
	} else {
		out.Lat = *p.Lat
	}
	if p.Lon == nil {
		fe.Required(ptr+"/lon", "经度")
	} else {
		out.Lon = *p.Lon
	}
	return out
}

// homeToDomain converts an optional home position (nil stays nil).
func homeToDomain(p *GeoPointIn, fe *domain.FieldErrors, ptr string) *domain.GeoPoint {
	if p == nil {
		return nil
	}
	g := p.ToDomain(fe, ptr)
	return &g
}

// GPSStampIn is one position fix of a visit as the phone sends it.
type GPSStampIn struct {
	Lat        *float64  `json:"lat"`
	Lon        *float64  `json:"lon"`
	Accuracy   float64   `json:"accuracy"`
	Provider   string    `json:"provider"`
	Mock       bool      `json:"mock"`
	DeviceTime time.Time `json:"device_time"`
}

// VisitData is a visit's `data` in a push: the fields a cadre records and
// may edit. Its JSON names are the protocol's (docs/sync-protocol.md §13.1).
type VisitData struct {
	Kind               string                    `json:"kind"`
	StartedAt          time.Time                 `json:"started_at"`
	EndedAt            *time.Time                `json:"ended_at"`
	Notes              string                    `json:"notes"`
	Checklist          map[string]ChecklistEntry `json:"checklist"`
	Measures           []string                  `json:"measures"`
	MetWith            []string                  `json:"met_with"`
	HouseholdConfirmed *bool                     `json:"household_confirmed"`
	GPS                []GPSStampIn              `json:"gps"`
	Photos             []PhotoRef                `json:"photos"`
	// PlanProgress records progress on measures of the household's plan
	// (plan items, §7.7 of the protocol).
	PlanProgress []PlanProgress `json:"plan_progress"`
	// RiskTriggers are risks seen at the household (protocol §7.9).
	RiskTriggers []RiskTrigger `json:"risk_triggers"`
	// IncomeUpdates add to the household's income account of the visit's
	// year, once (protocol §7.9).
	IncomeUpdates []IncomeUpdate `json:"income_updates"`
	// Findings are what an inspector found at the household, recorded
	// offline with their inspection visit. They are not a field of the
	// stored visit: the server records them as the campaign's findings on
	// the household, so a pulled visit never carries them.
	Findings *VisitFindings `json:"findings,omitempty"`
}

// ToDomain converts d, recording missing coordinates under prefix (the
// JSON pointer of the data object); the caller validates the result.
func (d VisitData) ToDomain(fe *domain.FieldErrors, prefix string) domain.VisitDetails {
	out := domain.VisitDetails{Kind: d.Kind, StartedAt: d.StartedAt, EndedAt: d.EndedAt, Notes: d.Notes, Checklist: checklistToDomain(d.Checklist),
		Measures: d.Measures, MetWith: d.MetWith, HouseholdConfirmed: d.HouseholdConfirmed, Photos: photoRefsToDomain(d.Photos),
		PlanProgress: planProgressToDomain(d.PlanProgress), RiskTriggers: riskTriggersToDomain(d.RiskTriggers),
		IncomeUpdates: incomeUpdatesToDomain(d.IncomeUpdates)}
	if d.GPS != nil {
		out.GPS = make([]domain.GPSStamp, len(d.GPS))
	}
	for i, g := range d.GPS {
		p := GeoPointIn{Lat: g.Lat, Lon: g.Lon}.ToDomain(fe, prefix+"/gps/"+strconv.Itoa(i))
		out.GPS[i] = domain.GPSStamp{Lat: p.Lat, Lon: p.Lon, Accuracy: g.Accuracy, Provider: g.Provider, Mock: g.Mock, DeviceTime: g.DeviceTime}
	}
	return out
}

// HouseholdFields are the household fields a phone may change, whole: a
// push merges the phone's edit into the stored values and decodes the
// result here (a null home clears it).
type HouseholdFields struct {
	Phone              string      `json:"phone"`
	Address            string      `json:"address"`
	Home               *GeoPointIn `json:"home"`
	HousingStructure   string      `json:"housing_structure"`
	HousingSafetyGrade string      `json:"housing_safety_grade"`
	HousingArea        *float64    `json:"housing_area"`
	ArableLand         *float64    `json:"arable_land"`
	AnnualIncome       *float64    `json:"annual_income"`
	IncomeNotes        string      `json:"income_notes"`
	Causes             []string    `json:"causes"`
}

// Apply returns d with these fields in place.
func (f HouseholdFields) Apply(d domain.HouseholdDetails, fe *domain.FieldErrors) domain.HouseholdDetails {
	d.Phone, d.Address, d.Home, d.HousingStructure, d.HousingSafetyGrade = f.Phone, f.Address, homeToDomain(f.Home, fe, "/home"), f.HousingStructure, f.HousingSafetyGrade
	d.HousingArea, d.ArableLand, d.AnnualIncome, d.IncomeNotes, d.Causes = f.HousingArea, f.ArableLand, f.AnnualIncome, f.IncomeNotes, f.Causes
	if d.Causes == nil {
		d.Causes = []string{}
	}
	return d
}

// HouseholdPatch is the body of PATCH /api/v1/households/{id}: a field
// left out keeps its stored value.
type HouseholdPatch struct {
	Version            int64               `json:"version"`
	Number             Patched[string]     `json:"number"`
	HeadName           Patched[string]     `json:"head_name"`
	Address            Patched[string]     `json:"address"`
	Phone              Patched[string]     `json:"phone"`
	Home               Patched[GeoPointIn] `json:"home"`
	HousingStructure   Patched[string]     `json:"housing_structure"`
	HousingSafetyGrade Patched[string]     `json:"housing_safety_grade"`
	HousingArea        Patched[float64]    `json:"housing_area"`
	ArableLand         Patched[float64]    `json:"arable_land"`
	AnnualIncome       Patched[float64]    `json:"annual_income"`
	IncomeNotes        Patched[string]     `json:"income_notes"`
	Causes             Patched[[]string]   `json:"causes"`
}

// Apply returns d with the patched fields in place.
func (p HouseholdPatch) Apply(d domain.HouseholdDetails, fe *domain.FieldErrors) domain.HouseholdDetails {
	p.Number.set(&d.Number)
	p.HeadName.set(&d.HeadName)
	p.Address.set(&d.Address)
	p.Phone.set(&d.Phone)
	if p.Home.Set {
		d.Home = homeToDomain(p.Home.pointer(), fe, "/home")
	}
	p.HousingStructure.set(&d.HousingStructure)
	p.HousingSafetyGrade.set(&d.HousingSafetyGrade)
	p.HousingArea.setPointer(&d.HousingArea)
	p.ArableLand.setPointer(&d.ArableLand)
	p.AnnualIncome.setPointer(&d.AnnualIncome)
	p.IncomeNotes.set(&d.IncomeNotes)
	p.Causes.set(&d.Causes)
	return d
}

// NewHousehold is the body of POST /api/v1/households.
type NewHousehold struct {
	Number             string       `json:"number"`
	HeadName           string       `json:"head_name"`
	Address            string       `json:"address"`
	Phone              string       `json:"phone"`
	Home               *GeoPointIn  `json:"home"`
	HousingStructure   string       `json:"housing_structure"`
	HousingSafetyGrade string       `json:"housing_safety_grade"`
	HousingArea        *float64     `json:"housing_area"`
	ArableLand         *float64     `json:"arable_land"`
	AnnualIncome       *float64     `json:"annual_income"`
	IncomeNotes        string       `json:"income_notes"`
	Causes             []string     `json:"causes"`
	RegionID           uuid.UUID    `json:"region_id"`
	Status             string       `json:"status"`
	PovertyType        string       `json:"poverty_type"`
	ExitYear           *int         `json:"exit_year"`
	EffectiveOn        *domain.Date `json:"effective_on"`
	Members            []NewMember  `json:"members"`
}

// Details converts the household file fields of n.
func (n NewHousehold) Details(fe *domain.FieldErrors) domain.HouseholdDetails {
	return domain.HouseholdDetails{Number: n.Number, HeadName: n.HeadName, Address: n.Address, Phone: n.Phone, Home: homeToDomain(n.Home, fe, "/home"),
		HousingStructure: n.HousingStructure, HousingSafetyGrade: n.HousingSafetyGrade, HousingArea: n.HousingArea, ArableLand: n.ArableLand,
		AnnualIncome: n.AnnualIncome, IncomeNotes: n.IncomeNotes, Causes: n.Causes}
}

// NewMember is a member as POST /households and POST /households/{id}/members take it.
type NewMember struct {
	Name       string `json:"name"`
	Relation   string `json:"relation"`
	IDNumber   string `json:"id_number"`
	Health     string `json:"health"`
	Disability string `json:"disability"`
	Education  string `json:"education"`
	Work       string `json:"work"`
	Phone      string `json:"phone"`
}

// ToDomain converts m.
func (m NewMember) ToDomain() domain.MemberDetails { return domain.MemberDetails(m) }

// MemberFields are the member fields a phone may change, whole (as
// HouseholdFields).
type MemberFields struct {
	Phone      string `json:"phone"`
	Health     string `json:"health"`
	Disability string `json:"disability"`
	Education  string `json:"education"`
	Work       string `json:"work"`
}

// Apply returns d with these fields in place.
func (f MemberFields) Apply(d domain.MemberDetails) domain.MemberDetails {
	d.Phone, d.Health, d.Disability, d.Education, d.Work = f.Phone, f.Health, f.Disability, f.Education, f.Work
	return d
}

// MemberPatch is the body of PATCH /api/v1/households/{id}/members/{member_id}.
type MemberPatch struct {
	Version    int64           `json:"version"`
	Name       Patched[string] `json:"name"`
	Relation   Patched[string] `json:"relation"`
	IDNumber   Patched[string] `json:"id_number"`
	Health     Patched[string] `json:"health"`
	Disability Patched[string] `json:"disability"`
	Education  Patched[string] `json:"education"`
	Work       Patched[string] `json:"work"`
	Phone      Patched[string] `json:"phone"`
}

// Apply returns d with the patched fields in place.
func (p MemberPatch) Apply(d domain.MemberDetails) domain.MemberDetails {
	p.Name.set(&d.Name)
	p.Relation.set(&d.Relation)
	p.IDNumber.set(&d.IDNumber)
	p.Health.set(&d.Health)
	p.Disability.set(&d.Disability)
	p.Education.set(&d.Education)
	p.Work.set(&d.Work)
	p.Phone.set(&d.Phone)
	return d
}

// Patched is a field of a PATCH body: left out (Set false) it keeps the
// stored value; null clears it (Null), as an empty value does and as null
// does in a sync push's data, so that both paths mean the same by it.
type Patched[T any] struct {
	Set, Null bool
	Value     T
}

// UnmarshalJSON is called for a member that is present, null included.
func (p *Patched[T]) UnmarshalJSON(b []byte) error {
	p.Set = true
	if string(b) == "null" {
		p.Null = true
		return nil
	}
	return jsonv2.Unmarshal(b, &p.Value, jsonv2.RejectUnknownMembers(true))
}

// set writes the patched value into dst (its zero value for null).
func (p Patched[T]) set(dst *T) {
	if p.Set {
		*dst = p.Value
	}
}

// setPointer is set for an optional field, whose value is itself a
// pointer: null leaves it unset.
func (p Patched[T]) setPointer(dst **T) {
	if p.Set {
		*dst = p.pointer()
	}
}

func (p Patched[T]) pointer() *T {
	if p.Null {
		return nil
	}
	v := p.Value
	return &v
}
