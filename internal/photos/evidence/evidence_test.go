package evidence

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

var (
	home  = domain.GeoPoint{Lat: 33.0000, Lon: 108.0000}
	start = time.Date(2026, 5, 12, 9, 0, 0, 0, domain.Shanghai)
)

// offset returns a point about north metres north and east metres east of home.
func offset(north, east float64) domain.GeoPoint {
	return domain.GeoPoint{Lat: home.Lat + north/111_195, Lon: home.Lon + east/(111_195*0.8387)}
}

func stamp(p domain.GeoPoint, accuracy float64) domain.GPSStamp {
	return domain.GPSStamp{Lat: p.Lat, Lon: p.Lon, Accuracy: accuracy, Provider: "gps", DeviceTime: start}
}

// honest is a visit nothing is wrong with: 40 minutes at home with one photo.
func honest() Input {
	end := start.Add(40 * time.Minute)
	taken := start.Add(10 * time.Minute)
	photo := uuid.New()
	h := home
	return Input{
		Visit: domain.Visit{ID: uuid.New(), VisitDetails: domain.VisitDetails{Kind: domain.KindAssist, StartedAt: start, EndedAt: &end,
			GPS: []domain.GPSStamp{stamp(offset(30, 20), 15)}, Photos: []domain.PhotoRef{{PhotoID: photo, SHA256: "aa"}}}},
		Home:   &h,
		Photos: []PhotoEvidence{{PhotoID: photo, SHA256: "aa", Arrived: true, TakenAt: &taken, GPS: ptr(offset(20, 10))}},
	}
}

func ptr[T any](v T) *T { return &v }

func codes(fs []domain.Flag) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Code)
	}
	return out
}

func TestAssess(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(in *Input)
		flags []string
	}{
		{"an honest visit has no flag", func(*Input) {}, []string{}},
		{"600 m away is far from a 500 m radius", func(in *Input) { in.Visit.GPS = []domain.GPSStamp{stamp(offset(600, 0), 10)} }, []string{FlagFarFromHome}},
		{"600 m away with a 150 m error circle is given the benefit of doubt", func(in *Input) { in.Visit.GPS = []domain.GPSStamp{stamp(offset(600, 0), 150)} }, []string{}},
		{"the best of several fixes counts", func(in *Input) {
			in.Visit.GPS = []domain.GPSStamp{stamp(offset(3000, 0), 900), stamp(offset(40, 0), 12)}
		}, []string{}},
		{"accuracy worse than 200 m is poor", func(in *Input) { in.Visit.GPS = []domain.GPSStamp{stamp(offset(0, 0), 350)} }, []string{FlagPoorAccuracy}},
		{"no stamps at all", func(in *Input) { in.Visit.GPS = nil }, []string{FlagNoGPS}},
		{"a mock fix is not a position", func(in *Input) {
			s := stamp(home, 5)
			s.Mock = true
			in.Visit.GPS = []domain.GPSStamp{s}
		}, []string{FlagMockLocation, FlagNoGPS}},
		{"mock fix beside a real one still flags mock", func(in *Input) {
			s := stamp(offset(9000, 0), 5)
			s.Mock = true
			in.Visit.GPS = append(in.Visit.GPS, s)
		}, []string{FlagMockLocation}},
		{"unknown home: no distance judgement", func(in *Input) {
			in.Home = nil
			in.Visit.GPS = []domain.GPSStamp{stamp(offset(50_000, 0), 10)}
		}, []string{FlagExifPlaceMismatch}},
		{"five minutes is too short", func(in *Input) { in.Visit.EndedAt = ptr(start.Add(5 * time.Minute)) }, []string{FlagTooShort}},
		{"no end time: duration unknown, not flagged", func(in *Input) { in.Visit.EndedAt = nil }, []string{}},
		{"no photo", func(in *Input) { in.Visit.Photos, in.Photos = nil, nil }, []string{FlagNoPhoto}},
		{"photo listed but not uploaded yet", func(in *Input) { in.Photos[0].Arrived = false }, []string{FlagPhotoMissing}},
		{"photo taken the day before", func(in *Input) { in.Photos[0].TakenAt = ptr(start.Add(-26 * time.Hour)) }, []string{FlagExifTimeMismatch}},
		{"photo taken 90 minutes after the end is the same trip", func(in *Input) { in.Photos[0].TakenAt = ptr(start.Add(130 * time.Minute)) }, []string{}},
		{"photo taken 5 km away", func(in *Input) { in.Photos[0].GPS = ptr(offset(5000, 0)) }, []string{FlagExifPlaceMismatch}},
		{"photo bytes used on another household's visit", func(in *Input) {
			in.Photos[0].OtherVisits, in.Photos[0].OtherHouseholds = []uuid.UUID{uuid.New()}, 1
		}, []string{FlagPhotoReuse}},
		{"30 km in 10 minutes from the previous visit", func(in *Input) {
			in.Previous = &NeighbourVisit{ID: uuid.New(), StartedAt: start.Add(-time.Hour), EndedAt: start.Add(-10 * time.Minute), Position: ptr(offset(30_000, 0))}
		}, []string{FlagImpossibleTravel}},
		{"30 km in an hour is a plausible drive", func(in *Input) {
			in.Previous = &NeighbourVisit{ID: uuid.New(), StartedAt: start.Add(-2 * time.Hour), EndedAt: start.Add(-time.Hour), Position: ptr(offset(30_000, 0))}
		}, []string{}},
		{"next visit 50 km away starting when this one ends", func(in *Input) {
			in.Next = &NeighbourVisit{ID: uuid.New(), StartedAt: *in.Visit.EndedAt, EndedAt: in.Visit.EndedAt.Add(time.Hour), Position: ptr(offset(50_000, 0))}
		}, []string{FlagImpossibleTravel}},
		{"neighbours in the same village never flag travel", func(in *Input) {
			in.Previous = &NeighbourVisit{ID: uuid.New(), StartedAt: start, EndedAt: start, Position: ptr(offset(800, 0))}
		}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := honest()
			tc.edit(&in)
			got := codes(Assess(Defaults(), in))
			if !slices.Equal(got, tc.flags) {
				t.Fatalf("flags = %v, want %v", got, tc.flags)
			}
		})
	}
}

