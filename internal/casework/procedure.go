package casework

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Procedure kinds: what the steps lead to.
const (
	KindExit           = "exit"           // 脱贫退出: 两公示一公告, then exited with its year
	KindIdentification = "identification" // 识别: 入户查、民主评、两公示、一公告, then registered
	KindRemoval        = "removal"        // 清退: 回头看, then removed with its reason
)

// Procedure states.
const (
	ProcedureOpen      = "open"
	ProcedureCompleted = "completed"
)

// StepDef is one step of a procedure kind, in order.
type StepDef struct {
	Code   string
	NameZH string
	// Notice steps are public notices: the next step comes at least
	// NoticeDays after, and a notice needs a document or photo of it.
	Notice bool
}

// NoticeDays is how long a public notice stands before the next step — a
// design choice (the seeds name the notices, not their length; 7 days is
// the usual 公示期).
const NoticeDays = 7

// Kinds lists the procedures with their steps in order (000: 入户查、民主评、
// 两公示、一公告; 002: 两公示一公告, 回头看…清退).
var Kinds = map[string][]StepDef{
	KindExit: {
		{"village_review", "村民主评议", false},
		{"first_notice", "村第一次公示", true},
		{"second_notice", "乡镇审核第二次公示", true},
		{"announcement", "县级审定公告", true},
	},
	KindIdentification: {
		{"household_check", "入户调查", false},
		{"democratic_review", "村民主评议", false},
		{"first_notice", "村第一次公示", true},
		{"second_notice", "乡镇审核第二次公示", true},
		{"announcement", "县级审定公告", true},
	},
	KindRemoval: {
		{"review", "回头看核查", false},
		{"democratic_review", "村民主评议", false},
		{"notice", "公示", true},
		{"announcement", "县级审定公告", true},
	},
	// 中办国办《关于建立贫困退出机制的意见》(2016): 贫困村退出由乡（镇）
	// 人民政府提出，县级扶贫部门审核，县级人民政府在贫困村内公示无异议后
	// 公告退出; 002 asks for the village's 出列 procedure (出列标准、程序).
	KindVillageExit: {
		{"town_proposal", "村申请、乡镇审核提出", false},
		{"county_review_notice", "县级审核并在村内公示", true},
		{"announcement", "县级人民政府公告出列", true},
	},
}

// KindLabels are the kinds' zh-CN names.
var KindLabels = domain.Vocabulary{{Code: KindExit, Label: "脱贫退出"}, {Code: KindIdentification, Label: "贫困户识别"}, {Code: KindRemoval, Label: "清退"},
	{Code: KindVillageExit, Label: "贫困村出列"}}

// Procedure is one household's or one village's run of a procedure kind:
// exactly one of HouseholdID and VillageID is set.
type Procedure struct {
	ID          uuid.UUID
	CountyID    uuid.UUID
	HouseholdID uuid.UUID
	VillageID   uuid.UUID // a village_exit's village
	RegionPath  string    // the household's or the village's, for scope
	Kind        string
	Year        int    // exit year, or the year of registration
	PovertyType string // identification: the type registered with
	Reason      string // removal: why (清退原因)
	Status      string
	Steps       []Step
	CreatedBy   uuid.UUID
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64
}

// Step is one recorded step, with its date and evidence.
type Step struct {
	ID          uuid.UUID
	ProcedureID uuid.UUID
	Code        string
	Seq         int
	DoneOn      domain.Date
	Note        string
	DocumentIDs []string
	PhotoIDs    []uuid.UUID
	Confirmed   []string // exit village review: the confirmed indicators' codes
	RecordedBy  uuid.UUID
	RecordedAt  time.Time
}

// Next is the step that comes next ("" when all are recorded).
func (pr Procedure) Next() string {
	defs := Kinds[pr.Kind]
	if len(pr.Steps) >= len(defs) {
		return ""
	}
	return defs[len(pr.Steps)].Code
}

// NewProcedure is the input for starting a procedure.
type NewProcedure struct {
	Kind        string
	Year        int
	PovertyType string
	Reason      string
}

// fromStatuses are the statuses a household may be in when a kind starts:
// those the register lets move to the kind's outcome.
var fromStatuses = map[string][]string{
	KindExit:           {domain.StatusRegistered},
	KindIdentification: {"", domain.StatusGeneral, domain.StatusEdge, domain.StatusRelapsed},
	KindRemoval:        {domain.StatusRegistered},
}

