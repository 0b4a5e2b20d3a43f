package main

import (
	"context"
	"fmt"
	"os"

	"github.com/fieldvisit/fieldvisit/internal/localserver"
)

// chromiumPath is where Debian's chromium package puts the browser the
// console's browser tests drive (internal/testkit/browsertest).
const chromiumPath = "/usr/bin/chromium"

// cjkFontPackage is a small Chinese font (about 5 MB).
const cjkFontPackage = "fonts-wqy-microhei"

// hasCJKFont reports whether the font package's file is there.
func hasCJKFont() bool {
	_, err := os.Stat("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
	return err == nil
}

// setupChromium makes sure the browser is installed, with apt-get when it
// is missing (`make test` on a fresh machine), and returns its path. It
// does not fail the run: without a browser the browser tests skip, or fail
// under CI=true, and say why.
func setupChromium(ctx context.Context) (string, error) {
	if _, err := os.Stat(chromiumPath); err == nil && hasCJKFont() {
		return chromiumPath, nil
	}
	if os.Geteuid() != 0 {
		if _, err := os.Stat(chromiumPath); err == nil {
			return chromiumPath, nil // screenshots without Chinese glyphs; the tests still hold
		}
		return "", fmt.Errorf("%s is missing and installing it needs root: apt-get install -y chromium %s", chromiumPath, cjkFontPackage)
	}
	logf("Chromium: installing Debian's chromium and a Chinese font with apt-get (a minute or two)")
	// The font: without one, the screenshots the tests save show every
	// Chinese character as a box.
	if err := localserver.AptInstall(ctx, "chromium", cjkFontPackage); err != nil {
		return "", err
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		return "", fmt.Errorf("chromium installed but %s is missing: %w", chromiumPath, err)
	}
	return chromiumPath, nil
}
