package domain

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Code classifies a failure so that transports can map it without knowing
// where it came from.
type Code string

const (
	CodeInvalid      Code = "invalid"                // the input breaks a rule; Fields say which
	CodeNotFound     Code = "not_found"              // absent, or present but outside the caller's scope
	CodeConflict     Code = "conflict"               // state changed underneath, or a duplicate
	CodeForbidden    Code = "forbidden"              // the caller's role may not do this at all
	CodeUnauthorized Code = "unauthorized"           // no valid credentials
	CodeRateLimited  Code = "rate_limited"           // too many attempts; RetryAfter says when
	CodeUnavailable  Code = "unavailable"            // a dependency is down; RetryAfter says when
	CodeTooLarge     Code = "too_large"              // body or batch over the limit
	CodeUnsupported  Code = "unsupported_media_type" // the body is not of a type the route takes
	CodeInternal     Code = "internal"               // a bug or an unexpected fault; never shown raw
)

// FieldError names one offending field. Field is a JSON-pointer-like path into
// the request ("/members/2/id_number") or, for imports, "row 5, 身份证号".
type FieldError struct {
	Field     string `json:"field"`
	Reason    string `json:"reason"`     // machine-readable: required, invalid_format, out_of_range, unknown, …
	Message   string `json:"message"`    // English
	MessageZH string `json:"message_zh"` // 中文, shown to cadres and supervisors
}

// Error is the single error type the domain returns. Unknown errors that are
// not *Error are treated as CodeInternal by transports.
type Error struct {
	Code       Code
	Reason     string // finer than Code where callers branch on it: duplicate, stale_version
	Message    string
	MessageZH  string
	Fields     []FieldError
	RetryAfter time.Duration
	Err        error // cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorCode returns the Code of err, CodeInternal for foreign errors and ""
// for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var de *Error
	if errors.As(err, &de) {
		return de.Code
	}
	return CodeInternal
}

// IsCode reports whether err carries code.
func IsCode(err error, code Code) bool { return ErrorCode(err) == code }

// Invalid builds a validation error from the collected field errors.
func Invalid(fields ...FieldError) *Error {
	return &Error{Code: CodeInvalid, Message: "the request has invalid fields", MessageZH: "请求中有字段不符合要求", Fields: fields}
}

// NotFound says an object is absent. Objects outside the caller's scope are
// reported the same way so that their existence is not revealed.
func NotFound(what string) *Error {
	return &Error{Code: CodeNotFound, Message: what + " not found", MessageZH: "未找到该" + zhNoun(what)}
}

// Conflict reports a duplicate or a lost race.
func Conflict(msg, msgZH string) *Error {
	return &Error{Code: CodeConflict, Message: msg, MessageZH: msgZH}
}

// ReasonLostRace marks a conflict the database raised to settle a race
// between transactions (a serialisation failure or a deadlock). Nothing is
// wrong with the request: once its transaction is rolled back, the same
// request again goes through.
const ReasonLostRace = "serialization"

// LostRace reports that the database failed a statement to settle a race
// with another transaction; sent again in a moment, the request goes through.
func LostRace(cause error) *Error {
	return &Error{Code: CodeConflict, Reason: ReasonLostRace, Message: "concurrent update, retry", MessageZH: "数据正被同时修改，请重试",
		RetryAfter: time.Second, Err: cause}
}

// IsLostRace reports whether err is a race the database settled by failing
// a statement of this transaction. Nothing is wrong with the request, so it
// must never be answered as refused: roll the transaction back and run it
// again (or let the caller do so).
func IsLostRace(err error) bool { return IsCode(err, CodeConflict) && Reason(err) == ReasonLostRace }

// Reason returns the Reason of a domain error ("" otherwise).
func Reason(err error) string {
	var de *Error
	if errors.As(err, &de) {
		return de.Reason
	}
	return ""
}

