package rules

import (
	"reflect"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

func id(n int) uuid.UUID { return uuid.UUID{0: 0xaa, 14: byte(n >> 8), 15: byte(n)} }

func day(y int, m time.Month, d int) domain.Date { return domain.Date{Year: y, Month: m, Day: d} }

func datePtr(y int, m time.Month, d int) *domain.Date { x := day(y, m, d); return &x }

// sh is a time of day in Asia/Shanghai.
func sh(y int, m time.Month, d, hour int) time.Time {
	return time.Date(y, m, d, hour, 0, 0, 0, domain.Shanghai)
}

var (
	hhID     = id(1)
	village  = id(2)
	group    = id(3)
	town     = id(4)
	county   = id(5)
	cadreA   = id(10)
	cadreB   = id(11)
	cadreC   = id(12)
	unitID   = id(20)
	visitSeq = 1000
)

// registered is a household registered since 2020 and paired with cadreA.
func registered() HouseholdFacts {
	return HouseholdFacts{
		ID: hhID, VillageID: village, RegionID: group, TownID: town,
		StatusSpans: []Span{{Status: domain.StatusRegistered, PovertyType: domain.PovertyOrdinary, From: day(2020, 1, 1)}},
		Pairings:    []domain.Pairing{{ID: id(100), HouseholdID: hhID, CadreID: cadreA, StartOn: day(2020, 1, 1)}},
	}
}

func visitAt(cadre uuid.UUID, kind string, at time.Time, flags ...string) VisitFact {
	visitSeq++
	end := at.Add(40 * time.Minute)
	return VisitFact{ID: id(visitSeq), HouseholdID: hhID, CadreID: cadre, VillageID: village, RegionID: group,
		Kind: kind, StartedAt: at, EndedAt: &end, Flags: flags}
}

func assist(cadre uuid.UUID, y int, m time.Month, d int) VisitFact {
	return visitAt(cadre, domain.KindAssist, sh(y, m, d, 10))
}

func period(key string) Period {
	p, err := ParsePeriod(key)
	if err != nil {
		panic(err)
	}
	return p
}

// find returns the status of rule code (and cadre, when given).
func find(sts []Status, code string, cadre ...uuid.UUID) (Status, bool) {
	for _, s := range sts {
		if s.RuleCode != code {
			continue
		}
		if len(cadre) > 0 && (s.CadreID == nil || *s.CadreID != cadre[0]) {
			continue
		}
		return s, true
	}
	return Status{}, false
}

func reasons(s Status) []string {
	var out []string
	for _, v := range s.NotCounted {
		out = append(out, v.Reason)
	}
	return out
}

func statusEqual(a, b Status) bool { return reflect.DeepEqual(a, b) }

func time1(m int) time.Month { return time.Month(m) }
