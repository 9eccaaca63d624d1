package realtime

import (
	"context"
	"sync/atomic"
)

// A Waker lets the consumer of a stream's channel (the WebSocket
// transport, running a subscription) hold no goroutine while the channel
// is empty. The producer (the stream that fills the channel) says when a
// value is ready; the consumer then receives exactly that many values, each
// without blocking, from a goroutine started for them, which ends when
// they are taken.
//
// The consumer creates the waker and puts it in the subscription's context
// (WithWaker). A producer that supports it calls Attach when it creates
// the channel it returns to the consumer as is, then Ready after each value
// it sends on that channel and once after closing it. A producer that does
// not attach is read by the consumer as before, with a goroutine blocked
// on the channel.
type Waker struct {
	ready    atomic.Int64 // values ready and not yet taken
	attached atomic.Bool
	running  atomic.Bool // Run was called: Ready wakes the worker
	worker   *Worker     // set by Run
	take     func() bool // set by Run
}

// NewWaker returns a waker; Ready calls before Run only count.
func NewWaker() *Waker { return &Waker{} }

type wakerKey struct{}

// WithWaker returns ctx carrying w for the producer.
func WithWaker(ctx context.Context, w *Waker) context.Context {
	return context.WithValue(ctx, wakerKey{}, w)
}

// WakerFrom returns the waker in ctx, or nil (whose methods do nothing).
func WakerFrom(ctx context.Context) *Waker {
	w, _ := ctx.Value(wakerKey{}).(*Waker)
	return w
}

// Attach tells the consumer that the producer will call Ready.
func (w *Waker) Attach() {
	if w != nil {
		w.attached.Store(true)
	}
}

// Attached reports whether the producer called Attach.
func (w *Waker) Attached() bool { return w != nil && w.attached.Load() }

// Ready says that one value was sent on the channel, or that it was
// closed, or that the consumer's context ended: each makes one receive
// that does not block.
func (w *Waker) Ready() {
	if w == nil {
		return
	}
	w.ready.Add(1)
	if w.running.Load() {
		w.worker.Wake()
	}
}

// Run, called once by the consumer, has take called from a goroutine once
// for every Ready, before Run and after, until take returns false; it
// does not wait for them. take must receive one value from the channel,
// or return false once it sees the channel closed or its context ended;
// after that, Ready calls only count.
func (w *Waker) Run(take func() bool) {
	w.take = take
	w.worker = NewWorker(w.takeReady)
	w.running.Store(true)
	w.worker.Wake() // for the values ready before
}

// takeReady takes the values ready; false once take said the stream ended.
// The worker runs it one call at a time.
func (w *Waker) takeReady() bool {
	for w.ready.Load() > 0 {
		w.ready.Add(-1)
		if !w.take() {
			return false
		}
	}
	return true
}
