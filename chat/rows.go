package chat

import (
	"sync"
	"time"
)

// rowCache keeps the rows loaded for an event for a few seconds, so that
// the many subscribers allowed to see the same rows load them once.
type rowCache struct {
	mu    sync.Mutex
	ttl   time.Duration
	items map[string]rowItem
	swept time.Time
}

type rowItem struct {
	u  *InboxUpdate
	at time.Time
}

func newRowCache(ttl time.Duration) *rowCache {
	return &rowCache{ttl: ttl, items: map[string]rowItem{}}
}

func (c *rowCache) get(key string) (*InboxUpdate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	it, ok := c.items[key]
	if !ok || time.Since(it.at) > c.ttl {
		return nil, false
	}
	return it.u, true
}

func (c *rowCache) put(key string, u *InboxUpdate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.items[key] = rowItem{u: u, at: now}
	if now.Sub(c.swept) > c.ttl {
		for k, it := range c.items {
			if now.Sub(it.at) > c.ttl {
				delete(c.items, k)
			}
		}
		c.swept = now
	}
}
