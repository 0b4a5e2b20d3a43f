package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/importer"
)

func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg Config
	fs := NewFlagSet("import", stderr)
	cfg.bindStore(fs)
	as := fs.String("as", "admin", "username of the admin or supervisor the import runs as (their region bounds it)")
	partial := fs.Bool("allow-partial", false, "import the households whose rows are valid even if others have errors")
	dry := fs.Bool("dry-run", false, "validate and report, write nothing")
	createRegions := fs.Bool("create-regions", false, "create the villages (with the towns, counties and cities above them) and village groups a household sheet names that do not exist yet, from their names and codes (村代码, 村民小组代码)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: fieldvisit import [flags] FILE")
	}
	path := fs.Arg(0)
	log := NewLogger(io.Discard, "error")
	app, err := NewApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	u, _, err := app.Store.UserCredentials(ctx, *as)
	if err != nil {
		return fmt.Errorf("user %q: %w", *as, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	actor := domain.Principal{UserID: u.ID, Username: u.Username, Role: u.Role, RegionID: u.RegionID, RegionPath: u.RegionPath, RequestID: "cli-import"}
	// No TmpDir: the workbook unpacks in the system's temporary directory,
	// not the server's, which a server started meanwhile empties under a
	// running import; a killed command's files are left to the system's
	// cleaner. An unwritable one is refused (ledger.CheckSpillDir), not
	// read in memory.
	rep, err := importer.Import(ctx, app.Store, f, importer.Options{Actor: actor, AllowPartial: *partial, DryRun: *dry, CreateRegions: *createRegions, Source: filepath.Base(path),
		Progress: func(done, total int) {
			if total > 0 && (done%200 == 0 || done == total) {
				fmt.Fprintf(stderr, "\r%s: %3d%% (%d/%d)", filepath.Base(path), done*100/total, done, total)
				if done == total {
					fmt.Fprintln(stderr)
				}
			}
		}})
	if err != nil {
		return describe(err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep)
	}
	if !rep.OK() && !rep.Applied {
		return fmt.Errorf("%d error(s) in %s; nothing was imported (fix them, or use --allow-partial)", len(rep.Errors)+rep.ErrorsOmitted, filepath.Base(path))
	}
	return nil
}

func describe(err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		msg := de.MessageZH + " / " + de.Message
		for _, f := range de.Fields {
			msg += fmt.Sprintf("\n  %s: %s / %s", f.Field, f.MessageZH, f.Message)
		}
		return errors.New(msg)
	}
	return err
}

func printReport(w io.Writer, r importer.Report) {
	fmt.Fprintf(w, "format %s (%s), %d data rows\n", r.Format, r.Encoding, r.Rows)
	switch {
	case r.Kind == importer.KindRegions:
		fmt.Fprintln(w, "sheet: 行政区划 region tree (one row per region)")
	case r.Layout == importer.LayoutHouseholdRows:
		fmt.Fprintln(w, "sheet: 一户一行 one row per household (the head is the first member, 家庭人口 recorded as declared)")
	case r.Layout == importer.LayoutMemberRows:
		fmt.Fprintln(w, "sheet: 一人一行 one row per household member")
	}
	line := func(name string, c importer.Counts) {
		fmt.Fprintf(w, "  %-10s created %d, updated %d, unchanged %d, skipped %d\n", name, c.Created, c.Updated, c.Unchanged, c.Skipped)
	}
	if r.Kind != importer.KindRegions {
		line("households", r.Households)
		line("members", r.Members)
		line("cadres", r.Cadres)
		line("units", r.Units)
		line("pairings", r.Pairings)
	}
	line("regions", r.Regions)
	for _, n := range r.NewRegions {
		fmt.Fprintf(w, "  新建区划 第%d行 %s %s %s（上级：%s）| new %s %s %s under %s\n", n.Row, n.Level, n.Code, n.Name, n.Parent, n.Level, n.Code, n.Name, n.Parent)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  错误 第%d行 %s：%s | row %d %s: %s\n", e.Row, e.Column, e.MessageZH, e.Row, e.Column, e.Message)
	}
	for _, e := range r.Warnings {
		fmt.Fprintf(w, "  提示 第%d行 %s：%s | row %d %s: %s\n", e.Row, e.Column, e.MessageZH, e.Row, e.Column, e.Message)
	}
	switch {
	case r.DryRun:
		fmt.Fprintln(w, "dry run: nothing written")
	case r.Applied:
		fmt.Fprintln(w, "imported")
	}
}
