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
	// Values ready and not yet taken, plus 1 for the consumer's own turn
	// until its first Run returns. The Ready call that takes it from 0 to 1
	// starts a goroutine, so at most one consumes at a time.
	pending  atomic.Int64
	attached atomic.Bool

	take  func() bool // set by Run
	ended bool        // take said the stream ended; owned by the consuming goroutine
}

// NewWaker returns a waker whose consumer holds its turn: Ready starts no
// goroutine before Run.
func NewWaker() *Waker {
	w := &Waker{}
	w.pending.Store(1)
	return w
}

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
	if w != nil && w.pending.Add(1) == 1 {
		go w.consume(0)
	}
}

// Run, called once by the consumer, has take called once for every Ready (the values ready now, then,
// from a goroutine, those that come later) until take returns false. It
// returns when nothing is ready. take must receive one value from the
// channel, or return false once it sees the channel closed or its context
// ended; after that, Ready calls only count.
func (w *Waker) Run(take func() bool) {
	w.take = take
	w.consume(1)
}

// consume takes the values ready, besides turns it holds (its own).
func (w *Waker) consume(turns int64) {
	for {
		n := w.pending.Load()
		for i := turns; i < n && !w.ended; i++ {
			if !w.take() {
				w.ended = true
			}
		}
		if w.pending.Add(-n) == 0 {
			return
		}
		turns = 0
	}
}
