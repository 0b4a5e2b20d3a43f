package client

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// NewVisit is a visit recorded on the phone.
type NewVisit struct {
	ID                 uuid.UUID // optional; a random UUID when zero
	HouseholdID        uuid.UUID
	Kind               string    // assist, followup, condolence, inspection
	StartedAt          time.Time // in the phone's zone; Now() when zero
	EndedAt            *time.Time
	Notes              string // 民情日记
	Checklist          map[string]domain.ChecklistEntry
	Measures           []string
	MetWith            []string
	HouseholdConfirmed *bool
	GPS                []domain.GPSStamp
	// Photos are references to photos sent some other way; PhotoFiles are
	// photos this client copies, queues and uploads after the visit's
	// record (their references are added to Photos).
	Photos     []domain.PhotoRef
	PhotoFiles []PhotoFile
	// Findings are an inspector's findings at the household, recorded with
	// an inspection visit and sent with it (campaign_id may be left out
	// when the inspector has one task there). The server records them with
	// the campaign's findings; pulled visits do not carry them back.
	Findings *wire.VisitFindings
	// PlanProgress records progress on measures of the household's plan
	// (PlanItems), each at most once.
	PlanProgress []domain.PlanProgress
	// RiskTriggers are risks seen at the household (GET
	// /api/v1/vocabularies: risk_triggers), each at most once; they put the
	// household on the supervisors' edge or watch list.
	RiskTriggers []domain.RiskTrigger
	// IncomeUpdates add to the household's income account of the visit's
	// year, once (增收减支).
	IncomeUpdates []domain.IncomeUpdate
}

// Fields a cadre may change, per entity (the server decides the rest).
var (
	VisitFields     = []string{"kind", "started_at", "ended_at", "notes", "checklist", "measures", "met_with", "household_confirmed", "gps", "photos", "plan_progress", "risk_triggers", "income_updates", "findings"}
	HouseholdFields = []string{"phone", "address", "home", "housing_structure", "housing_safety_grade", "housing_area", "arable_land", "annual_income", "income_notes", "causes"}
	MemberFields    = []string{"phone", "health", "disability", "education", "work"}
)

// ValidationError lists what is wrong with a record before it is queued.
type ValidationError struct{ Fields []domain.FieldError }

func (e *ValidationError) Error() string {
	if len(e.Fields) == 0 {
		return "client: invalid record"
	}
	f := e.Fields[0]
	return fmt.Sprintf("client: invalid %s: %s (%s)", f.Field, f.Message, f.MessageZH)
}

// RecordVisit queues a new visit and returns its UUID. It is on disk when
// RecordVisit returns, with its PhotoFiles copied into the client's
// directory and queued for upload in the same save.
func (c *Client) RecordVisit(v NewVisit) (uuid.UUID, error) {
	if v.ID == uuid.Nil {
		v.ID = uuid.New()
	}
	if v.StartedAt.IsZero() {
		v.StartedAt = c.now()
	}
	photos, err := c.takePhotos(v.ID, v.PhotoFiles, len(v.Photos))
	if err != nil {
		return uuid.Nil, err
	}
	c.step("photos-copied")
	id, err := c.recordVisit(v, photos)
	if err != nil && !c.saveFailed() {
		// Refused before anything was saved: the copies are nobody's. (After
		// a failed save they may be named on disk after all; the next New
		// removes them if not.)
		c.discardPhotoFiles(photos)
	}
	return id, err
}

