package localserver

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

// PostgresBinDir finds the directory holding initdb, postgres and
// pg_basebackup: the
// newest /usr/lib/postgresql/*/bin (Debian's layout), else the PATH.
func PostgresBinDir() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	slices.SortFunc(matches, func(a, b string) int { return pgMajor(b) - pgMajor(a) })
	if len(matches) > 0 {
		return filepath.Dir(matches[0]), nil
	}
	p, err := exec.LookPath("initdb")
	if err != nil {
		return "", errors.New("no server at 127.0.0.1:5432 and no initdb found (install PostgreSQL, e.g. apt-get install postgresql)")
	}
	return filepath.Dir(p), nil
}

// pgMajor reads 15 out of /usr/lib/postgresql/15/bin/initdb.
func pgMajor(initdb string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(initdb))))
	return n
}

// PostgresCredential is who PostgreSQL's server programs run as: nil
// (this process's user), or as root the postgres OS user, since PostgreSQL
// refuses to run as root. dir, the cluster's directory, is handed to that
// user.
func PostgresCredential(dir string) (*syscall.Credential, error) {
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
