package web

import (
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/printforms"
)

// The printed forms (internal/printforms) under the console's session:
// the same PDFs the API answers, linked from the household page (its
// 帮扶记录卡, 明白卡 and 一户一档, and the village's 明白卡 in bulk) and the
// cadre page (this month's 帮扶手册).

// printLink is one "print" link of a page.
type printLink struct{ Label, URL string }

// householdPrintLinks are the household page's print links; managers also
// get the village's 明白卡 in bulk.
func (c *Console) householdPrintLinks(p domain.Principal, h domain.Household) []printLink {
	if c.deps.PrintForms == nil {
		return nil
	}
	base := householdURL(h.ID) + "/forms/"
	links := []printLink{{"打印帮扶记录卡", base + printforms.FormRecordCard + ".pdf"}, {"打印明白卡", base + printforms.FormClearCard + ".pdf"},
		{"打印一户一档", base + printforms.FormFile + ".pdf"}}
	if p.Manages() {
		village := "/ui/regions/" + h.VillageID.String() + "/forms/" + printforms.FormClearCard
		links = append(links, printLink{"本村明白卡（PDF）", village + ".pdf"}, printLink{"本村明白卡（每户一个PDF，ZIP）", village + ".zip"})
	}
	return links
}

func (c *Console) householdForm(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.printing(w, r, s) {
		return
	}
	id, err := householdID(r)
	form, ok := strings.CutSuffix(r.PathValue("form"), ".pdf")
	if err == nil && !ok {
		err = domain.NotFound("form")
	}
	var d printforms.Download
	if err == nil {
		d, err = c.deps.PrintForms.HouseholdForm(r.Context(), s.principal, id, form)
	}
	c.sendForm(w, r, s, d, err)
}

func (c *Console) villageForms(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.printing(w, r, s) {
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		err = domain.NotFound("region")
	}
	form, format, ok := strings.Cut(r.PathValue("form"), ".")
	if err == nil && !ok {
		err = domain.NotFound("form")
	}
	var d printforms.Download
	if err == nil {
		d, err = c.deps.PrintForms.VillageForms(r.Context(), s.principal, id, form, format)
	}
	c.sendForm(w, r, s, d, err)
}

func (c *Console) cadreHandbook(w http.ResponseWriter, r *http.Request, s *session) {
	if !c.printing(w, r, s) {
		return
	}
	id, err := uuid.Parse(r.PathValue("id"))
	var d printforms.Download
	if err != nil {
		err = domain.NotFound("cadre")
	} else {
		d, err = c.deps.PrintForms.Handbook(r.Context(), s.principal, id, r.URL.Query().Get("month"))
	}
	c.sendForm(w, r, s, d, err)
}

// printing answers 404 when the console was built without the forms.
func (c *Console) printing(w http.ResponseWriter, r *http.Request, s *session) bool {
	if c.deps.PrintForms == nil {
		c.fail(w, r, s, domain.NotFound("page"))
		return false
	}
	return true
}

func (c *Console) sendForm(w http.ResponseWriter, r *http.Request, s *session, d printforms.Download, err error) {
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.download(w, s, d.ContentType, d.Filename, d.Write)
}
