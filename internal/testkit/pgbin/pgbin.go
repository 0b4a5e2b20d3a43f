// Package pgbin finds PostgreSQL's server programs (initdb, postgres,
// pg_basebackup) and the OS user to run them as, for the test set-ups that
// make throwaway clusters (internal/testenv, internal/testkit/pgstandby).
package pgbin

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
)

// Dir finds the directory holding program: the newest
// /usr/lib/postgresql/*/bin (Debian's layout), else the PATH.
func Dir(program string) (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + program)
	slices.SortFunc(matches, func(a, b string) int { return major(b) - major(a) })
	if len(matches) > 0 {
		return filepath.Dir(matches[0]), nil
	}
	p, err := exec.LookPath(program)
	if err != nil {
		return "", fmt.Errorf("no %s found (install PostgreSQL, e.g. apt-get install postgresql)", program)
	}
	return filepath.Dir(p), nil
}

// major reads 15 out of /usr/lib/postgresql/15/bin/initdb.
func major(program string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(program))))
	return n
}

// Credential is who the server programs run as: nil (this process's
// user), or as root the postgres OS user, since PostgreSQL refuses to run
// as root. dir, the cluster's directory, is handed to that user.
func Credential(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL will not run as root and there is no postgres user: %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}