func (c *Client) recordVisit(v NewVisit, photos []*queuedPhoto) (uuid.UUID, error) {
	if len(photos) > 0 {
		v.Photos = append([]domain.PhotoRef(nil), v.Photos...)
		for _, p := range photos {
			v.Photos = append(v.Photos, domain.PhotoRef{PhotoID: p.ID, SHA256: p.SHA256})
		}
	}
	d := domain.VisitDetails{Kind: v.Kind, StartedAt: v.StartedAt, EndedAt: v.EndedAt, Notes: v.Notes, Checklist: v.Checklist,
		Measures: v.Measures, MetWith: v.MetWith, HouseholdConfirmed: v.HouseholdConfirmed, GPS: v.GPS, Photos: v.Photos,
		PlanProgress: v.PlanProgress, RiskTriggers: v.RiskTriggers, IncomeUpdates: v.IncomeUpdates}
	if d.Checklist == nil {
		d.Checklist = map[string]domain.ChecklistEntry{}
	}
	for _, s := range []*[]string{&d.Measures, &d.MetWith} {
		if *s == nil {
			*s = []string{}
		}
	}
	if d.GPS == nil {
		d.GPS = []domain.GPSStamp{}
	}
	if d.Photos == nil {
		d.Photos = []domain.PhotoRef{}
	}
	if v.HouseholdID == uuid.Nil && !c.cfg.NoLocalChecks {
		return uuid.Nil, &ValidationError{Fields: []domain.FieldError{{Field: "/household_id", Reason: "required", Message: "household_id is required", MessageZH: "户不能为空"}}}
	}
	if !c.cfg.NoLocalChecks {
		var fe domain.FieldErrors
		d.Validate(&fe, "")
		checkFindingsKind(&fe, v.Findings != nil, d.Kind)
		if len(fe) > 0 {
			return uuid.Nil, &ValidationError{Fields: fe}
		}
	}
	vd := wire.VisitDataOf(d)
	vd.Findings = v.Findings
	data, err := toFields(vd)
	if err != nil {
		return uuid.Nil, err
	}
	hid := v.HouseholdID
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return uuid.Nil, err
	}
	if c.st.User == nil {
		return uuid.Nil, ErrNoUser
	}
	key := recKey(wire.EntityVisit, v.ID)
	if _, ok := c.st.Records[key]; ok || c.st.viewOne(key, c.cfg.DeviceID) != nil {
		return uuid.Nil, fmt.Errorf("client: visit %s exists already", v.ID)
	}
	c.enqueueLocked(wire.Change{Entity: wire.EntityVisit, Op: wire.OpCreate, ID: v.ID, HouseholdID: &hid, Data: data}, false)
	c.st.Photos = append(c.st.Photos, photos...)
	if err := c.saveLocked(); err != nil {
		return uuid.Nil, err
	}
	return v.ID, nil
}

// EditVisit changes fields of a visit (names as in the JSON: "notes",
// "checklist", …); values are anything that encodes to the field's JSON.
func (c *Client) EditVisit(id uuid.UUID, changes map[string]any) error {
	return c.edit(wire.EntityVisit, id, nil, changes)
}

// AttachFindings sends an inspector's findings with their inspection
// visit: recorded the first time, a correction after that. They travel as
// an edit of the visit (folded into its create while that is unsent).
func (c *Client) AttachFindings(visitID uuid.UUID, f wire.VisitFindings) error {
	return c.edit(wire.EntityVisit, visitID, nil, map[string]any{"findings": f})
}

// checkFindingsKind refuses findings on a visit that is not an inspection,
// as the server would.
func checkFindingsKind(fe *domain.FieldErrors, hasFindings bool, kind string) {
	if hasFindings && kind != domain.KindInspection {
		fe.Add("/findings", "not_allowed", "findings go with an inspection visit", "只有督查核查走访可以附带核查结果")
	}
}

// DeleteVisit deletes a visit (a tombstone on the server).
func (c *Client) DeleteVisit(id uuid.UUID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return err
	}
	key := recKey(wire.EntityVisit, id)
	f := c.st.viewOne(key, c.cfg.DeviceID)
	if f == nil {
		return ErrNotFound
	}
	ch := wire.Change{Entity: wire.EntityVisit, Op: wire.OpDelete, ID: id, BaseVersion: c.st.knownVersion(key)}
	var dropped []*queuedPhoto
	if vanished := c.enqueueLocked(ch, ch.BaseVersion == 0); vanished {
		dropped = c.dropVisitPhotosLocked(id)
	}
	if err := c.saveLocked(); err != nil {
		return err
	}
	c.discardPhotoFiles(dropped)
	return nil
}

