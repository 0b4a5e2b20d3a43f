package inspect

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect/forms"
)

// VisitTxStore is the transaction an inspector's visit is written in, as
// the service needs it there: TxStore, and the inspector's tasks at the
// household with the sample rows they stand on.
type VisitTxStore interface {
	TxStore
	// ActiveTasks lists an inspector's active tasks at a household.
	ActiveTasks(ctx context.Context, inspectorID, householdID uuid.UUID) ([]Task, error)
	// MarkDone marks the household done at at in the campaigns' samples
	// where it is not done yet, and puts the active tasks on it of those
	// campaigns back in their inspectors' feeds (their done flag changed).
	MarkDone(ctx context.Context, campaigns []uuid.UUID, householdID uuid.UUID, at time.Time) error
}

// VisitFindings are household findings an inspector recorded offline and
// sent with their inspection visit.
type VisitFindings struct {
	// CampaignID is nil when the inspector has one active task at the
	// household: its campaign is meant.
	CampaignID *uuid.UUID
	Answers    map[string]forms.Answer
}

// InspectionVisitIn is told of an inspector's inspection visit v in the
// transaction that writes it. A visit that arrived (was just created)
// marks the household done, once, whatever date the visit bears, in the
// sample of the campaign it was for: the campaign its findings are for,
// or, for a visit without findings, the only running campaign of the
// inspector's active tasks there — with tasks of several running
// campaigns there a visit without findings marks none, for the inspector
// did not say which it was for (the phone sends findings, with their
// campaign, whenever it has the form; a campaign's findings recorded
// later do the household in that campaign). A phone's clock is no reason
// to leave a household not done.
//
// Findings sent with the visit are recorded on it by RecordFindingsIn, the
// same checks as the findings route. A visit holds the findings of its
// campaign and household: the first time it carries them they are
// recorded, later they correct what it recorded (the same answers again
// change nothing). Findings recorded from another visit or through the
// findings route are refused (409, reason recorded_elsewhere) rather than
// overwritten by a phone that may not have seen them. It reports whether
// findings were written.
func (s *Service) InspectionVisitIn(ctx context.Context, tx VisitTxStore, p domain.Principal, v domain.Visit, arrived bool, in *VisitFindings) (bool, error) {
	if p.Role != domain.RoleInspector || v.Kind != domain.KindInspection || v.CadreID != p.UserID || v.Deleted {
		if in != nil {
			return false, findingsNotAllowed()
		}
		return false, nil
	}
	if !arrived && in == nil {
		return false, nil // an edit without findings: the visit was counted when it arrived
	}
	tasks, err := tx.ActiveTasks(ctx, p.UserID, v.HouseholdID)
	if err != nil {
		return false, err
	}
	if len(tasks) == 0 {
		if in != nil {
			return false, findingsNotAllowed()
		}
		return false, nil
	}
	var campaigns []uuid.UUID
	for _, t := range tasks {
		campaigns = append(campaigns, t.CampaignID)
	}
	slices.SortFunc(campaigns, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	campaigns = slices.Compact(campaigns)
	// The campaigns are held, in one order, before their samples are
	// touched, as the findings route holds its campaign: neither waits for
	// the other's rows in the opposite order, and a campaign ending
	// meanwhile is seen ended.
	var running []uuid.UUID
	for _, id := range campaigns {
		c, err := tx.CampaignForUpdate(ctx, id)
		if err != nil {
			return false, err
		}
		if c.Status == StatusDrawn {
			running = append(running, id)
		}
	}
	if in == nil {
		// Without findings the visit says nothing of which campaign it
		// was for: it does the household only where that is unambiguous.
		if arrived && len(running) == 1 {
			return false, tx.MarkDone(ctx, running, v.HouseholdID, s.now().UTC())
		}
		return false, nil
	}
	campaign, err := campaignOfFindings(campaigns, in.CampaignID)
	if err != nil {
		return false, err
	}
	if arrived && slices.Contains(running, campaign) {
		if err := tx.MarkDone(ctx, []uuid.UUID{campaign}, v.HouseholdID, s.now().UTC()); err != nil {
			return false, err
		}
	}
	existing, err := tx.HouseholdFinding(ctx, campaign, v.HouseholdID)
	var version *int64
	switch {
	case domain.IsCode(err, domain.CodeNotFound):
	case err != nil:
		return false, err
	case existing.VisitID == nil || *existing.VisitID != v.ID:
		return false, recordedElsewhere()
	case existing.FormVersion == s.form(forms.FormHousehold).Version && forms.SameAnswers(existing.Answers, in.Answers):
		return false, nil // sent again: nothing new
	default:
		version = &existing.Version
	}
	_, _, err = s.RecordFindingsIn(ctx, tx, p, FindingInput{CampaignID: campaign, HouseholdID: &v.HouseholdID, Answers: in.Answers,
		VisitID: &v.ID, Version: version})
	return err == nil, err
}

// campaignOfFindings is the campaign findings are for: the one named,
// which must be one of the inspector's at the household, or their only one.
func campaignOfFindings(campaigns []uuid.UUID, named *uuid.UUID) (uuid.UUID, error) {
	switch {
	case named != nil && slices.Contains(campaigns, *named):
		return *named, nil
	case named != nil:
		return uuid.Nil, domain.Invalid(domain.FieldError{Field: "/campaign_id", Reason: "unknown",
			Message: "you have no active task of this campaign at the household", MessageZH: "您在该户没有该督查的任务"})
	case len(campaigns) == 1:
		return campaigns[0], nil
	}
	return uuid.Nil, domain.Invalid(domain.FieldError{Field: "/campaign_id", Reason: "required",
		Message: "you have tasks of several campaigns at this household: name the campaign", MessageZH: "您在该户有多个督查的任务，请注明所属督查"})
}

func findingsNotAllowed() error {
	return domain.Invalid(domain.FieldError{Field: "", Reason: "not_allowed",
		Message:   "findings go with an inspector's inspection visit to a household of their active tasks",
		MessageZH: "只有督查人员对督查任务农户的核查走访可以附带核查结果"})
}

func recordedElsewhere() error {
	const msg, msgZH = "findings for this household in this campaign were recorded from another visit or the findings page; correct them there",
		"该户在本次督查中的核查结果已由其他走访或网页录入，请在网页上修改"
	return &domain.Error{Code: domain.CodeConflict, Reason: "recorded_elsewhere", Message: msg, MessageZH: msgZH,
		Fields: []domain.FieldError{{Field: "", Reason: "recorded_elsewhere", Message: msg, MessageZH: msgZH}}}
}
