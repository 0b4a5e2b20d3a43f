package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/adjustment"
)

// The 动态调整 pages: the yearly adjustment round's batches of a town or
// county (adjustment.Service), a form that builds one from the candidate
// lists, and a batch's items with their reasons and evidence, approved or
// rejected one by one or all at once. Every action is the service's, as
// the API's; a refusal shows on the page in Chinese.

// adjustmentsPage is what templates/adjustments.html shows.
type adjustmentsPage struct {
	CSRF    string
	Batches Table
	Build   *form
	Regions []optionGroup
	Years   []option
}

func (c *Console) adjustments(r *http.Request, s *session) (any, error) {
	return c.adjustmentsWith(r, s, "", nil)
}

func (c *Console) adjustmentsWith(r *http.Request, s *session, _ string, posted *form) (any, error) {
	ctx, p := r.Context(), s.principal
	batches, _, err := c.deps.Adjustment.Batches(ctx, p, nil, 100, 0)
	if err != nil {
		return nil, err
	}
	out := adjustmentsPage{CSRF: s.csrf, Build: posted}
	if out.Build == nil {
		out.Build = &form{}
	}
	out.Batches = Table{Head: []string{"地区", "年度", "状态", "待审批", "已执行", "已驳回", "已失效", "生成时间"}, Empty: "尚无调整批次。"}
	for _, b := range batches {
		status := "进行中"
		if b.Status == adjustment.BatchClosed {
			status = "已关闭"
		}
		out.Batches.Rows = append(out.Batches.Rows, []Cell{{Text: b.RegionName, Link: adjustmentURL(b.ID)}, textCell(strconv.Itoa(b.Year) + "年"),
			textCell(status), countCell(b.Counts[adjustment.StatePending]), countCell(b.Counts[adjustment.StateApplied]),
			countCell(b.Counts[adjustment.StateRejected]), countCell(b.Counts[adjustment.StateStale]), textCell(formatDate(domain.DateOf(b.CreatedAt)))})
	}
	if out.Regions, err = c.regionChoices(r, s, domain.LevelCounty, domain.LevelTown); err != nil {
		return nil, err
	}
	today := domain.DateOf(c.deps.Now())
	this := today.Year
	// The round of the first quarter reviews the year before; from the
	// fourth quarter on, offices prepare this year's (its exits are this
	// year's exit candidates).
	round := this - 1
	if today.Month >= time.October {
		round = this
	}
	for y := this; y >= this-2; y-- {
		v := strconv.Itoa(y)
		out.Years = append(out.Years, option{Value: v, Label: v + "年", Selected: out.Build.Value("year") == v || out.Build.Value("year") == "" && y == round})
	}
	return out, nil
}

func countCell(n int) Cell { return Cell{Text: strconv.Itoa(n), Num: true} }

func adjustmentURL(id uuid.UUID) string { return "/ui/adjustments/" + id.String() }

// buildAdjustment builds a batch (adjustment.Service.Build).
var buildAdjustment = formPost{template: "adjustments.html", reload: (*Console).adjustmentsWith,
	fields: map[string]string{"/region_id": "region_id", "/year": "year"},
	call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
		region := formUUID(f, "region_id", "地区")
		year := formInt(f, "year", "年度", 0)
		if region == nil && !f.Failed() {
			f.add("region_id", "请选择乡镇或县")
		}
		if f.Failed() {
			return "", nil
		}
		b, err := c.deps.Adjustment.Build(r.Context(), s.principal, adjustment.NewBatch{RegionID: *region, Year: year})
		return adjustmentURL(b.ID), err
	}}.handle

// adjustmentPage is what templates/adjustment.html shows.
type adjustmentPage struct {
	CSRF    string
	ID      string
	Title   string
	Open    bool
	Summary string
	Message string // a refused action, in Chinese
	Items   []adjustmentLine
}

type adjustmentLine struct {
	ID, Kind, Household, HouseholdURL, Number, Reason string
	Evidence                                          []string
	State, StateTone, StateReason                     string
	Pending                                           bool
	// Confirm is asked before an approval that takes effect at once (a
	// re-pairing, a type change); one that starts a procedure only starts
	// it, and the procedure's steps ask their own.
	Confirm string
}