// EditHousehold changes the fields of a household a cadre may change
// (HouseholdFields).
func (c *Client) EditHousehold(id uuid.UUID, changes map[string]any) error {
	return c.edit(wire.EntityHousehold, id, nil, changes)
}

// EditMember changes the fields of a household member a cadre may change
// (MemberFields).
func (c *Client) EditMember(householdID, id uuid.UUID, changes map[string]any) error {
	return c.edit(wire.EntityMember, id, &householdID, changes)
}

func (c *Client) edit(entity string, id uuid.UUID, hid *uuid.UUID, changes map[string]any) error {
	if len(changes) == 0 {
		return nil
	}
	allowed := map[string][]string{wire.EntityVisit: VisitFields, wire.EntityHousehold: HouseholdFields, wire.EntityMember: MemberFields,
		wire.EntityPlanItem: PlanItemFields}[entity]
	data := make(map[string]json.RawMessage, len(changes))
	for k, v := range changes {
		if !c.cfg.NoLocalChecks && !contains(allowed, k) {
			return &ValidationError{Fields: []domain.FieldError{{Field: "/" + k, Reason: "not_editable",
				Message: k + " cannot be changed from a phone", MessageZH: "该字段不能在手机上修改"}}}
		}
		raw, ok := v.(json.RawMessage)
		if !ok {
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("client: field %s: %w", k, err)
			}
			raw = b
		}
		data[k] = raw
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return err
	}
	key := recKey(entity, id)
	f := c.st.viewOne(key, c.cfg.DeviceID)
	if f == nil {
		return ErrNotFound
	}
	if entity == wire.EntityMember && f.householdID != nil && hid != nil && *f.householdID != *hid {
		return ErrNotFound
	}
	base := make(map[string]json.RawMessage, len(data))
	for k := range data {
		if v, ok := f.m[k]; ok {
			base[k] = v
		} else {
			base[k] = json.RawMessage("null")
		}
	}
	if !c.cfg.NoLocalChecks {
		if err := checkEdit(entity, f, data); err != nil {
			return err
		}
	}
	ch := wire.Change{Entity: entity, Op: wire.OpUpdate, ID: id, BaseVersion: c.st.knownVersion(key), Data: data, Base: base}
	if entity == wire.EntityMember {
		ch.HouseholdID = f.householdID
		if ch.HouseholdID == nil {
			ch.HouseholdID = hid
		}
	}
	c.enqueueLocked(ch, ch.BaseVersion == 0)
	return c.saveLocked()
}

// enqueueLocked appends a change, folding it into an unsent change of the
// same record when there is one: edits of a visit not yet sent go into its
// create; a visit created and deleted before any send vanishes; two unsent
// edits become one whose base is what the phone had before the first.
// Nothing in a batch already formed is touched. vanished says that the
// change removed an unsent create: the record will never reach the server.
func (c *Client) enqueueLocked(ch wire.Change, resolveBase bool) (vanished bool) {
	for i, p := range c.st.Outbox {
		if p.Change.Entity != ch.Entity || p.Change.ID != ch.ID {
			continue
		}
		prev := &p.Change
		switch {
		case prev.Op == wire.OpCreate && ch.Op == wire.OpUpdate:
			for k, v := range ch.Data {
				prev.Data[k] = v
			}
			return
		case prev.Op == wire.OpCreate && ch.Op == wire.OpDelete:
			c.st.Outbox = append(c.st.Outbox[:i], c.st.Outbox[i+1:]...)
			return true
		case prev.Op == wire.OpUpdate && ch.Op == wire.OpUpdate:
			for k, v := range ch.Data {
				prev.Data[k] = v
				if _, had := prev.Base[k]; !had {
					if prev.Base == nil {
						prev.Base = map[string]json.RawMessage{}
					}
					prev.Base[k] = ch.Base[k]
				}
			}
			return
		case prev.Op == wire.OpUpdate && ch.Op == wire.OpDelete:
			ch.BaseVersion = prev.BaseVersion
			p.Change = ch
			return
		}
	}
	c.st.NextSeq++
	c.st.Outbox = append(c.st.Outbox, &pending{Seq: c.st.NextSeq, Change: ch, ResolveBase: resolveBase, MadeAt: c.now()})
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// toFields turns a struct into its top-level JSON fields.
func toFields(v any) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	return m, json.Unmarshal(b, &m)
}

