package inspect

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/inspect/forms"
)

// Finding is one form filled in by an inspector: the household form for a
// sampled household, or the village form for a sampled village. It keeps
// the form's code and version, so a form changed later never re-reads old
// answers against new questions.
type Finding struct {
	ID          uuid.UUID
	CampaignID  uuid.UUID
	CountyID    uuid.UUID
	HouseholdID *uuid.UUID // nil for a village form
	VillageID   uuid.UUID
	FormCode    string
	FormVersion int
	Answers     map[string]forms.Answer
	InspectorID uuid.UUID
	VisitID     *uuid.UUID // the inspection visit it was recorded on
	RecordedAt  time.Time  // first recorded; the discrepancy window ends here
	UpdatedAt   time.Time
	Version     int64
}

// FindingInput is what an inspector sends for one household or village.
type FindingInput struct {
	CampaignID  uuid.UUID
	HouseholdID *uuid.UUID // exactly one of HouseholdID and VillageID
	VillageID   *uuid.UUID
	Answers     map[string]forms.Answer
	VisitID     *uuid.UUID
	// Version is the version of the findings being corrected; nil (or 0)
	// records them the first time.
	Version *int64
	// late records, the first time, findings an inspection visit brought
	// after the campaign ended, begun while it ran (InspectionVisitIn).
	late bool
}

// Forms are the forms inspectors fill in now. They are the package's
// defaults until a county edits its own; findings keep the version they
// were recorded with either way.
func (s *Service) Forms() []forms.Form {
	return []forms.Form{forms.DefaultHousehold(), forms.DefaultVillage()}
}

func (s *Service) form(code string) forms.Form {
	for _, f := range s.Forms() {
		if f.Code == code {
			return f
		}
	}
	panic("inspect: no form " + code)
}

// CheckHouseholdAnswers validates answers against the current household
// form, naming each problem at /answers/<item code>. A sync path that takes
// findings from phones calls it (or RecordFindingsIn) so both ways in judge
// answers alike.
func (s *Service) CheckHouseholdAnswers(answers map[string]forms.Answer) error {
	var fe domain.FieldErrors
	s.form(forms.FormHousehold).Validate(answers, &fe, "/answers")
	return fe.Err()
}

// CheckVillageAnswers is CheckHouseholdAnswers for the village form.
func (s *Service) CheckVillageAnswers(answers map[string]forms.Answer) error {
	var fe domain.FieldErrors
	s.form(forms.FormVillage).Validate(answers, &fe, "/answers")
	return fe.Err()
}

// RecordFindings records, or corrects, an inspector's findings for a
// sampled household or village of a drawn campaign. It reports whether the
// findings were recorded for the first time.
func (s *Service) RecordFindings(ctx context.Context, p domain.Principal, in FindingInput) (Finding, bool, error) {
	var out Finding
	var created bool
	err := s.port.Tx(ctx, func(tx TxStore) error {
		var err error
		out, created, err = s.RecordFindingsIn(ctx, tx, p, in)
		return err
	})
	return out, created, err
}

