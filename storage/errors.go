package storage

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fieldvisit/fieldvisit/domain"
)

// translate turns driver errors into domain errors so callers never see
// pgx or SQLite types: unique and foreign-key violations become conflicts and
// invalid references, serialisation failures and deadlocks lost races
// (conflicts a caller can tell from duplicates), lost connections become
// "unavailable" with a retry hint.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err
	}
	if isNotFound(err) {
		return domain.NotFound(what)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return domain.Unavailable("database", 2*time.Second, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505":
			return &domain.Error{Code: domain.CodeConflict, Reason: "duplicate", Message: what + " already exists", MessageZH: "记录已存在", Err: err}
		case pgErr.Code == "23503":
			return &domain.Error{Code: domain.CodeInvalid, Message: "a referenced object does not exist", MessageZH: "引用的对象不存在", Err: err}
		case pgErr.Code == "40001" || pgErr.Code == "40P01":
			return domain.LostRace(err)
		case strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "53300":
			return domain.Unavailable("database", 2*time.Second, err)
		}
		return err
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connErr) || strings.Contains(err.Error(), "driver: bad connection") ||
		strings.Contains(err.Error(), "conn closed") {
		return domain.Unavailable("database", 2*time.Second, err)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UNIQUE constraint failed"):
		return &domain.Error{Code: domain.CodeConflict, Reason: "duplicate", Message: what + " already exists", MessageZH: "记录已存在", Err: err}
	case strings.Contains(msg, "FOREIGN KEY constraint failed"):
		return &domain.Error{Code: domain.CodeInvalid, Message: "a referenced object does not exist", MessageZH: "引用的对象不存在", Err: err}
	case strings.Contains(msg, "database is locked") || strings.Contains(msg, "SQLITE_BUSY"):
		return domain.Unavailable("database", time.Second, err)
	}
	return err
}
