package realtime

import (
	"context"
	"errors"
)

// Source describes one subscriber's stream for Stream: the topic it
// follows, how it replays from the database, and how it turns live events
// into values.
type Source[T any] struct {
	Broker Broker
	// Topic is derived from the subscriber's viewer (CompanyTopic,
	// ConversationTopic).
	Topic   Topic
	Options []SubscribeOption

	// Replay sends, with send, what the database holds past the stream's
	// cursor (kept by the caller's closures: Replay and Live never run at
	// the same time). It runs once before the first live event and again
	// after every resubscription: when the subscriber fell behind the
	// broker, or the broker itself may have missed events (ErrGap). It
	// returns false to end the stream. With no Replay there is nothing to
	// catch up from, and a lag or gap ends the stream (the client
	// resubscribes).
	Replay func(ctx context.Context, send func(T) bool) bool
	// Live turns a batch of queued payloads (at most Batch, in publish
	// order) into values, sent in order with send (which returns false
	// once the subscriber is gone). It returns false to end the stream.
	Live func(ctx context.Context, batch [][]byte, send func(T) bool) bool
	// Batch is the most payloads given to Live at once (default 1).
	Batch int
	// Buffer is the capacity of the returned channel (default 1).
	Buffer int
	// Resynced, if set, is called at each resubscription (a metric).
	Resynced func()
	// Done, if set, is called once when the stream has ended, after its
	// channel is closed.
	Done func()
}

// Stream subscribes to src.Topic and returns the channel of the
// subscriber's values: first what src.Replay sends, then the live events
// through src.Live, caught up again with src.Replay after a lag or a gap.
// The channel is closed when ctx ends, when Replay or Live says so, or when
// the broker closes.
//
// A stream holds no goroutine while it waits: the broker wakes a Worker
// when an event is queued, and a goroutine started then handles what is
// queued and ends. The transport that reads the channel need not hold one
// either: the stream tells the Waker in ctx (WakerFrom) of each value sent
// and of the end. When ctx ends, the subscription, the worker and the
// channel are released with it.
func Stream[T any](ctx context.Context, src Source[T]) (<-chan T, error) {
	if src.Live == nil {
		return nil, errors.New("realtime: Stream needs Live")
	}
	sub, err := src.Broker.Subscribe(ctx, src.Topic, src.Options...)
	if err != nil {
		return nil, err
	}
	buffer := max(src.Buffer, 1)
	batch := max(src.Batch, 1)
	st := &stream[T]{src: src, ctx: ctx, sub: sub, out: make(chan T, buffer),
		batch: make([][]byte, 0, batch), waker: WakerFrom(ctx)}
	st.waker.Attach() // the channel is returned as is
	st.worker = NewWorker(st.run)
	sub.Notify(st.worker.Wake)
	return st.out, nil
}

// stream is one subscriber's stream; everything past construction is
// owned by the running worker (runs never overlap).
type stream[T any] struct {
	src    Source[T]
	ctx    context.Context
	out    chan T
	waker  *Waker // nil when the transport does not use one
	worker *Worker

	sub      *Subscription
	batch    [][]byte
	replayed bool
}

// run handles what is queued; false once the stream has ended.
func (st *stream[T]) run() bool {
	if st.drain() {
		return true
	}
	st.sub.Close()
	close(st.out)
	st.waker.Ready()
	if st.src.Done != nil {
		st.src.Done()
	}
	return false
}

// drain replays first (once), then hands what the broker has queued to
// Live, resubscribing and replaying after a lag; false ends the stream.
func (st *stream[T]) drain() bool {
	if !st.replayed {
		st.replayed = true
		if st.src.Replay != nil && !st.src.Replay(st.ctx, st.send) {
			return false
		}
	}
	for {
		open := st.take()
		full := len(st.batch) == cap(st.batch)
		if len(st.batch) > 0 {
			if !st.src.Live(st.ctx, st.batch, st.send) {
				return false
			}
			clear(st.batch) // the payloads are shared with other subscribers
			st.batch = st.batch[:0]
		}
		if open {
			if full {
				continue // more may be queued
			}
			return true // until the next wake-up
		}
		if !st.resync() {
			return false
		}
	}
}

// take fills st.batch with what is queued, up to its capacity, without
// waiting; false once the subscription is closed (and the queue empty).
func (st *stream[T]) take() bool {
	for len(st.batch) < cap(st.batch) {
		select {
		case p, ok := <-st.sub.C():
			if !ok {
				return false
			}
			st.batch = append(st.batch, p)
		default:
			return true
		}
	}
	return true
}

// resync follows the topic again after the subscription ended because the
// subscriber was too slow for the broker, or the broker lost events, and
// catches up with Replay; false when the stream should end instead.
func (st *stream[T]) resync() bool {
	if !errors.Is(st.sub.Err(), ErrLagged) || st.ctx.Err() != nil || st.src.Replay == nil {
		return false
	}
	if st.src.Resynced != nil {
		st.src.Resynced()
	}
	sub, err := st.src.Broker.Subscribe(st.ctx, st.src.Topic, st.src.Options...)
	if err != nil {
		return false
	}
	st.sub = sub
	sub.Notify(st.worker.Wake) // this run handles what it queues
	// The database may be coming back (the broker lost its connection
	// too): Replay should keep trying for a while.
	return st.src.Replay(st.ctx, st.send)
}

// send hands v to the subscriber; false once it is gone.
func (st *stream[T]) send(v T) bool {
	select {
	case st.out <- v:
		st.waker.Ready()
		return true
	case <-st.ctx.Done():
		return false
	}
}