// KindsFrom are the procedures a household of status may start, in the
// order a form offers them.
func KindsFrom(status string) []string {
	var out []string
	for _, k := range []string{KindExit, KindIdentification, KindRemoval} {
		if slices.Contains(fromStatuses[k], status) {
			out = append(out, k)
		}
	}
	return out
}

// StartProcedure opens a procedure for a household the caller supervises;
// a household has at most one open procedure. An exit starts only for a
// household that meets the year's standard as the candidates list judges
// it (Judge): else 422 on /year, one error for each unmet indicator.
func (s *Service) StartProcedure(ctx context.Context, p domain.Principal, householdID uuid.UUID, in NewProcedure) (Procedure, error) {
	if !p.Manages() {
		return Procedure{}, domain.Forbidden()
	}
	today := s.today()
	h, err := s.store.Household(ctx, p.HouseholdScope(), today, householdID)
	if err != nil {
		return Procedure{}, err
	}
	var fe domain.FieldErrors
	if _, ok := Kinds[in.Kind]; !ok || in.Kind == KindVillageExit {
		fe.Add("/kind", "invalid_enum", "kind must be exit, identification or removal (a village's exit starts at its village)", "程序类型无效")
	} else if !slices.Contains(fromStatuses[in.Kind], h.Status) {
		fe.Add("/kind", "invalid_transition", "a "+h.Status+" household cannot start a "+in.Kind+" procedure", "该户当前状态不能启动此程序")
	}
	checkYear(&fe, "/year", in.Year, today)
	if in.Kind == KindExit && in.Year > today.Year {
		fe.Add("/year", "out_of_range", "the exit year cannot be after this year", "脱贫年度不能晚于今年")
	}
	switch {
	case in.Kind == KindIdentification && in.PovertyType == "":
		fe.Required("/poverty_type", "贫困户属性")
	case in.PovertyType != "" && (in.Kind != KindIdentification || !domain.PovertyTypes.Has(in.PovertyType)):
		fe.Add("/poverty_type", "invalid_enum", "a poverty type goes with an identification, and must be ordinary, dibao or wubao", "贫困户属性无效")
	}
	if in.Kind == KindRemoval {
		domain.CheckText(&fe, "/reason", "清退原因", in.Reason, 1, 500)
	} else {
		domain.CheckText(&fe, "/reason", "原因", in.Reason, 0, 500)
	}
	if err := fe.Err(); err != nil {
		return Procedure{}, err
	}
	if in.Kind == KindExit {
		if err := s.checkQualifies(ctx, s.store, h, in.Year, "/year"); err != nil {
			return Procedure{}, err
		}
	}
	now := s.now().UTC()
	pr := Procedure{ID: uuid.New(), CountyID: h.CountyID, HouseholdID: h.ID, Kind: in.Kind, Year: in.Year, PovertyType: in.PovertyType,
		Reason: in.Reason, Status: ProcedureOpen, Steps: []Step{}, CreatedBy: p.UserID, CreatedAt: now, UpdatedAt: now, Version: 1}
	err = s.store.Tx(ctx, func(tx TxStore) error {
		open, err := tx.OpenProcedures(ctx, h.CountyID, h.ID)
		if err != nil {
			return err
		}
		if len(open) > 0 {
			return &domain.Error{Code: domain.CodeConflict, Reason: "open_procedure", Message: "the household has an open " + open[0].Kind + " procedure",
				MessageZH: "该户已有进行中的程序"}
		}
		return tx.CreateProcedure(ctx, pr, procedureAudit(p, pr, "create", nil))
	})
	if err != nil {
		return Procedure{}, err
	}
	return s.Procedure(ctx, p, pr.ID)
}

// Procedure reads a procedure of the caller's region.
func (s *Service) Procedure(ctx context.Context, p domain.Principal, id uuid.UUID) (Procedure, error) {
	if !p.Manages() {
		return Procedure{}, domain.Forbidden()
	}
	return s.store.Procedure(ctx, p.RegionPath, id)
}

// HouseholdProcedures lists the procedures of a household the caller
// supervises, open and completed, with their steps: the procedures are the
// supervisors' (a cadre or an inspector is refused, as for one procedure).
func (s *Service) HouseholdProcedures(ctx context.Context, p domain.Principal, householdID uuid.UUID) ([]Procedure, error) {
	if !p.Manages() {
		return nil, domain.Forbidden()
	}
	h, err := s.store.Household(ctx, p.HouseholdScope(), s.today(), householdID)
	if err != nil {
		return nil, err
	}
	return s.store.HouseholdProcedures(ctx, h.CountyID, h.ID)
}

