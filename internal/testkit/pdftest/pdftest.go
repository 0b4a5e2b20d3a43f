// Package pdftest reads PDFs back in tests: the text a reader would copy
// (pdftotext) and a page drawn as PNG (pdftoppm), both from Debian's
// poppler-utils, which `go run ./internal/testenv` installs. Without them
// a test skips, or fails under CI=true.
//
// A Go reader was tried first: github.com/ledongthuc/pdf maps a ToUnicode
// range only within its last byte, and fpdf writes one identity range
// <0000>–<FFFF>, so every Chinese character came back wrong.
package pdftest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// tool returns the path of a poppler command, or skips (fails under CI).
func tool(tb testing.TB, name string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			tb.Fatalf("%s unavailable under CI=true: %v", name, err)
		}
		tb.Skipf("%s unavailable (%v); run the tests through `go run ./internal/testenv`, which installs poppler-utils", name, err)
	}
	return path
}

// file writes the PDF where the tools can read it.
func file(tb testing.TB, pdf []byte) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "form.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// run runs a poppler command and returns what it printed.
func run(tb testing.TB, name string, args ...string) []byte {
	tb.Helper()
	cmd := exec.Command(tool(tb, name), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s: %v: %s", name, err, stderr.String())
	}
	return out
}

// Text is the PDF's text as pdftotext reads it, pages in order, with
// every run of white space (table cells wrap) folded to one space.
func Text(tb testing.TB, pdf []byte) string {
	tb.Helper()
	out := run(tb, "pdftotext", "-enc", "UTF-8", file(tb, pdf), "-")
	return strings.Join(strings.Fields(string(out)), " ")
}

// PageTexts is Text of each page, in order.
func PageTexts(tb testing.TB, pdf []byte) []string {
	tb.Helper()
	out := run(tb, "pdftotext", "-enc", "UTF-8", file(tb, pdf), "-")
	pages := strings.Split(strings.TrimSuffix(string(out), "\f"), "\f")
	for i, pg := range pages {
		pages[i] = strings.Join(strings.Fields(pg), " ")
	}
	return pages
}

// Pages is the number of pages pdfinfo counts.
func Pages(tb testing.TB, pdf []byte) int {
	tb.Helper()
	out := run(tb, "pdfinfo", file(tb, pdf))
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "Pages:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				tb.Fatalf("pdfinfo pages %q", v)
			}
			return n
		}
	}
	tb.Fatalf("pdfinfo gave no page count: %s", out)
	return 0
}

// Fonts is pdffonts' table: one line per font, with its type, whether it
// is embedded and whether it carries a ToUnicode map.
func Fonts(tb testing.TB, pdf []byte) string {
	tb.Helper()
	return string(run(tb, "pdffonts", file(tb, pdf)))
}

// PNG draws page (from 1) of the PDF at dpi into path, a PNG file, for a
// person to look at.
func PNG(tb testing.TB, pdf []byte, page, dpi int, path string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	p := strconv.Itoa(page)
	run(tb, "pdftoppm", "-f", p, "-l", p, "-r", strconv.Itoa(dpi), "-png", "-singlefile", file(tb, pdf), strings.TrimSuffix(path, ".png"))
}
