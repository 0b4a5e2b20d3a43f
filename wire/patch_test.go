package wire

import (
	"reflect"
	"testing"

	"github.com/fieldvisit/fieldvisit/domain"
)

// TestAPatchKeepsClearsOrSets: a field left out of a PATCH body keeps its
// value, null clears it as an empty value does (what null means in a sync
// push's data too), and a value sets it; a value of the wrong type is
// named by its pointer.
func TestAPatchKeepsClearsOrSets(t *testing.T) {
	area, income := 80.5, 12000.0
	stored := domain.HouseholdDetails{HeadName: "王五", Phone: "13800000000", HousingArea: &area, AnnualIncome: &income,
		Home: &domain.GeoPoint{Lat: 34.7, Lon: 113.6}, Causes: []string{"illness"}}
	for _, tc := range []struct {
		name, body string
		want       func(d *domain.HouseholdDetails)
	}{
		{"only the version: nothing changes", `{"version":3}`, func(*domain.HouseholdDetails) {}},
		{"null clears a text", `{"version":3,"phone":null}`, func(d *domain.HouseholdDetails) { d.Phone = "" }},
		{"an empty text clears it too", `{"version":3,"phone":""}`, func(d *domain.HouseholdDetails) { d.Phone = "" }},
		{"null clears a number", `{"version":3,"housing_area":null}`, func(d *domain.HouseholdDetails) { d.HousingArea = nil }},
		{"null clears the home point", `{"version":3,"home":null}`, func(d *domain.HouseholdDetails) { d.Home = nil }},
		{"null clears the causes", `{"version":3,"causes":null}`, func(d *domain.HouseholdDetails) { d.Causes = nil }},
		{"values set", `{"version":3,"phone":"13900000000","annual_income":0,"home":{"lat":35,"lon":114}}`, func(d *domain.HouseholdDetails) {
			zero := 0.0
			d.Phone, d.AnnualIncome, d.Home = "13900000000", &zero, &domain.GeoPoint{Lat: 35, Lon: 114}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var p HouseholdPatch
			if err := DecodeStrict([]byte(tc.body), &p); err != nil {
				t.Fatal(err)
			}
			var fe domain.FieldErrors
			got := p.Apply(stored, &fe)
			want := stored
			want.Causes = append([]string(nil), stored.Causes...)
			tc.want(&want)
			if len(fe) > 0 || !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v (%v), want %+v", got, fe, want)
			}
		})
	}
	for body, field := range map[string]string{`{"version":3,"phone":5}`: "/phone", `{"version":3,"home":{"lat":"north"}}`: "/home/lat",
		`{"version":3,"home":{"latitude":1}}`: "/home/latitude"} {
		var p HouseholdPatch
		err := DecodeStrict([]byte(body), &p)
		if de, ok := err.(*domain.Error); !ok || len(de.Fields) != 1 || de.Fields[0].Field != field {
			t.Errorf("%s: %v, want an error naming %s", body, err, field)
		}
	}
}