// StepInput records one step.
type StepInput struct {
	Step        string
	DoneOn      domain.Date
	Note        string
	DocumentIDs []string
	PhotoIDs    []uuid.UUID
	Confirmed   []string
	Version     int64
}

// RecordStep records the next step of an open procedure. A step out of
// order or recorded twice is a conflict with the procedure's state (409);
// a bad date or missing evidence names the field (422), and so does an
// exit's announcement for a household that no longer meets the year's
// standard (/step, its unmet indicators). The last step
// completes the procedure and moves the household's status through the
// register in the same transaction.
func (s *Service) RecordStep(ctx context.Context, p domain.Principal, id uuid.UUID, in StepInput) (Procedure, error) {
	if !p.Manages() {
		return Procedure{}, domain.Forbidden()
	}
	today := s.today()
	err := s.store.Tx(ctx, func(tx TxStore) error {
		pr, err := tx.ProcedureForUpdate(ctx, p.RegionPath, id)
		if err != nil {
			return err
		}
		defs := Kinds[pr.Kind]
		at := slices.IndexFunc(defs, func(d StepDef) bool { return d.Code == in.Step })
		if at < 0 {
			codes := make([]string, len(defs))
			for i, d := range defs {
				codes[i] = d.Code
			}
			return domain.Invalid(domain.FieldError{Field: "/step", Reason: "invalid_enum", Message: "a " + pr.Kind + " procedure's steps are " + strings.Join(codes, ", "),
				MessageZH: "该程序没有此步骤"})
		}
		if pr.Version != in.Version {
			return domain.Stale("procedure", "程序")
		}
		switch {
		case pr.Status != ProcedureOpen:
			return &domain.Error{Code: domain.CodeConflict, Reason: "procedure_closed", Message: "the procedure is " + pr.Status, MessageZH: "该程序已结束"}
		case at < len(pr.Steps):
			return &domain.Error{Code: domain.CodeConflict, Reason: "repeated_step", Message: in.Step + " is already recorded", MessageZH: defs[at].NameZH + "已记录，不能重复"}
		case at > len(pr.Steps):
			return &domain.Error{Code: domain.CodeConflict, Reason: "out_of_order", Message: "the next step is " + defs[len(pr.Steps)].Code,
				MessageZH: "请先完成" + defs[len(pr.Steps)].NameZH}
		}
		if err := s.checkStep(ctx, tx, pr, defs, at, in, today); err != nil {
			return err
		}
		now := s.now().UTC()
		st := Step{ID: uuid.New(), ProcedureID: pr.ID, Code: in.Step, Seq: at + 1, DoneOn: in.DoneOn, Note: in.Note, DocumentIDs: orEmpty(in.DocumentIDs),
			PhotoIDs: in.PhotoIDs, Confirmed: orEmpty(in.Confirmed), RecordedBy: p.UserID, RecordedAt: now}
		if st.PhotoIDs == nil {
			st.PhotoIDs = []uuid.UUID{}
		}
		last := at == len(defs)-1
		if last && pr.Kind == KindExit {
			// the facts may have changed while the notices stood
			h, err := tx.Household(ctx, p.HouseholdScope(), today, pr.HouseholdID)
			if err != nil {
				return err
			}
			if err := s.checkQualifies(ctx, tx, h, pr.Year, "/step"); err != nil {
				return err
			}
		}
		next := pr
		next.Version, next.UpdatedAt = pr.Version+1, now
		if last {
			next.Status = ProcedureCompleted
		}
		if err := tx.AddStep(ctx, next, st, pr.Version, procedureAudit(p, next, "record_step", map[string]any{"step": in.Step, "done_on": in.DoneOn.String()})); err != nil {
			return err
		}
		if !last {
			return nil
		}
		return s.complete(ctx, tx, p, pr, in.DoneOn)
	})
	if err != nil {
		return Procedure{}, err
	}
	return s.Procedure(ctx, p, id)
}

