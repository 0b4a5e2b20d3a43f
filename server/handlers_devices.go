package server

import (
	"context"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/fieldvisit/fieldvisit/domain"
	"github.com/fieldvisit/fieldvisit/internal/devicehealth"
	"github.com/fieldvisit/fieldvisit/internal/registry"
	"github.com/fieldvisit/fieldvisit/wire"
)

// recordWait bounds how long a sync waits for its health record: the sync
// is done and answered whatever happens to the record.
const recordWait = 2 * time.Second

// recordSync keeps what an acknowledged sync request showed of the
// caller's phone. Nothing here fails the sync: a malformed device-report
// header is logged and left out, and so is a record that cannot be written.
// It runs before the answer is written, so a phone's next request always
// finds this one recorded; it outlives a phone that hangs up meanwhile.
func (h *handlers) recordSync(c *gin.Context, s devicehealth.Sync) {
	if h.DeviceHealth == nil {
		return
	}
	report, problems := wire.ReadDeviceReport(c.Request.Header)
	for _, pr := range problems {
		h.Log.Warn("device report header ignored", "header", pr.Header, "reason", pr.Reason, "request_id", requestID(c))
	}
	s.Report = report
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), recordWait)
	defer cancel()
	if err := h.DeviceHealth.Record(ctx, principal(c), s); err != nil {
		h.Log.Warn("device health not recorded", "error", err.Error(), "kind", s.Kind, "request_id", requestID(c))
	}
}

// listDeviceHealth answers GET /api/v1/devices: the sync health of the
// phones in the caller's region, the most stale first.
func (h *handlers) listDeviceHealth(c *gin.Context) {
	if h.DeviceHealth == nil {
		writeError(c, domain.NotFound("route"))
		return
	}
	q := queryParams{c: c}
	dq := devicehealth.Query{RegionID: q.uuid("region_id")}
	if v := c.Query("stale_days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			q.fe.Add("stale_days", "invalid_format", "stale_days must be a whole number of days", "未同步天数应为整数")
		} else {
			dq.StaleDays = &n
		}
	}
	pg := q.page()
	dq.Limit, dq.Offset = pg.Limit, pg.Offset
	if err := q.err(); err != nil {
		writeError(c, err)
		return
	}
	items, total, err := h.DeviceHealth.Devices(c.Request.Context(), principal(c), dq)
	respondPage(c, items, total, registry.Page{Limit: dq.Limit, Offset: dq.Offset}, fromDeviceHealth, err)
}

func fromDeviceHealth(d devicehealth.Device) wire.DeviceHealth {
	out := wire.DeviceHealth{ID: d.ID, DeviceID: d.DeviceID, Name: d.Name,
		User:   wire.UserRef{ID: d.UserID, Username: d.Username, DisplayName: d.DisplayName, Role: d.Role},
		Region: wire.RegionRef{ID: d.RegionID, Name: d.RegionName}, FirstSeen: d.FirstSeen, LastSeen: d.LastSeen,
		LastSyncAt: d.LastSyncAt, LastPushAt: d.LastPushAt, LastPullAt: d.LastPullAt, CursorLag: d.Lag,
		ClockOffsetMS: d.ClockOffsetMS, RevokedAt: d.RevokedAt}
	if b := d.Backlog; b != nil {
		out.Backlog = &wire.OutboxBacklog{Records: b.Records, Photos: b.Photos, Bytes: b.Bytes, ReportedAt: b.ReportedAt}
	}
	if d.AppVersion != "" {
		v := d.AppVersion
		out.AppVersion = &v
	}
	return out
}
