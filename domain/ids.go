package domain

import (
	"cmp"
	"encoding/binary"

	"github.com/google/uuid"
)

// CompareIDs is the one order of ids everywhere: by their bytes, which is
// PostgreSQL's uuid order and, for their canonical text, SQLite's, so a
// walk sorted here resumes where the database's order says. It compares
// eight bytes at a time (draws and read-ahead windows sort thousands).
func CompareIDs(a, b uuid.UUID) int {
	if c := cmp.Compare(binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])); c != 0 {
		return c
	}
	return cmp.Compare(binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:]))
}