func (s *Service) checkStep(ctx context.Context, tx TxStore, pr Procedure, defs []StepDef, at int, in StepInput, today domain.Date) error {
	var fe domain.FieldErrors
	switch {
	case in.DoneOn.IsZero():
		fe.Required("/done_on", "办理日期")
	case in.DoneOn.After(today):
		fe.Add("/done_on", "out_of_range", "done_on cannot be in the future", "办理日期不能晚于今天")
	case in.DoneOn.Year < domain.FirstYear:
		// no procedure of targeted poverty alleviation lies before it began
		fe.Add("/done_on", "out_of_range", fmt.Sprintf("done_on cannot be before %d", domain.FirstYear), fmt.Sprintf("办理日期不能早于%d年", domain.FirstYear))
	case at > 0:
		prev := pr.Steps[at-1]
		earliest := prev.DoneOn
		if defs[at-1].Notice {
			earliest = earliest.AddDays(NoticeDays)
		}
		if in.DoneOn.Before(earliest) {
			fe.Add("/done_on", "out_of_range", "done_on must be on or after "+earliest.String()+" (the previous step, and a notice's 7 days)",
				"办理日期不能早于"+earliest.String()+"（上一步骤日期，公示期7天）")
		}
	}
	domain.CheckText(&fe, "/note", "说明", in.Note, 0, 2000)
	if len(in.DocumentIDs) > 20 {
		fe.Add("/document_ids", "too_many", "at most 20 documents", "文件不能超过20个")
	}
	for i, d := range in.DocumentIDs {
		domain.CheckText(&fe, "/document_ids/"+itoa(i), "文件编号", d, 1, 200)
	}
	if len(in.PhotoIDs) > 20 {
		fe.Add("/photo_ids", "too_many", "at most 20 photos", "照片不能超过20张")
	}
	if defs[at].Notice && len(in.DocumentIDs) == 0 && len(in.PhotoIDs) == 0 {
		fe.Add("/document_ids", "required", "a public notice needs its document or a photo of it", "公示公告须附文件或照片")
	}
	if pr.Kind == KindExit && at == 0 {
		st, err := s.standard(ctx, tx, pr.Year)
		if err != nil {
			return err
		}
		for _, ind := range st.Indicators {
			if ind.Check == CheckConfirmed && !slices.Contains(in.Confirmed, ind.Code) {
				fe.Add("/confirmed", "required", "the village review confirms indicator "+ind.Code, "村民主评议须确认指标："+ind.NameZH)
			}
		}
	} else if len(in.Confirmed) > 0 {
		fe.Add("/confirmed", "not_allowed", "indicators are confirmed at an exit's village review only", "只有脱贫退出的村民主评议确认指标")
	}
	return fe.Err()
}

// complete makes the status move a finished procedure leads to.
func (s *Service) complete(ctx context.Context, tx TxStore, p domain.Principal, pr Procedure, on domain.Date) error {
	if pr.Kind == KindVillageExit {
		return s.completeVillage(ctx, tx, p, pr, on)
	}
	h, err := tx.Household(ctx, p.HouseholdScope(), s.today(), pr.HouseholdID)
	if err != nil {
		return err
	}
	label, _ := KindLabels.Label(pr.Kind)
	mv := StatusMove{EffectiveOn: on, Reason: label + "程序完成（两公示一公告）", Version: h.Version}
	switch pr.Kind {
	case KindExit:
		y := pr.Year
		mv.Status, mv.ExitYear = domain.StatusExited, &y
	case KindIdentification:
		mv.Status, mv.PovertyType = domain.StatusRegistered, pr.PovertyType
	case KindRemoval:
		mv.Status, mv.Reason = domain.StatusRemoved, pr.Reason
	}
	// the move's date is the last step's: the register's refusal of it
	// (before the last status change) names the field the client sent
	return domain.Renamed(s.status.ChangeStatus(ctx, tx, p, h.ID, mv), "/effective_on", "/done_on")
}

func procedureAudit(p domain.Principal, pr Procedure, action string, detail map[string]any) domain.AuditEntry {
	actor, hid := p.UserID, &pr.HouseholdID
	if detail == nil {
		detail = map[string]any{}
	}
	detail["kind"], detail["status"] = pr.Kind, pr.Status
	if pr.VillageID != uuid.Nil {
		hid, detail["village_id"] = nil, pr.VillageID.String()
	}
	return domain.AuditEntry{ActorID: &actor, ActorName: p.Username, Action: action, ObjectType: "procedure", ObjectID: pr.ID.String(),
		HouseholdID: hid, RegionPath: pr.RegionPath, RequestID: p.RequestID, Detail: detail}
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }
