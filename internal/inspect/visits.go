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
	// InspectorTasks lists an inspector's tasks at a household, those of
	// ended campaigns too (no longer active).
	InspectorTasks(ctx context.Context, inspectorID, householdID uuid.UUID) ([]Task, error)
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

// Inspects says whether an inspector was ever sent to the household by a
// campaign, running or ended: a phone that was offline when the campaign
// ended still brings what was recorded there while it ran, and
// InspectionVisitIn judges each such visit by its start.
func (s *Service) Inspects(ctx context.Context, tx VisitTxStore, p domain.Principal, householdID uuid.UUID) (bool, error) {
	if p.Role != domain.RoleInspector {
		return false, nil
	}
	tasks, err := tx.InspectorTasks(ctx, p.UserID, householdID)
	return len(tasks) > 0, err
}

// InspectionVisitIn is told of an inspector's inspection visit v in the
// transaction that writes it. A visit that arrived (was just created)
// marks the household done, once, whatever date the visit bears, in the
// sample of the campaign it was for: the campaign its findings are for,
// or, for a visit without findings, the only campaign of the inspector's
// tasks there open to it — with several, a visit without findings marks
// none, for the inspector did not say which it was for (the phone sends
// findings, with their campaign, whenever it has the form; a campaign's
// findings recorded later do the household in that campaign). A phone's
// clock is no reason to leave a household not done.
//
// A visit that arrives is open to the running campaigns of the
// inspector's tasks there, and to those that ended after it began (and
// were drawn before): a phone offline when the supervisor ended the
// campaign loses nothing it recorded while it ran — the visit, the done
// mark and its findings are taken late, and the report, read live, counts
// them. A visit begun after every campaign that sent the inspector there
// ended is refused (409, reason ended). An edit of a visit corrects
// findings of running campaigns only: corrections close with the
// campaign, as on the findings route.
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
	tasks, err := tx.InspectorTasks(ctx, p.UserID, v.HouseholdID)
	if err != nil {
		return false, err
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
	var open, late []uuid.UUID              // open to the visit; of those, ended
	endedBefore := map[uuid.UUID]Campaign{} // ended before the visit began
	var ended *Campaign                     // of those, the last to end
	for _, id := range campaigns {
		c, err := tx.CampaignForUpdate(ctx, id)
		if err != nil {
			return false, err
		}
		switch {
		case c.Status == StatusDrawn:
			open = append(open, id)
		case c.Status != StatusEnded || c.EndedAt == nil:
		case arrived && ranAt(c, v.StartedAt):
			open, late = append(open, id), append(late, id)
		default:
			endedBefore[id] = c
			if ended == nil || c.EndedAt.After(*ended.EndedAt) {
				ended = &c
			}
		}
	}
	if len(open) == 0 {
		switch {
		case arrived && ended != nil:
			return false, campaignEnded(*ended)
		case in != nil:
			return false, findingsNotAllowed()
		}
		return false, nil
	}
	if in == nil {
		// Without findings the visit says nothing of which campaign it
		// was for: it does the household only where that is unambiguous.
		if arrived && len(open) == 1 {
			return false, tx.MarkDone(ctx, open, v.HouseholdID, s.now().UTC())
		}
		return false, nil
	}
	if in.CampaignID != nil {
		if c, ok := endedBefore[*in.CampaignID]; ok {
			return false, campaignEnded(c)
		}
	}
	campaign, err := campaignOfFindings(open, in.CampaignID)
	if err != nil {
		return false, err
	}
	if arrived {
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
		VisitID: &v.ID, Version: version, late: slices.Contains(late, campaign)})
	return err == nil, err
}

// ranAt says whether the campaign was running at t: drawn before it (in
// the same second will do: a phone writes whole seconds), and ended (if
// it has) after it.
func ranAt(c Campaign, t time.Time) bool {
	return c.DrawnAt != nil && !t.Before(c.DrawnAt.Truncate(time.Second)) && (c.EndedAt == nil || t.Before(*c.EndedAt))
}

// campaignEnded refuses a visit that did not begin while the campaign ran.
func campaignEnded(c Campaign) error {
	at := c.EndedAt.In(domain.Shanghai).Format("2006-01-02 15:04")
	return &domain.Error{Code: domain.CodeConflict, Reason: "ended",
		Message:   "the campaign " + c.Name + " ended at " + at + "; this visit did not begin while it ran, and it takes no more visits or findings",
		MessageZH: "督查“" + c.Name + "”已于" + at + "结束，本次核查走访不是在督查进行期间开始的，不能再记入该督查"}
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
