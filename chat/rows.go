package chat

import (
	"context"
	"sync"
	"time"
)

// rowCache keeps the rows loaded for an event for a few seconds, so that
// the many subscribers allowed to see the same rows load them once. The
// subscribers of an event receive it at the same moment: the first one
// loads the rows and the others wait for them rather than loading them
// too.
type rowCache struct {
	mu    sync.Mutex
	ttl   time.Duration
	items map[string]*rowItem
	swept time.Time
}

type rowItem struct {
	done chan struct{} // closed once u or err is set
	u    *InboxUpdate
	err  error
	at   time.Time
}

func newRowCache(ttl time.Duration) *rowCache {
	return &rowCache{ttl: ttl, items: map[string]*rowItem{}}
}

// load returns the rows kept under key, or loads them with fn. While one
// caller loads them, the others asking for key wait for its result. A
// failed load is not kept: the waiters then load the rows themselves
// (the loader's failure may be its own, its connection closing).
func (c *rowCache) load(ctx context.Context, key string, fn func() (*InboxUpdate, error)) (*InboxUpdate, error) {
	c.mu.Lock()
	it, ok := c.items[key]
	if ok && !it.at.IsZero() && time.Since(it.at) > c.ttl {
		ok = false // expired (it.at is set once loaded)
	}
	if !ok {
		it = &rowItem{done: make(chan struct{})}
		c.items[key] = it
		c.sweep()
		c.mu.Unlock()
		u, err := fn()
		c.mu.Lock()
		it.u, it.err, it.at = u, err, time.Now()
		if err != nil && c.items[key] == it {
			delete(c.items, key)
		}
		c.mu.Unlock()
		close(it.done)
		return u, err
	}
	c.mu.Unlock()
	select {
	case <-it.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if it.err != nil {
		return fn()
	}
	return it.u, nil
}

// put keeps u under key, for the callers of load.
func (c *rowCache) put(key string, u *InboxUpdate) {
	it := &rowItem{done: make(chan struct{}), u: u, at: time.Now()}
	close(it.done)
	c.mu.Lock()
	c.items[key] = it
	c.sweep()
	c.mu.Unlock()
}

// peek returns the rows kept under key, if they are loaded and fresh.
func (c *rowCache) peek(key string) (*InboxUpdate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[key]
	if !ok || it.at.IsZero() || it.err != nil || time.Since(it.at) > c.ttl {
		return nil, false
	}
	return it.u, true
}

// sweep drops the expired rows, at most once per ttl. c.mu is held.
func (c *rowCache) sweep() {
	now := time.Now()
	if now.Sub(c.swept) <= c.ttl {
		return
	}
	for k, it := range c.items {
		if !it.at.IsZero() && now.Sub(it.at) > c.ttl { // loaded and expired
			delete(c.items, k)
		}
	}
	c.swept = now
}
