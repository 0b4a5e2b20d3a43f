package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/devicehealth"
	fvsync "github.com/fieldvisit/fieldvisit/sync"
	"github.com/fieldvisit/fieldvisit/wire"
)

// maxPushBody bounds a push batch: 500 visits with notes and GPS tracks.
const maxPushBody = 8 << 20

// push takes a batch from a phone. The body is hashed as the phone made
// it (decoded, when it came gzipped), so the Idempotency-Key binds these
// exact bytes however each attempt travelled; a replay gets the stored
// answer. An acknowledged push, replays included, is recorded in the
// phone's sync health.
func (h *handlers) push(c *gin.Context) {
	arrived := h.Now()
	p := principal(c)
	key := c.GetHeader("Idempotency-Key")
	if err := fvsync.KeyProblem(key); err != nil {
		writeError(c, err)
		return
	}
	body, err := readBody(c, maxPushBody)
	if err != nil {
		writeError(c, err)
		return
	}
	if out, found, err := h.Sync.Replay(c.Request.Context(), p, key, body); err != nil || found {
		if err != nil {
			writeError(c, err)
			return
		}
		// The replayed body's device_time is the first attempt's: only
		// this attempt's X-Device-Time tells the clock now.
		attempt, _ := time.Parse(time.RFC3339Nano, c.GetHeader("X-Device-Time"))
		h.recordSync(c, devicehealth.Sync{Kind: devicehealth.KindPush, ArrivedAt: arrived, DeviceTime: attempt})
		c.Data(http.StatusOK, "application/json", out)
		return
	}
	if ct := c.ContentType(); ct != "application/json" {
		writeError(c, malformed("Content-Type", "unsupported_media_type", "Content-Type must be application/json", "请求内容类型必须是application/json"))
		return
	}
	req, bad, err := decodePush(body)
	if err != nil {
		writeError(c, err)
		return
	}
	// A retried batch carries the device time it was formed with (the body
	// is bound to its key); X-Device-Time, set per attempt, measures the
	// clock now, so a batch that waited hours is not flagged as a bad clock.
	if v := c.GetHeader("X-Device-Time"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(c, domain.Invalid(domain.FieldError{Field: "X-Device-Time", Reason: "invalid_format",
				Message: "X-Device-Time must be an RFC 3339 time", MessageZH: "X-Device-Time格式不正确"}))
			return
		}
		req.DeviceTime = t
	}
	out, err := h.Sync.Push(c.Request.Context(), p, key, body, req, bad)
	if err != nil {
		writeError(c, err)
		return
	}
	h.recordSync(c, devicehealth.Sync{Kind: devicehealth.KindPush, ArrivedAt: arrived, DeviceTime: req.DeviceTime})
	c.Data(http.StatusOK, "application/json", out)
}

// decodePush checks the batch envelope. Each change is decoded on its own:
// one that does not even have the shape of a change is refused alone (its
// errors returned by index), so it never blocks the others.
func decodePush(body []byte) (wire.PushRequest, map[int][]domain.FieldError, error) {
	var req wire.PushRequest
	if len(bytes.TrimSpace(body)) == 0 {
		return req, nil, malformed("body", "required", "request body is empty", "请求内容为空")
	}
	if !utf8.Valid(body) {
		return req, nil, malformed("body", "invalid_utf8", "request body is not valid UTF-8", "请求内容包含无效的字符编码")
	}
	var env struct {
		DeviceID   string            `json:"device_id"`
		DeviceTime json.RawMessage   `json:"device_time"`
		Changes    []json.RawMessage `json:"changes"`
	}
	d := json.NewDecoder(bytes.NewReader(body))
	d.DisallowUnknownFields()
	if err := d.Decode(&env); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) {
			return req, nil, syntaxProblem(err)
		}
		return req, nil, decodeProblem(err)
	}
	if d.More() {
		return req, nil, malformed("body", "trailing_data", "request body has data after the JSON value", "请求内容在JSON之后还有多余数据")
	}
	if err := wire.DuplicateMember(body); err != nil {
		return req, nil, err
	}
	req.DeviceID = env.DeviceID
	if len(env.DeviceTime) > 0 && string(env.DeviceTime) != "null" {
		if err := json.Unmarshal(env.DeviceTime, &req.DeviceTime); err != nil {
			return req, nil, domain.Invalid(domain.FieldError{Field: "/device_time", Reason: "invalid_format",
				Message: "device_time must be an RFC 3339 time with offset", MessageZH: "设备时间格式不正确"})
		}
	}
	req.Changes = make([]wire.Change, len(env.Changes))
	var bad map[int][]domain.FieldError
	for i, raw := range env.Changes {
		if err := wire.DecodeStrict(raw, &req.Changes[i]); err != nil {
			if bad == nil {
				bad = map[int][]domain.FieldError{}
			}
			fe := err.(*domain.Error).Fields[0]
			fe.Field = "/changes/" + strconv.Itoa(i) + fe.Field
			bad[i] = []domain.FieldError{fe}
			req.Changes[i] = salvage(raw)
		}
	}
	return req, bad, nil
}