// checkEdit validates the record as it would be after the edit, with the
// rules the server applies, so a mistake is caught on the phone, not days
// later.
func checkEdit(entity string, f *fields, data map[string]json.RawMessage) error {
	merged := make(map[string]json.RawMessage, len(f.m)+len(data))
	for k, v := range f.m {
		merged[k] = v
	}
	for k, v := range data {
		merged[k] = v
	}
	b, _ := json.Marshal(merged)
	var fe domain.FieldErrors
	switch entity {
	case wire.EntityVisit:
		var d domain.VisitDetails
		if err := json.Unmarshal(b, &d); err != nil {
			return &ValidationError{Fields: []domain.FieldError{{Field: "/", Reason: "invalid_type", Message: err.Error(), MessageZH: "字段类型错误"}}}
		}
		d.Validate(&fe, "")
		_, hasFindings := data["findings"]
		checkFindingsKind(&fe, hasFindings, d.Kind)
	case wire.EntityHousehold:
		var h wire.Household
		if err := json.Unmarshal(b, &h); err != nil {
			return &ValidationError{Fields: []domain.FieldError{{Field: "/", Reason: "invalid_type", Message: err.Error(), MessageZH: "字段类型错误"}}}
		}
		d := domain.HouseholdDetails{Number: h.Number, HeadName: h.HeadName, Address: h.Address, Phone: h.Phone, Home: h.Home.ToDomain(),
			HousingStructure: h.HousingStructure, HousingSafetyGrade: h.HousingSafetyGrade, HousingArea: h.HousingArea,
			ArableLand: h.ArableLand, AnnualIncome: h.AnnualIncome, IncomeNotes: h.IncomeNotes, Causes: h.Causes}
		d.Validate(&fe)
	case wire.EntityMember:
		var m wire.Member
		if err := json.Unmarshal(b, &m); err != nil {
			return &ValidationError{Fields: []domain.FieldError{{Field: "/", Reason: "invalid_type", Message: err.Error(), MessageZH: "字段类型错误"}}}
		}
		enum := func(field, v string, vocab domain.Vocabulary) {
			if _, edited := data[field]; edited && v != "" && !vocab.Has(v) {
				fe.Add("/"+field, "invalid_enum", field+" must be one of the listed codes", "取值无效")
			}
		}
		enum("health", m.Health, domain.HealthStates)
		enum("disability", m.Disability, domain.Disabilities)
		enum("education", m.Education, domain.EducationLevels)
		enum("work", m.Work, domain.WorkStates)
		if _, edited := data["phone"]; edited && m.Phone != "" && !domain.ValidPhone(m.Phone) {
			fe.Add("/phone", "invalid_format", "phone must be 7 to 20 digits", "联系电话格式不正确")
		}
	case wire.EntityPlanItem:
		if err := checkPlanItemEdit(b, &fe); err != nil {
			return err
		}
	}
	// Only complain about the fields being edited: a record the server
	// holds may predate today's rules.
	var mine []domain.FieldError
	for _, e := range fe {
		for k := range data {
			if e.Field == "/"+k || len(e.Field) > len(k)+1 && e.Field[:len(k)+2] == "/"+k+"/" {
				mine = append(mine, e)
				break
			}
		}
	}
	if len(mine) > 0 {
		return &ValidationError{Fields: mine}
	}
	return nil
}

// Households lists the households on the phone, by id.
func (c *Client) Households() []wire.Household {
	return shownRecords[wire.Household](c, wire.EntityHousehold, nil)
}

// Household returns one household on the phone.
func (c *Client) Household(id uuid.UUID) (wire.Household, bool) {
	return shownRecord[wire.Household](c, wire.EntityHousehold, id)
}