// Stale reports that a versioned object changed since the caller read it.
func Stale(what, whatZH string) *Error {
	return &Error{Code: CodeConflict, Reason: "stale_version", Message: "the " + what + " was changed by someone else; reload and retry", MessageZH: "该" + whatZH + "已被他人修改，请刷新后重试"}
}

// Forbidden reports that the caller's role may not perform the action.
func Forbidden() *Error {
	return &Error{Code: CodeForbidden, Message: "your role may not do this", MessageZH: "当前角色无权执行此操作"}
}

// Unauthorized reports missing or bad credentials.
func Unauthorized(msg string) *Error {
	return &Error{Code: CodeUnauthorized, Message: msg, MessageZH: "身份验证失败，请重新登录"}
}

// Unavailable wraps a dependency outage.
func Unavailable(what string, retry time.Duration, cause error) *Error {
	return &Error{Code: CodeUnavailable, Message: what + " is unavailable", MessageZH: "服务暂时不可用，请稍后重试", RetryAfter: retry, Err: cause}
}

func zhNoun(what string) string {
	if zh, ok := nounZH[what]; ok {
		return zh
	}
	return "对象"
}

var nounZH = map[string]string{
	"region": "行政区划", "household": "农户", "member": "家庭成员", "unit": "帮扶单位",
	"user": "用户", "pairing": "结对关系", "device": "设备", "assignment": "驻点安排", "duty": "职责",
	"cadre": "帮扶干部",
}

// FieldErrors collects field errors while validating.
type FieldErrors []FieldError

// MaxFieldErrors bounds the errors one validation names. A body of a
// megabyte holds a quarter of a million bad array entries (causes, a
// visit's measures, a finding's choices); naming each answered some 50 MB
// for one request and held it all in memory. Past the bound one more entry,
// reason ReasonTooManyErrors, names the next wrong field and says the rest
// were left out.
const MaxFieldErrors = 100

// ReasonTooManyErrors marks the entry that ends a list cut at MaxFieldErrors.
const ReasonTooManyErrors = "too_many_errors"

// Add appends a field error, up to MaxFieldErrors of them.
func (fe *FieldErrors) Add(field, reason, msg, msgZH string) {
	switch n := len(*fe); {
	case n < MaxFieldErrors:
		*fe = append(*fe, FieldError{Field: field, Reason: reason, Message: msg, MessageZH: msgZH})
	case n == MaxFieldErrors:
		*fe = append(*fe, FieldError{Field: field, Reason: ReasonTooManyErrors,
			Message:   "more fields are wrong than the " + strconv.Itoa(MaxFieldErrors) + " listed; correct these and send again",
			MessageZH: "错误过多，只列出了前" + strconv.Itoa(MaxFieldErrors) + "项，请修正后重新提交"})
	}
}

// Required records a missing required field.
func (fe *FieldErrors) Required(field, labelZH string) {
	fe.Add(field, "required", field+" is required", labelZH+"不能为空")
}

// Err returns nil when nothing was collected, else an Invalid error.
func (fe FieldErrors) Err() error {
	if len(fe) == 0 {
		return nil
	}
	return Invalid(fe...)
}

// ExistingRecord, as an Error's cause, names the record that stands in the
// way of a refused write (a finding's rectification item not closed): the
// API answers its id in the problem's existing_id, so a client that retries
// after a lost answer can find what the first request made.
type ExistingRecord struct{ ID uuid.UUID }

func (e *ExistingRecord) Error() string { return "the existing record is " + e.ID.String() }

// Renamed returns err with its invalid fields at from named to instead:
// a service that checks a value under another service's name answers with
// the field its own caller sent. Other errors pass unchanged.
func Renamed(err error, from, to string) error {
	var de *Error
	if errors.As(err, &de) && de.Code == CodeInvalid {
		for i, f := range de.Fields {
			if f.Field == from {
				de.Fields[i].Field = to
			}
		}
	}
	return err
}
