package wire

import (
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// EntityPlanItem is a measure of a household's plan (一户一案): phones
// create, update and delete them, and pull them with the household.
const EntityPlanItem = "plan_item"

// PlanProgress is what a visit records against one measure of the plan.
type PlanProgress struct {
	PlanItemID uuid.UUID `json:"plan_item_id"`
	Note       string    `json:"note"`
}

// FromPlanProgress converts a visit's progress entries (never nil).
func FromPlanProgress(ps []domain.PlanProgress) []PlanProgress {
	out := make([]PlanProgress, len(ps))
	for i, p := range ps {
		out[i] = PlanProgress(p)
	}
	return out
}

func planProgressToDomain(ps []PlanProgress) []domain.PlanProgress {
	if ps == nil {
		return nil
	}
	out := make([]domain.PlanProgress, len(ps))
	for i, p := range ps {
		out[i] = domain.PlanProgress(p)
	}
	return out
}

// PlanItemData is a plan item's `data` in a push: the fields a cadre
// records and edits. A create sends them all; an update the changed ones.
type PlanItemData struct {
	Route              string      `json:"route"`
	Measure            string      `json:"measure"`
	ResponsibleCadreID uuid.UUID   `json:"responsible_cadre_id"`
	TargetOn           domain.Date `json:"target_on"`
	State              string      `json:"state"`
	Notes              string      `json:"notes"`
}

// ToDomain converts the data; the caller validates the result.
func (d PlanItemData) ToDomain() domain.PlanItemDetails { return domain.PlanItemDetails(d) }

// PlanItemDataOf is a plan item's editable fields as a push carries them:
// what the SDK sends, and what the server merges an edit into.
func PlanItemDataOf(d domain.PlanItemDetails) PlanItemData { return PlanItemData(d) }

// PlanItem is a measure of a household's plan as the server keeps it: in
// the pull, and on the plan routes.
type PlanItem struct {
	ID          uuid.UUID `json:"id"`
	HouseholdID uuid.UUID `json:"household_id"`
	PlanItemData
	Version   int64     `json:"version"`
	CreatedBy uuid.UUID `json:"created_by"`
	UpdatedBy uuid.UUID `json:"updated_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// FromPlanItem converts a stored plan item.
func FromPlanItem(p domain.PlanItem) PlanItem {
	return PlanItem{ID: p.ID, HouseholdID: p.HouseholdID, PlanItemData: PlanItemDataOf(p.PlanItemDetails), Version: p.Version,
		CreatedBy: p.CreatedBy, UpdatedBy: p.UpdatedBy, CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
}

// PlanItemProgress is one visit's progress on a measure, as the plan
// routes show it.
type PlanItemProgress struct {
	VisitID   uuid.UUID `json:"visit_id"`
	CadreID   uuid.UUID `json:"cadre_id"`
	StartedAt time.Time `json:"started_at"`
	Note      string    `json:"note"`
}

// PlanItemView is a plan item with the progress visits recorded on it,
// the latest first, and whether it is overdue today.
type PlanItemView struct {
	PlanItem
	ResponsibleName string             `json:"responsible_name"`
	Overdue         bool               `json:"overdue"`
	Progress        []PlanItemProgress `json:"progress"`
}

// HouseholdPlan is a household's plan: its measures and the routes they
// take (a plan takes at least one route: an empty list is a household
// without a plan).
type HouseholdPlan struct {
	HouseholdID uuid.UUID      `json:"household_id"`
	Routes      []string       `json:"routes"`
	Items       []PlanItemView `json:"items"`
}

// PlanItemPage is a page of plan items (GET /api/v1/plan-items).
type PlanItemPage struct {
	Items []PlanItemView `json:"items"`
	Total int64          `json:"total"`
}
