package printforms

import (
	"archive/zip"
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
)

// villagePage is how many households one read of the register brings:
// the bulk forms hold one page of households and one household's record
// at a time, never the village.
const villagePage = 25

// The bulk formats.
const (
	FormatPDF = "pdf" // one PDF, each household's form from a new page
	FormatZIP = "zip" // one PDF per household
)

// VillageForms prepares form for every household of a village (or village
// group) the caller may read, as one PDF or a ZIP of one PDF per
// household, written as the households are read. The region must be one
// the caller may see; the households are those their scope holds (a
// cadre's paired ones, an inspector's sampled ones).
//
// The ZIP holds one household in memory at a time. The single PDF's
// pages stay in memory until the end (the PDF library writes the
// document's cross-reference table last), about 10 kB a page.
func (s *Service) VillageForms(ctx context.Context, p domain.Principal, regionID uuid.UUID, form, format string) (Download, error) {
	if form == FormVillageExit {
		return s.villageExit(ctx, p, regionID, format)
	}
	form, err := formOf(form)
	if err != nil {
		return Download{}, err
	}
	if format != FormatPDF && format != FormatZIP {
		return Download{}, domain.NotFound("format")
	}
	region, err := s.register.Region(ctx, p, regionID)
	if err != nil {
		return Download{}, err
	}
	if region.Level != domain.LevelVillage && region.Level != domain.LevelGroup {
		return Download{}, domain.Invalid(domain.FieldError{Field: "id", Reason: "invalid",
			Message: "forms are printed in bulk for a village or a village group", MessageZH: "批量打印只能按行政村或村民小组"})
	}
	q := registry.HouseholdQuery{RegionID: &regionID}
	if _, _, err := s.register.Households(ctx, p, q, registry.Page{Limit: 1}); err != nil {
		return Download{}, err
	}
	d := Download{Filename: fileName(formTitles[form] + "-" + region.Name + "." + format)}
	each := func(fn func(householdRecord) error) error {
		return s.eachHousehold(ctx, p, q, form, fn)
	}
	if format == FormatZIP {
		d.ContentType = contentTypeZIP
		d.Write = s.inTurn(ctx, func(w io.Writer) error { return s.writeZIP(w, form, each) })
		return d, nil
	}
	d.ContentType = contentTypePDF
	d.Write = s.inTurn(ctx, func(w io.Writer) error {
		sh, err := newSheet(formTitles[form]+" "+region.Name, s.now())
		if err != nil {
			return err
		}
		n := 0
		if err := each(func(r householdRecord) error {
			n++
			drawHousehold(sh, form, r)
			return nil
		}); err != nil {
			return err
		}
		if n == 0 {
			sh.startForm(formTitles[form] + " · " + region.Name)
			sh.title(formTitles[form], region.Name)
			sh.note("该村没有您可查看的农户。")
		}
		return sh.write(w)
	})
	return d, nil
}

// eachHousehold reads the households of q a page at a time and calls fn
// with each one's record; one that left the caller's scope meanwhile is
// skipped.
func (s *Service) eachHousehold(ctx context.Context, p domain.Principal, q registry.HouseholdQuery, form string, fn func(householdRecord) error) error {
	known := newNames()
	for offset := 0; ; offset += villagePage {
		hs, _, err := s.register.Households(ctx, p, q, registry.Page{Limit: villagePage, Offset: offset})
		if err != nil {
			return err
		}
		for _, h := range hs {
			r, err := s.readHousehold(ctx, p, h.ID, form, known)
			if domain.IsCode(err, domain.CodeNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(hs) < villagePage {
			return nil
		}
	}
}

// writeZIP writes one PDF per household, each rendered and written before
// the next is read.
func (s *Service) writeZIP(w io.Writer, form string, each func(func(householdRecord) error) error) error {
	zw := zip.NewWriter(w)
	n := 0
	err := each(func(r householdRecord) error {
		n++
		h := r.file.Household
		// PDFs are compressed already; stored entries cost no CPU.
		f, err := zw.CreateHeader(&zip.FileHeader{Name: fileName(fmt.Sprintf("%03d-%s-%s.pdf", n, h.HeadName, cmp.Or(h.Number, h.ID.String()[:8]))),
			Method: zip.Store, Modified: s.now().In(domain.Shanghai)})
		if err != nil {
			return err
		}
		sh, err := newSheet(formTitles[form]+" "+h.HeadName, s.now())
		if err != nil {
			return err
		}
		drawHousehold(sh, form, r)
		return sh.write(f)
	})
	if err != nil {
		return err
	}
	return zw.Close()
}

// fileName keeps a name typed by people (a head's name, a 户编号) from
// making a path inside the ZIP or on the saving machine.
func fileName(name string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < 0x20 {
			return '_'
		}
		return r
	}, name)
}

// FormVillageExit is a poor village's printed exit record (贫困村出列档案),
// at /regions/{id}/forms/village-exit.pdf.
const FormVillageExit = "village-exit"

// villageExit prints a village's exit record of this year: the criteria
// as judged, each procedure's steps with their days and documents, and
// the lines the town and county sign.
func (s *Service) villageExit(ctx context.Context, p domain.Principal, villageID uuid.UUID, format string) (Download, error) {
	if format != FormatPDF {
		return Download{}, domain.NotFound("format")
	}
	rec, err := s.casework.VillageExit(ctx, p, villageID, domain.DateOf(s.now()).Year)
	if err != nil {
		return Download{}, err
	}
	const title = "贫困村出列档案"
	return Download{Filename: fileName(title + "-" + rec.Village + ".pdf"), ContentType: contentTypePDF, Write: func(w io.Writer) error {
		sh, err := newSheet(title+" "+rec.Village, s.now())
		if err != nil {
			return err
		}
		sh.startForm(title + " · " + rec.Village)
		under := fmt.Sprintf("%d年度", rec.Year)
		if rec.Exited != "" {
			under += " · " + rec.Exited
		}
		sh.title(title, rec.Village+" "+under)
		sh.section("出列标准核定")
		rows := make([][]string, len(rec.Criteria))
		for i, c := range rec.Criteria {
			rows[i] = []string{c.Name, c.Verdict, c.Reason}
		}
		sh.table([]column{{"标准", 50, "L"}, {"结论", 16, "C"}, {"依据", 90, "L"}}, rows, "暂无记录")
		if len(rec.Procedures) == 0 {
			sh.section("出列程序")
			sh.note("尚未启动出列程序。")
		}
		for _, pr := range rec.Procedures {
			sh.section(pr.Title + "（" + pr.Status + "）")
			rows := make([][]string, len(pr.Steps))
			for i, st := range pr.Steps {
				rows[i] = []string{st.Name, dateZH(st.DoneOn), st.Documents, st.Note}
			}
			sh.table([]column{{"步骤", 40, "L"}, {"办理日期", 28, "C"}, {"文件", 40, "L"}, {"说明", 48, "L"}}, rows, "尚未记录任何步骤")
		}
		sh.signatures("乡镇审核", "县级审定", "日期")
		return sh.write(w)
	}}, nil
}
