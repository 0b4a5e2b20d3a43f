package ledger

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fieldvisit/fieldvisit/domain"
)

// failingTable records rows and refuses the one numbered failAt.
type failingTable struct {
	rows   []int
	failAt int
	closed bool
}

var errRefused = errors.New("refused")

func (f *failingTable) Row(values ...any) error {
	n := values[0].(int)
	if n == f.failAt {
		return errRefused
	}
	f.rows = append(f.rows, n)
	return nil
}

func (f *failingTable) Close() error { f.closed = true; return nil }
func (f *failingTable) Abort()       {}

// TestPipelinedWritesWhatTheTableWould: the same file as without the
// pipeline, rows in order across batches; a refused row's error comes back
// from a later Row or from Close, and the file is not finished; stop drops
// what is queued and ends the goroutine.
func TestPipelinedWritesWhatTheTableWould(t *testing.T) {
	write := func(tb Table, n int) error {
		for i := range n {
			if err := tb.Row(i, "乡镇", "=危险", Percent(0.5), nil); err != nil {
				return err
			}
		}
		return tb.Close()
	}
	for _, n := range []int{0, 1, pipelineBatch, 3*pipelineBatch + 7} {
		var direct, piped bytes.Buffer
		cols := Columns([]string{"序号", "乡镇", "备注", "达标率", "空"})
		d, _ := New(CSV, &direct, "表", "标题", "副标题", cols)
		p, _ := New(CSV, &piped, "表", "标题", "副标题", cols)
		p, stop := Pipelined(p)
		if err := write(d, n); err != nil {
			t.Fatal(err)
		}
		if err := write(p, n); err != nil {
			t.Fatalf("%d rows: %v", n, err)
		}
		stop()
		if !bytes.Equal(direct.Bytes(), piped.Bytes()) {
			t.Errorf("%d rows: the pipelined CSV differs:\n%s\nwant\n%s", n, piped.Bytes(), direct.Bytes())
		}
	}

	// XLSX spells its cells on the caller's goroutine: the same cells and
	// styles come out.
	at := time.Date(2026, 11, 20, 9, 30, 0, 0, domain.Shanghai)
	sheets := [2][][]string{}
	for i, piped := range []bool{false, true} {
		var buf bytes.Buffer
		tb, _ := New(XLSX, &buf, "表", "标题", "副标题", Columns([]string{"序号", "日期", "时间", "达标率", "照片"}))
		stop := func() {}
		if piped {
			tb, stop = Pipelined(tb)
		}
		for n := range pipelineBatch + 3 {
			if err := tb.Row(n, Day{at}, Clock{at}, Percent(0.5), Link{Text: "照片", URL: "https://fv.example/p"}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tb.Close(); err != nil {
			t.Fatal(err)
		}
		stop()
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if sheets[i], err = f.GetRows("表"); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if fmt.Sprint(sheets[0]) != fmt.Sprint(sheets[1]) || len(sheets[1]) != pipelineBatch+6 {
		t.Errorf("the pipelined XLSX reads %d rows %.300q, want %d %.300q", len(sheets[1]), sheets[1], len(sheets[0]), sheets[0])
	}

	for _, tc := range []struct {
		name   string
		rows   int
		failAt int
	}{
		{"refused in the first batch, seen at Close", 10, 3},
		{"refused early, seen at a later Row", 20 * pipelineBatch, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &failingTable{failAt: tc.failAt}
			tb, stop := Pipelined(rec)
			defer stop()
			err := write(tb, tc.rows)
			if !errors.Is(err, errRefused) || rec.closed || len(rec.rows) != tc.failAt {
				t.Errorf("error %v, closed %v, %d rows written; want the refusal, not closed, %d rows", err, rec.closed, len(rec.rows), tc.failAt)
			}
		})
	}

	rec := &failingTable{failAt: -1}
	tb, stop := Pipelined(rec)
	for i := range 2*pipelineBatch + 1 {
		if err := tb.Row(i); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	stop()
	if err := tb.Row(0); err != nil && !errors.Is(err, errStopped) {
		t.Errorf("a row after stop: %v", err)
	}
	if err := tb.Close(); !errors.Is(err, errStopped) || rec.closed {
		t.Errorf("Close after stop: %v (closed %v), want errStopped and the file unfinished", err, rec.closed)
	}
}
