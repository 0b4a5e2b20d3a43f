package client

import (
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// NewPlanItem is a measure of a household's plan (一户一案) recorded on the
// phone: a route out of poverty, what is to be done, who answers for it
// (this cadre or another paired with the household) and by when.
type NewPlanItem struct {
	ID                 uuid.UUID // optional; a random UUID when zero
	HouseholdID        uuid.UUID
	Route              string // GET /api/v1/vocabularies: plan_routes
	Measure            string
	ResponsibleCadreID uuid.UUID // the signed-in cadre when zero
	TargetOn           domain.Date
	State              string // planned when empty
	Notes              string
}

// PlanItemFields are the fields of a plan item a phone may change.
var PlanItemFields = []string{"route", "measure", "responsible_cadre_id", "target_on", "state", "notes"}

// RecordPlanItem queues a new measure of a household's plan and returns
// its UUID; it is on disk when RecordPlanItem returns.
func (c *Client) RecordPlanItem(p NewPlanItem) (uuid.UUID, error) {
	if p.ID == uuid.Nil {
		p.ID = uuid.New()
	}
	if p.State == "" {
		p.State = domain.PlanPlanned
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return uuid.Nil, err
	}
	if c.st.User == nil {
		return uuid.Nil, ErrNoUser
	}
	if p.ResponsibleCadreID == uuid.Nil {
		p.ResponsibleCadreID = c.st.User.ID
	}
	d := domain.PlanItemDetails{Route: p.Route, Measure: p.Measure, ResponsibleCadreID: p.ResponsibleCadreID, TargetOn: p.TargetOn,
		State: p.State, Notes: p.Notes}
	if !c.cfg.NoLocalChecks {
		var fe domain.FieldErrors
		if p.HouseholdID == uuid.Nil {
			fe.Required("/household_id", "户")
		}
		d.Validate(&fe, "")
		if len(fe) > 0 {
			return uuid.Nil, &ValidationError{Fields: fe}
		}
	}
	data, err := toFields(wire.PlanItemDataOf(d))
	if err != nil {
		return uuid.Nil, err
	}
	key := recKey(wire.EntityPlanItem, p.ID)
	if _, ok := c.st.Records[key]; ok || c.st.viewOne(key, c.cfg.DeviceID) != nil {
		return uuid.Nil, fmt.Errorf("client: plan item %s exists already", p.ID)
	}
	hid := p.HouseholdID
	c.enqueueLocked(wire.Change{Entity: wire.EntityPlanItem, Op: wire.OpCreate, ID: p.ID, HouseholdID: &hid, Data: data}, false)
	if err := c.saveLocked(); err != nil {
		return uuid.Nil, err
	}
	return p.ID, nil
}

// EditPlanItem changes fields of a measure (PlanItemFields; names as in
// the JSON). Made from the version the phone holds, with each field's
// value before the edit, so the server merges it with other phones' edits.
func (c *Client) EditPlanItem(id uuid.UUID, changes map[string]any) error {
	return c.edit(wire.EntityPlanItem, id, nil, changes)
}

// DeletePlanItem deletes a measure (a tombstone on the server).
func (c *Client) DeletePlanItem(id uuid.UUID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.usableLocked(); err != nil {
		return err
	}
	key := recKey(wire.EntityPlanItem, id)
	if c.st.viewOne(key, c.cfg.DeviceID) == nil {
		return ErrNotFound
	}
	ch := wire.Change{Entity: wire.EntityPlanItem, Op: wire.OpDelete, ID: id, BaseVersion: c.st.knownVersion(key)}
	c.enqueueLocked(ch, ch.BaseVersion == 0)
	return c.saveLocked()
}

// PlanItems lists the measures of a household's plan on the phone,
// those not yet sent included, deleted ones left out.
func (c *Client) PlanItems(householdID uuid.UUID) []wire.PlanItem {
	return recordsOf(c, wire.EntityPlanItem, householdID, func(it wire.PlanItem) uuid.UUID { return it.HouseholdID })
}

// checkPlanItemEdit validates a measure as it would be after the edit.
func checkPlanItemEdit(b []byte, fe *domain.FieldErrors) error {
	var it wire.PlanItem
	if err := json.Unmarshal(b, &it); err != nil {
		return &ValidationError{Fields: []domain.FieldError{{Field: "/", Reason: "invalid_type", Message: err.Error(), MessageZH: "字段类型错误"}}}
	}
	it.ToDomain().Validate(fe, "")
	return nil
}