// salvage is what a change that does not decode still says of itself —
// its entity and id, when they have their form — so that its rejection
// names the record as well as its index.
func salvage(raw json.RawMessage) wire.Change {
	var head struct {
		Entity json.RawMessage `json:"entity"`
		ID     json.RawMessage `json:"id"`
	}
	var ch wire.Change
	if json.Unmarshal(raw, &head) != nil {
		return ch
	}
	var entity string
	if json.Unmarshal(head.Entity, &entity) == nil && len(entity) <= 40 {
		ch.Entity = entity
	}
	_ = json.Unmarshal(head.ID, &ch.ID)
	return ch
}

// pull answers one page of the caller's feed. Each change is encoded as
// it is read into the page (bounded by limit), and the page goes to the
// socket only once the reads are done: a phone on a slow link never holds
// a database connection, and a failed read still gets a problem answer.
func (h *handlers) pull(c *gin.Context) {
	arrived := h.Now()
	q := queryParams{c: c}
	cursor := q.text("cursor", 2000)
	limit := pullLimit(&q)
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	page := &wire.PageWriter{}
	defer page.Release()
	end, err := h.Sync.Pull(c.Request.Context(), principal(c), cursor, limit, page)
	if err != nil {
		writeError(c, err)
		return
	}
	writePage(c, page, end, func() {
		h.recordSync(c, devicehealth.Sync{Kind: devicehealth.KindPull, ArrivedAt: arrived, Lag: end.Lag})
	})
}

// snapshot answers a fresh phone's whole scope and the first page of the
// feed after it, in the shape of a pull page.
func (h *handlers) snapshot(c *gin.Context) {
	arrived := h.Now()
	q := queryParams{c: c}
	limit := pullLimit(&q)
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	page := &wire.PageWriter{}
	defer page.Release()
	end, err := h.Sync.Snapshot(c.Request.Context(), principal(c), limit, page)
	if err != nil {
		writeError(c, err)
		return
	}
	writePage(c, page, end, func() {
		h.recordSync(c, devicehealth.Sync{Kind: devicehealth.KindSnapshot, ArrivedAt: arrived, Lag: end.Lag})
	})
}

// pullLimit reads the limit parameter of a pull (1–2000, default 500).
func pullLimit(q *queryParams) int { return q.intIn("limit", 1, 2000, 500, "每页条数") }

// writePage sends a page collected in pooled chunks as it lies, chunk by
// chunk, with its length known up front, while record keeps the sync's
// health record. The page's last byte waits for the record, so a phone's
// next request still always finds this one recorded, but the record's
// round trip no longer comes before the page (B4 paged: one a page).
func writePage(c *gin.Context, page *wire.PageWriter, end fvsync.PageEnd, record func()) {
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		record()
	}()
	defer func() { <-recorded }()
	body, size := page.Finish(end.Cursor, end.HasMore, end.Due)
	c.Header("Content-Length", strconv.Itoa(size))
	c.Header("Content-Type", "application/json")
	c.Status(http.StatusOK)
	for i, b := range body {
		if i == len(body)-1 && len(b) > 0 {
			if _, err := c.Writer.Write(b[:len(b)-1]); err != nil {
				return // the phone went away; it asks again
			}
			<-recorded
			b = b[len(b)-1:]
		}
		if _, err := c.Writer.Write(b); err != nil {
			return
		}
	}
}

func (h *handlers) listVisits(c *gin.Context) {
	q := queryParams{c: c}
	vq := fvsync.VisitQuery{HouseholdID: q.uuid("household_id"), CadreID: q.uuid("cadre_id"), IncludeDeleted: q.boolean("include_deleted"), Query: q.text("q", 100),
		From: q.date("from"), To: q.date("to"), RegionID: q.uuid("region_id"), Kind: q.text("kind", 40), Flag: q.text("flag", 40)}
	if c.Query("counted") != "" {
		counted := q.boolean("counted")
		vq.Counted = &counted
	}
	pg := q.page()
	vq.Limit, vq.Offset = pg.Limit, pg.Offset
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	items, total, err := h.Sync.Visits(c.Request.Context(), principal(c), vq)
	respondPage(c, items, total, pg, wire.FromVisit, err)
}

func (h *handlers) getVisit(c *gin.Context) {
	respondOne(c, "visit", h.Sync.Visit, wire.FromVisit)
}

func (h *handlers) listConflicts(c *gin.Context) {
	q := queryParams{c: c}
	cq := fvsync.ConflictQuery{HouseholdID: q.uuid("household_id")}
	if v := c.Query("open"); v != "" {
		b := q.boolean("open")
		cq.Open = &b
	}
	pg := q.page()
	cq.Limit, cq.Offset = pg.Limit, pg.Offset
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	items, total, err := h.Sync.Conflicts(c.Request.Context(), principal(c), cq)
	respondPage(c, items, total, pg, func(x wire.Conflict) wire.Conflict { return x }, err)
}

func (h *handlers) resolveConflict(c *gin.Context) {
	id, err := pathID(c, "id", "conflict")
	if err != nil {
		writeError(c, err)
		return
	}
	var in wire.ConflictResolution
	if err := bindJSON(c, &in); err != nil {
		writeError(c, err)
		return
	}
	out, err := h.Sync.ResolveConflict(c.Request.Context(), principal(c), id, in.Resolution)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}
