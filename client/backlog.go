package client

import "github.com/fieldvisit/fieldvisit/wire"

// deviceReport is what the device-report headers of a sync request say
// (wire.HeaderOutboxRecords, …): the backlog as Backlog counts it, with
// the bytes still to go up — the records as they will be sent and the
// photos the server does not hold yet — and Config.AppVersion.
func (c *Client) deviceReport() wire.DeviceReport {
	c.mu.Lock()
	b := c.st.backlog()
	bytes := c.st.recordBytes() + b.PhotoBytes
	c.mu.Unlock()
	return wire.NewDeviceReport(int64(b.Records), int64(b.Photos), bytes, c.cfg.AppVersion)
}

// recordBytes is what the records not yet acknowledged take to send: the
// body of the batch in flight as it will be resent, and each queued change
// as its JSON in a batch.
func (s *state) recordBytes() int64 {
	var n int64
	if in := s.Inflight; in != nil {
		n += int64(len(in.Body))
	}
	for _, p := range s.Outbox {
		n += int64(len(mustJSON(p.Change)) + 1)
	}
	return n
}
