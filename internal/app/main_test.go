package app

import (
	"os"
	"testing"

	"github.com/fieldvisit/fieldvisit/internal/testkit/browsertest"
)

// TestMain shares one Chromium per window size among the package's
// browser tests, each in a browser context of its own (browsertest.Main):
// launching a browser per test cost more than the tests themselves.
func TestMain(m *testing.M) {
	os.Exit(browsertest.Main(m))
}
