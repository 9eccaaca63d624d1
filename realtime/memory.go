package realtime

import (
	"context"
	"slices"
	"sync"
)

// DefaultBufferSize is the number of events a subscriber may have unread
// before it is dropped with ErrLagged.
const DefaultBufferSize = 256

// Option configures a Memory broker.
type Option func(*Memory)

// WithBufferSize sets the per-subscriber buffer. Values below 1 keep the default.
func WithBufferSize(n int) Option {
	return func(m *Memory) {
		if n > 0 {
			m.buffer = n
		}
	}
}

// Memory is an in-process Broker for a single server.
type Memory struct {
	buffer int

	mu     sync.Mutex
	closed bool
	topics map[string]map[*Subscription]struct{}
}

var _ Broker = (*Memory)(nil)

// NewMemory returns an in-process broker.
func NewMemory(opts ...Option) *Memory {
	m := &Memory{
		buffer: DefaultBufferSize,
		topics: make(map[string]map[*Subscription]struct{}),
	}
	for _, opt := range opts {
		opt(m)
	}
	return m
}

// Publish delivers a copy of payload to every current subscriber of topic
// without blocking; a subscriber whose buffer is full is dropped with ErrLagged.
func (m *Memory) Publish(ctx context.Context, topic string, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	subs := make([]*Subscription, 0, len(m.topics[topic]))
	for s := range m.topics[topic] {
		subs = append(subs, s)
	}
	m.mu.Unlock()

	if len(subs) == 0 {
		return nil
	}
	payload = slices.Clone(payload) // the caller may reuse its buffer
	for _, s := range subs {
		s.offer(payload)
	}
	return nil
}

// Subscribe registers a subscriber of topic. Events published after it returns
// are delivered in publish order.
func (m *Memory) Subscribe(ctx context.Context, topic string) (*Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var s *Subscription
	s = newSubscription(m.buffer, func() { m.remove(topic, s) })

	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	set := m.topics[topic]
	if set == nil {
		set = make(map[*Subscription]struct{})
		m.topics[topic] = set
	}
	set[s] = struct{}{}
	m.mu.Unlock()

	s.watch(ctx)
	return s, nil
}

// Subscribers returns the number of current subscribers of topic.
func (m *Memory) Subscribers(topic string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.topics[topic])
}

// Close ends every subscription with ErrClosed and refuses further use.
// It is idempotent.
func (m *Memory) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	topics := m.topics
	m.topics = make(map[string]map[*Subscription]struct{})
	m.mu.Unlock()

	for _, set := range topics {
		for s := range set {
			s.end(ErrClosed)
		}
	}
	return nil
}

// remove detaches s from topic. Lock order is Subscription.mu then Memory.mu;
// Memory never takes a subscription's lock while holding its own.
func (m *Memory) remove(topic string, s *Subscription) {
	m.mu.Lock()
	defer m.mu.Unlock()
	set := m.topics[topic]
	delete(set, s)
	if len(set) == 0 {
		delete(m.topics, topic)
	}
}
