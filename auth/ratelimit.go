package auth

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"concierge/ratelimit"
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
	// TakeEach takes a token of every bucket or of none.
	TakeEach(ctx context.Context, buckets ...ratelimit.Bucket) (bool, time.Duration, error)
	Reset(ctx context.Context, key string) error
}

// Share makes the limiter keep its buckets in s. Keys must then be unique
// across the limiters sharing s (callers prefix them).
func (l *Limiter) Share(s Store) { l.store = s }

// Allow takes one token for key. When none is left it returns false and
// how long until one is. Should the shared store fail, the process's own
// bucket decides (and the failure is logged).
func (l *Limiter) Allow(ctx context.Context, key string) (bool, time.Duration) {
	return AllowEach(ctx, Take{l, key})
}

// Take names a token of one of a limiter's buckets, for AllowEach.
type Take struct {
	L   *Limiter
	Key string
}

func (t Take) bucket() ratelimit.Bucket {
	return ratelimit.Bucket{Key: t.Key, Burst: t.L.burst, Every: time.Duration(float64(time.Second) / float64(t.L.every))}
}

// AllowEach takes a token of each bucket named, or of none: when one is
// refused, it returns false and how long to wait before trying again, and
// the others keep theirs. Limiters sharing one store take their tokens in one
// statement. Should the store fail, the process's own buckets decide (and
// the failure is logged). Limiters of different stores take theirs one
// after the other, up to the first refusal.
func AllowEach(ctx context.Context, takes ...Take) (bool, time.Duration) {
	if len(takes) == 0 {
		return true, 0
	}
	st := takes[0].L.store
	if slices.ContainsFunc(takes, func(t Take) bool { return t.L.store != st }) {
		// Limiters of different stores: one after the other.
		for _, t := range takes {
			if ok, wait := AllowEach(ctx, t); !ok {
				return false, wait
			}
		}
		return true, 0
	}
	if st != nil {
		buckets := make([]ratelimit.Bucket, len(takes))
		for i, t := range takes {
			buckets[i] = t.bucket()
		}
		ok, wait, err := st.TakeEach(ctx, buckets...)
		if err == nil {
			return ok, wait
		}
		slog.WarnContext(ctx, "rate limit store unavailable; limiting in this process", slog.Any("err", err))
	}
	taken := make([]*rate.Reservation, 0, len(takes))
	for _, t := range takes {
		r, wait := t.L.reserveLocal(t.Key)
		if r == nil {
			for j, r := range taken { // give back the tokens taken
				r.CancelAt(takes[j].L.now())
			}
			return false, wait
		}
		taken = append(taken, r)
	}
	return true, 0
}

// reserveLocal takes a token of the process's bucket for key; when none is
// left it returns nil and how long until one is.
func (l *Limiter) reserveLocal(key string) (*rate.Reservation, time.Duration) {
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
		return nil, d
	}
	return r, 0
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
