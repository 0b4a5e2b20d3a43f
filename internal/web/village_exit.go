package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/casework"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
)

// The poor-village exit page (贫困村出列): the poor villages of a region
// judged against the year's criteria (casework.Service.VillageExitCandidates)
// with each criterion's reason, each village's exit procedure with its
// steps, and the forms that start one and record its next step. The
// casework ledgers' downloads (收入台账, 脱贫退出台账) are linked from the
// 脱贫候选 page and here.

type villageExitPage struct {
	Form              filterForm
	Year              int
	Criteria          string
	Total, Qualifying int
	Villages          []villageExitLine
	Ledgers           []ledgerLink
}

type villageExitLine struct {
	ID, Name, Incidence, CollectiveIncome string
	Qualifies                             bool
	Exited                                string // "2026年出列（2026-07-09）"; "" while not exited
	Reasons                               []reasonItem
	Procedures                            []procedureView
	Start                                 *startForm
	StartAction, CSRF                     string
	Record                                *villageRecordForm // the year's collective income and 五通七有, while not exited
}

// villageRecordForm records what the criteria weigh that the register
// does not hold: the collective's income and each item of 五通七有.
type villageRecordForm struct {
	form
	Action, CSRF string
	Year         int
	Items        []recordItem
}

type recordItem struct {
	Code, Name string
	Checked    bool
}

// newVillageRecordForm is the form filled from the stored record, or as
// posted when it was refused.
func newVillageRecordForm(v uuid.UUID, year int, csrf string, st casework.VillageExitStandard, rec casework.VillageRecord, posted *form) *villageRecordForm {
	f := &villageRecordForm{Action: villageExitURL(v, "/record?year="+strconv.Itoa(year)), CSRF: csrf, Year: year,
		form: form{Values: url.Values{"version": {strconv.FormatInt(rec.Version, 10)}, "notes": {rec.Notes}}}}
	if ci := rec.CollectiveIncomeFen; ci != nil {
		f.Values.Set("collective_income", casework.Yuan(*ci))
	}
	if posted != nil {
		f.form = *posted
	}
	for _, in := range st.Indicators {
		checked := rec.Indicators[in.Code]
		if posted != nil {
			checked = posted.Has("indicator", in.Code)
		}
		f.Items = append(f.Items, recordItem{Code: in.Code, Name: in.NameZH, Checked: checked})
	}
	return f
}

// ledgerLink is one download of a casework ledger.
type ledgerLink struct{ URL, Label string }

func villageExitURL(village uuid.UUID, rest string) string {
	return "/ui/village-exit/" + village.String() + rest
}

// caseworkLedgerLinks are the casework ledgers of a region and year, as
// XLSX and CSV.
func caseworkLedgerLinks(region string, year int) []ledgerLink {
	var out []ledgerLink
	for _, l := range []struct{ ledger, kind, label string }{
		{"income", "", "收入台账"}, {"exits", casework.KindExit, "脱贫退出台账"}, {"exits", casework.KindVillageExit, "贫困村出列台账"},
	} {
		for _, f := range []string{ledger.XLSX, ledger.CSV} {
			q := url.Values{"ledger": {l.ledger}, "format": {f}, "year": {strconv.Itoa(year)}}
			if l.kind != "" {
				q.Set("kind", l.kind)
			}
			if region != "" {
				q.Set("region", region)
			}
			out = append(out, ledgerLink{URL: "/ui/casework/export?" + q.Encode(), Label: l.label + "（" + strings.ToUpper(f) + "）"})
		}
	}
	return out
}

// caseworkExport streams a casework ledger (the same services as
// /api/v1/exports/income and /api/v1/exports/exits).
func (c *Console) caseworkExport(w http.ResponseWriter, r *http.Request, s *session) {
	q := r.URL.Query()
	year, err := yearParam(r, domain.DateOf(c.deps.Now()).Year)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	lq := casework.LedgerQuery{Year: year, Kind: q.Get("kind"), Format: q.Get("format")}
	if v := q.Get("region"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			c.fail(w, r, s, domain.NotFound("region"))
			return
		}
		lq.RegionID = &id
	}
	build := c.deps.Casework.IncomeLedger
	if q.Get("ledger") == "exits" {
		build = c.deps.Casework.ExitLedger
	}
	d, err := build(r.Context(), s.principal, lq)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.download(w, s, d.ContentType, d.Filename, d.Write)
}

func (c *Console) villageExit(r *http.Request, s *session) (any, error) {
	return c.villageExitWith(r, s, "", nil)
}

