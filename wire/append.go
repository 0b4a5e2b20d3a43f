package wire

import (
	"encoding/hex"
	"math"
	"strconv"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
)

// A fresh phone's first pull encodes tens of thousands of households,
// members and pairings; encoding/json's reflection was the largest part of
// its CPU. These types therefore also append their JSON by hand. The
// output decodes to exactly what json.Marshal gives (append_test.go checks
// that on random values), so clients see no difference.

// JSONAppender appends its JSON encoding to b.
type JSONAppender interface {
	AppendJSON(b []byte) []byte
}

// AppendJSON appends h as JSON.
func (h *Household) AppendJSON(b []byte) []byte {
	b = AppendUUIDField(b, `{"id":`, h.ID)
	b = AppendUUIDField(b, `,"county_id":`, h.CountyID)
	b = AppendUUIDField(b, `,"region_id":`, h.RegionID)
	b = AppendUUIDField(b, `,"village_id":`, h.VillageID)
	b = appendStringField(b, `,"number":`, h.Number)
	b = appendStringField(b, `,"head_name":`, h.HeadName)
	b = appendStringField(b, `,"address":`, h.Address)
	b = appendStringField(b, `,"phone":`, h.Phone)
	b = append(b, `,"home":`...)
	if h.Home == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"lat":`...)
		b = appendFloat(b, h.Home.Lat)
		b = append(b, `,"lon":`...)
		b = appendFloat(b, h.Home.Lon)
		b = append(b, '}')
	}
	b = appendStringField(b, `,"housing_structure":`, h.HousingStructure)
	b = appendStringField(b, `,"housing_safety_grade":`, h.HousingSafetyGrade)
	b = appendFloatPtrField(b, `,"housing_area":`, h.HousingArea)
	b = appendFloatPtrField(b, `,"arable_land":`, h.ArableLand)
	b = appendFloatPtrField(b, `,"annual_income":`, h.AnnualIncome)
	b = appendStringField(b, `,"income_notes":`, h.IncomeNotes)
	b = append(b, `,"causes":`...)
	if h.Causes == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, c := range h.Causes {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, c)
		}
		b = append(b, ']')
	}
	b = appendStringField(b, `,"poverty_type":`, h.PovertyType)
	b = appendStringField(b, `,"poverty_type_label":`, h.PovertyTypeLabel)
	b = appendStringField(b, `,"status":`, h.Status)
	b = appendStringField(b, `,"status_label":`, h.StatusLabel)
	b = appendIntPtrField(b, `,"exit_year":`, h.ExitYear)
	b = appendIntPtrField(b, `,"registered_year":`, h.RegisteredYear)
	if h.DeclaredSize != nil {
		b = appendIntPtrField(b, `,"declared_size":`, h.DeclaredSize)
	}
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, h.Version, 10)
	b = appendTimeField(b, `,"created_at":`, h.CreatedAt)
	b = appendTimeField(b, `,"updated_at":`, h.UpdatedAt)
	return append(b, '}')
}

// AppendJSON appends m as JSON.
func (m *Member) AppendJSON(b []byte) []byte {
	b = AppendUUIDField(b, `{"id":`, m.ID)
	b = AppendUUIDField(b, `,"household_id":`, m.HouseholdID)
	b = appendStringField(b, `,"name":`, m.Name)
	b = appendStringField(b, `,"relation":`, m.Relation)
	b = appendStringField(b, `,"id_number":`, m.IDNumber)
	b = append(b, `,"id_number_masked":`...)
	b = strconv.AppendBool(b, m.IDMasked)
	b = appendStringField(b, `,"gender":`, m.Gender)
	b = appendDatePtrField(b, `,"birth_date":`, m.BirthDate)
	b = appendIntPtrField(b, `,"birth_year":`, m.BirthYear)
	b = appendStringField(b, `,"health":`, m.Health)
	b = appendStringField(b, `,"disability":`, m.Disability)
	b = appendStringField(b, `,"education":`, m.Education)
	b = appendStringField(b, `,"work":`, m.Work)
	b = appendStringField(b, `,"phone":`, m.Phone)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, m.Version, 10)
	return append(b, '}')
}

// AppendJSON appends p as JSON.
func (p *Pairing) AppendJSON(b []byte) []byte {
	b = AppendUUIDField(b, `{"id":`, p.ID)
	b = AppendUUIDField(b, `,"household_id":`, p.HouseholdID)
	b = AppendUUIDField(b, `,"cadre_id":`, p.CadreID)
	b = append(b, `,"start_on":`...)
	b = appendDate(b, p.StartOn)
	b = appendDatePtrField(b, `,"end_on":`, p.EndOn)
	b = appendStringField(b, `,"end_reason":`, p.EndReason)
	b = appendTimeField(b, `,"created_at":`, p.CreatedAt)
	return append(b, '}')
}

// AppendJSON appends p as JSON: its pairing's fields, then the cadre's.
func (p *PairingRecord) AppendJSON(b []byte) []byte {
	b = p.Pairing.AppendJSON(b)
	b = appendStringField(b[:len(b)-1], `,"cadre_name":`, p.CadreName)
	b = appendStringField(b, `,"cadre_phone":`, p.CadrePhone)
	return append(b, '}')
}

// appendString quotes s as encoding/json would decode it back: invalid
// UTF-8 becomes U+FFFD, as json.Marshal also does.
func appendString(b []byte, s string) []byte {
	b, _ = jsontext.AppendQuote(b, s)
	return b
}

func appendStringField(b []byte, key, s string) []byte {
	return appendString(append(b, key...), s)
}

// AppendUUIDField appends key and u as a JSON string.
func AppendUUIDField(b []byte, key string, u uuid.UUID) []byte {
	b = append(b, key...)
	var s [38]byte
	s[0], s[37] = '"', '"'
	hex.Encode(s[1:9], u[0:4])
	s[9] = '-'
	hex.Encode(s[10:14], u[4:6])
	s[14] = '-'
	hex.Encode(s[15:19], u[6:8])
	s[19] = '-'
	hex.Encode(s[20:24], u[8:10])
	s[24] = '-'
	hex.Encode(s[25:37], u[10:16])
	return append(b, s[:]...)
}

// appendFloat spells f as encoding/json does (no exponent between 1e-6
// and 1e21); a value that is not finite, which validation never lets in,
// becomes null rather than invalid JSON.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(b, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64)
}

func appendFloatPtrField(b []byte, key string, f *float64) []byte {
	b = append(b, key...)
	if f == nil {
		return append(b, "null"...)
	}
	return appendFloat(b, *f)
}

func appendIntPtrField(b []byte, key string, n *int) []byte {
	b = append(b, key...)
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, int64(*n), 10)
}

func appendTimeField(b []byte, key string, t time.Time) []byte {
	b = append(append(b, key...), '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

func appendDate(b []byte, d domain.Date) []byte {
	b = append(b, '"')
	b = appendPadded(b, d.Year, 4)
	b = append(b, '-')
	b = appendPadded(b, int(d.Month), 2)
	b = append(b, '-')
	b = appendPadded(b, d.Day, 2)
	return append(b, '"')
}

func appendDatePtrField(b []byte, key string, d *domain.Date) []byte {
	b = append(b, key...)
	if d == nil {
		return append(b, "null"...)
	}
	return appendDate(b, *d)
}

// appendPadded writes n with leading zeros to width digits, as %0*d does.
func appendPadded(b []byte, n, width int) []byte {
	if n < 0 {
		b = append(b, '-')
		n = -n
		width--
	}
	start := len(b)
	b = strconv.AppendInt(b, int64(n), 10)
	for len(b)-start < width {
		b = append(b, 0)
		copy(b[start+1:], b[start:])
		b[start] = '0'
	}
	return b
}

// EncodedRecord is a record already encoded as JSON: a pull page kept for
// a later request holds its records so.
type EncodedRecord []byte

// AppendJSON appends the encoded record.
func (r EncodedRecord) AppendJSON(b []byte) []byte { return append(b, r...) }
