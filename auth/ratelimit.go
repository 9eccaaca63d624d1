package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is a keyed token-bucket limiter with bounded memory: entries idle
// for longer than the refill of a full bucket are swept.
type Limiter struct {
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

// Allow takes one token for key. When none is left it returns false and
// how long until one is.
func (l *Limiter) Allow(key string) (bool, time.Duration) {
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
func (l *Limiter) Reset(key string) {
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
