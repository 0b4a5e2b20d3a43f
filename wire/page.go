package wire

import (
	"encoding/json"
	"strconv"
	"sync"
)

// PageWriter collects a pull page (a PullResponse) in a chain of pooled
// chunks: a page of households is ~1.7 MB and a snapshot several, and one
// buffer regrown (and copied) as it fills was the largest CPU cost of a
// snapshot. Parts (Part) are further writers whose changes follow the
// page's own, in the order handed out; each may be filled by its own
// goroutine. Release hands the chunks back once the page is written.
type PageWriter struct {
	chunks []*[]byte
	n      int
	parts  []*PageWriter
}

// pageChunk is the size a chunk is cut at; a record larger than what is
// left of a chunk still goes in whole (the chunk grows).
const pageChunk = 64 << 10

var pageChunks = sync.Pool{New: func() any { b := make([]byte, 0, pageChunk+pageChunk/4); return &b }}

// Part hands out the emit function of a new part of the page.
func (w *PageWriter) Part() func(PulledChange) error {
	p := &PageWriter{}
	w.parts = append(w.parts, p)
	return p.Emit
}

// Release hands the chunks back, except any a huge record grew, which a
// pool should not keep alive.
func (w *PageWriter) Release() {
	for _, b := range w.chunks {
		if cap(*b) <= 4*pageChunk {
			*b = (*b)[:0]
			pageChunks.Put(b)
		}
	}
	w.chunks = nil
	for _, p := range w.parts {
		p.Release()
	}
}

// tail is the chunk to append to, a fresh one once the last is full.
func (w *PageWriter) tail() *[]byte {
	if len(w.chunks) == 0 || len(*w.chunks[len(w.chunks)-1]) >= pageChunk {
		w.chunks = append(w.chunks, pageChunks.Get().(*[]byte))
	}
	return w.chunks[len(w.chunks)-1]
}

// Emit appends one change. The envelope is spelled out by hand around the
// record's already-encoded data: json.Marshal would re-validate and copy
// every record a second time.
func (w *PageWriter) Emit(ch PulledChange) error {
	page := w.tail()
	buf := *page
	if w.n > 0 {
		buf = append(buf, ',')
	}
	w.n++
	buf = append(buf, `{"entity":`...)
	buf = strconv.AppendQuote(buf, ch.Entity)
	buf = append(buf, `,"op":`...)
	buf = strconv.AppendQuote(buf, ch.Op)
	buf = AppendUUIDField(buf, `,"id":`, ch.ID)
	if ch.HouseholdID != nil {
		buf = AppendUUIDField(buf, `,"household_id":`, *ch.HouseholdID)
	}
	buf = append(buf, `,"version":`...)
	buf = strconv.AppendInt(buf, ch.Version, 10)
	if ch.Record != nil {
		buf = ch.Record.AppendJSON(append(buf, `,"data":`...))
	} else if len(ch.Data) > 0 {
		buf = append(buf, `,"data":`...)
		buf = append(buf, ch.Data...)
	}
	*page = append(buf, '}')
	return nil
}

// Finish closes the page with its cursor and due list and returns the
// whole body, to be written in order without copying it into one buffer:
// the page's own changes, then each part's. size is the body's length.
// The buffers stay the writer's until Release.
func (w *PageWriter) Finish(cursor string, more bool, due []DueItem) (body [][]byte, size int) {
	tail, _ := json.Marshal(struct {
		Cursor  string    `json:"cursor"`
		HasMore bool      `json:"has_more"`
		Due     []DueItem `json:"due,omitempty"`
	}{cursor, more, due})
	head, sep, end := []byte(`{"changes":[`), []byte(","), append([]byte("],"), tail[1:]...)
	body = [][]byte{head}
	size = len(head) + len(end)
	for _, part := range append([]*PageWriter{w}, w.parts...) {
		if part.n == 0 {
			continue
		}
		if len(body) > 1 {
			body = append(body, sep)
			size++
		}
		for _, b := range part.chunks {
			body = append(body, *b)
			size += len(*b)
		}
	}
	return append(body, end), size
}