func TestFlagsCarryTheirNumbersAndReasons(t *testing.T) {
	in := honest()
	in.Visit.GPS = []domain.GPSStamp{stamp(offset(800, 0), 10)}
	fs := Assess(Defaults(), in)
	if len(fs) != 1 || fs[0].Code != FlagFarFromHome {
		t.Fatalf("flags = %+v", fs)
	}
	f := fs[0]
	if f.Value < 780 || f.Value > 820 || f.Limit != 500 || f.MessageZH == "" || f.Message == "" {
		t.Fatalf("flag = %+v", f)
	}
	for _, c := range codes(fs) {
		if !FlagCodes.Has(c) {
			t.Fatalf("%s is not in FlagCodes", c)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := Defaults().Validate(); err != nil {
		t.Fatal(err)
	}
	c := Defaults()
	c.HomeRadiusM, c.MaxSpeedKmh = -1, 0
	err := c.Validate()
	for _, field := range []string{"/home_radius_m", "/max_speed_kmh"} {
		if !hasField(err, field) {
			t.Fatalf("error %v does not name %s", err, field)
		}
	}
}

func hasField(err error, field string) bool {
	e, ok := err.(*domain.Error)
	if !ok {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

func TestDistance(t *testing.T) {
	// Beijing Tiananmen to Shanghai People's Square: about 1,067 km.
	d := Distance(domain.GeoPoint{Lat: 39.9087, Lon: 116.3975}, domain.GeoPoint{Lat: 31.2304, Lon: 121.4737})
	if d < 1_060_000 || d > 1_075_000 {
		t.Fatalf("distance = %.0f m", d)
	}
}

// TestFlagCodesAreVisitFlags: the checks' own flags are among the flags a
// visit may carry, with the same labels, so a report, a rule and the
// vocabulary route name each one alike.
func TestFlagCodesAreVisitFlags(t *testing.T) {
	for _, f := range FlagCodes {
		if label, ok := domain.VisitFlags.Label(f.Code); !ok || label != f.Label {
			t.Errorf("%s: domain.VisitFlags has %q (%v), the checks %q", f.Code, label, ok, f.Label)
		}
	}
}
