package app

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// TestServeEmptiesItsTemporaryDirectory: what a server killed mid-import
// or mid-export left in <data dir>/tmp (excelize's temporary files) is gone
// once serve starts again, and the directory is there, empty.
func TestServeEmptiesItsTemporaryDirectory(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(filepath.Join(tmp, "excelize-dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"excelize-2811", filepath.Join("excelize-dir", "sheet1.xml")} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte("<row/>"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	_, done := serveInProcess(t, ctx, []string{"--data-dir", dir}, io.Discard, io.Discard)
	entries, err := os.ReadDir(tmp)
	if err != nil || len(entries) != 0 {
		t.Errorf("after serve started, %s holds %v (%v); want it empty", tmp, entries, err)
	}
	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}

// bigWorkbook is a household sheet whose worksheet unpacks to more than
// the 1 MB a workbook part is read whole, so excelize unpacks it to a
// temporary file.
func bigWorkbook(t *testing.T) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"乡镇", "所属村", "户编号", "户主姓名", "与户主关系", "姓名", "身份证号"}); err != nil {
		t.Fatal(err)
	}
	for i := 2; i <= 6000; i++ {
		n := strconv.Itoa(i)
		if err := sw.SetRow("A"+n, []any{"城关镇", "东风村", "T" + n, "户主" + n, "户主", "户主" + n, ""}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
