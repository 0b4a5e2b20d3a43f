package wire

import (
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// The small values records carry, in the protocol's own shapes: domain
// structs are never encoded directly, so a field renamed in domain/ cannot
// change what a phone or a browser receives.

// GeoPoint is a WGS-84 position.
type GeoPoint struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// FromGeoPoint converts an optional position.
func FromGeoPoint(p *domain.GeoPoint) *GeoPoint {
	if p == nil {
		return nil
	}
	return &GeoPoint{Lat: p.Lat, Lon: p.Lon}
}

// GPSStamp is one position fix of a visit as the server keeps it.
type GPSStamp struct {
	Lat        float64   `json:"lat"`
	Lon        float64   `json:"lon"`
	Accuracy   float64   `json:"accuracy"`
	Provider   string    `json:"provider"`
	Mock       bool      `json:"mock"`
	DeviceTime time.Time `json:"device_time"`
}

// PhotoRef links a photo to a visit.
type PhotoRef struct {
	PhotoID uuid.UUID `json:"photo_id"`
	SHA256  string    `json:"sha256"`
}

// ChecklistEntry is the answer for one 两不愁三保障 item.
type ChecklistEntry struct {
	Answer string `json:"answer"`
	Note   string `json:"note,omitempty"`
}

// Flag is something about a visit a supervisor should see, with the
// numbers behind it.
type Flag struct {
	Code      string  `json:"code"`
	Message   string  `json:"message"`
	MessageZH string  `json:"message_zh"`
	Value     float64 `json:"value,omitempty"`
	Limit     float64 `json:"limit,omitempty"`
}

// Duty is a cadre's duty (DESIGN §6) as the user API shows and takes it.
type Duty struct {
	Kind     string       `json:"kind"`
	RegionID *uuid.UUID   `json:"region_id,omitempty"`
	StartOn  domain.Date  `json:"start_on"`
	EndOn    *domain.Date `json:"end_on,omitempty"`
}

// FromFlags converts flags; nil stays nil (a push result leaves them out).
func FromFlags(fs []domain.Flag) []Flag {
	if fs == nil {
		return nil
	}
	out := make([]Flag, len(fs))
	for i, f := range fs {
		out[i] = Flag{Code: f.Code, Message: f.Message, MessageZH: f.MessageZH, Value: f.Value, Limit: f.Limit}
	}
	return out
}

// FromDuties converts duties; a user without any has an empty list.
func FromDuties(ds []domain.Duty) []Duty {
	out := make([]Duty, len(ds))
	for i, d := range ds {
		out[i] = Duty{Kind: d.Kind, RegionID: d.RegionID, StartOn: d.StartOn, EndOn: d.EndOn}
	}
	return out
}

// DutiesToDomain converts duties a client sent.
func DutiesToDomain(ds []Duty) []domain.Duty {
	if ds == nil {
		return nil
	}
	out := make([]domain.Duty, len(ds))
	for i, d := range ds {
		out[i] = domain.Duty{Kind: d.Kind, RegionID: d.RegionID, StartOn: d.StartOn, EndOn: d.EndOn}
	}
	return out
}

func fromGPS(gs []domain.GPSStamp) []GPSStamp {
	out := make([]GPSStamp, len(gs))
	for i, g := range gs {
		out[i] = GPSStamp{Lat: g.Lat, Lon: g.Lon, Accuracy: g.Accuracy, Provider: g.Provider, Mock: g.Mock, DeviceTime: g.DeviceTime}
	}
	return out
}

func fromPhotoRefs(ps []domain.PhotoRef) []PhotoRef {
	out := make([]PhotoRef, len(ps))
	for i, p := range ps {
		out[i] = PhotoRef{PhotoID: p.PhotoID, SHA256: p.SHA256}
	}
	return out
}

func photoRefsToDomain(ps []PhotoRef) []domain.PhotoRef {
	if ps == nil {
		return nil
	}
	out := make([]domain.PhotoRef, len(ps))
	for i, p := range ps {
		out[i] = domain.PhotoRef{PhotoID: p.PhotoID, SHA256: p.SHA256}
	}
	return out
}

func fromChecklist(c map[string]domain.ChecklistEntry) map[string]ChecklistEntry {
	out := make(map[string]ChecklistEntry, len(c))
	for k, e := range c {
		out[k] = ChecklistEntry{Answer: e.Answer, Note: e.Note}
	}
	return out
}

func checklistToDomain(c map[string]ChecklistEntry) map[string]domain.ChecklistEntry {
	if c == nil {
		return nil
	}
	out := make(map[string]domain.ChecklistEntry, len(c))
	for k, e := range c {
		out[k] = domain.ChecklistEntry{Answer: e.Answer, Note: e.Note}
	}
	return out
}

// VisitDataOf is a visit's editable fields as a push's data carries them:
// what the SDK sends, and what the server merges an edit into.
func VisitDataOf(d domain.VisitDetails) VisitData {
	out := VisitData{Kind: d.Kind, StartedAt: d.StartedAt, EndedAt: d.EndedAt, Notes: d.Notes, Checklist: fromChecklist(d.Checklist),
		Measures: d.Measures, MetWith: d.MetWith, HouseholdConfirmed: d.HouseholdConfirmed, Photos: fromPhotoRefs(d.Photos),
		GPS: make([]GPSStampIn, len(d.GPS)), PlanProgress: FromPlanProgress(d.PlanProgress), RiskTriggers: FromRiskTriggers(d.RiskTriggers),
		IncomeUpdates: FromIncomeUpdates(d.IncomeUpdates)}
	for i, g := range d.GPS {
		lat, lon := g.Lat, g.Lon
		out.GPS[i] = GPSStampIn{Lat: &lat, Lon: &lon, Accuracy: g.Accuracy, Provider: g.Provider, Mock: g.Mock, DeviceTime: g.DeviceTime}
	}
	if out.Measures == nil {
		out.Measures = []string{}
	}
	if out.MetWith == nil {
		out.MetWith = []string{}
	}
	return out
}

// ToDomain converts an optional position back.
func (g *GeoPoint) ToDomain() *domain.GeoPoint {
	if g == nil {
		return nil
	}
	return &domain.GeoPoint{Lat: g.Lat, Lon: g.Lon}
}

// Details is the visit's editable fields back in domain form (a conflict's
// kept value restored, a phone's copy checked). StartedAt is read from the
// phone's spelling.
func (v Visit) Details() domain.VisitDetails {
	d := domain.VisitDetails{Kind: v.Kind, EndedAt: v.EndedAt, Notes: v.Notes, Checklist: checklistToDomain(v.Checklist), Measures: v.Measures,
		MetWith: v.MetWith, HouseholdConfirmed: v.HouseholdConfirmed, Photos: photoRefsToDomain(v.Photos),
		PlanProgress: planProgressToDomain(v.PlanProgress), RiskTriggers: riskTriggersToDomain(v.RiskTriggers),
		IncomeUpdates: incomeUpdatesToDomain(v.IncomeUpdates)}
	d.StartedAt, _ = time.Parse(time.RFC3339Nano, v.StartedAt)
	if v.GPS != nil {
		d.GPS = make([]domain.GPSStamp, len(v.GPS))
		for i, g := range v.GPS {
			d.GPS[i] = domain.GPSStamp{Lat: g.Lat, Lon: g.Lon, Accuracy: g.Accuracy, Provider: g.Provider, Mock: g.Mock, DeviceTime: g.DeviceTime}
		}
	}
	return d
}

// Term is one code of a closed list and its zh-CN label.
type Term struct {
	Code  string `json:"code"`
	Label string `json:"label"`
}

// FromVocabulary converts a code list.
func FromVocabulary(v domain.Vocabulary) []Term {
	out := make([]Term, len(v))
	for i, t := range v {
		out[i] = Term{Code: t.Code, Label: t.Label}
	}
	return out
}
