package server

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/wire"
)

// pathID parses a UUID path parameter; a malformed one is a 404, the same
// answer an unknown or out-of-scope id gets, so probing reveals nothing.
func pathID(c *gin.Context, name, what string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil || len(c.Param(name)) != 36 {
		return uuid.Nil, domain.NotFound(what)
	}
	return id, nil
}

// queryParams collects query-string problems so one answer names them all.
type queryParams struct {
	c  *gin.Context
	fe domain.FieldErrors
}

func (q *queryParams) uuid(name string) *uuid.UUID {
	v := q.c.Query(name)
	if v == "" {
		return nil
	}
	id, err := uuid.Parse(v)
	if err != nil || len(v) != 36 {
		q.fe.Add(name, "invalid_format", name+" must be a UUID", name+"应为UUID格式")
		return nil
	}
	return &id
}

// requiredUUID is uuid for a parameter the route cannot do without.
func (q *queryParams) requiredUUID(name, labelZH string) uuid.UUID {
	if q.c.Query(name) == "" {
		q.fe.Required(name, labelZH)
		return uuid.Nil
	}
	if id := q.uuid(name); id != nil {
		return *id
	}
	return uuid.Nil
}

// year reads a calendar year, def when absent.
func (q *queryParams) year(name string, def int) int {
	v := q.c.Query(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		q.fe.Add(name, "invalid_format", name+" must be a number", "年份应为数字")
	}
	return n
}

func (q *queryParams) text(name string, max int) string {
	v := q.c.Query(name)
	if reason, msg, msgZH, ok := domain.TextProblem(v, max); !ok {
		q.fe.Add(name, reason, msg, msgZH)
		return ""
	}
	return v
}

func (q *queryParams) boolean(name string) bool {
	v := q.c.Query(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		q.fe.Add(name, "invalid_format", name+" must be true or false", name+"应为true或false")
	}
	return b
}

func (q *queryParams) date(name string) *domain.Date {
	v := q.c.Query(name)
	if v == "" {
		return nil
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		q.fe.Add(name, "invalid_format", name+" must be a date YYYY-MM-DD", name+"应为YYYY-MM-DD格式的日期")
		return nil
	}
	return &d
}

// intIn reads a whole number from lo to hi, def when absent: not a
// number is invalid_format, a number outside out_of_range.
func (q *queryParams) intIn(name string, lo, hi, def int, labelZH string) int {
	v := q.c.Query(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		q.fe.Add(name, "invalid_format", name+" must be a whole number", labelZH+"应为整数")
	case n < lo || n > hi:
		q.fe.Add(name, "out_of_range", fmt.Sprintf("%s must be %d to %d", name, lo, hi), fmt.Sprintf("%s应为%d至%d", labelZH, lo, hi))
	default:
		return n
	}
	return def
}

// page reads limit (1–200, default 50) and offset (0–1,000,000).
func (q *queryParams) page() registry.Page {
	return registry.Page{Limit: q.intIn("limit", 1, 200, 50, "每页条数"), Offset: q.intIn("offset", 0, 1_000_000, 0, "偏移量")}
}

func (q *queryParams) err() error { return q.fe.Err() }

// respondPage answers a listing: the page of items in their wire form, or
// the error.
func respondPage[T, O any](c *gin.Context, items []T, total int64, pg registry.Page, conv func(T) O, err error) {
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.Page[O]{Items: wire.Map(items, conv), Total: total, Limit: pg.Limit, Offset: pg.Offset})
}

// respondOne answers a read of the object named by the "id" path parameter.
func respondOne[T, O any](c *gin.Context, what string, fetch func(context.Context, domain.Principal, uuid.UUID) (T, error), conv func(T) O) {
	id, err := pathID(c, "id", what)
	if err == nil {
		var v T
		if v, err = fetch(c.Request.Context(), principal(c), id); err == nil {
			c.JSON(http.StatusOK, conv(v))
			return
		}
	}
	writeError(c, err)
}
