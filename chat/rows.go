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

// loadAll returns the rows kept under each of keys. Those nobody has
// loaded (or is loading) it loads with one call of fn, given their indexes
// in keys, which returns their rows in the same order (nil: gone). While
// one caller loads rows, the others asking for them wait for its result. A
// failed load is not kept: the waiters then load the rows themselves (the
// loader's failure may be its own, its connection closing).
func (c *rowCache) loadAll(ctx context.Context, keys []string, fn func(idx []int) ([]*InboxUpdate, error)) ([]*InboxUpdate, error) {
	items := make([]*rowItem, len(keys))
	var mine []int
	c.mu.Lock()
	for i, key := range keys {
		it, ok := c.items[key]
		if ok && !it.at.IsZero() && time.Since(it.at) > c.ttl {
			ok = false // expired (it.at is set once loaded)
		}
		if !ok {
			it = &rowItem{done: make(chan struct{})}
			c.items[key] = it
			mine = append(mine, i)
		}
		items[i] = it
	}
	c.sweep()
	c.mu.Unlock()
	if len(mine) > 0 {
		us, err := fn(mine)
		c.mu.Lock()
		for j, i := range mine {
			it := items[i]
			it.at = time.Now()
			if err != nil {
				it.err = err
				if c.items[keys[i]] == it {
					delete(c.items, keys[i])
				}
				continue
			}
			it.u = us[j]
		}
		c.mu.Unlock()
		for _, i := range mine {
			close(items[i].done)
		}
		if err != nil {
			return nil, err
		}
	}
	out := make([]*InboxUpdate, len(keys))
	var failed []int
	for i, it := range items {
		select {
		case <-it.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if it.err != nil {
			failed = append(failed, i)
			continue
		}
		out[i] = it.u
	}
	if len(failed) > 0 {
		us, err := fn(failed)
		if err != nil {
			return nil, err
		}
		for j, i := range failed {
			out[i] = us[j]
		}
	}
	return out, nil
}

// put keeps u under key, for the callers of loadAll and peek.
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
