package wire

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// The device-report headers are telemetry: each value is kept when it is
// well-formed and left out (and named) when it is not, without touching
// the others.
func TestReadDeviceReport(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	cases := []struct {
		name     string
		header   http.Header
		want     DeviceReport
		problems []HeaderProblem
	}{
		{"nothing sent", http.Header{}, DeviceReport{}, nil},
		{"all well-formed", http.Header{"X-Outbox-Records": {"12"}, "X-Outbox-Photos": {"3"}, "X-Outbox-Bytes": {"987654"}, "X-App-Version": {"2.4.1 (412)"}},
			NewDeviceReport(12, 3, 987654, "2.4.1 (412)"), nil},
		{"spaces around values are trimmed", http.Header{"X-Outbox-Records": {" 7 "}, "X-App-Version": {"  1.0  "}},
			DeviceReport{OutboxRecords: n(7), AppVersion: "1.0"}, nil},
		{"zero is a count", http.Header{"X-Outbox-Photos": {"0"}}, DeviceReport{OutboxPhotos: n(0)}, nil},
		{"18 digits fit", http.Header{"X-Outbox-Bytes": {"999999999999999999"}}, DeviceReport{OutboxBytes: n(999999999999999999)}, nil},
		{"19 digits do not", http.Header{"X-Outbox-Bytes": {"1000000000000000000"}, "X-Outbox-Records": {"1"}},
			DeviceReport{OutboxRecords: n(1)}, []HeaderProblem{{HeaderOutboxBytes, "not_a_count"}}},
		{"negative", http.Header{"X-Outbox-Records": {"-1"}}, DeviceReport{}, []HeaderProblem{{HeaderOutboxRecords, "not_a_count"}}},
		{"signed", http.Header{"X-Outbox-Records": {"+5"}}, DeviceReport{}, []HeaderProblem{{HeaderOutboxRecords, "not_a_count"}}},
		{"words", http.Header{"X-Outbox-Photos": {"two"}}, DeviceReport{}, []HeaderProblem{{HeaderOutboxPhotos, "not_a_count"}}},
		{"empty", http.Header{"X-Outbox-Photos": {""}}, DeviceReport{}, []HeaderProblem{{HeaderOutboxPhotos, "not_a_count"}}},
		{"comma-joined", http.Header{"X-Outbox-Records": {"3, 4"}}, DeviceReport{}, []HeaderProblem{{HeaderOutboxRecords, "not_a_count"}}},
		{"sent twice", http.Header{"X-Outbox-Records": {"3", "4"}, "X-Outbox-Photos": {"1"}},
			DeviceReport{OutboxPhotos: n(1)}, []HeaderProblem{{HeaderOutboxRecords, "repeated"}}},
		{"version of 64 characters", http.Header{"X-App-Version": {strings.Repeat("v", 64)}}, DeviceReport{AppVersion: strings.Repeat("v", 64)}, nil},
		{"version of 65 characters", http.Header{"X-App-Version": {strings.Repeat("v", 65)}}, DeviceReport{}, []HeaderProblem{{HeaderAppVersion, "too_long"}}},
		{"version not ASCII", http.Header{"X-App-Version": {"版本2.0"}}, DeviceReport{}, []HeaderProblem{{HeaderAppVersion, "not_printable"}}},
		{"version with a control character", http.Header{"X-App-Version": {"1.0\x7f"}}, DeviceReport{}, []HeaderProblem{{HeaderAppVersion, "not_printable"}}},
		{"version of spaces only", http.Header{"X-App-Version": {"   "}}, DeviceReport{}, []HeaderProblem{{HeaderAppVersion, "not_printable"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, problems := ReadDeviceReport(c.header)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("report %s, want %s", describe(got), describe(c.want))
			}
			if !reflect.DeepEqual(problems, c.problems) {
				t.Errorf("problems %v, want %v", problems, c.problems)
			}
		})
	}
}

// What a phone writes is what the server reads back.
func TestDeviceReportRoundTrip(t *testing.T) {
	for _, r := range []DeviceReport{NewDeviceReport(0, 0, 0, ""), NewDeviceReport(500, 40, 12_000_000, "fieldvisit-android/3.2.0"), {}} {
		h := http.Header{}
		r.SetHeaders(h)
		got, problems := ReadDeviceReport(h)
		if !reflect.DeepEqual(got, r) || problems != nil {
			t.Errorf("sent %s, read %s (problems %v)", describe(r), describe(got), problems)
		}
	}
}

// describe spells a report as the headers it is sent as.
func describe(r DeviceReport) string {
	h := http.Header{}
	r.SetHeaders(h)
	var b strings.Builder
	_ = h.Write(&b)
	return "{" + strings.ReplaceAll(strings.TrimSpace(b.String()), "\r\n", "; ") + "}"
}