// Members lists the members of a household on the phone.
func (c *Client) Members(householdID uuid.UUID) []wire.Member {
	return recordsOf(c, wire.EntityMember, householdID, func(m wire.Member) uuid.UUID { return m.HouseholdID })
}

// recordsOf lists the phone's records of entity that belong to a
// household (of names it: one whose household the phone does not know
// is listed by shownRecords, and left out here).
func recordsOf[T any](c *Client, entity string, householdID uuid.UUID, of func(T) uuid.UUID) []T {
	var out []T
	for _, r := range shownRecords[T](c, entity, &householdID) {
		if of(r) == householdID {
			out = append(out, r)
		}
	}
	return out
}

// AllMembers lists the members of every household on the phone.
func (c *Client) AllMembers() []wire.Member {
	return shownRecords[wire.Member](c, wire.EntityMember, nil)
}

// Pairings lists the pairings on the phone, each with its cadre's name
// and phone as the pull sent them.
func (c *Client) Pairings() []wire.PairingRecord {
	return shownRecords[wire.PairingRecord](c, wire.EntityPairing, nil)
}

// Tasks lists an inspector's inspection tasks on the phone, by id: the
// households their campaigns in progress drew for them. A task leaves
// the phone when its campaign ends (the pull brings its tombstone, and
// its household's unless another task keeps it).
func (c *Client) Tasks() []wire.Task { return shownRecords[wire.Task](c, wire.EntityTask, nil) }

// Visits lists the visits on the phone (the user's own, from every device,
// plus those not yet sent; for an inspector also those the cadres recorded
// at the households of their tasks in the last 12 months), deleted ones
// left out.
func (c *Client) Visits() []wire.Visit { return shownRecords[wire.Visit](c, wire.EntityVisit, nil) }

// Visit returns one visit on the phone.
func (c *Client) Visit(id uuid.UUID) (wire.Visit, bool) {
	return shownRecord[wire.Visit](c, wire.EntityVisit, id)
}

// shownRecords decodes the phone's records of entity, by id (those of one
// household when household is set, and any whose household is unknown).
func shownRecords[T any](c *Client, entity string, household *uuid.UUID) []T {
	var out []T
	c.eachOf(entity, household, func(f *fields) {
		var v T
		if f.decode(&v) == nil {
			out = append(out, v)
		}
	})
	return out
}

// shownRecord decodes one record the phone shows.
func shownRecord[T any](c *Client, entity string, id uuid.UUID) (T, bool) {
	var v T
	c.mu.Lock()
	f := c.st.viewOne(recKey(entity, id), c.cfg.DeviceID)
	c.mu.Unlock()
	if f == nil || f.decode(&v) != nil {
		var zero T
		return zero, false
	}
	return v, true
}

// RecordJSON returns the raw JSON fields the phone shows for a record (nil
// when it does not hold it): for comparisons and debugging.
func (c *Client) RecordJSON(entity string, id uuid.UUID) map[string]json.RawMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.st.viewOne(recKey(entity, id), c.cfg.DeviceID)
	if f == nil {
		return nil
	}
	m := make(map[string]json.RawMessage, len(f.m)+1)
	for k, v := range f.m {
		m[k] = v
	}
	m["version"] = mustJSON(f.version)
	return m
}

func (c *Client) each(entity string, fn func(*fields)) { c.eachOf(entity, nil, fn) }

// eachOf is each for the records of one household (all when household is
// nil).
func (c *Client) eachOf(entity string, household *uuid.UUID, fn func(*fields)) {
	c.mu.Lock()
	prefix := entity + "/"
	v := c.st.view(c.cfg.DeviceID, func(k string, hid *uuid.UUID) bool {
		return strings.HasPrefix(k, prefix) && (household == nil || hid == nil || *hid == *household)
	})
	c.mu.Unlock()
	keys := make([]string, 0, len(v))
	for k, f := range v {
		if f.entity == entity && !f.deleted {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		fn(v[k])
	}
}
