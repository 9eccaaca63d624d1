package retrieval

import (
	"container/list"
	"context"
	"crypto/sha256"
	"sync"

	"github.com/google/uuid"
)

// CacheKey names one embedding: the embedder, the company (so a company's
// entries can be deleted with it), the kind, and the SHA-256 of the text.
type CacheKey struct {
	Embedder string
	Company  uuid.UUID
	Kind     Kind
	Sum      [sha256.Size]byte
}

// NewCacheKey returns the key of text embedded by embedder for company.
func NewCacheKey(embedder string, company uuid.UUID, kind Kind, text string) CacheKey {
	return CacheKey{Embedder: embedder, Company: company, Kind: kind, Sum: sha256.Sum256([]byte(text))}
}

// Cache remembers embeddings so that re-indexing unchanged text costs
// nothing. Implementations are safe for concurrent use.
type Cache interface {
	// Get returns one vector per key, nil for a miss.
	Get(ctx context.Context, keys []CacheKey) ([][]float32, error)
	// Put stores vecs[i] under keys[i].
	Put(ctx context.Context, keys []CacheKey, vecs [][]float32) error
	// DeleteCompany forgets every entry of a company.
	DeleteCompany(ctx context.Context, company uuid.UUID) error
}

// MemoryCache is an in-memory LRU Cache.
type MemoryCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[CacheKey]*list.Element
}

type memEntry struct {
	key CacheKey
	vec []float32
}

// NewMemoryCache returns an LRU cache of at most maxEntries vectors.
func NewMemoryCache(maxEntries int) *MemoryCache {
	return &MemoryCache{max: max(maxEntries, 1), ll: list.New(), items: map[CacheKey]*list.Element{}}
}

// Get implements Cache.
func (c *MemoryCache) Get(_ context.Context, keys []CacheKey) ([][]float32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([][]float32, len(keys))
	for i, k := range keys {
		if e, ok := c.items[k]; ok {
			c.ll.MoveToFront(e)
			out[i] = e.Value.(*memEntry).vec
		}
	}
	return out, nil
}

// Put implements Cache.
func (c *MemoryCache) Put(_ context.Context, keys []CacheKey, vecs [][]float32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, k := range keys {
		if e, ok := c.items[k]; ok {
			e.Value.(*memEntry).vec = vecs[i]
			c.ll.MoveToFront(e)
			continue
		}
		c.items[k] = c.ll.PushFront(&memEntry{key: k, vec: vecs[i]})
		for c.ll.Len() > c.max {
			last := c.ll.Back()
			c.ll.Remove(last)
			delete(c.items, last.Value.(*memEntry).key)
		}
	}
	return nil
}

// DeleteCompany implements Cache.
func (c *MemoryCache) DeleteCompany(_ context.Context, company uuid.UUID) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.items {
		if k.Company == company {
			c.ll.Remove(e)
			delete(c.items, k)
		}
	}
	return nil
}

// Len returns the number of cached vectors.
func (c *MemoryCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
