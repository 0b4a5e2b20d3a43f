package importer_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/compliance/ledger"
	"github.com/fieldvisit/fieldvisit/internal/importer"
)

// manyHouseholds is a RegisterStore of a county whose register runs past
// the 16 MB of sheet an XLSX export keeps in memory.
type manyHouseholds struct{ county, village domain.Region }

func (s manyHouseholds) Region(context.Context, uuid.UUID) (domain.Region, error) {
	return s.county, nil
}
func (s manyHouseholds) ImportRegions(context.Context, string, []string, []string) ([]domain.Region, error) {
	return nil, nil
}
func (s manyHouseholds) Audit(context.Context, domain.AuditEntry) error   { return nil }
func (s manyHouseholds) ReadsCurrent(ctx context.Context) context.Context { return ctx }
func (s manyHouseholds) RegisterHouseholds(_ context.Context, _ string, fn func(importer.RegisterHousehold) error) error {
	address := strings.Repeat("东风村", 66)
	for i := range 20000 {
		n := strconv.Itoa(i)
		h := importer.RegisterHousehold{County: s.county, Village: s.village,
			Household: domain.Household{Status: domain.StatusGeneral, HouseholdDetails: domain.HouseholdDetails{Number: "H" + n, HeadName: "户主" + n, Address: address}},
			Members:   []domain.Member{{MemberDetails: domain.MemberDetails{Name: "户主" + n, Relation: domain.RelationHead}}}}
		if err := fn(h); err != nil {
			return err
		}
	}
	return nil
}

// spillWatch is a download that lists the spill directory when the zipped
// workbook first reaches it (the sheet's rows are zipped from there).
type spillWatch struct {
	dir     string
	written bool
	seen    []string
}

func (w *spillWatch) Write(p []byte) (int, error) {
	if !w.written {
		w.written = true
		entries, err := os.ReadDir(w.dir)
		if err != nil {
			return 0, err
		}
		for _, e := range entries {
			w.seen = append(w.seen, e.Name())
		}
	}
	return len(p), nil
}

// TestAnExportSpillsInItsTmpDir: a register export's rows past 16 MB wait
// in ExportQuery.TmpDir (the server's own directory, emptied at start),
// not in the system's temporary directory, and are gone when it is done.
func TestAnExportSpillsInItsTmpDir(t *testing.T) {
	county := domain.Region{ID: uuid.New(), Level: domain.LevelCounty, Name: "示范县", Code: "410122000000"}
	county.Path = "/" + county.ID.String() + "/"
	village := domain.Region{Name: "东风村", Code: "410122100201"}
	dir := t.TempDir()
	admin := domain.Principal{UserID: uuid.New(), Role: domain.RoleAdmin, RegionID: county.ID, RegionPath: county.Path}
	d, err := importer.Export(context.Background(), manyHouseholds{county, village}, importer.ExportQuery{Actor: admin, Format: ledger.XLSX, Today: today, TmpDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	w := &spillWatch{dir: dir}
	if err := d.Write(w); err != nil {
		t.Fatal(err)
	}
	if len(w.seen) != 1 || !strings.HasPrefix(w.seen[0], "excelize-") {
		t.Errorf("while the workbook was written, %s held %q; want the rows' one temporary file", dir, w.seen)
	}
	if left, err := os.ReadDir(dir); err != nil || len(left) != 0 {
		t.Errorf("after the export %s holds %v (%v)", dir, left, err)
	}
}
