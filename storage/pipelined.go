package storage

import "context"

// pipelineBatch is how many rows cross from the reading goroutine to the
// caller's at a time: one channel hand-off per row cost more than the
// row's decoding.
const pipelineBatch = 256

// pipelined runs produce on its own goroutine and hands what it emits to
// consume on the caller's, in batches, so a long scan's decoding (pgx,
// JSON) runs on one core while the caller's writer (CSV, XLSX) runs on the
// other: a 台账's rate nears the slower of the two instead of their
// serial sum (B7). consume sees the values in produce's order, all those
// emitted before an error of produce, which is then returned. An error
// from consume cancels produce's context and is returned once produce has
// stopped; memory is bounded by a few batches.
func pipelined[T any](ctx context.Context, produce func(ctx context.Context, emit func(T) error) error, consume func(T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []T, 4)
	produced := make(chan error, 1)
	go func() {
		defer close(batches)
		send := func(b []T) error {
			select {
			case batches <- b:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		batch := make([]T, 0, pipelineBatch)
		err := produce(ctx, func(v T) error {
			batch = append(batch, v)
			if len(batch) < pipelineBatch {
				return nil
			}
			b := batch
			batch = make([]T, 0, pipelineBatch)
			return send(b)
		})
		if len(batch) > 0 { // what was read before an error too, as without the pipeline
			if sent := send(batch); err == nil {
				err = sent
			}
		}
		produced <- err
	}()
	for b := range batches {
		for _, v := range b {
			if err := consume(v); err != nil {
				cancel()
				for range batches { // let produce see the cancel and stop
				}
				<-produced
				return err
			}
		}
	}
	return <-produced
}
