package realtime

import (
	"context"
	"sync"
	"sync/atomic"
)

// Stats counts what a broker did since it was created.
type Stats struct {
	// Published counts the events this process fanned out to its
	// subscribers: Memory's Publish calls; the PostgreSQL broker's
	// well-formed notifications, published by any replica.
	Published uint64
	// Delivered counts events handed to a subscriber (one per event and
	// subscriber).
	Delivered uint64
	// Dropped counts events a subscriber did not get because its buffer was
	// full; the subscription was then ended with ErrLagged.
	Dropped uint64
	// Received counts notifications the PostgreSQL listener received,
	// including this process's own (always 0 for Memory).
	Received uint64
	// Malformed counts notifications on the channel that were not in the
	// broker's format and were ignored (always 0 for Memory).
	Malformed uint64
	// Gaps counts the times every subscription was ended with ErrGap because
	// the PostgreSQL listener lost its connection (always 0 for Memory).
	Gaps uint64
}

// hub is the one implementation of topics → subscribers shared by every
// broker: registration, non-blocking fan-out, lagging, ending.
type hub struct {
	buffer int

	published atomic.Uint64
	delivered atomic.Uint64
	dropped   atomic.Uint64

	mu     sync.Mutex
	closed bool
	topics map[string]map[*Subscription]struct{}
}

func newHub(buffer int) *hub {
	if buffer < 1 {
		buffer = DefaultBufferSize
	}
	return &hub{buffer: buffer, topics: make(map[string]map[*Subscription]struct{})}
}

// subscribe registers a subscriber of topic that ends when ctx is done.
func (h *hub) subscribe(ctx context.Context, topic Topic, opts []SubscribeOption) (*Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if topic.IsZero() {
		return nil, errZeroTopic
	}
	var o subscribeOptions
	for _, opt := range opts {
		opt(&o)
	}
	buffer := h.buffer
	if o.bufferFactor > 1 {
		buffer *= o.bufferFactor
	}
	var s *Subscription
	s = newSubscription(buffer, func() { h.remove(topic.key, s) })

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrClosed
	}
	set := h.topics[topic.key]
	if set == nil {
		set = make(map[*Subscription]struct{})
		h.topics[topic.key] = set
	}
	set[s] = struct{}{}
	h.mu.Unlock()

	s.watch(ctx)
	return s, nil
}

// deliver offers payload to every current subscriber of topic without
// blocking. When clone is set, the payload is copied first (only if someone
// listens), since the caller may reuse its buffer. It returns ErrClosed once
// the hub is closed.
func (h *hub) deliver(topic Topic, payload []byte, clone bool) error {
	if topic.IsZero() {
		return errZeroTopic
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrClosed
	}
	h.published.Add(1)
	set := h.topics[topic.key]
	if len(set) == 0 {
		h.mu.Unlock()
		return nil
	}
	subs := make([]*Subscription, 0, len(set))
	for s := range set {
		subs = append(subs, s)
	}
	h.mu.Unlock()

	if clone {
		payload = append([]byte(nil), payload...)
	}
	var sent, dropped uint64
	for _, s := range subs {
		switch s.offer(payload) {
		case offerSent:
			sent++
		case offerDropped:
			dropped++
		}
	}
	if sent > 0 {
		h.delivered.Add(sent)
	}
	if dropped > 0 {
		h.dropped.Add(dropped)
	}
	return nil
}

// subscribers returns the number of current subscribers of topic.
func (h *hub) subscribers(topic Topic) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.topics[topic.key])
}

// endAll ends every current subscription with err; the hub stays open and
// later subscriptions are not affected.
func (h *hub) endAll(err error) {
	h.mu.Lock()
	topics := h.topics
	h.topics = make(map[string]map[*Subscription]struct{})
	h.mu.Unlock()
	endEach(topics, err)
}

// close ends every subscription with ErrClosed and refuses further use. It
// reports whether this call closed the hub.
func (h *hub) close() bool {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return false
	}
	h.closed = true
	topics := h.topics
	h.topics = make(map[string]map[*Subscription]struct{})
	h.mu.Unlock()
	endEach(topics, ErrClosed)
	return true
}

func (h *hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}

// stats returns the hub's counters; brokers add their own.
func (h *hub) stats() Stats {
	return Stats{Published: h.published.Load(), Delivered: h.delivered.Load(), Dropped: h.dropped.Load()}
}

// endEach ends subscriptions taken out of the hub. It runs without h.mu: a
// subscription's detach takes h.mu under the subscription's own lock (lock
// order: Subscription.mu, then hub.mu; the hub never takes a subscription's
// lock while holding its own).
func endEach(topics map[string]map[*Subscription]struct{}, err error) {
	for _, set := range topics {
		for s := range set {
			s.end(err)
		}
	}
}

// remove detaches s from topic. Called under s.mu. After endAll or close the
// subscription is no longer in the map, and this is a no-op.
func (h *hub) remove(topic string, s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.topics[topic]
	if set == nil {
		return
	}
	delete(set, s)
	if len(set) == 0 {
		delete(h.topics, topic)
	}
}