// villageExitWith builds the page; posted is a refused form (which: the
// village's id for its start form, or the procedure's id) shown again.
func (c *Console) villageExitWith(r *http.Request, s *session, which string, posted *form) (any, error) {
	ctx, p := r.Context(), s.principal
	q := r.URL.Query()
	this := domain.DateOf(c.deps.Now())
	year, err := yearParam(r, this.Year)
	if err != nil {
		return nil, err
	}
	region := p.RegionID
	if v := q.Get("region"); v != "" {
		if region, err = uuid.Parse(v); err != nil {
			return nil, domain.Invalid(domain.FieldError{Field: "region", Reason: "invalid", Message: "region must be a region id", MessageZH: "地区无效"})
		}
	}
	cands, st, err := c.deps.Casework.VillageExitCandidates(ctx, p, region, year)
	if err != nil {
		return nil, err
	}
	out := villageExitPage{Year: year, Ledgers: caseworkLedgerLinks(q.Get("region"), year),
		Criteria: "贫困发生率低于" + strconv.Itoa(st.IncidencePermille) + "‰，村集体经济收入达到" + casework.Yuan(st.CollectiveIncomeFen) +
			"元，并达到以下" + strconv.Itoa(len(st.Indicators)) + "项（五通七有）", Total: len(cands), Qualifying: casework.QualifyingVillages(cands)}
	if out.Form, err = c.regionYearForm(r, s, "/ui/village-exit", "出列年度", year, this.Year); err != nil {
		return nil, err
	}
	for _, cd := range cands {
		v := cd.Village
		line := villageExitLine{ID: v.ID.String(), Name: v.Name, Qualifies: cd.Qualifies, CSRF: s.csrf,
			Incidence: casework.Permille(cd.Population.Poor, cd.Population.All) + "‰（" + strconv.Itoa(cd.Population.Poor) + "/" +
				strconv.Itoa(cd.Population.All) + "人）", CollectiveIncome: "未登记", StartAction: villageExitURL(v.ID, "/procedures")}
		if ci := cd.Record.CollectiveIncomeFen; ci != nil {
			line.CollectiveIncome = casework.Yuan(*ci) + "元"
		}
		if e := cd.Exit; e != nil {
			line.Exited = strconv.Itoa(e.Year) + "年出列（" + e.ExitedOn.String() + "）"
		}
		for _, re := range cd.Reasons {
			line.Reasons = append(line.Reasons, reasonItem{Name: re.NameZH, Reason: re.ReasonZH, Met: re.Met, Pending: re.Pending})
		}
		prs, err := c.deps.Casework.VillageProcedures(ctx, p, v.ID)
		if err != nil {
			return nil, err
		}
		var open bool
		if line.Procedures, open, err = c.procedureViews(r, s, prs, this, which, posted); err != nil {
			return nil, err
		}
		if !open && cd.Exit == nil && (cd.Qualifies || posted != nil && which == line.ID) {
			line.Start = newStartForm(year, this, posted, which == line.ID)
		}
		if cd.Exit == nil {
			var refusedRecord *form
			if which == "record-"+line.ID {
				refusedRecord = posted
			}
			line.Record = newVillageRecordForm(v.ID, year, s.csrf, st, cd.Record, refusedRecord)
		}
		out.Villages = append(out.Villages, line)
	}
	return out, nil
}

// startVillageExit opens a village's exit (casework.Service.StartVillageProcedure).
func startVillageExit(c *Console, w http.ResponseWriter, r *http.Request, s *session) {
	formPost{template: "village_exit.html", which: r.PathValue("id"), reload: (*Console).villageExitWith,
		fields: map[string]string{"kind": "year", "year": "year", "reason": "reason"},
		call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
			id, err := pathUUID(r, "village")
			if err != nil {
				return "", err
			}
			year := formInt(f, "year", "出列年度", 0)
			if f.Failed() {
				return "", nil
			}
			_, err = c.deps.Casework.StartVillageProcedure(r.Context(), s.principal, id,
				casework.NewProcedure{Kind: casework.KindVillageExit, Year: year, Reason: strings.TrimSpace(f.Value("reason"))})
			return villageExitPageURL(id, year), err
		}}.handle(c, w, r, s)
}

// recordVillage writes a village's record of the year
// (casework.Service.PutVillageRecord): the collective's income in yuan,
// the 五通七有 items met, a note.
func recordVillage(c *Console, w http.ResponseWriter, r *http.Request, s *session) {
	formPost{template: "village_exit.html", which: "record-" + r.PathValue("id"), reload: (*Console).villageExitWith,
		fields: map[string]string{"collective_income_fen": "collective_income", "indicators": "indicator", "notes": "notes", "version": "collective_income"},
		call: func(c *Console, r *http.Request, s *session, f *form) (string, error) {
			id, err := pathUUID(r, "village")
			if err != nil {
				return "", err
			}
			year, err := yearParam(r, domain.DateOf(c.deps.Now()).Year)
			if err != nil {
				return "", err
			}
			in := casework.VillageRecordInput{Notes: strings.TrimSpace(f.Value("notes")), Version: int64(formInt(f, "version", "版本", 0)),
				Indicators: map[string]bool{}}
			if v := strings.TrimSpace(f.Value("collective_income")); v != "" {
				fen, ok := casework.ParseYuan(v)
				if !ok {
					f.add("collective_income", "村集体经济收入应为金额（元，最多两位小数）")
				}
				in.CollectiveIncomeFen = &fen
			}
			for _, code := range f.Values["indicator"] {
				in.Indicators[code] = true
			}
			if f.Failed() {
				return "", nil
			}
			_, err = c.deps.Casework.PutVillageRecord(r.Context(), s.principal, id, year, in)
			return villageExitPageURL(id, year), err
		}}.handle(c, w, r, s)
}

// recordVillageStep records a village procedure's step, as recordStep
// does a household's.
func recordVillageStep(c *Console, w http.ResponseWriter, r *http.Request, s *session) {
	fp := stepPost("village_exit.html", (*Console).villageExitWith, func(pr casework.Procedure) uuid.UUID { return pr.VillageID },
		func(id uuid.UUID) string { return villageExitPageURL(id, 0) })
	fp.which = r.PathValue("pid")
	fp.handle(c, w, r, s)
}

// villageExitPageURL is the page narrowed to a village (and a year, when known).
func villageExitPageURL(village uuid.UUID, year int) string {
	u := "/ui/village-exit?region=" + village.String()
	if year > 0 {
		u += "&year=" + strconv.Itoa(year)
	}
	return u + "#village-" + village.String()
}
