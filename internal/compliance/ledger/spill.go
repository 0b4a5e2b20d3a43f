package ledger

import (
	"fmt"
	"os"

	"github.com/fieldvisit/fieldvisit/domain"
)

// CheckSpillDir says whether excelize can make its temporary files in dir
// ("" is the system's temporary directory) by making one and removing it.
// excelize says nothing when it cannot: a workbook read keeps its large
// parts in memory whole (up to the import's 512 MB bound) and a table
// written keeps every row in memory, the very thing spilling bounds. So
// imports and XLSX exports check first and refuse (unavailable, 503; the
// log names the directory, for the operator to mend) rather than run
// unbounded; serve checks its own at start.
func CheckSpillDir(dir string) error {
	f, err := os.CreateTemp(dir, "check-")
	if err != nil {
		if dir == "" {
			dir = os.TempDir()
		}
		// The directory is named in the error the server logs, never in
		// the answer: a client learns nothing of the server's file system.
		return &domain.Error{Code: domain.CodeUnavailable, Reason: "tmp_dir_unusable",
			Message:   "the server's temporary directory cannot be written; tell the administrator",
			MessageZH: "服务器临时目录无法写入，请联系管理员", Err: fmt.Errorf("temporary directory %s: %w", dir, err)}
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Ready is CheckSpillDir for a table in format: only an XLSX table spills.
// An export checks before it answers, while a refusal can still be a 503
// rather than a download cut short.
func Ready(format, dir string) error {
	if format == CSV {
		return nil
	}
	return CheckSpillDir(dir)
}
