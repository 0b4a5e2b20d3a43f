package inspect

import (
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// TestAssignSharesTownsAmongInspectors: the sample's towns go to the
// campaign's inspectors as 督查组 — whole towns each, balanced by
// households, or teams when inspectors outnumber towns — and in cross mode
// never to the town an inspector works in.
func TestAssignSharesTownsAmongInspectors(t *testing.T) {
	county := "/c/"
	town := func(n int) uuid.UUID { return uuid.NewSHA1(uuid.NameSpaceOID, []byte{byte(n)}) }
	inspector := func(name string, home int) domain.User {
		path := county
		if home > 0 {
			path += town(home).String() + "/"
		}
		return domain.User{ID: uuid.NewSHA1(uuid.NameSpaceDNS, []byte(name)), Username: name, RegionPath: path}
	}
	loads := func(hs ...int) []TownLoad {
		out := make([]TownLoad, len(hs))
		for i, h := range hs {
			out[i] = TownLoad{ID: town(i + 1), Households: h}
		}
		return out
	}
	a, b, c := inspector("a", 0), inspector("b", 0), inspector("c", 0)
	a1, b2 := inspector("a1", 1), inspector("b2", 2)
	tests := []struct {
		name       string
		towns      []TownLoad
		inspectors []domain.User
		cross      bool
		want       map[int][]string // town number → inspectors
	}{
		{"one town, a team of three", loads(80), []domain.User{a, b, c}, false,
			map[int][]string{1: {"a", "b", "c"}}},
		{"towns taken whole, the lightest inspector takes the next", loads(40, 40, 20, 20), []domain.User{a, b}, false,
			map[int][]string{1: {"a"}, 2: {"b"}, 3: {"a"}, 4: {"b"}}},
		{"a heavy town weighs as much as two", loads(80, 40, 40), []domain.User{a, b}, false,
			map[int][]string{1: {"a"}, 2: {"b"}, 3: {"b"}}},
		{"more inspectors than towns: teams spread evenly", loads(40, 40), []domain.User{a, b, c}, false,
			map[int][]string{1: {"a", "c"}, 2: {"b"}}},
		{"cross: nobody inspects home", loads(40, 40), []domain.User{a1, b2}, true,
			map[int][]string{1: {"b2"}, 2: {"a1"}}},
		{"cross: teams formed away from home", loads(40, 40), []domain.User{b2, a1, inspector("b2bis", 2)}, true,
			map[int][]string{1: {"b2", "b2bis"}, 2: {"a1"}}},
		{"cross: a town left without a team is taken by one who has a town already", loads(40, 40, 40),
			[]domain.User{a, b, inspector("r3", 3), inspector("s3", 3)}, true,
			map[int][]string{1: {"a", "r3"}, 2: {"b", "s3"}, 3: {"a"}}},
		{"not cross: home towns are fine", loads(40), []domain.User{a1}, false,
			map[int][]string{1: {"a1"}}},
		{"cross: a town only its own people could take stays off the phones", loads(40), []domain.User{a1}, true,
			map[int][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := map[uuid.UUID]string{}
			for _, u := range tt.inspectors {
				names[u.ID] = u.Username
			}
			got := Assign(tt.towns, tt.inspectors, tt.cross)
			for i, tl := range tt.towns {
				var team []string
				for _, id := range got[tl.ID] {
					team = append(team, names[id])
				}
				slices.Sort(team)
				if want := tt.want[i+1]; !slices.Equal(team, want) {
					t.Errorf("town %d: %v, want %v", i+1, team, want)
				}
			}
		})
	}
}
