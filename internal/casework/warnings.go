package casework

import (
	"context"
	"crypto/sha1"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Warning lists: a risk at a household outside the register puts it on the
// edge list (边缘户监测), at an exited one on the watch list (脱贫监测户),
// at one in the register on the register list, where it stays open until
// resolved and holds the household's exit (CheckNoOpenRisk).
const (
	ListEdge     = "edge"
	ListWatch    = "watch"
	ListRegister = "register"
)

// WarningLists are the lists with their zh-CN names.
var WarningLists = domain.Vocabulary{{Code: ListEdge, Label: "边缘户监测"}, {Code: ListWatch, Label: "脱贫不稳定监测"},
	{Code: ListRegister, Label: "在册户风险"}}

// Warning states.
const (
	WarningOpen     = "open"
	WarningResolved = "resolved"
)

// WarningStates are the states with their zh-CN names.
var WarningStates = domain.Vocabulary{{Code: WarningOpen, Label: "待处置"}, {Code: WarningResolved, Label: "已处置"}}

// Resolutions of a warning. Withdrawn is the server's: the visit that
// raised it was edited to drop the trigger, or deleted, while it was open.
const (
	ResolveCleared   = "cleared"   // the risk is gone (风险消除), with a note
	ResolveEdge      = "edge"      // a general household becomes an edge household
	ResolveRelapsed  = "relapsed"  // an exited household relapsed, with its cause
	ResolveWithdrawn = "withdrawn" // its visit no longer records the trigger
)

// Resolutions are what a supervisor may resolve a warning with.
var Resolutions = domain.Vocabulary{
	{Code: ResolveCleared, Label: "风险已消除"}, {Code: ResolveEdge, Label: "纳入边缘户"}, {Code: ResolveRelapsed, Label: "认定返贫"},
}

// listResolutions are the resolutions a warning of each list can take, as
// the register's status moves allow them for the list's households: any
// risk may be cleared; a household outside the register may become edge
// (a general one: the register refuses the others); only an exited one
// relapses; a household in the register has its plan, and the register
// refuses both moves (edge, and relapsed, which is for exited households).
var listResolutions = map[string][]string{
	ListEdge:     {ResolveCleared, ResolveEdge},
	ListWatch:    {ResolveCleared, ResolveRelapsed},
	ListRegister: {ResolveCleared},
}

// ResolutionsFor is what a supervisor may resolve a warning of list with,
// in the order of Resolutions: what a form offers, rather than a choice the
// register then refuses (422). An unknown list has them all.
func ResolutionsFor(list string) domain.Vocabulary {
	codes, ok := listResolutions[list]
	if !ok {
		return Resolutions
	}
	var out domain.Vocabulary
	for _, t := range Resolutions {
		if slices.Contains(codes, t.Code) {
			out = append(out, t)
		}
	}
	return out
}

// Warning is one risk a visit recorded at a household, on a list until a
// supervisor resolves it.
type Warning struct {
	ID             uuid.UUID
	CountyID       uuid.UUID
	HouseholdID    uuid.UUID
	RegionPath     string // the household's, for scope
	HeadName       string // the household's head, as read
	List           string
	Trigger        string
	Note           string
	VisitID        uuid.UUID
	SeenOn         domain.Date
	CadreID        uuid.UUID
	State          string
	Resolution     string
	ResolutionNote string
	Cause          string
	ResolvedBy     *uuid.UUID
	ResolvedAt     *time.Time
	CreatedAt      time.Time
	Version        int64
}

// warningNamespace roots the ids of warnings.
var warningNamespace = uuid.MustParse("0b6f7a52-9d3e-4f0c-8a41-5c2e9d7b13a6")

// WarningID is the id of the warning a visit's trigger raises: derived, so
// a visit sent twice, or edited, raises it once.
func WarningID(visitID uuid.UUID, trigger string) uuid.UUID {
	return uuid.NewHash(sha1.New(), warningNamespace, []byte(visitID.String()+"/"+trigger), 5)
}

// listFor is the list a risk at a household of status puts it on. A risk
// at a household in the register (registered, relapsed) is recorded too,
// though its plan answers it: an open one holds the household's exit.
func listFor(status string) string {
	switch status {
	case domain.StatusExited:
		return ListWatch
	case domain.StatusRegistered, domain.StatusRelapsed:
		return ListRegister
	}
	return ListEdge
}

// raiseWarnings opens a warning for each trigger the visit records that
// before did not, unless the household already has an open one for that
// trigger; and withdraws the open warnings of triggers the visit no
// longer records (or of a deleted visit).
func (s *Service) raiseWarnings(ctx context.Context, tx TxStore, h domain.Household, before *domain.Visit, after domain.Visit) error {
	var had, has []string
	if before != nil && !before.Deleted {
		for _, t := range before.RiskTriggers {
			had = append(had, t.Code)
		}
	}
	if !after.Deleted {
		for _, t := range after.RiskTriggers {
			has = append(has, t.Code)
		}
	}
	open, err := tx.OpenWarnings(ctx, h.CountyID, h.ID)
	if err != nil {
		return err
	}
	for _, w := range open {
		if w.VisitID == after.ID && !slices.Contains(has, w.Trigger) {
			next, now := w, s.now().UTC()
			next.State, next.Resolution, next.ResolvedAt, next.Version = WarningResolved, ResolveWithdrawn, &now, w.Version+1
			if err := tx.SaveWarning(ctx, next, w.Version, warningAudit(after.CadreID, "", next, "withdraw")); err != nil {
				return err
			}
		}
	}
	list := listFor(h.Status)
	var fresh []Warning
	for _, t := range after.RiskTriggers {
		if after.Deleted || slices.Contains(had, t.Code) || slices.ContainsFunc(open, func(w Warning) bool { return w.Trigger == t.Code }) {
			continue
		}
		fresh = append(fresh, Warning{ID: WarningID(after.ID, t.Code), CountyID: h.CountyID, HouseholdID: h.ID, List: list, Trigger: t.Code,
			Note: t.Note, VisitID: after.ID, SeenOn: domain.DateOf(after.StartedAt), CadreID: after.CadreID, State: WarningOpen, Version: 1})
	}
	if len(fresh) == 0 {
		return nil
	}
	now := s.now().UTC()
	for i := range fresh {
		fresh[i].CreatedAt = now
	}
	return tx.InsertWarnings(ctx, fresh)
}

// WarningQuery filters the warning list.
type WarningQuery struct {
	RegionID      *uuid.UUID
	HouseholdID   *uuid.UUID
	List, State   string
	Limit, Offset int
}

// WarningFilter is a warning listing as the store runs it.
type WarningFilter struct {
	WithinPath    string // the caller's subtree
	RegionPath    string // asked for
	HouseholdID   *uuid.UUID
	List, State   string
	Limit, Offset int
}

// Warnings lists the warnings of the households of a supervisor's
// subtree, newest first: the edge and watch lists (监测预警).
func (s *Service) Warnings(ctx context.Context, p domain.Principal, q WarningQuery) ([]Warning, int64, error) {
	if !p.Manages() {
		return nil, 0, domain.Forbidden()
	}
	var fe domain.FieldErrors
	if q.List != "" && !WarningLists.Has(q.List) {
		fe.Add("list", "invalid_enum", "list must be edge, watch or register", "监测名单无效")
	}
	if q.State != "" && !WarningStates.Has(q.State) {
		fe.Add("state", "invalid_enum", "state must be open or resolved", "处置状态无效")
	}
	if err := fe.Err(); err != nil {
		return nil, 0, err
	}
	path, err := domain.RegionParam(ctx, p, q.RegionID, s.store.RegionWithin)
	if err != nil {
		return nil, 0, err
	}
	return s.store.Warnings(ctx, WarningFilter{WithinPath: p.RegionPath, RegionPath: path, HouseholdID: q.HouseholdID, List: q.List, State: q.State,
		Limit: q.Limit, Offset: q.Offset})
}

// HouseholdWarnings lists the warnings of a household the caller
// supervises, newest first.
func (s *Service) HouseholdWarnings(ctx context.Context, p domain.Principal, householdID uuid.UUID) ([]Warning, error) {
	if !p.Manages() {
		return nil, domain.Forbidden()
	}
	h, err := s.store.Household(ctx, p.HouseholdScope(), s.today(), householdID)
	if err != nil {
		return nil, err
	}
	ws, _, err := s.store.Warnings(ctx, WarningFilter{WithinPath: p.RegionPath, HouseholdID: &h.ID, Limit: 200})
	return ws, err
}

// Resolution is a supervisor's answer to a warning.
type Resolution struct {
	Resolution  string
	Note        string
	Cause       string      // relapsed: why (domain.RelapseCauses)
	EffectiveOn domain.Date // edge, relapsed: the status move's date
	Version     int64
}

// ResolveWarning closes an open warning of a supervisor's subtree. A
// resolution that moves the household's status (edge, relapsed) makes the
// move through the register's status service in the same transaction, so
// history, change feed and rules follow it; the move's own checks apply.
func (s *Service) ResolveWarning(ctx context.Context, p domain.Principal, id uuid.UUID, in Resolution) (Warning, error) {
	if !p.Manages() {
		return Warning{}, domain.Forbidden()
	}
	today := s.today()
	err := s.store.Tx(ctx, func(tx TxStore) error {
		w, err := tx.WarningForUpdate(ctx, p.RegionPath, id)
		if err != nil {
			return err
		}
		var fe domain.FieldErrors
		if !Resolutions.Has(in.Resolution) {
			fe.Add("/resolution", "invalid_enum", "resolution must be cleared, edge or relapsed", "处置方式无效")
		}
		if in.Resolution == ResolveCleared {
			domain.CheckText(&fe, "/note", "处置说明", in.Note, 1, 1000)
		} else {
			domain.CheckText(&fe, "/note", "处置说明", in.Note, 0, 1000)
		}
		switch {
		case in.Resolution == ResolveRelapsed && in.Cause == "":
			fe.Required("/cause", "返贫原因")
		case in.Cause != "" && in.Resolution != ResolveRelapsed:
			fe.Add("/cause", "not_allowed", "a cause goes with a relapse only", "只有认定返贫时填写返贫原因")
		case in.Cause != "" && !domain.RelapseCauses.Has(in.Cause):
			fe.Add("/cause", "invalid_enum", "cause must be a relapse cause (GET /api/v1/vocabularies: relapse_causes)", "返贫原因无效")
		}
		if err := fe.Err(); err != nil {
			return err
		}
		if w.Version != in.Version {
			return domain.Stale("warning", "预警")
		}
		if w.State != WarningOpen {
			return &domain.Error{Code: domain.CodeConflict, Reason: "warning_resolved", Message: "the warning is already resolved", MessageZH: "该预警已处置"}
		}
		if in.Resolution != ResolveCleared {
			if err := s.moveForWarning(ctx, tx, p, w, in, today); err != nil {
				return err
			}
		}
		next, resolver, now := w, p.UserID, s.now().UTC()
		next.State, next.Resolution, next.ResolutionNote, next.Cause, next.ResolvedBy, next.ResolvedAt, next.Version =
			WarningResolved, in.Resolution, in.Note, in.Cause, &resolver, &now, w.Version+1
		return tx.SaveWarning(ctx, next, w.Version, warningAudit(p.UserID, p.Username, next, "resolve"))
	})
	if err != nil {
		return Warning{}, err
	}
	return s.store.Warning(ctx, p.RegionPath, id)
}

// moveForWarning makes the status move a resolution names; the register
// refuses a move the household's status does not allow (a registered
// household cannot become edge), naming /status, reported here as the
// resolution.
func (s *Service) moveForWarning(ctx context.Context, tx TxStore, p domain.Principal, w Warning, in Resolution, today domain.Date) error {
	h, err := tx.Household(ctx, p.HouseholdScope(), today, w.HouseholdID)
	if err != nil {
		return err
	}
	on := in.EffectiveOn
	if on.IsZero() {
		on = today
	}
	label, _ := domain.RiskTriggers.Label(w.Trigger)
	mv := StatusMove{Status: domain.StatusEdge, EffectiveOn: on, Reason: "监测预警：" + label, Version: h.Version}
	if in.Resolution == ResolveRelapsed {
		mv.Status, mv.Cause = domain.StatusRelapsed, in.Cause
	}
	return domain.Renamed(s.status.ChangeStatus(ctx, tx, p, h.ID, mv), "/status", "/resolution")
}

func warningAudit(actor uuid.UUID, name string, w Warning, action string) domain.AuditEntry {
	hid := w.HouseholdID
	return domain.AuditEntry{ActorID: &actor, ActorName: name, Action: action, ObjectType: "risk_warning", ObjectID: w.ID.String(),
		HouseholdID: &hid, Detail: map[string]any{"trigger": w.Trigger, "list": w.List, "resolution": w.Resolution, "cause": w.Cause}}
}
