package auth

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a keyed token-bucket limiter. By default its buckets are in
// this process, with bounded memory (entries idle for longer than the refill
// of a full bucket are swept); Share puts them in a Store every replica
// uses (ratelimit.SQL), so limits hold across replicas.
type Limiter struct {
	store Store

	mu      sync.Mutex
	every   rate.Limit
	burst   int
	entries map[string]*limEntry
	maxKeys int
	now     func() time.Time
}

type limEntry struct {
	l    *rate.Limiter
	seen time.Time
}

// NewLimiter allows burst events per key, refilled at one per interval.
func NewLimiter(burst int, interval time.Duration) *Limiter {
	return &Limiter{every: rate.Every(interval), burst: burst, entries: map[string]*limEntry{}, maxKeys: 100_000, now: time.Now}
}

// Store keeps buckets shared by several processes.
type Store interface {
	Take(ctx context.Context, key string, burst int, every time.Duration) (bool, time.Duration, error)
	Reset(ctx context.Context, key string) error
}

// Share makes the limiter keep its buckets in s. Keys must then be unique
// across the limiters sharing s (callers prefix them).
func (l *Limiter) Share(s Store) { l.store = s }

// Allow takes one token for key. When none is left it returns false and
// how long until one is. Should the shared store fail, the process's own
// bucket decides (and the failure is logged).
func (l *Limiter) Allow(ctx context.Context, key string) (bool, time.Duration) {
	if l.store != nil {
		ok, wait, err := l.store.Take(ctx, key, l.burst, time.Duration(float64(time.Second)/float64(l.every)))
		if err == nil {
			return ok, wait
		}
		slog.WarnContext(ctx, "rate limit store unavailable; limiting in this process", slog.Any("err", err))
	}
	return l.allowLocal(key)
}

func (l *Limiter) allowLocal(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.entries[key]
	if !ok {
		if len(l.entries) >= l.maxKeys {
			l.sweep(now)
		}
		e = &limEntry{l: rate.NewLimiter(l.every, l.burst)}
		l.entries[key] = e
	}
	e.seen = now
	r := e.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Reset forgets key (after a successful login, for example).
func (l *Limiter) Reset(ctx context.Context, key string) {
	if l.store != nil {
		if err := l.store.Reset(ctx, key); err != nil {
			slog.WarnContext(ctx, "rate limit store unavailable", slog.Any("err", err))
		}
	}
	l.mu.Lock()
	delete(l.entries, key)
	l.mu.Unlock()
}

func (l *Limiter) sweep(now time.Time) {
	idle := time.Duration(float64(l.burst)/float64(l.every)*float64(time.Second)) + time.Minute
	for k, e := range l.entries {
		if now.Sub(e.seen) > idle {
			delete(l.entries, k)
		}
	}
	if len(l.entries) >= l.maxKeys { // still full: drop everything rather than grow
		clear(l.entries)
	}
}
