package client

import "github.com/fieldvisit/fieldvisit/wire"

// Backlog is what the phone still holds to send. Every push, pull and
// snapshot reports it to the server in the device-report headers
// (wire.HeaderOutboxRecords, …), with Config.AppVersion, so supervisors
// see which phones sit on unsent work (GET /api/v1/devices).
type Backlog struct {
	Records int   // changes not yet acknowledged: the batch in flight and the queued ones
	Photos  int   // photos not yet uploaded
	Bytes   int64 // bytes of both still to go up
}

// Backlog returns the phone's current backlog.
func (c *Client) Backlog() Backlog {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st.backlog()
}

// deviceReport is what the device-report headers of a request say.
func (c *Client) deviceReport() wire.DeviceReport {
	b := c.Backlog()
	return wire.NewDeviceReport(int64(b.Records), int64(b.Photos), b.Bytes, c.cfg.AppVersion)
}

// backlog counts what the state holds to send: the body of the batch in
// flight as it will be resent, and each queued change as its JSON in a
// batch. Photos are not kept by the client yet: the photo outbox adds its
// waiting photos here (Photos, and their file sizes to Bytes).
func (s *state) backlog() Backlog {
	var b Backlog
	if in := s.Inflight; in != nil {
		b.Records += len(in.Changes)
		b.Bytes += int64(len(in.Body))
	}
	for _, p := range s.Outbox {
		b.Records++
		b.Bytes += int64(len(mustJSON(p.Change)) + 1)
	}
	return b
}
