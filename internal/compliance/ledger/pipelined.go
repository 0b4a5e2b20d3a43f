package ledger

import (
	"errors"
	"sync"
)

// pipelineBatch is how many rows cross to the writing goroutine at a time:
// a channel hand-off per row cost about what a CSV row's encoding does.
const pipelineBatch = 256

// errStopped answers a row given after stop.
var errStopped = errors.New("ledger: table stopped")

// spelledApart is a table whose rows are spelled (its cells made of the
// values) apart from being written: Pipelined spells them on the caller's
// goroutine, leaving the writing one only the writing.
type spelledApart interface {
	cells(values []any) []any
	writeCells(cells []any) error
}

// pipelinedTable writes its rows on a goroutine of its own.
type pipelinedTable struct {
	t        Table
	spell    func(values []any) []any
	write    func(cells []any) error
	batch    [][]any
	batches  chan [][]any
	quit     chan struct{} // closed by stop: queued rows are dropped
	stopped  chan struct{} // closed when the writing goroutine ended
	err      error         // why t refused a row, set before stopped closes
	stopOnce sync.Once
}

// Pipelined is t with its rows written (excelize's SetRow, the CSV
// writer) on a goroutine of its own, so the caller's reading and spelling
// of the next rows (and an XLSX table's typed cells) run on the other
// core: a county's year of visits (B7) goes at the pace of the slower of
// the two rather than of their sum. Row
// keeps values as given: the caller must not change them afterwards. An
// error of t comes back from a later Row or from Close. stop ends the
// goroutine and waits for it, dropping rows not yet written; the caller
// defers it, so nothing writes to the response once its handler has
// returned (after Close it only waits).
func Pipelined(t Table) (Table, func()) {
	p := &pipelinedTable{t: t, batch: make([][]any, 0, pipelineBatch), batches: make(chan [][]any, 4),
		quit: make(chan struct{}), stopped: make(chan struct{}),
		spell: func(values []any) []any { return values }, write: func(values []any) error { return t.Row(values...) }}
	if s, ok := t.(spelledApart); ok {
		p.spell, p.write = s.cells, s.writeCells
	}
	go p.writeAll()
	return p, p.stop
}

func (p *pipelinedTable) writeAll() {
	defer close(p.stopped)
	for {
		select {
		case b, open := <-p.batches:
			if !open {
				return
			}
			for _, cells := range b {
				if p.err = p.write(cells); p.err != nil {
					return
				}
			}
		case <-p.quit:
			return
		}
	}
}

func (p *pipelinedTable) stop() {
	p.stopOnce.Do(func() { close(p.quit) })
	<-p.stopped
}

func (p *pipelinedTable) Row(values ...any) error {
	p.batch = append(p.batch, p.spell(values))
	if len(p.batch) < pipelineBatch {
		return nil
	}
	return p.flush()
}

func (p *pipelinedTable) flush() error {
	select {
	case p.batches <- p.batch:
		p.batch = make([][]any, 0, pipelineBatch)
		return nil
	case <-p.stopped: // before Close: t failed, or stop
		return p.stopError()
	}
}

func (p *pipelinedTable) stopError() error {
	if p.err != nil {
		return p.err
	}
	select {
	case <-p.quit:
		return errStopped
	default:
		return nil
	}
}

// Abort stops the writing goroutine, then releases the table beneath.
func (p *pipelinedTable) Abort() {
	p.stop()
	p.t.Abort()
}

// Close writes the rows still queued, then finishes the file.
func (p *pipelinedTable) Close() error {
	err := p.flush()
	close(p.batches)
	<-p.stopped
	if err != nil {
		return err
	}
	if err := p.stopError(); err != nil {
		return err
	}
	return p.t.Close()
}
