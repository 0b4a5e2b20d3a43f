package server

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/printforms"
)

// householdForm answers GET /households/{id}/forms/{form}.pdf.
func (h *handlers) householdForm(c *gin.Context) {
	id, err := pathID(c, "id", "household")
	form, ok := strings.CutSuffix(c.Param("form"), ".pdf")
	if err == nil && !ok {
		err = domain.NotFound("form")
	}
	var d printforms.Download
	if err == nil {
		d, err = h.PrintForms.HouseholdForm(c.Request.Context(), principal(c), id, form)
	}
	h.sendForm(c, d, err)
}

// cadreHandbook answers GET /cadres/{id}/handbook.pdf?month=YYYY-MM.
func (h *handlers) cadreHandbook(c *gin.Context) {
	q := queryParams{c: c}
	month := q.text("month", 7)
	id, err := pathID(c, "id", "cadre")
	if err == nil {
		err = q.err()
	}
	var d printforms.Download
	if err == nil {
		d, err = h.PrintForms.Handbook(c.Request.Context(), principal(c), id, month)
	}
	h.sendForm(c, d, err)
}

// villageForms answers GET /regions/{id}/forms/{form}.pdf and .zip.
func (h *handlers) villageForms(c *gin.Context) {
	id, err := pathID(c, "id", "region")
	form, format, ok := strings.Cut(c.Param("form"), ".")
	if err == nil && !ok {
		err = domain.NotFound("form")
	}
	var d printforms.Download
	if err == nil {
		d, err = h.PrintForms.VillageForms(c.Request.Context(), principal(c), id, form, format)
	}
	h.sendForm(c, d, err)
}

func (h *handlers) sendForm(c *gin.Context, d printforms.Download, err error) {
	if err != nil {
		writeError(c, err)
		return
	}
	h.download(c, d.ContentType, d.Filename, d.Write)
}
