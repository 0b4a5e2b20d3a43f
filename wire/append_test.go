package wire

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"pgregory.net/rapid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Hand-appended JSON must decode to exactly what json.Marshal's output
// decodes to, for any value: phones parse one or the other depending on
// the endpoint.

func drawText(t *rapid.T, label string) string {
	return rapid.OneOf(
		rapid.String(),
		rapid.StringOf(rapid.RuneFrom([]rune("张王李村组户\"\\<>&\u2028\u2029\x00\x1f\n\t é"))),
		rapid.Just(""),
		rapid.Just("\xff\xfe broken UTF-8"),
	).Draw(t, label)
}

func drawFloatPtr(t *rapid.T, label string) *float64 {
	if rapid.Bool().Draw(t, label+"_nil") {
		return nil
	}
	f := rapid.OneOf(rapid.Float64Range(-1e25, 1e25), rapid.Float64Range(-1e-5, 1e-5),
		rapid.SampledFrom([]float64{0, 1, 0.1, 1e21, 1e-7, 123456789.125, 3.4e-300})).Draw(t, label)
	return &f
}

func drawIntPtr(t *rapid.T, label string) *int {
	if rapid.Bool().Draw(t, label+"_nil") {
		return nil
	}
	n := rapid.IntRange(-3000, 3000).Draw(t, label)
	return &n
}

func drawDate(t *rapid.T, label string) domain.Date {
	return domain.Date{Year: rapid.IntRange(1, 9999).Draw(t, label+"_y"), Month: time.Month(rapid.IntRange(1, 12).Draw(t, label+"_m")),
		Day: rapid.IntRange(1, 31).Draw(t, label+"_d")}
}

func drawDatePtr(t *rapid.T, label string) *domain.Date {
	if rapid.Bool().Draw(t, label+"_nil") {
		return nil
	}
	d := drawDate(t, label)
	return &d
}

func drawTime(t *rapid.T, label string) time.Time {
	loc := rapid.SampledFrom([]*time.Location{time.UTC, domain.Shanghai, time.FixedZone("", -5*3600-30*60)}).Draw(t, label+"_zone")
	return time.Unix(rapid.Int64Range(-2208988800, 4102444800).Draw(t, label), rapid.Int64Range(0, 999999999).Draw(t, label+"_ns")).In(loc)
}

func drawUUID(t *rapid.T, label string) uuid.UUID {
	var u uuid.UUID
	copy(u[:], rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, label))
	return u
}

func sameAsMarshal(t *rapid.T, v JSONAppender) {
	got := v.AppendJSON([]byte("prefix"))
	if string(got[:6]) != "prefix" {
		t.Fatalf("AppendJSON overwrote the buffer it was given")
	}
	got = got[6:]
	want, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("AppendJSON gave invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("AppendJSON and json.Marshal disagree:\n got %s\nwant %s", got, want)
	}
}

func TestAppendJSONDecodesAsMarshal(t *testing.T) {
	t.Run("Household", rapid.MakeCheck(func(t *rapid.T) {
		h := Household{ID: drawUUID(t, "id"), CountyID: drawUUID(t, "county"), RegionID: drawUUID(t, "region"), VillageID: drawUUID(t, "village"),
			Number: drawText(t, "number"), HeadName: drawText(t, "head"), Address: drawText(t, "address"), Phone: drawText(t, "phone"),
			HousingStructure: drawText(t, "structure"), HousingSafetyGrade: drawText(t, "grade"), HousingArea: drawFloatPtr(t, "area"),
			ArableLand: drawFloatPtr(t, "land"), AnnualIncome: drawFloatPtr(t, "income"), IncomeNotes: drawText(t, "notes"),
			Causes:      rapid.SliceOfN(rapid.Custom(func(t *rapid.T) string { return drawText(t, "cause") }), -1, 4).Draw(t, "causes"),
			PovertyType: drawText(t, "ptype"), PovertyTypeLabel: drawText(t, "plabel"), Status: drawText(t, "status"), StatusLabel: drawText(t, "slabel"),
			ExitYear: drawIntPtr(t, "exit"), RegisteredYear: drawIntPtr(t, "registered"), Version: rapid.Int64().Draw(t, "version"),
			CreatedAt: drawTime(t, "created"), UpdatedAt: drawTime(t, "updated")}
		if rapid.Bool().Draw(t, "home") {
			lat, lon := drawFloatPtr(t, "lat"), drawFloatPtr(t, "lon")
			if lat != nil && lon != nil {
				h.Home = &GeoPoint{Lat: *lat, Lon: *lon}
			}
		}
		if rapid.Bool().Draw(t, "nil_causes") {
			h.Causes = nil
		}
		sameAsMarshal(t, &h)
	}))
	t.Run("Member", rapid.MakeCheck(func(t *rapid.T) {
		m := Member{ID: drawUUID(t, "id"), HouseholdID: drawUUID(t, "household"), Name: drawText(t, "name"), Relation: drawText(t, "relation"),
			IDNumber: drawText(t, "idn"), IDMasked: rapid.Bool().Draw(t, "masked"), Gender: drawText(t, "gender"), BirthDate: drawDatePtr(t, "birth"),
			Health: drawText(t, "health"), Disability: drawText(t, "disability"), Education: drawText(t, "education"), Work: drawText(t, "work"),
			Phone: drawText(t, "phone"), Version: rapid.Int64().Draw(t, "version")}
		sameAsMarshal(t, &m)
	}))
	t.Run("Pairing", rapid.MakeCheck(func(t *rapid.T) {
		p := Pairing{ID: drawUUID(t, "id"), HouseholdID: drawUUID(t, "household"), CadreID: drawUUID(t, "cadre"), StartOn: drawDate(t, "start"),
			EndOn: drawDatePtr(t, "end"), EndReason: drawText(t, "reason"), CreatedAt: drawTime(t, "created")}
		sameAsMarshal(t, &p)
	}))
	t.Run("PairingRecord", rapid.MakeCheck(func(t *rapid.T) {
		p := PairingRecord{Pairing: Pairing{ID: drawUUID(t, "id"), HouseholdID: drawUUID(t, "household"), CadreID: drawUUID(t, "cadre"),
			StartOn: drawDate(t, "start"), EndOn: drawDatePtr(t, "end"), EndReason: drawText(t, "reason"), CreatedAt: drawTime(t, "created")},
			CadreName: drawText(t, "name"), CadrePhone: drawText(t, "phone")}
		sameAsMarshal(t, &p)
	}))
}
