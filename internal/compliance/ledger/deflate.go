package ledger

import (
	"bytes"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/flate"
)

// deflateBlock is how much of an entry one core compresses at a time: a
// block starts with an empty dictionary, which costs well under 1% of the
// size at this length.
const deflateBlock = 1 << 20

// parallelDeflate is a zip entry's deflate compressor that compresses its
// blocks on every core: excelize zips the sheet only once its last row is
// in, so a county's year of visits (a gigabyte of sheet XML, B7) was
// deflated on one core while the other idled, the last seconds of every
// download. Each block is compressed from an empty dictionary and ends in
// a sync flush (byte-aligned, not final), so the blocks' outputs joined in
// order are one deflate stream; Close ends it with an empty final block.
// The codec is klauspost's; only the cutting and joining is here.
type parallelDeflate struct {
	w       io.Writer
	block   []byte
	results chan chan []byte // blocks in order, each delivering its output
	done    chan struct{}    // closed when the joining goroutine ended
	mu      sync.Mutex
	err     error // the first write error: later blocks are dropped
}

// deflaters are the block compressors, reset for each block.
var deflaters = sync.Pool{New: func() any {
	fw, _ := flate.NewWriter(nil, flate.BestSpeed)
	return fw
}}

// finalBlock is an empty final deflate block, as the codec writes it.
var finalBlock = func() []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestSpeed)
	_ = fw.Close()
	return b.Bytes()
}()

func newParallelDeflate(w io.Writer) io.WriteCloser {
	p := &parallelDeflate{w: w, block: make([]byte, 0, deflateBlock), results: make(chan chan []byte, runtime.GOMAXPROCS(0)), done: make(chan struct{})}
	go p.join()
	return p
}

func (p *parallelDeflate) join() {
	defer close(p.done)
	for r := range p.results {
		out := <-r
		if p.failed() == nil {
			if _, err := p.w.Write(out); err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
			}
		}
	}
}

func (p *parallelDeflate) failed() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Write takes b into blocks; a failed write of an earlier block's output
// (the client went away) is its error, so the rest is not compressed.
func (p *parallelDeflate) Write(b []byte) (int, error) {
	if err := p.failed(); err != nil {
		return 0, err
	}
	n := len(b)
	for len(b) > 0 {
		k := min(len(b), deflateBlock-len(p.block))
		p.block = append(p.block, b[:k]...)
		b = b[k:]
		if len(p.block) == deflateBlock {
			p.send()
		}
	}
	return n, nil
}

// send compresses the block on a goroutine of its own; the results
// channel's capacity bounds the blocks in flight to one per core.
func (p *parallelDeflate) send() {
	block, r := p.block, make(chan []byte, 1)
	p.block = make([]byte, 0, deflateBlock)
	p.results <- r
	go func() {
		var out bytes.Buffer
		out.Grow(len(block) / 4)
		fw := deflaters.Get().(*flate.Writer)
		fw.Reset(&out)
		_, _ = fw.Write(block) // a bytes.Buffer takes every write
		_ = fw.Flush()
		deflaters.Put(fw)
		r <- out.Bytes()
	}()
}

// Close compresses what is left, waits for every block to be written and
// ends the stream.
func (p *parallelDeflate) Close() error {
	if len(p.block) > 0 {
		p.send()
	}
	close(p.results)
	<-p.done
	if err := p.failed(); err != nil {
		return err
	}
	_, err := p.w.Write(finalBlock)
	return err
}
