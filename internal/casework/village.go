package casework

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// KindVillageExit is a poor village's exit (贫困村出列): the same
// step-record mechanism as a household's procedures, belonging to a
// village; its last step marks the village exited with its year.
const KindVillageExit = "village_exit"

// VillageIndicator is one yes/no item of the village criteria (五通七有),
// recorded per village and year.
type VillageIndicator struct {
	Code   string
	NameZH string
}

// VillageExitStandard is a year's criteria for a poor village's exit.
type VillageExitStandard struct {
	Year int
	// IncidencePermille: the village's poverty incidence must be below it
	// (‰). The incidence is computed from the register: members of its
	// registered and relapsed households over all members of its households.
	IncidencePermille int
	// CollectiveIncomeFen: the village collective's income of the year
	// must reach it (002: 贫困村年集体经济收入达到5万元以上).
	CollectiveIncomeFen int64
	Indicators          []VillageIndicator
	Version             int64 // 0: the built-in default, never stored
	UpdatedAt           time.Time
}

// DefaultVillageExitStandard is the criteria of a year nobody configured.
// The incidence below 2% is the national rule for poor villages' exit
// (中办国办《关于建立贫困退出机制的意见》2016: 贫困发生率降至2%以下, 西部3%),
// not a seed's words; the 50,000 yuan of collective income is 002's. The
// items are 五通七有 (003), which the seeds name without listing: a design
// choice following the inspection form's village infrastructure items.
func DefaultVillageExitStandard(year int) VillageExitStandard {
	return VillageExitStandard{Year: year, IncidencePermille: 20, CollectiveIncomeFen: 5_000_000, Indicators: []VillageIndicator{
		{"road", "通硬化路"}, {"water", "通安全饮水"}, {"electricity", "通动力电"}, {"broadband", "通宽带网络"}, {"broadcast", "通广播电视"},
		{"clinic", "有标准化卫生室"}, {"activity_room", "有综合文化活动室"}, {"school", "有义务教育学校或教学点"},
		{"party_office", "有村级组织活动场所"}, {"industry", "有主导产业"}, {"cooperative", "有农民专业合作社"}, {"service_center", "有便民服务中心"},
	}}
}

// Validate checks criteria a person wrote.
func (st VillageExitStandard) Validate(fe *domain.FieldErrors, today domain.Date) {
	checkYear(fe, "/year", st.Year, today)
	if st.IncidencePermille < 1 || st.IncidencePermille > 1000 {
		fe.Add("/incidence_permille", "out_of_range", "incidence_permille must be between 1 and 1000", "贫困发生率标准应在1‰至1000‰之间")
	}
	if st.CollectiveIncomeFen < 0 || st.CollectiveIncomeFen > domain.MaxAmountFen {
		fe.Add("/collective_income_fen", "out_of_range", "collective_income_fen must be between 0 and 10,000,000,000", "村集体经济收入标准应在0至1亿元之间")
	}
	if len(st.Indicators) > 30 {
		fe.Add("/indicators", "out_of_range", "at most 30 indicators", "指标不能超过30项")
	}
	seen := map[string]bool{}
	for i, in := range st.Indicators {
		p := "/indicators/" + strconv.Itoa(i)
		if !validCode(in.Code) {
			fe.Add(p+"/code", "invalid_format", "code must be 1–40 lower-case letters, digits or _", "指标代码应为1至40位小写字母、数字或下划线")
		} else if seen[in.Code] {
			fe.Add(p+"/code", "duplicate", "indicator code listed twice", "指标代码重复")
		}
		seen[in.Code] = true
		domain.CheckText(fe, p+"/name_zh", "指标名称", in.NameZH, 1, 100)
	}
}

func validCode(c string) bool {
	return c != "" && len(c) <= 40 && strings.Trim(c, "abcdefghijklmnopqrstuvwxyz0123456789_") == ""
}

// VillageRecord is what was recorded of a village for a year: the
// collective's income and the yes/no items.
type VillageRecord struct {
	CountyID            uuid.UUID
	VillageID           uuid.UUID
	Year                int
	CollectiveIncomeFen *int64          // nil: not recorded
	Indicators          map[string]bool // by item code
	Notes               string
	Version             int64 // 0: nothing recorded yet
	UpdatedBy           uuid.UUID
	UpdatedAt           time.Time
}

