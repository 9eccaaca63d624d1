// Package realtime fans out live events to GraphQL subscriptions.
//
// Payloads are JSON bytes and topics are hub keys derived from a viewer
// (Topic), so that an in-process broker (Memory) and a PostgreSQL
// LISTEN/NOTIFY broker for several replicas can implement the same Broker
// interface. Subscriptions read them with Stream: replay from the database,
// then live, caught up again after a gap, with no goroutine while idle.
package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
)

var (
	// ErrLagged reports that a subscriber fell too far behind and was dropped.
	// The client should reconnect and replay what it missed from the database.
	ErrLagged = errors.New("realtime: subscriber lagged behind and was dropped")
	// ErrClosed reports that the broker or the subscription is closed.
	ErrClosed = errors.New("realtime: closed")
	// ErrGap reports that the broker itself may have missed events (the
	// PostgreSQL listener lost its connection), so every subscription open at
	// that time was ended. It is a kind of ErrLagged: errors.Is(ErrGap,
	// ErrLagged) holds, so consumers that resubscribe and replay from the
	// database on ErrLagged handle it without change.
	ErrGap error = gapError{}

	errZeroTopic = errors.New("realtime: the zero Topic names no stream")
)

type gapError struct{}

func (gapError) Error() string {
	return "realtime: events may have been missed; resubscribe and replay"
}

// Is makes errors.Is(ErrGap, ErrLagged) true.
func (gapError) Is(target error) bool { return target == ErrLagged }

// Broker fans out events to subscribers of a topic.
type Broker interface {
	// Publish delivers payload to every current subscriber of topic.
	// It never blocks on a slow subscriber.
	Publish(ctx context.Context, topic Topic, payload []byte) error
	// Subscribe returns a subscription whose channel receives the topic's
	// events published after Subscribe returned, in publish order. The
	// channel is closed when ctx is done, when Close is called on the
	// subscription, when the broker closes, or when the subscriber fell too
	// far behind (then Err reports ErrLagged, or ErrGap, which is also
	// ErrLagged, when the broker may have missed events).
	// opts tune this subscription (BufferFactor).
	Subscribe(ctx context.Context, topic Topic, opts ...SubscribeOption) (*Subscription, error)
	// Close closes the broker and every subscription. It is idempotent.
	Close() error
}

// SubscribeOption tunes one subscription.
type SubscribeOption func(*subscribeOptions)

type subscribeOptions struct{ bufferFactor int }

// BufferFactor gives the subscription k times the broker's buffer. It is
// for the few subscribers that each follow a busy topic (a company's
// inbox, with every message of the company): a burst or a pause that
// would overflow an ordinary buffer then does not end them, sparing the
// catch-up from the database that follows.
func BufferFactor(k int) SubscribeOption {
	return func(o *subscribeOptions) { o.bufferFactor = k }
}

// PublishJSON marshals v as JSON and publishes it on topic.
func PublishJSON(ctx context.Context, b Broker, topic Topic, v any) error {
	payload, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("realtime: marshal event for %s: %w", topic, err)
	}
	return b.Publish(ctx, topic, payload)
}

// Envelope is an event for PublishAll: its topic and payload.
type Envelope struct {
	Topic   Topic
	Payload []byte
}

// PublishAll publishes events in order, with one statement where the
// broker sends them through the database (Postgres).
func PublishAll(ctx context.Context, b Broker, events ...Envelope) error {
	if all, ok := b.(interface {
		PublishAll(context.Context, ...Envelope) error
	}); ok {
		return all.PublishAll(ctx, events...)
	}
	for _, e := range events {
		if err := b.Publish(ctx, e.Topic, e.Payload); err != nil {
			return err
		}
	}
	return nil
}

// Subscription is one subscriber's stream of events. Receivers share the
// payload slices with other subscribers and must not modify them.
type Subscription struct {
	ch   chan []byte
	done chan struct{} // closed with ch

	unwatch func() bool // unregisters the ctx watcher (set by watch)

	mu     sync.Mutex
	closed bool
	err    error
	detach func() // removes the subscription from its broker; called once, under mu
	notify func() // see Notify; called under mu
}

func newSubscription(buffer int, detach func()) *Subscription {
	return &Subscription{
		ch:     make(chan []byte, buffer),
		done:   make(chan struct{}),
		detach: detach,
	}
}

// C returns the channel of events. It is closed when the subscription ends;
// Err then tells why.
func (s *Subscription) C() <-chan []byte { return s.ch }

// Err returns nil while the subscription is open, and afterwards why it ended:
// ErrLagged, ErrGap (errors.Is(ErrGap, ErrLagged) holds), ErrClosed (Close on
// the subscription or the broker), or the context's error.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Notify has f called after each event is queued on the channel and once
// the subscription ends, and once now. It lets a consumer read the channel
// only when there is something to read, from a goroutine it starts then,
// instead of keeping a goroutine blocked on the channel for every
// subscription. f is called with the subscription's lock held: it must
// return quickly and must not use the subscription (start a goroutine).
func (s *Subscription) Notify(f func()) {
	s.mu.Lock()
	s.notify = f
	s.mu.Unlock()
	f()
}

// Close ends the subscription. It is idempotent and safe for concurrent use.
func (s *Subscription) Close() { s.end(ErrClosed) }

// end closes the subscription with err unless it is already closed.
func (s *Subscription) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endLocked(err)
}

// endLocked must be called with s.mu held. The subscription is detached from
// the broker before its channel is closed, so a reader that sees the channel
// closed also sees it gone from the hub.
func (s *Subscription) endLocked(err error) {
	if s.closed {
		return
	}
	s.closed = true
	s.err = err
	if s.detach != nil {
		s.detach()
	}
	close(s.ch)
	close(s.done)
	if s.unwatch != nil {
		s.unwatch()
	}
	if s.notify != nil {
		s.notify()
	}
}

// offer outcomes.
const (
	offerSkipped = iota // the subscription had already ended
	offerSent
	offerDropped // the buffer was full: the subscription ended with ErrLagged
)

// offer sends payload without blocking. A full buffer ends the subscription
// with ErrLagged. Sends and close both happen under s.mu, so there is never a
// send on a closed channel.
func (s *Subscription) offer(payload []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return offerSkipped
	}
	select {
	case s.ch <- payload:
		if s.notify != nil {
			s.notify()
		}
		return offerSent
	default:
		s.endLocked(ErrLagged)
		return offerDropped
	}
}

// watch ends the subscription when ctx is done. Its callback is dropped as soon as
// the subscription ends for any reason.
func (s *Subscription) watch(ctx context.Context) {
	if ctx.Done() == nil {
		return // never canceled: nothing to watch
	}
	// No goroutine per subscription: the callback runs when ctx ends, and
	// is unregistered when the subscription ends first.
	stop := context.AfterFunc(ctx, func() { s.end(ctx.Err()) })
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		stop()
		return
	}
	s.unwatch = stop
	s.mu.Unlock()
}
