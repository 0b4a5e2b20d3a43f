package storage

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/fieldvisit/fieldvisit/domain"
)

// sqlDate stores a domain.Date as ISO text, which PostgreSQL reads into a
// DATE column and SQLite compares in order.
type sqlDate string

func toSQLDate(d domain.Date) sqlDate { return sqlDate(d.String()) }

func toSQLDatePtr(d *domain.Date) *sqlDate {
	if d == nil {
		return nil
	}
	s := toSQLDate(*d)
	return &s
}

func (d sqlDate) date() domain.Date {
	p, _ := domain.ParseDate(string(d)[:min(10, len(d))])
	return p
}

func datePtr(d *sqlDate) *domain.Date {
	if d == nil {
		return nil
	}
	v := d.date()
	return &v
}

// Scan accepts the text SQLite keeps and the time.Time pgx returns for DATE.
func (d *sqlDate) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*d = ""
	case time.Time:
		*d = sqlDate(x.Format("2006-01-02"))
	case string:
		*d = sqlDate(x)
	case []byte:
		*d = sqlDate(x)
	default:
		return fmt.Errorf("cannot scan %T into a date", v)
	}
	return nil
}

// Value implements driver.Valuer.
func (d sqlDate) Value() (driver.Value, error) { return string(d), nil }

// jsonValue stores a Go value as JSON text (jsonb in PostgreSQL).
type jsonValue[T any] struct{ V T }

func (j jsonValue[T]) Value() (driver.Value, error) {
	b, err := json.Marshal(j.V)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func (j *jsonValue[T]) Scan(v any) error {
	var b []byte
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		return errors.New("unsupported JSON column type")
	}
	if p, ok := any(&j.V).(*[]string); ok {
		// Code lists (a household's causes, a visit's measures) are most
		// of the JSON a fresh phone's snapshot decodes; the v2 decoder
		// reads them in less than half the time. Broken UTF-8 is kept
		// as encoding/json would keep it.
		return jsonv2.Unmarshal(b, p, jsontext.AllowInvalidUTF8(true))
	}
	return json.Unmarshal(b, &j.V)
}

// jsonMemo scans a JSON column into *dst, decoding each distinct text once
// per statement (up to jsonMemoSize of them): a county's 台账 repeats the
// same few checklists, measure lists and flags on most of its million
// lines, and decoding them again on every line was a quarter of the
// export's CPU (B7). Lines with the same text share the decoded value, so
// what is scanned through a memo must only be read.
type jsonMemo[T any] struct {
	dst  *T
	seen map[string]T
}

// jsonMemoSize bounds a memo: texts past it are decoded every time, so a
// column of distinct values (photo lists) costs no more than without it.
const jsonMemoSize = 4096

func newJSONMemo[T any](dst *T) *jsonMemo[T] { return &jsonMemo[T]{dst: dst, seen: map[string]T{}} }

func (m *jsonMemo[T]) Scan(v any) error {
	switch x := v.(type) {
	case string:
		if d, ok := m.seen[x]; ok {
			*m.dst = d
			return nil
		}
	case []byte:
		if d, ok := m.seen[string(x)]; ok { // no copy of x to look it up
			*m.dst = d
			return nil
		}
	}
	var j jsonValue[T]
	if err := j.Scan(v); err != nil {
		return err
	}
	*m.dst = j.V
	if len(m.seen) < jsonMemoSize {
		switch x := v.(type) {
		case string:
			m.seen[x] = j.V
		case []byte:
			m.seen[string(x)] = j.V
		}
	}
	return nil
}

func utc(t time.Time) time.Time { return t.UTC() }