// Population is a village's people on the register: members of its
// registered and relapsed households, and of all its households.
type Population struct {
	Poor, All int
}

// VillageExit is a village's exit (出列) with its year: a region attribute
// kept as history, one row per completed procedure.
type VillageExit struct {
	CountyID    uuid.UUID
	VillageID   uuid.UUID
	ProcedureID uuid.UUID
	Year        int
	ExitedOn    domain.Date
	RecordedBy  uuid.UUID
	RecordedAt  time.Time
}

// VillageCandidate is a poor village judged against a year's criteria.
type VillageCandidate struct {
	Village    domain.Region
	Population Population
	Record     VillageRecord
	Exit       *VillageExit // set when the village has exited
	Qualifies  bool
	Reasons    []Reason
}

// JudgeVillage weighs a village against the criteria. A village that has
// exited already does not qualify again, and says so.
func JudgeVillage(v domain.Region, st VillageExitStandard, pop Population, rec VillageRecord, exit *VillageExit) VillageCandidate {
	c := VillageCandidate{Village: v, Population: pop, Record: rec, Exit: exit, Qualifies: true}
	add := func(r Reason) {
		c.Qualifies = c.Qualifies && r.Met
		c.Reasons = append(c.Reasons, r)
	}
	if exit != nil {
		add(Reason{Code: "not_exited", NameZH: "尚未出列", ReasonZH: "已于" + exit.ExitedOn.String() + "出列（" + strconv.Itoa(exit.Year) + "年度）"})
	}
	inc := Reason{Code: "incidence", NameZH: "贫困发生率低于" + strconv.Itoa(st.IncidencePermille) + "‰", Check: "register"}
	switch {
	case pop.All == 0:
		inc.ReasonZH = "户籍登记中该村没有人口"
	default:
		inc.Met = pop.Poor*1000 < st.IncidencePermille*pop.All
		rate := Permille(pop.Poor, pop.All)
		verdict := "，未低于标准"
		if inc.Met {
			verdict = "，低于标准"
		}
		inc.ReasonZH = "贫困发生率" + rate + "‰（在册及返贫" + strconv.Itoa(pop.Poor) + "人/全村" + strconv.Itoa(pop.All) + "人）" + verdict +
			strconv.Itoa(st.IncidencePermille) + "‰"
	}
	add(inc)
	ci := Reason{Code: "collective_income", NameZH: "村集体经济收入达到" + Yuan(st.CollectiveIncomeFen) + "元", Check: "recorded"}
	switch {
	case rec.CollectiveIncomeFen == nil:
		ci.ReasonZH = strconv.Itoa(st.Year) + "年度未登记村集体经济收入"
	case *rec.CollectiveIncomeFen >= st.CollectiveIncomeFen:
		ci.Met, ci.ReasonZH = true, strconv.Itoa(st.Year)+"年度村集体经济收入"+Yuan(*rec.CollectiveIncomeFen)+"元，达到标准"
	default:
		ci.ReasonZH = strconv.Itoa(st.Year) + "年度村集体经济收入" + Yuan(*rec.CollectiveIncomeFen) + "元，低于标准" + Yuan(st.CollectiveIncomeFen) + "元"
	}
	add(ci)
	for _, in := range st.Indicators {
		r := Reason{Code: in.Code, NameZH: in.NameZH, Check: "recorded"}
		switch yes, ok := rec.Indicators[in.Code]; {
		case !ok:
			r.ReasonZH = "未登记"
		case yes:
			r.Met, r.ReasonZH = true, "已达到"
		default:
			r.ReasonZH = "未达到"
		}
		add(r)
	}
	return c
}

// Permille spells part/all in ‰ with one decimal, rounded half up:
// 3 of 200 is "15.0".
func Permille(part, all int) string {
	if all <= 0 {
		return "0.0"
	}
	tenths := (int64(part)*20000/int64(all) + 1) / 2
	return strconv.FormatInt(tenths/10, 10) + "." + strconv.FormatInt(tenths%10, 10)
}

