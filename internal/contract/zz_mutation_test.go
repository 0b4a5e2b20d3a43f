package contract

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fieldvisit/openapi"
)

func TestZZMutations(t *testing.T) {
	body := `{"id":"3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c","county_id":"3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c","region_id":"3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c","village_id":"3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c","number":"","head_name":"x","address":"","phone":"","home":null,"housing_structure":"","housing_safety_grade":"","housing_area":null,"arable_land":null,"annual_income":null,"income_notes":"","causes":[],"poverty_type":"","poverty_type_label":"","status":"edge","status_label":"边缘户","exit_year":null,"registered_year":null,"version":1,"created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00.123456Z"}`
	hdr := http.Header{"Content-Type": {"application/json"}}
	req := httptest.NewRequest("PATCH", "/api/v1/households/3f1c2a4e-8b7d-4c1e-9a2b-5d6e7f8a9b0c", nil)
	base := string(openapi.Spec)
	for name, c := range map[string]struct{ old, new, body string; wantFail bool }{
		"baseline": {"", "", body, false},
		"extra field": {"", "", strings.Replace(body, `{`, `{"x":1,`, 1), true},
		"bad uuid": {"", "", strings.Replace(body, `"id":"3f1c`, `"id":"zz1c`, 1), true},
		"bad date-time": {"", "", strings.Replace(body, `2024-01-01T00:00:00Z`, `2024-13-01`, 1), true},
		"bad enum": {"", "", strings.Replace(body, `"status":"edge"`, `"status":"rich"`, 1), true},
		"null where not nullable": {"", "", strings.Replace(body, `"number":""`, `"number":null`, 1), true},
		"missing required": {"", "", strings.Replace(body, `"version":1,`, ``, 1), true},
		"spec drops home": {"        home:\n          description: Where the house is; null when not recorded.", "        homex:\n          description: Where the house is; null when not recorded.", body, true},
	} {
		spec := base
		if c.old != "" {
			if !strings.Contains(spec, c.old) { t.Fatalf("%s: old not found", name) }
			spec = strings.Replace(spec, c.old, c.new, 1)
		}
		v, err := load([]byte(spec))
		if err != nil { t.Fatalf("%s: %v", name, err) }
		rec := &recorder{TB: t}
		v.CheckResponse(rec, req, 200, hdr, []byte(c.body))
		if rec.Failed() != c.wantFail { t.Errorf("%s: failed=%v want %v: %v", name, rec.Failed(), c.wantFail, rec.msgs) }
		t.Logf("%s: %v", name, rec.msgs)
	}
}
