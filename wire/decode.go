package wire

import (
	"bytes"
	"errors"
	"strings"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/fieldvisit/fieldvisit/domain"
)

// DecodeStrict decodes the JSON value b into dst the same way for every
// request body: a member dst does not name, or a name given twice, is
// refused, and an error names the offending value by its JSON pointer
// relative to b ("/gps/1/lat", "" for b itself), which callers prefix with
// where b sits in the request. It uses the v2 decoder because v1 reports a
// nested field as "gps.lat", without the array index, which is not a
// pointer a client can follow. Names match exactly, as the protocol spells
// them.
func DecodeStrict(b []byte, dst any) error {
	err := jsonv2.Unmarshal(b, dst, jsonv2.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	var se *jsonv2.SemanticError
	if errors.As(err, &se) {
		ptr := string(se.JSONPointer)
		switch {
		case errors.Is(se.Err, jsonv2.ErrUnknownName):
			name := ptr[strings.LastIndex(ptr, "/")+1:]
			return domain.Invalid(domain.FieldError{Field: ptr, Reason: "unknown_field",
				Message: "field " + name + " is not accepted here (unknown or server-owned)", MessageZH: "不接受字段" + name + "（未知字段或由服务器维护的字段）"})
		case se.Err == nil && se.GoType != nil:
			return domain.Invalid(domain.FieldError{Field: ptr, Reason: "invalid_type",
				Message: "expected " + jsonTypeName(se.GoType.Kind().String()) + ", got a JSON " + se.JSONKind.String(), MessageZH: "字段类型不正确"})
		default:
			return domain.Invalid(domain.FieldError{Field: ptr, Reason: "invalid_value", Message: "value has the wrong form", MessageZH: "字段值格式不正确"})
		}
	}
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName) {
		return domain.Invalid(domain.FieldError{Field: string(syn.JSONPointer), Reason: "duplicate",
			Message: "a member name is given twice", MessageZH: "同一字段出现了两次"})
	}
	return domain.Invalid(domain.FieldError{Field: "", Reason: "invalid_value", Message: "the value is not valid JSON of the expected shape", MessageZH: "字段值格式不正确"})
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	case "ptr":
		return "a value"
	default:
		return "a number"
	}
}

// DuplicateMember refuses an object that names a member twice at its top
// level, the check DecodeStrict makes, for a body decoded another way (a
// push's envelope, whose changes are decoded one by one so that one bad
// change is refused alone). b must be valid JSON.
func DuplicateMember(b []byte) error {
	d := jsontext.NewDecoder(bytes.NewReader(b), jsontext.AllowDuplicateNames(true))
	if t, err := d.ReadToken(); err != nil || t.Kind() != '{' {
		return nil
	}
	seen := map[string]bool{}
	for d.PeekKind() == '"' {
		name, err := d.ReadToken()
		if err != nil {
			return nil
		}
		if seen[name.String()] {
			return domain.Invalid(domain.FieldError{Field: "/" + name.String(), Reason: "duplicate",
				Message: "a member name is given twice", MessageZH: "同一字段出现了两次"})
		}
		seen[name.String()] = true
		if d.SkipValue() != nil {
			return nil
		}
	}
	return nil
}