// VillageExitStandardOf is a year's village criteria: configured, else the default.
func (s *Service) VillageExitStandardOf(ctx context.Context, p domain.Principal, year int) (VillageExitStandard, error) {
	if !p.Manages() {
		return VillageExitStandard{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	checkYear(&fe, "year", year, s.today())
	if err := fe.Err(); err != nil {
		return VillageExitStandard{}, err
	}
	return s.villageStandard(ctx, s.store, year)
}

func (s *Service) villageStandard(ctx context.Context, tx TxStore, year int) (VillageExitStandard, error) {
	st, err := tx.VillageExitStandard(ctx, year)
	if domain.IsCode(err, domain.CodeNotFound) {
		return DefaultVillageExitStandard(year), nil
	}
	return st, err
}

// PutVillageExitStandard configures a year's village criteria (admins);
// version is the one read, 0 replacing the built-in default.
func (s *Service) PutVillageExitStandard(ctx context.Context, p domain.Principal, st VillageExitStandard) (VillageExitStandard, error) {
	if p.Role != domain.RoleAdmin {
		return VillageExitStandard{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	st.Validate(&fe, s.today())
	if err := fe.Err(); err != nil {
		return VillageExitStandard{}, err
	}
	expected := st.Version
	st.Version, st.UpdatedAt = expected+1, s.now().UTC()
	if st.Indicators == nil {
		st.Indicators = []VillageIndicator{}
	}
	actor := p.UserID
	audit := domain.AuditEntry{ActorID: &actor, ActorName: p.Username, Action: "update", ObjectType: "village_exit_standard", ObjectID: strconv.Itoa(st.Year),
		RegionPath: p.RegionPath, RequestID: p.RequestID, Detail: map[string]any{"incidence_permille": st.IncidencePermille,
			"collective_income_fen": st.CollectiveIncomeFen, "version": st.Version}}
	return st, s.store.SaveVillageExitStandard(ctx, st, expected, audit)
}

// village is a village of the caller's region, for the managers.
func (s *Service) village(ctx context.Context, tx TxStore, p domain.Principal, id uuid.UUID) (domain.Region, error) {
	if !p.Manages() {
		return domain.Region{}, domain.Forbidden()
	}
	v, err := tx.RegionWithin(ctx, p.RegionPath, id)
	if err != nil {
		return domain.Region{}, err
	}
	if v.Level != domain.LevelVillage || v.CountyID == nil {
		return domain.Region{}, domain.NotFound("village")
	}
	return v, nil
}

// VillageRecordOf is what was recorded of a village for a year (Version
// 0 when nothing was).
func (s *Service) VillageRecordOf(ctx context.Context, p domain.Principal, villageID uuid.UUID, year int) (VillageRecord, error) {
	v, err := s.village(ctx, s.store, p, villageID)
	if err != nil {
		return VillageRecord{}, err
	}
	var fe domain.FieldErrors
	checkYear(&fe, "year", year, s.today())
	if err := fe.Err(); err != nil {
		return VillageRecord{}, err
	}
	return s.villageRecord(ctx, s.store, v, year)
}

func (s *Service) villageRecord(ctx context.Context, tx TxStore, v domain.Region, year int) (VillageRecord, error) {
	r, err := tx.VillageRecord(ctx, *v.CountyID, v.ID, year)
	if domain.IsCode(err, domain.CodeNotFound) {
		return VillageRecord{CountyID: *v.CountyID, VillageID: v.ID, Year: year, Indicators: map[string]bool{}}, nil
	}
	return r, err
}

// VillageRecordInput is a year's record of a village as a supervisor writes it.
type VillageRecordInput struct {
	CollectiveIncomeFen *int64
	Indicators          map[string]bool
	Notes               string
	Version             int64
}

// PutVillageRecord writes a village's record of a year over the version
// read (0: none yet). Items are those of the year's criteria.
func (s *Service) PutVillageRecord(ctx context.Context, p domain.Principal, villageID uuid.UUID, year int, in VillageRecordInput) (VillageRecord, error) {
	v, err := s.village(ctx, s.store, p, villageID)
	if err != nil {
		return VillageRecord{}, err
	}
	var fe domain.FieldErrors
	checkYear(&fe, "/year", year, s.today())
	if err := fe.Err(); err != nil {
		return VillageRecord{}, err
	}
	st, err := s.villageStandard(ctx, s.store, year)
	if err != nil {
		return VillageRecord{}, err
	}
	if c := in.CollectiveIncomeFen; c != nil && (*c < 0 || *c > domain.MaxAmountFen) {
		fe.Add("/collective_income_fen", "out_of_range", "collective_income_fen must be between 0 and 10,000,000,000", "村集体经济收入应在0至1亿元之间（以分计）")
	}
	codes := make([]string, 0, len(in.Indicators))
	for code := range in.Indicators {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		if !slices.ContainsFunc(st.Indicators, func(i VillageIndicator) bool { return i.Code == code }) {
			fe.Add("/indicators/"+code, "invalid_enum", code+" is not an item of the "+strconv.Itoa(year)+" village criteria", "该年度出列标准中没有此指标")
		}
	}
	domain.CheckText(&fe, "/notes", "备注", in.Notes, 0, 2000)
	if err := fe.Err(); err != nil {
		return VillageRecord{}, err
	}
	if in.Indicators == nil {
		in.Indicators = map[string]bool{}
	}
	rec := VillageRecord{CountyID: *v.CountyID, VillageID: v.ID, Year: year, CollectiveIncomeFen: in.CollectiveIncomeFen, Indicators: in.Indicators,
		Notes: in.Notes, Version: in.Version + 1, UpdatedBy: p.UserID, UpdatedAt: s.now().UTC()}
	actor := p.UserID
	audit := domain.AuditEntry{ActorID: &actor, ActorName: p.Username, Action: "update", ObjectType: "village_exit_record",
		ObjectID: v.ID.String() + "/" + strconv.Itoa(year), RegionPath: v.Path, RequestID: p.RequestID, Detail: map[string]any{"version": rec.Version}}
	return rec, s.store.SaveVillageRecord(ctx, rec, in.Version, audit)
}

// QualifyingVillages counts the candidates that meet the criteria: the
// list is never paged (a county has a few hundred villages at most), so
// its count is of the whole list.
func QualifyingVillages(cs []VillageCandidate) int {
	n := 0
	for _, c := range cs {
		if c.Qualifies {
			n++
		}
	}
	return n
}

// VillageExitCandidates judges the poor villages of a region the caller
// supervises against the year's criteria, each with its reasons.
func (s *Service) VillageExitCandidates(ctx context.Context, p domain.Principal, regionID uuid.UUID, year int) ([]VillageCandidate, VillageExitStandard, error) {
	if !p.Manages() {
		return nil, VillageExitStandard{}, domain.Forbidden()
	}
	var fe domain.FieldErrors
	checkYear(&fe, "year", year, s.today())
	if err := fe.Err(); err != nil {
		return nil, VillageExitStandard{}, err
	}
	r, err := s.store.RegionWithin(ctx, p.RegionPath, regionID)
	if err != nil {
		return nil, VillageExitStandard{}, err
	}
	st, err := s.villageStandard(ctx, s.store, year)
	if err != nil {
		return nil, st, err
	}
	// A county has a few hundred villages at most: one page holds them.
	all, _, err := s.store.Regions(ctx, domain.RegionFilter{WithinPath: r.Path, Level: domain.LevelVillage, Limit: 5000})
	if err != nil {
		return nil, st, err
	}
	var villages []domain.Region
	var ids []uuid.UUID
	for _, v := range all {
		if v.IsPoorVillage && v.CountyID != nil {
			villages, ids = append(villages, v), append(ids, v.ID)
		}
	}
	pops, err := s.store.VillagePopulations(ctx, ids)
	if err != nil {
		return nil, st, err
	}
	recs, err := s.store.VillageRecordsOf(ctx, ids, year)
	if err != nil {
		return nil, st, err
	}
	exits, err := s.store.VillageExits(ctx, ids)
	if err != nil {
		return nil, st, err
	}
	out := make([]VillageCandidate, 0, len(villages))
	for _, v := range villages {
		rec, ok := recs[v.ID]
		if !ok {
			rec = VillageRecord{CountyID: *v.CountyID, VillageID: v.ID, Year: year, Indicators: map[string]bool{}}
		}
		var exit *VillageExit
		if e, ok := exits[v.ID]; ok {
			exit = &e
		}
		out = append(out, JudgeVillage(v, st, pops[v.ID], rec, exit))
	}
	return out, st, nil
}

// StartVillageProcedure opens a village's exit: a poor village of the
// caller's region that has not exited and meets the year's criteria, with
// no other open procedure.
func (s *Service) StartVillageProcedure(ctx context.Context, p domain.Principal, villageID uuid.UUID, in NewProcedure) (Procedure, error) {
	v, err := s.village(ctx, s.store, p, villageID)
	if err != nil {
		return Procedure{}, err
	}
	today := s.today()
	var fe domain.FieldErrors
	if in.Kind != KindVillageExit {
		fe.Add("/kind", "invalid_enum", "a village's procedure is village_exit", "村级程序只能是贫困村出列")
	}
	checkYear(&fe, "/year", in.Year, today)
	if in.Year > today.Year {
		fe.Add("/year", "out_of_range", "the exit year cannot be after this year", "出列年度不能晚于今年")
	}
	if in.PovertyType != "" {
		fe.Add("/poverty_type", "not_allowed", "a village has no poverty type", "贫困村出列不填贫困户属性")
	}
	domain.CheckText(&fe, "/reason", "原因", in.Reason, 0, 500)
	if !v.IsPoorVillage {
		fe.Add("/kind", "invalid_transition", "only a poor village exits", "该村不是贫困村，无需出列")
	}
	if err := fe.Err(); err != nil {
		return Procedure{}, err
	}
	cs, _, err := s.VillageExitCandidates(ctx, p, v.ID, in.Year)
	if err != nil {
		return Procedure{}, err
	}
	if len(cs) == 1 && !cs[0].Qualifies {
		var failing []string
		for _, r := range cs[0].Reasons {
			if !r.Met {
				failing = append(failing, r.NameZH+"："+r.ReasonZH)
			}
		}
		return Procedure{}, domain.Invalid(domain.FieldError{Field: "/year", Reason: "not_qualified",
			Message: "the village does not meet the " + strconv.Itoa(in.Year) + " criteria", MessageZH: "该村未达到出列标准：" + strings.Join(failing, "；")})
	}
	now := s.now().UTC()
	pr := Procedure{ID: uuid.New(), CountyID: *v.CountyID, VillageID: v.ID, RegionPath: v.Path, Kind: in.Kind, Year: in.Year, Reason: in.Reason,
		Status: ProcedureOpen, Steps: []Step{}, CreatedBy: p.UserID, CreatedAt: now, UpdatedAt: now, Version: 1}
	err = s.store.Tx(ctx, func(tx TxStore) error {
		open, err := tx.VillageProcedures(ctx, pr.CountyID, v.ID)
		if err != nil {
			return err
		}
		for _, o := range open {
			if o.Status == ProcedureOpen {
				return &domain.Error{Code: domain.CodeConflict, Reason: "open_procedure", Message: "the village has an open procedure", MessageZH: "该村已有进行中的出列程序"}
			}
		}
		return tx.CreateProcedure(ctx, pr, procedureAudit(p, pr, "create", nil))
	})
	if err != nil {
		return Procedure{}, err
	}
	return s.Procedure(ctx, p, pr.ID)
}

// VillageProcedures lists a village's procedures, open and completed,
// with their steps, for the managers of its region.
func (s *Service) VillageProcedures(ctx context.Context, p domain.Principal, villageID uuid.UUID) ([]Procedure, error) {
	v, err := s.village(ctx, s.store, p, villageID)
	if err != nil {
		return nil, err
	}
	return s.store.VillageProcedures(ctx, *v.CountyID, v.ID)
}

// completeVillage marks the village exited with the procedure's year, as
// of the announcement's day.
func (s *Service) completeVillage(ctx context.Context, tx TxStore, p domain.Principal, pr Procedure, on domain.Date) error {
	e := VillageExit{CountyID: pr.CountyID, VillageID: pr.VillageID, ProcedureID: pr.ID, Year: pr.Year, ExitedOn: on, RecordedBy: p.UserID,
		RecordedAt: s.now().UTC()}
	actor := p.UserID
	audit := domain.AuditEntry{ActorID: &actor, ActorName: p.Username, Action: "village_exit", ObjectType: "region", ObjectID: pr.VillageID.String(),
		RegionPath: pr.RegionPath, RequestID: p.RequestID, Detail: map[string]any{"year": pr.Year, "exited_on": on.String(), "procedure_id": pr.ID.String()}}
	return tx.SaveVillageExit(ctx, e, audit)
}
