//go:build linux

package app

import (
	"encoding/binary"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// watchCreates reports the names of the files created in dir from now on,
// each time it is asked (inotify: the files themselves are gone by then).
func watchCreates(t *testing.T, dir string) func() []string {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if _, err := syscall.InotifyAddWatch(fd, dir, syscall.IN_CREATE); err != nil {
		t.Fatal(err)
	}
	return func() []string {
		var names []string
		buf := make([]byte, 64<<10)
		for {
			n, err := syscall.Read(fd, buf)
			if errors.Is(err, syscall.EAGAIN) {
				return names
			}
			if err != nil {
				t.Fatal(err)
			}
			for off := 0; off+syscall.SizeofInotifyEvent <= n; {
				size := int(binary.NativeEndian.Uint32(buf[off+12:])) // struct inotify_event's len
				name := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+size]
				names = append(names, strings.TrimRight(string(name), "\x00"))
				off += syscall.SizeofInotifyEvent + size
			}
		}
	}
}

// TestImportsUnpackInTheServersTemporaryDirectory: a workbook's parts past
// 1 MB unpack in <data dir>/tmp (excelize's temporary files), which serve
// empties at start, not in the system's temporary directory, where a
// server killed mid-import left them; none is left once the import is done.
func TestImportsUnpackInTheServersTemporaryDirectory(t *testing.T) {
	e := newTestEnv(t, "sqlite")
	admin := e.login(t, "admin")
	tmp := filepath.Join(e.app.Config.DataDir, "tmp")
	created := watchCreates(t, tmp)
	r := e.do(t, "POST", "/api/v1/imports?dry_run=true", admin, bigWorkbook(t))
	if r.Status != http.StatusOK {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	names := created()
	// The first is the import's check that the directory takes files
	// (ledger.CheckSpillDir), gone at once.
	if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, "excelize-") }) {
		t.Errorf("the import created %q in %s; want the workbook's unpacked sheet", names, tmp)
	}
	if entries, err := os.ReadDir(tmp); err != nil || len(entries) != 0 {
		t.Errorf("after the import %s holds %v (%v)", tmp, entries, err)
	}
}
