package server

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
)

// Problem is an RFC 9457 problem detail with fieldvisit's extensions: the
// Chinese title and detail shown to cadres, the offending fields, and the
// request id to quote when calling the help desk.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Instance  string              `json:"instance,omitempty"`
	TitleZH   string              `json:"title_zh"`
	DetailZH  string              `json:"detail_zh,omitempty"`
	Reason    string              `json:"reason,omitempty"`
	Errors    []domain.FieldError `json:"errors,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
}

type problemKind struct {
	status  int
	title   string
	titleZH string
}

// kinds maps each domain code to its HTTP status; this table is the only
// place that decides it.
var kinds = map[domain.Code]problemKind{
	domain.CodeInvalid:      {http.StatusUnprocessableEntity, "Invalid request", "请求内容有误"},
	domain.CodeNotFound:     {http.StatusNotFound, "Not found", "未找到"},
	domain.CodeConflict:     {http.StatusConflict, "Conflict", "数据冲突"},
	domain.CodeForbidden:    {http.StatusForbidden, "Forbidden", "无权操作"},
	domain.CodeUnauthorized: {http.StatusUnauthorized, "Unauthorized", "未登录或登录已失效"},
	domain.CodeRateLimited:  {http.StatusTooManyRequests, "Too many requests", "请求过于频繁"},
	domain.CodeUnavailable:  {http.StatusServiceUnavailable, "Service unavailable", "服务暂时不可用"},
	domain.CodeTooLarge:     {http.StatusRequestEntityTooLarge, "Request too large", "请求内容过大"},
	domain.CodeUnsupported:  {http.StatusUnsupportedMediaType, "Unsupported media type", "不支持的文件类型"},
	codeMalformed:           {http.StatusBadRequest, "Malformed request", "请求格式错误"},
	codeMethod:              {http.StatusMethodNotAllowed, "Method not allowed", "不支持该请求方法"},
	codeTimeout:             {http.StatusRequestTimeout, "Request timeout", "请求超时"},
	domain.CodeInternal:     {http.StatusInternalServerError, "Internal error", "服务器内部错误"},
}

// Transport-only codes, never produced by the domain.
const (
	codeMalformed domain.Code = "malformed"
	codeMethod    domain.Code = "method_not_allowed"
	codeTimeout   domain.Code = "request_timeout" // a body that arrived too slowly (BodyLimits)
)

// ProblemType is the type URI of a problem code.
func ProblemType(code domain.Code) string { return "urn:fieldvisit:problem:" + string(code) }

// writeError answers err as problem+json. Errors that are not domain errors
// are bugs or outages: logged with the request id and answered 500 with a
// generic text, never their raw message. A request whose body was cut for
// arriving too slowly answers 408 whatever err became on its way up (a
// syntax error, a truncated image, a failed blob write), and its
// connection is closed: the rest of the body may still be on the way.
// A refusal caused by a record that stands in the way names it in
// existing_id.
func writeError(c *gin.Context, err error) {
	var existing *domain.ExistingRecord
	if errors.As(err, &existing) {
		writeErrorWith(c, err, "existing_id", existing.ID)
		return
	}
	writeProblem(c, problemOf(c, err))
}

// writeErrorWith is writeError with one extension member added to the
// problem (RFC 9457 §3.2): an import's report beside its field errors.
func writeErrorWith(c *gin.Context, err error, name string, value any) {
	p := problemOf(c, err)
	b, _ := json.Marshal(p)
	var members map[string]json.RawMessage
	_ = json.Unmarshal(b, &members)
	members[name], _ = json.Marshal(value)
	b, _ = json.Marshal(members)
	sendProblem(c, p.Status, b)
}

// problemOf is the problem err is answered with, its headers set.
func problemOf(c *gin.Context, err error) Problem {
	if cut := bodyCut(c); cut != nil {
		err = cut
		c.Header("Connection", "close")
	}
	var de *domain.Error
	if !errors.As(err, &de) || kinds[de.Code] == (problemKind{}) {
		// A foreign error, or a code the table does not know: a bug either
		// way, logged, and answered without its text.
		loggerOf(c).ErrorContext(c.Request.Context(), "unhandled error", "error", err.Error(), "request_id", requestID(c), "path", c.FullPath())
		de = &domain.Error{Code: domain.CodeInternal, Message: "an unexpected error occurred", MessageZH: "服务器出现意外错误，请稍后重试或联系管理员"}
	}
	k := kinds[de.Code]
	if (de.Code == domain.CodeUnavailable || de.Code == domain.CodeInternal) && c.Request.Context().Err() == nil {
		loggerOf(c).WarnContext(c.Request.Context(), "request failed", "code", string(de.Code), "error", de.Error(), "request_id", requestID(c))
	}
	if de.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(de.RetryAfter.Seconds()))))
	} else if de.Code == domain.CodeUnavailable {
		c.Header("Retry-After", "5")
	}
	if de.Code == domain.CodeUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="fieldvisit"`)
	}
	return Problem{Type: ProblemType(de.Code), Title: k.title, TitleZH: k.titleZH, Status: k.status, Detail: de.Message,
		DetailZH: de.MessageZH, Reason: de.Reason, Errors: de.Fields, Instance: c.Request.URL.Path, RequestID: requestID(c)}
}

func writeProblem(c *gin.Context, p Problem) {
	b, _ := json.Marshal(p)
	sendProblem(c, p.Status, b)
}

// sendProblem answers a problem body, or only its status and headers to a
// HEAD request, which gets no body.
func sendProblem(c *gin.Context, status int, body []byte) {
	c.Abort()
	if c.Request.Method == http.MethodHead {
		c.Header("Content-Type", "application/problem+json")
		c.Status(status)
		return
	}
	c.Data(status, "application/problem+json", body)
}

// malformed builds a 400 for bodies that are not JSON of the expected shape.
func malformed(field, reason, msg, msgZH string) *domain.Error {
	return &domain.Error{Code: codeMalformed, Message: msg, MessageZH: msgZH,
		Fields: []domain.FieldError{{Field: field, Reason: reason, Message: msg, MessageZH: msgZH}}}
}
