package domain_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// TestCompareIDsIsTheStoresOrder: ids compare as PostgreSQL orders uuids
// (byte by byte) and as SQLite orders their canonical text, including ids
// that differ only in their last eight bytes.
func TestCompareIDsIsTheStoresOrder(t *testing.T) {
	sign := func(c int) int { return max(-1, min(1, c)) }
	pairs := [][2]uuid.UUID{
		{uuid.MustParse("00000000-0000-0000-0000-000000000001"), uuid.MustParse("00000000-0000-0000-0000-000000000002")},
		{uuid.MustParse("ffffffff-ffff-ffff-0000-000000000000"), uuid.MustParse("ffffffff-ffff-ffff-8000-000000000000")},
		{uuid.MustParse("7fffffff-ffff-ffff-ffff-ffffffffffff"), uuid.MustParse("80000000-0000-0000-0000-000000000000")},
	}
	for range 2000 {
		pairs = append(pairs, [2]uuid.UUID{uuid.New(), uuid.New()})
	}
	for _, p := range pairs {
		a, b := p[0], p[1]
		got := sign(domain.CompareIDs(a, b))
		if want := sign(bytes.Compare(a[:], b[:])); got != want {
			t.Fatalf("CompareIDs(%s, %s) = %d; bytes say %d", a, b, got, want)
		}
		if want := sign(strings.Compare(a.String(), b.String())); got != want {
			t.Fatalf("CompareIDs(%s, %s) = %d; text says %d", a, b, got, want)
		}
		if sign(domain.CompareIDs(b, a)) != -got || domain.CompareIDs(a, a) != 0 {
			t.Fatalf("CompareIDs is not antisymmetric on %s, %s", a, b)
		}
	}
}
