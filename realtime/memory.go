package realtime

import (
	"context"
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
	hub    *hub
}

var _ Broker = (*Memory)(nil)

// NewMemory returns an in-process broker.
func NewMemory(opts ...Option) *Memory {
	m := &Memory{buffer: DefaultBufferSize}
	for _, opt := range opts {
		opt(m)
	}
	m.hub = newHub(m.buffer)
	return m
}

// Publish delivers a copy of payload to every current subscriber of topic
// without blocking; a subscriber whose buffer is full is dropped with ErrLagged.
func (m *Memory) Publish(ctx context.Context, topic Topic, payload []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return m.hub.deliver(topic, payload, true) // the caller may reuse its buffer
}

// Subscribe registers a subscriber of topic. Events published after it returns
// are delivered in publish order.
func (m *Memory) Subscribe(ctx context.Context, topic Topic, opts ...SubscribeOption) (*Subscription, error) {
	return m.hub.subscribe(ctx, topic, opts)
}

// Subscribers returns the number of current subscribers of topic.
func (m *Memory) Subscribers(topic Topic) int { return m.hub.subscribers(topic) }

// Stats returns the broker's delivery counters.
func (m *Memory) Stats() Stats { return m.hub.stats() }

// Close ends every subscription with ErrClosed and refuses further use.
// It is idempotent.
func (m *Memory) Close() error {
	m.hub.close()
	return nil
}
