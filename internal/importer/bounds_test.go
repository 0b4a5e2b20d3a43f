package importer_test

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
)

// TestAQuotedCellOfManyShortLinesIsBoundedLikeALongLine: a CSV cell in
// quotes that runs over many short lines is one row to the CSV reader,
// which holds it several times over (its record buffer grown by doubling,
// then the row's string); the 1 MB bound of a line (maxLineBytes) held for
// one physical line only, so 8 MB of such a cell cost about seven times
// its size before anything looked at it. A row longer than 1 MB is
// refused, however many lines it spans, before the CSV reader holds it;
// allocations stay within a few times the file (which is read whole, and
// decoded once). Measured by runtime.MemStats, not by time.
func TestAQuotedCellOfManyShortLinesIsBoundedLikeALongLine(t *testing.T) {
	cell := strings.Repeat("东风村三组\n", 8<<20/len("东风村三组\n"))
	file := []byte("乡镇,所属村,户主姓名,住址\n城关镇,东风村,王建国,\"" + cell + "\"\n")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := importer.ReadSheet(bytes.NewReader(file), 1000, t.TempDir())
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte file with a %d-line cell allocated %d bytes (%.1f× the file)", len(file), strings.Count(cell, "\n"), alloc, float64(alloc)/float64(len(file)))
	var de *domain.Error
	if !errors.As(err, &de) || len(de.Fields) != 1 || de.Fields[0].Field != "file" || de.Fields[0].Reason != "too_large" {
		t.Fatalf("want the file refused as too_large, got %v", err)
	}
	if !strings.Contains(de.Fields[0].MessageZH, "第2行") {
		t.Errorf("the refusal does not name the row's first line: %s", de.Fields[0].MessageZH)
	}
	if limit := 4 * uint64(len(file)); alloc > limit {
		t.Errorf("allocated %d bytes, more than %d (4× the file)", alloc, limit)
	}
}
