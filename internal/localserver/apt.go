package localserver

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// AptInstall installs Debian packages, fetching the package lists first
// when the install fails on a machine that never fetched them.
func AptInstall(ctx context.Context, packages ...string) error {
	install := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", append([]string{"install", "-y"}, packages...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	if err := install(); err != nil {
		update := exec.CommandContext(ctx, "apt-get", "update")
		update.Stdout, update.Stderr = os.Stderr, os.Stderr
		if uerr := update.Run(); uerr != nil {
			return fmt.Errorf("apt-get update: %w", uerr)
		}
		if err := install(); err != nil {
			return fmt.Errorf("apt-get install %s: %w", strings.Join(packages, " "), err)
		}
	}
	return nil
}
