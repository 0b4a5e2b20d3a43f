package rules

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
)

func TestReadyProfilesAreValid(t *testing.T) {
	for _, p := range Profiles() {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v %+v", p.Code, err, fieldsOf(err))
		}
		for _, r := range p.Rules {
			if r.Source == "" || r.NameZH == "" {
				t.Errorf("%s/%s: rule without source or name", p.Code, r.Code)
			}
			if r.Subject == SubjectHousehold || r.Subject == SubjectPairing {
				if contains(r.CountKinds, domain.KindCondolence) || contains(r.CountKinds, domain.KindInspection) {
					t.Errorf("%s/%s: condolence and inspection visits do not count by default", p.Code, r.Code)
				}
			}
		}
	}
}

func TestReadyProfilesHaveTheirRules(t *testing.T) {
	want := map[string][]string{
		"default":        {CodeYearly6, CodeExitedFollowup, CodeEdge, CodeUnitGroup, CodeUnitHeadQuarterly, CodeUnitMembersMonthly4},
		"monthly":        {CodeMonthly, CodeEdge, CodeUnitGroup, CodeUnitHeadQuarterly, CodeUnitMembersMonthly4},
		"monthly-paired": {CodeMonthlyPaired, CodeExitedFollowup, CodeEdge, CodeUnitGroup, CodeUnitHeadQuarterly, CodeUnitMembersMonthly4},
	}
	for _, p := range Profiles() {
		var got []string
		for _, r := range p.Rules {
			got = append(got, r.Code)
		}
		if !slices.Equal(got, want[p.Code]) {
			t.Errorf("%s: rules %v, want %v", p.Code, got, want[p.Code])
		}
		c := p.Coverage
		if !c.TownHead.Enabled || !c.CountyLeader.Enabled || !c.PairingQuota.Enabled || !c.EveryPaired.Enabled || !c.ResidentTerm.Enabled {
			t.Errorf("%s: every coverage rule is on by default", p.Code)
		}
		if c.ResidentTerm.MinMonths != 24 || c.PairingQuota.Quota[domain.RankCountyLevel] != 3 || c.PairingQuota.Quota[domain.RankStaff] != 1 {
			t.Errorf("%s: coverage numbers differ from 002", p.Code)
		}
	}
}

func TestProfileJSONRoundTrip(t *testing.T) {
	p := MonthlyProfile()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back Profile
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, back) {
		t.Errorf("round trip changed the profile:\n%s", b)
	}
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	rule := raw["rules"].([]any)[0].(map[string]any)
	for _, k := range []string{"code", "name_zh", "source", "subject", "statuses", "exited_since_year", "minimums", "count_kinds", "disqualifying_flags"} {
		if _, ok := rule[k]; !ok {
			t.Errorf("rule JSON lacks %q", k)
		}
	}
}

func TestProfilesDoNotShareSlices(t *testing.T) {
	a := DefaultProfile()
	a.Rules[0].CountKinds[0] = domain.KindCondolence
	a.Rules[0].DisqualifyingFlags[0] = "no_gps"
	b := DefaultProfile()
	if b.Rules[0].CountKinds[0] != domain.KindAssist || b.Rules[0].DisqualifyingFlags[0] != "far_from_home" {
		t.Error("editing one profile changed another")
	}
}

func fieldsOf(err error) map[string]string {
	var de *domain.Error
	if !errors.As(err, &de) {
		return nil
	}
	out := map[string]string{}
	for _, f := range de.Fields {
		out[f.Field] = f.Reason
	}
	return out
}

func TestProfileValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(p *Profile)
		field  string
		reason string
	}{
		{"unknown window", func(p *Profile) { p.Rules[0].Minimums[1].Window = "week" }, "/rules/0/minimums/1/window", "invalid_enum"},
		{"negative count", func(p *Profile) { p.Rules[0].Minimums[1].Count = -1 }, "/rules/0/minimums/1/count", "out_of_range"},
		{"zero count", func(p *Profile) { p.Rules[0].Minimums[0].Count = 0 }, "/rules/0/minimums/0/count", "out_of_range"},
		{"more than a month has days", func(p *Profile) { p.Rules[3].Minimums[0].Count = 32 }, "/rules/3/minimums/0/count", "out_of_range"},
		{"duplicate window", func(p *Profile) { p.Rules[0].Minimums[1].Window = WindowYear }, "/rules/0/minimums/1/window", "duplicate"},
		{"no minimums", func(p *Profile) { p.Rules[1].Minimums = nil }, "/rules/1/minimums", "required"},
		{"unknown kind", func(p *Profile) { p.Rules[0].CountKinds = []string{"assist", "chat"} }, "/rules/0/count_kinds/1", "invalid_enum"},
		{"no kinds", func(p *Profile) { p.Rules[0].CountKinds = nil }, "/rules/0/count_kinds", "required"},
		{"unknown status", func(p *Profile) { p.Rules[0].Statuses = []string{"poor"} }, "/rules/0/statuses/0", "invalid_enum"},
		{"household rule without statuses", func(p *Profile) { p.Rules[2].Statuses = nil }, "/rules/2/statuses", "required"},
		{"unknown poverty type", func(p *Profile) { p.Rules[0].PovertyTypes = []string{"tekun"} }, "/rules/0/poverty_types/0", "invalid_enum"},
		{"unknown duty", func(p *Profile) { p.Rules[4].Duties = []string{"mayor"} }, "/rules/4/duties/0", "invalid_enum"},
		{"cadre rule without duties", func(p *Profile) { p.Rules[5].Duties = nil }, "/rules/5/duties", "required"},
		{"duties on a household rule", func(p *Profile) { p.Rules[0].Duties = []string{domain.DutyUnitHead} }, "/rules/0/duties", "not_applicable"},
		{"statuses on a cadre rule", func(p *Profile) { p.Rules[4].Statuses = []string{domain.StatusRegistered} }, "/rules/4/statuses", "not_applicable"},
		{"unknown flag", func(p *Profile) { p.Rules[0].DisqualifyingFlags = append(p.Rules[0].DisqualifyingFlags, "blurry") }, "/rules/0/disqualifying_flags/6", "invalid_enum"},
		{"duplicate flag", func(p *Profile) { p.Rules[0].DisqualifyingFlags[1] = "far_from_home" }, "/rules/0/disqualifying_flags/1", "duplicate"},
		{"duplicate rule code", func(p *Profile) { p.Rules[1].Code = CodeYearly6 }, "/rules/1/code", "duplicate"},
		{"bad rule code", func(p *Profile) { p.Rules[1].Code = "Yearly 6" }, "/rules/1/code", "invalid_format"},
		{"no source", func(p *Profile) { p.Rules[2].Source = "" }, "/rules/2/source", "required"},
		{"unknown subject", func(p *Profile) { p.Rules[2].Subject = "village" }, "/rules/2/subject", "invalid_enum"},
		{"negative duration", func(p *Profile) { p.Rules[0].MinDurationMinutes = -5 }, "/rules/0/min_duration_minutes", "out_of_range"},
		{"negative due soon", func(p *Profile) { p.Rules[0].DueSoonDays = -1 }, "/rules/0/due_soon_days", "out_of_range"},
		{"negative grace", func(p *Profile) { p.Rules[0].GraceDays = -1 }, "/rules/0/grace_days", "out_of_range"},
		{"exit year", func(p *Profile) { p.Rules[0].ExitedSinceYear = 1999 }, "/rules/0/exited_since_year", "out_of_range"},
		{"any cadre on a pairing rule", func(p *Profile) { p.Rules[0].Subject = SubjectPairing; p.Rules[0].AnyCadre = true }, "/rules/0/any_cadre", "not_applicable"},
		{"profile code", func(p *Profile) { p.Code = "" }, "/code", "invalid_format"},
		{"profile name", func(p *Profile) { p.NameZH = "" }, "/name_zh", "required"},
		{"negative version", func(p *Profile) { p.Version = -1 }, "/version", "out_of_range"},
		{"unknown rank", func(p *Profile) { p.Coverage.PairingQuota.Quota["general"] = 1 }, "/coverage/pairing_quota/quota/general", "invalid_enum"},
		{"negative quota", func(p *Profile) { p.Coverage.PairingQuota.Quota[domain.RankStaff] = -1 }, "/coverage/pairing_quota/quota/staff", "out_of_range"},
		{"resident term zero", func(p *Profile) { p.Coverage.ResidentTerm.MinMonths = 0 }, "/coverage/resident_term/min_months", "out_of_range"},
		{"town head without statuses", func(p *Profile) { p.Coverage.TownHead.Statuses = nil }, "/coverage/town_head/statuses", "required"},
		{"county leader kind", func(p *Profile) { p.Coverage.CountyLeader.CountKinds = []string{"tour"} }, "/coverage/county_leader/count_kinds/0", "invalid_enum"},
		{"every paired status", func(p *Profile) { p.Coverage.EveryPaired.Statuses = []string{"poor"} }, "/coverage/every_household_paired/statuses/0", "invalid_enum"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultProfile()
			tt.edit(&p)
			err := p.Validate()
			if !domain.IsCode(err, domain.CodeInvalid) {
				t.Fatalf("Validate() = %v, want an invalid error", err)
			}
			got := fieldsOf(err)
			if got[tt.field] != tt.reason {
				t.Errorf("fields %v; want %s → %s", got, tt.field, tt.reason)
			}
			var de *domain.Error
			errors.As(err, &de)
			for _, f := range de.Fields {
				if f.MessageZH == "" {
					t.Errorf("%s has no zh-CN message", f.Field)
				}
			}
		})
	}
}

func TestProfileWithoutRulesIsValid(t *testing.T) {
	// A county may run only the coverage checks while it settles its frequency rules.
	p := DefaultProfile()
	p.Rules = nil
	if err := p.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
	p.Coverage = CoverageRules{}
	if err := p.Validate(); err != nil {
		t.Errorf("all coverage off: Validate() = %v", err)
	}
}
