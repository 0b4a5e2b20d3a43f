package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/wire"
)

// maxJSONBody bounds every JSON request body; uploads have their own limits.
const maxJSONBody = 1 << 20

// bindJSON reads the body strictly into dst: it must be valid UTF-8 (the
// standard decoder would silently replace bad bytes), hold no NUL or control
// characters in any string, name no unknown field (so server-owned fields
// cannot be mass-assigned), and be one JSON value.
func bindJSON(c *gin.Context, dst any) error {
	if err := jsonContentType(c); err != nil {
		return err
	}
	body, err := readBody(c, maxJSONBody)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return malformed("body", "required", "request body is empty", "请求内容为空")
	}
	return decodeBody(body, dst)
}

// jsonContentType refuses a body declared as anything but JSON (none
// declared is taken as JSON).
func jsonContentType(c *gin.Context) error {
	if ct := c.ContentType(); ct != "application/json" && ct != "" {
		return &domain.Error{Code: codeMalformed, Message: "Content-Type must be application/json", MessageZH: "请求内容类型必须是application/json",
			Fields: []domain.FieldError{{Field: "Content-Type", Reason: "unsupported_media_type", Message: "expected application/json", MessageZH: "应为application/json"}}}
	}
	return nil
}

// decodeBody is bindJSON's strict reading of a body already read.
func decodeBody(body []byte, dst any) error {
	if !utf8.Valid(body) {
		return malformed("body", "invalid_utf8", "request body is not valid UTF-8", "请求内容包含无效的字符编码")
	}
	var generic any
	gd := json.NewDecoder(bytes.NewReader(body))
	gd.UseNumber()
	if err := gd.Decode(&generic); err != nil {
		return syntaxProblem(err)
	}
	if gd.More() {
		return malformed("body", "trailing_data", "request body has data after the JSON value", "请求内容在JSON之后还有多余数据")
	}
	if ptr, ok := findControlChar(generic, ""); ok {
		return domain.Invalid(domain.FieldError{Field: ptr, Reason: "control_character", Message: "text contains a NUL or control character", MessageZH: "包含不可见控制字符"})
	}
	return bodyPointers(wire.DecodeStrict(body, dst))
}

// bodyPointers names a problem with the body as a whole "/", as the
// problems of every route do.
func bodyPointers(err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		for i := range de.Fields {
			if de.Fields[i].Field == "" {
				de.Fields[i].Field = "/"
			}
		}
	}
	return err
}

// bodyReadError explains a body that could not be read: too large, or cut
// off (the client's connection dropped; it will retry).
func bodyReadError(err error, limit int64) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &domain.Error{Code: domain.CodeTooLarge, Message: fmt.Sprintf("body is larger than %d bytes", limit), MessageZH: "请求内容超过大小限制",
			Fields: []domain.FieldError{{Field: "body", Reason: "too_large", Message: "body too large", MessageZH: "请求内容过大"}}}
	}
	return malformed("body", "unreadable", "the request body could not be read", "请求内容读取失败，请重试")
}

func syntaxProblem(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return malformed("body", "malformed_json", fmt.Sprintf("malformed JSON at byte %d", se.Offset), fmt.Sprintf("JSON格式错误（第%d字节）", se.Offset))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return malformed("body", "malformed_json", "JSON ends unexpectedly", "JSON内容不完整")
	}
	return malformed("body", "malformed_json", "request body is not valid JSON", "请求内容不是有效的JSON")
}

func decodeProblem(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		ptr := "/" + strings.ReplaceAll(te.Field, ".", "/")
		if te.Field == "" {
			ptr = "/"
		}
		return domain.Invalid(domain.FieldError{Field: ptr, Reason: "invalid_type", Message: "expected " + jsonTypeName(te.Type.Kind().String()) + ", got " + te.Value,
			MessageZH: "字段类型不正确"})
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		name := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return domain.Invalid(domain.FieldError{Field: "/" + name, Reason: "unknown_field", Message: "field " + strconv.Quote(name) + " is not accepted here (unknown or server-owned)",
			MessageZH: "不接受字段" + name + "（未知字段或由服务器维护的字段）"})
	}
	// Values the target type rejects itself (dates, UUIDs) arrive here; the
	// decoder's own text names Go types, not the client's fields.
	return domain.Invalid(domain.FieldError{Field: "/", Reason: "invalid_value", Message: "a value has the wrong form", MessageZH: "字段值格式不正确"})
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
	default:
		return "a number"
	}
}

// findControlChar walks decoded JSON and returns the JSON pointer of the
// first string (value or key) holding a NUL or other control character.
func findControlChar(v any, ptr string) (string, bool) {
	switch x := v.(type) {
	case string:
		if hasControl(x) {
			return ptr, true
		}
	case []any:
		for i, e := range x {
			if p, ok := findControlChar(e, ptr+"/"+strconv.Itoa(i)); ok {
				return p, true
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := ptr + "/" + strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
			if hasControl(k) {
				return p, true
			}
			if p2, ok := findControlChar(x[k], p); ok {
				return p2, true
			}
		}
	}
	return "", false
}

func hasControl(s string) bool {
	for _, r := range s {
		if r == 0 || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f {
			return true
		}
	}
	return false
}

// noBody guards an action route that takes no body (approve, close, end,
// complete, revoke): it may come with none or with {}, but a field is
// refused as on every other route (422 unknown_field, nothing done). It
// was read by no one, so {"item_ids": [...]} sent to approve a batch's
// chosen items approved every pending item of it.
func noBody(c *gin.Context) {
	body, err := readBody(c, maxJSONBody)
	if err == nil && len(bytes.TrimSpace(body)) > 0 {
		if err = jsonContentType(c); err == nil {
			var none struct{}
			err = decodeBody(body, &none)
		}
	}
	if err != nil {
		writeError(c, err)
		c.Abort()
		return
	}
	c.Next()
}
