package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"

	"github.com/fieldvisit/fieldvisit/internal/localserver"
)

// popplerPackage has pdftotext and pdftoppm, with which the printed-form
// tests read back the text of a PDF and draw its pages
// (internal/testkit/pdftest).
const popplerPackage = "poppler-utils"

// setupPoppler makes sure pdftotext is installed, with apt-get when it is
// missing (as root). It does not fail the run: without it the PDF tests
// skip, or fail under CI=true, and say why.
func setupPoppler(ctx context.Context) error {
	if _, err := exec.LookPath("pdftotext"); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("pdftotext is missing and installing it needs root: apt-get install -y %s", popplerPackage)
	}
	logf("Poppler: installing Debian's %s with apt-get", popplerPackage)
	return localserver.AptInstall(ctx, popplerPackage)
}