// RecordFindingsIn is RecordFindings inside the caller's transaction. The
// campaign is held until the transaction ends, so no finding lands on a
// campaign being ended.
func (s *Service) RecordFindingsIn(ctx context.Context, tx TxStore, p domain.Principal, in FindingInput) (Finding, bool, error) {
	c, err := tx.CampaignForUpdate(ctx, in.CampaignID)
	if err != nil {
		return Finding{}, false, err
	}
	if !c.VisibleTo(p) {
		return Finding{}, false, domain.NotFound("inspection")
	}
	if !slices.Contains(c.Inspectors, p.UserID) {
		return Finding{}, false, &domain.Error{Code: domain.CodeForbidden, Message: "only the campaign's inspectors record findings",
			MessageZH: "只有该督查的督查人员可以录入核查结果"}
	}
	switch c.Status {
	case StatusPlanned:
		return Finding{}, false, &domain.Error{Code: domain.CodeConflict, Reason: "not_drawn", Message: "the campaign's sample is not drawn yet",
			MessageZH: "该督查尚未抽样，不能录入核查结果"}
	case StatusEnded:
		if in.late && in.VisitID != nil && (in.Version == nil || *in.Version == 0) {
			break
		}
		return Finding{}, false, &domain.Error{Code: domain.CodeConflict, Reason: "ended", Message: "the campaign has ended; findings are closed",
			MessageZH: "该督查已结束，不能再录入或修改核查结果"}
	}
	var (
		f        Finding
		existing Finding
		townID   uuid.UUID
		form     forms.Form
		audit    domain.AuditEntry
	)
	switch {
	case in.HouseholdID != nil:
		h, err := tx.SampledHousehold(ctx, c.ID, *in.HouseholdID)
		if err != nil {
			return Finding{}, false, notSampled(err, "household")
		}
		townID, form = h.TownID, s.form(forms.FormHousehold)
		f = Finding{CampaignID: c.ID, CountyID: h.CountyID, HouseholdID: &h.HouseholdID, VillageID: h.VillageID}
		existing, err = tx.HouseholdFinding(ctx, c.ID, h.HouseholdID)
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return Finding{}, false, err
		}
		hid := h.HouseholdID
		audit.HouseholdID = &hid
	case in.VillageID != nil:
		v, err := tx.SampledVillage(ctx, c.ID, *in.VillageID)
		if err != nil {
			return Finding{}, false, notSampled(err, "village")
		}
		region, err := tx.Region(ctx, v.ID)
		if err != nil {
			return Finding{}, false, err
		}
		county := uuid.Nil
		if region.CountyID != nil {
			county = *region.CountyID
		}
		townID, form = v.TownID, s.form(forms.FormVillage)
		f = Finding{CampaignID: c.ID, CountyID: county, VillageID: v.ID}
		existing, err = tx.VillageFinding(ctx, c.ID, v.ID)
		if err != nil && !domain.IsCode(err, domain.CodeNotFound) {
			return Finding{}, false, err
		}
		audit.RegionPath = region.Path
	default:
		return Finding{}, false, domain.NotFound("sample")
	}
	// In a cross-inspection nobody inspects the town they work in: the
	// draw gave them no task there, and findings keep to the same rule.
	if c.Mode == ModeCross && strings.Contains(p.RegionPath, "/"+townID.String()+"/") {
		return Finding{}, false, &domain.Error{Code: domain.CodeForbidden, Reason: "own_town",
			Message: "cross-inspection: you may not inspect the town you work in", MessageZH: "交叉互检：不能核查本人所在乡镇"}
	}
	var fe domain.FieldErrors
	form.Validate(in.Answers, &fe, "/answers")
	if in.VisitID != nil {
		if err := checkInspectionVisit(ctx, tx, p, f, *in.VisitID, &fe); err != nil {
			return Finding{}, false, err
		}
	}
	if err := fe.Err(); err != nil {
		return Finding{}, false, err
	}
	first := existing.ID == uuid.Nil
	if in.Version != nil && *in.Version == 0 {
		in.Version = nil // a phone's "never recorded"
	}
	switch {
	case first && in.Version != nil, !first && (in.Version == nil || *in.Version != existing.Version):
		return Finding{}, false, staleFindings(first)
	}
	now := s.now().UTC()
	f.FormCode, f.FormVersion, f.Answers, f.InspectorID, f.VisitID, f.UpdatedAt = form.Code, form.Version, in.Answers, p.UserID, in.VisitID, now
	if f.Answers == nil {
		f.Answers = map[string]forms.Answer{}
	}
	action := "record_findings"
	if first {
		f.ID, f.RecordedAt, f.Version = uuid.New(), now, 1
	} else {
		f.ID, f.RecordedAt, f.Version = existing.ID, existing.RecordedAt, existing.Version+1
		action = "correct_findings"
	}
	if !first {
		if err := checkItemKeepsProblem(ctx, tx, f); err != nil {
			return Finding{}, false, err
		}
	}
	actor := p.UserID
	audit.ActorID, audit.ActorName, audit.Action, audit.ObjectType, audit.ObjectID, audit.RequestID = &actor, p.Username, action, "inspection_finding",
		f.ID.String(), p.RequestID
	audit.Detail = map[string]any{"inspection_id": c.ID.String(), "form": f.FormCode, "form_version": f.FormVersion, "version": f.Version}
	if err := tx.SaveFinding(ctx, f, f.Version-1, audit); err != nil {
		return Finding{}, false, err
	}
	return f, first, nil
}

// checkItemKeepsProblem refuses a correction that leaves the finding
// recording no problem (FindingProblems, judged on the corrected answers)
// while a rectification item registered for it is neither closed nor
// withdrawn (OpenItemOfFinding): the item would stay open for a problem
// the finding no longer records. A correction that still records one,
// whichever, is taken.
func checkItemKeepsProblem(ctx context.Context, tx TxStore, f Finding) error {
	item, err := tx.OpenItemOfFinding(ctx, f.ID)
	switch {
	case domain.IsCode(err, domain.CodeNotFound):
		return nil
	case err != nil:
		return err
	}
	problems, err := FindingProblems(ctx, tx, f)
	if err != nil || len(problems) > 0 {
		return err
	}
	return hasOpenItem(item)
}

