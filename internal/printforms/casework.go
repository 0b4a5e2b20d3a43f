package printforms

import (
	"context"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Casework is what the 明白卡 and the 一户一档 print of the household's
// casework: its plan (一户一案) and its income accounts (收入测算). The
// casework records are their own service's; until it is wired here
// (internal/app), NoCasework answers and the sections say 暂无记录.
// Implementations authorise as the household file does.
type Casework interface {
	// Plan is the household's routes out of poverty and their measures;
	// empty when no plan is recorded.
	Plan(ctx context.Context, p domain.Principal, householdID uuid.UUID) ([]PlanMeasure, error)
	// Incomes is the household's income account of each year recorded,
	// oldest first.
	Incomes(ctx context.Context, p domain.Principal, householdID uuid.UUID) ([]IncomeAccount, error)
	// VillageExit is a poor village's exit record (贫困村出列): the year's
	// criteria as judged, and its procedures with their steps.
	VillageExit(ctx context.Context, p domain.Principal, villageID uuid.UUID, year int) (VillageExitRecord, error)
}

// VillageExitRecord is what the printed 贫困村出列档案 holds, in words.
type VillageExitRecord struct {
	Village  string
	Year     int
	Exited   string // "2026年度出列（2026年7月9日公告）"; "" while not exited
	Criteria []Criterion
	// Procedures are the village's exit procedures, oldest first.
	Procedures []ProcedureRecord
}

// Criterion is one criterion of the village's exit as judged.
type Criterion struct {
	Name, Verdict, Reason string
}

// ProcedureRecord is one procedure with its steps in order.
type ProcedureRecord struct {
	Title, Status string
	Steps         []StepRecord
}

// StepRecord is one step: its name, day, documents and note.
type StepRecord struct {
	Name      string
	DoneOn    domain.Date
	Documents string
	Note      string
}

// PlanMeasure is one measure of a plan, with the words people read.
type PlanMeasure struct {
	Route    string       // 脱贫门路 as labelled: 产业, 就业, 教育 …
	Measure  string       // what is to be done
	Cadre    string       // the responsible cadre's name
	TargetOn *domain.Date // target date, if set
	State    string       // where it stands, as labelled: 未开始, 推进中, 已完成, 已取消
	Progress string       // the latest progress recorded on a visit
}

// IncomeAccount is one year's 收入测算. Money is in fen.
type IncomeAccount struct {
	Year    int
	Sources []IncomeSource // income by source: 工资性收入, 生产经营性收入, 转移性收入 …
	// CostsFen is the year's production costs (生产经营性支出).
	CostsFen int64
	// Members is the number of people the per-capita figure divides by,
	// and NetPerCapitaFen that figure, as the casework rules count them.
	Members         int
	NetPerCapitaFen int64
}

// IncomeSource is one line of an income account.
type IncomeSource struct {
	Label string
	Fen   int64
}

// NoCasework is the Casework of a service without casework records: no
// plan and no income account for anyone.
type NoCasework struct{}

// Plan returns no measures.
func (NoCasework) Plan(context.Context, domain.Principal, uuid.UUID) ([]PlanMeasure, error) {
	return nil, nil
}

// Incomes returns no accounts.
func (NoCasework) Incomes(context.Context, domain.Principal, uuid.UUID) ([]IncomeAccount, error) {
	return nil, nil
}

// VillageExit finds no village's exit record.
func (NoCasework) VillageExit(context.Context, domain.Principal, uuid.UUID, int) (VillageExitRecord, error) {
	return VillageExitRecord{}, domain.NotFound("village exit")
}