func (c *Console) adjustmentBatch(r *http.Request, s *session) (any, error) {
	return c.adjustmentBatchWith(r, s, "", nil)
}

func (c *Console) adjustmentBatchWith(r *http.Request, s *session, _ string, posted *form) (any, error) {
	id, err := pathUUID(r, "adjustment batch")
	if err != nil {
		return nil, err
	}
	b, err := c.deps.Adjustment.Batch(r.Context(), s.principal, id)
	if err != nil {
		return nil, err
	}
	out := adjustmentPage{CSRF: s.csrf, ID: b.ID.String(), Title: b.RegionName + strconv.Itoa(b.Year) + "年度动态调整", Open: b.Status == adjustment.BatchOpen,
		Summary: "共" + strconv.Itoa(len(b.Items)) + "项：待审批" + strconv.Itoa(b.Counts[adjustment.StatePending]) + "项，已执行" +
			strconv.Itoa(b.Counts[adjustment.StateApplied]) + "项，已驳回" + strconv.Itoa(b.Counts[adjustment.StateRejected]) + "项，已失效" +
			strconv.Itoa(b.Counts[adjustment.StateStale]) + "项。"}
	if posted != nil {
		out.Message = posted.Message
		for _, e := range posted.Errors {
			out.Message = strings.TrimPrefix(out.Message+"；"+e, "；")
		}
	}
	for _, it := range b.Items {
		kind, _ := adjustment.KindLabels.Label(it.Kind)
		state, _ := adjustment.StateLabels.Label(it.State)
		line := adjustmentLine{ID: it.ID.String(), Kind: kind, Household: it.HeadName, HouseholdURL: "/ui/households/" + it.HouseholdID.String(),
			Number: it.HouseholdNumber, Reason: it.Reason, Evidence: it.Evidence, State: state, StateReason: it.StateReason,
			Pending: it.State == adjustment.StatePending && out.Open}
		switch it.State {
		case adjustment.StateApplied:
			line.StateTone = "good"
		case adjustment.StateStale, adjustment.StateRejected:
			line.StateTone = "bad"
		default:
			line.StateTone = "warn"
		}
		if it.PovertyType != "" {
			line.Reason += "（" + label("poverty_type", it.PovertyType) + "）"
		}
		switch it.Kind {
		case adjustment.KindRepairing:
			line.Confirm = "通过后立即调整" + it.HeadName + "户的结对帮扶：" + it.Reason + "。确定通过？"
		case adjustment.KindPovertyType:
			line.Confirm = "通过后立即将" + it.HeadName + "户的贫困户属性改为" + label("poverty_type", it.PovertyType) + "。确定通过？"
		}
		out.Items = append(out.Items, line)
	}
	return out, nil
}

// reviewAdjustment approves or rejects an item, approves every pending
// item, or closes the batch; a refusal shows the batch with the
// service's message.
func reviewAdjustment(action string) func(c *Console, w http.ResponseWriter, r *http.Request, s *session) {
	return formPost{template: "adjustment.html", reload: (*Console).adjustmentBatchWith,
		call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
			id, err := pathUUID(r, "adjustment batch")
			if err != nil {
				return "", err
			}
			ctx, p := r.Context(), s.principal
			item := func() (uuid.UUID, error) {
				it, err := uuid.Parse(r.PathValue("item"))
				if err != nil {
					return uuid.Nil, domain.NotFound("adjustment item")
				}
				return it, nil
			}
			switch action {
			case "approve":
				it, err := item()
				if err == nil {
					_, err = c.deps.Adjustment.Approve(ctx, p, id, it)
				}
				return adjustmentURL(id) + "#item-" + r.PathValue("item"), err
			case "reject":
				it, err := item()
				if err == nil {
					_, err = c.deps.Adjustment.Reject(ctx, p, id, it, strings.TrimSpace(f.Value("reason")))
				}
				return adjustmentURL(id) + "#item-" + r.PathValue("item"), err
			case "approve-all":
				_, err = c.deps.Adjustment.ApproveAll(ctx, p, id)
			default:
				_, err = c.deps.Adjustment.Close(ctx, p, id)
			}
			return adjustmentURL(id), err
		}}.handle
}