// ReasonHasOpenItem refuses a correction that would leave a finding with
// a rectification item not closed recording no problem.
const ReasonHasOpenItem = "has_open_item"

func hasOpenItem(item uuid.UUID) error {
	id := item.String()
	msg := "the finding has rectification item " + id + " not closed; the correction would leave it recording no problem " +
		"(no problem answer, no discrepancy with the cadre's records): keep the problem until the item is closed (销号), or withdraw the item (撤销) " +
		"if it was registered in error"
	msgZH := "该督查发现已登记整改事项（编号" + id + "），请先将该事项整改销号（登记有误的可撤销该事项），再将核查结果修改为无问题"
	return &domain.Error{Code: domain.CodeConflict, Reason: ReasonHasOpenItem, Message: msg, MessageZH: msgZH, Err: &domain.ExistingRecord{ID: item},
		Fields: []domain.FieldError{{Field: "/answers", Reason: ReasonHasOpenItem, Message: msg, MessageZH: msgZH}}}
}

// notSampled answers a household or village outside the sample as absent.
func notSampled(err error, what string) error {
	if domain.IsCode(err, domain.CodeNotFound) {
		return domain.NotFound(what)
	}
	return err
}

func staleFindings(first bool) error {
	if first {
		// The caller means to correct findings that were never recorded.
		return &domain.Error{Code: domain.CodeConflict, Reason: "stale_version", Message: "no findings are recorded yet; send them without a version",
			MessageZH: "尚未录入核查结果，请不带版本号提交"}
	}
	return &domain.Error{Code: domain.CodeConflict, Reason: "stale_version",
		Message: "findings were recorded or corrected since you read them; reload, and send the version you corrected", MessageZH: "核查结果已被录入或修改，请刷新后重试"}
}

// checkInspectionVisit accepts as the findings' visit only the inspector's
// own inspection visit to the household (or, for a village form, to a
// household of the village).
func checkInspectionVisit(ctx context.Context, tx TxStore, p domain.Principal, f Finding, id uuid.UUID, fe *domain.FieldErrors) error {
	v, err := tx.Visit(ctx, id)
	if domain.IsCode(err, domain.CodeNotFound) {
		fe.Add("/visit_id", "unknown", "no such visit of yours", "未找到您的该次核查走访")
		return nil
	}
	if err != nil {
		return err
	}
	switch {
	case v.CadreID != p.UserID || v.Deleted:
		fe.Add("/visit_id", "unknown", "no such visit of yours", "未找到您的该次核查走访")
	case v.Kind != domain.KindInspection:
		fe.Add("/visit_id", "invalid", "the visit is not an inspection visit", "该走访不是督查核查走访")
	case f.HouseholdID != nil && v.HouseholdID != *f.HouseholdID:
		fe.Add("/visit_id", "invalid", "the visit was to another household", "该走访不是对本户的核查")
	case f.HouseholdID == nil:
		hs, err := tx.HouseholdsByID(ctx, []uuid.UUID{v.HouseholdID})
		if err != nil {
			return err
		}
		if hs[v.HouseholdID].VillageID != f.VillageID {
			fe.Add("/visit_id", "invalid", "the visit was to a household of another village", "该走访不在本村")
		}
	}
	return nil
}

// CampaignFindings are a campaign's findings, households' before villages',
// each in the order recorded, with the names an answer shows.
type CampaignFindings struct {
	Campaign   Campaign
	Findings   []Finding
	Names      map[uuid.UUID]string
	Households map[uuid.UUID]HouseholdLabel
}

// Findings returns the campaign's findings: whoever may see the campaign
// may read them.
func (s *Service) Findings(ctx context.Context, p domain.Principal, id uuid.UUID) (CampaignFindings, error) {
	c, err := s.Campaign(ctx, p, id)
	if err != nil {
		return CampaignFindings{}, err
	}
	out := CampaignFindings{Campaign: c}
	if out.Findings, err = s.store.Findings(ctx, c.ID); err != nil {
		return out, err
	}
	var regions, households []uuid.UUID
	for _, f := range out.Findings {
		regions = append(regions, f.VillageID, f.InspectorID)
		if f.HouseholdID != nil {
			households = append(households, *f.HouseholdID)
		}
	}
	if out.Names, err = s.store.Names(ctx, regions); err != nil {
		return out, err
	}
	out.Households, err = s.store.HouseholdLabels(ctx, households)
	return out, err
}
