package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
	install := func() error {
		// The font: without one, the screenshots the tests save show every
		// Chinese character as a box.
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "chromium", cjkFontPackage)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	if err := install(); err != nil {
		// A machine whose package lists were never fetched knows no chromium.
		update := exec.CommandContext(ctx, "apt-get", "update")
		update.Stdout, update.Stderr = os.Stderr, os.Stderr
		if uerr := update.Run(); uerr != nil {
			return "", fmt.Errorf("apt-get update: %w", uerr)
		}
		if err := install(); err != nil {
			return "", fmt.Errorf("apt-get install chromium: %w", err)
		}
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		return "", fmt.Errorf("chromium installed but %s is missing: %w", chromiumPath, err)
	}
	return chromiumPath, nil
}
