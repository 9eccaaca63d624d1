package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/ratelimit"
)

// fakeClock is a settable clock for the limiter.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestLimiter(burst int, every time.Duration) (*Limiter, *fakeClock) {
	clk := &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := NewLimiter(burst, every)
	l.now = clk.now
	return l, clk
}

func TestLimiterBurstThenRefuses(t *testing.T) {
	t.Parallel()
	l, _ := newTestLimiter(5, time.Minute)
	for i := range 5 {
		ok, wait := l.Allow(context.Background(), "a")
		require.True(t, ok, "attempt %d", i+1)
		require.Zero(t, wait)
	}
	ok, wait := l.Allow(context.Background(), "a")
	require.False(t, ok)
	require.Greater(t, wait, 50*time.Second)
	require.LessOrEqual(t, wait, time.Minute)

	// Keys are independent.
	ok, _ = l.Allow(context.Background(), "b")
	require.True(t, ok)
}

func TestLimiterRefill(t *testing.T) {
	t.Parallel()
	l, clk := newTestLimiter(2, time.Minute)
	require.True(t, first(l.Allow(context.Background(), "a")))
	require.True(t, first(l.Allow(context.Background(), "a")))
	// Refused attempts do not push the refill further away.
	for range 10 {
		require.False(t, first(l.Allow(context.Background(), "a")))
	}
	clk.add(30 * time.Second)
	ok, wait := l.Allow(context.Background(), "a")
	require.False(t, ok)
	require.InDelta(t, 30*time.Second, wait, float64(time.Second))

	clk.add(30 * time.Second)
	require.True(t, first(l.Allow(context.Background(), "a")), "one token back after one interval")
	require.False(t, first(l.Allow(context.Background(), "a")), "only one")

	clk.add(10 * time.Minute)
	require.True(t, first(l.Allow(context.Background(), "a")))
	require.True(t, first(l.Allow(context.Background(), "a")))
	require.False(t, first(l.Allow(context.Background(), "a")), "the bucket never holds more than the burst")
}

func TestLimiterReset(t *testing.T) {
	t.Parallel()
	l, _ := newTestLimiter(1, time.Hour)
	require.True(t, first(l.Allow(context.Background(), "a")))
	require.True(t, first(l.Allow(context.Background(), "b")))
	require.False(t, first(l.Allow(context.Background(), "a")))
	l.Reset(context.Background(), "a")
	require.True(t, first(l.Allow(context.Background(), "a")), "a full bucket after reset")
	require.False(t, first(l.Allow(context.Background(), "b")), "other keys keep their state")
	l.Reset(context.Background(), "never-seen") // no panic
}

func TestLimiterBoundedMemory(t *testing.T) {
	t.Parallel()
	l, clk := newTestLimiter(2, time.Second)
	l.maxKeys = 100
	for i := range 100 {
		require.True(t, first(l.Allow(context.Background(), fmt.Sprint("old", i))))
	}
	require.Len(t, l.entries, 100)

	// Idle entries are swept when the table is full.
	clk.add(time.Hour)
	require.True(t, first(l.Allow(context.Background(), "new")))
	require.Len(t, l.entries, 1)

	// A flood of fresh keys never grows the table past its bound.
	for i := range 1000 {
		l.Allow(context.Background(), fmt.Sprint("flood", i))
		require.LessOrEqual(t, len(l.entries), l.maxKeys)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	t.Parallel()
	l, _ := newTestLimiter(50, time.Hour)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		allowed int
	)
	for range 200 {
		wg.Go(func() {
			if ok, _ := l.Allow(context.Background(), "k"); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Equal(t, 50, allowed)
}

func first(ok bool, _ time.Duration) bool { return ok }

// AllowEach takes a token of every bucket or of none.
func TestAllowEachIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	visitor, clk := newTestLimiter(3, time.Hour)
	company := NewLimiter(2, time.Minute)
	company.now = clk.now
	takes := []Take{{visitor, "v"}, {company, "c"}}
	require.True(t, first(AllowEach(ctx, takes...)))
	require.True(t, first(AllowEach(ctx, takes...)))
	ok, wait := AllowEach(ctx, takes...)
	require.False(t, ok, "the company's bucket is empty")
	require.Greater(t, wait, 50*time.Second)
	require.LessOrEqual(t, wait, time.Minute)
	require.True(t, first(visitor.Allow(ctx, "v")), "the refusal gave the visitor's token back")
	require.False(t, first(visitor.Allow(ctx, "v")))
	clk.add(time.Minute)
	require.False(t, first(AllowEach(ctx, takes...)), "the visitor's bucket is empty now")
	require.True(t, first(company.Allow(ctx, "c")), "and the company's token stayed")
}

// recordingStore is a Store that answers from a script and records what
// it was asked.
type recordingStore struct {
	calls [][]string
	err   error
}

func (s *recordingStore) TakeEach(_ context.Context, buckets ...ratelimit.Bucket) (bool, time.Duration, error) {
	var keys []string
	for _, b := range buckets {
		keys = append(keys, fmt.Sprintf("%s/%d/%s", b.Key, b.Burst, b.Every))
	}
	s.calls = append(s.calls, keys)
	return s.err == nil, 0, s.err
}

func (s *recordingStore) Reset(context.Context, string) error { return nil }

// Limiters sharing a store take their tokens in one call; should the store
// fail, the process's buckets decide.
func TestAllowEachSharesOneStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := &recordingStore{}
	visitor, company := NewLimiter(3, time.Hour), NewLimiter(2, time.Minute)
	visitor.Share(st)
	company.Share(st)
	require.True(t, first(AllowEach(ctx, Take{visitor, "v"}, Take{company, "c"})))
	require.Equal(t, [][]string{{"v/3/1h0m0s", "c/2/1m0s"}}, st.calls)

	st.err = errors.New("database down")
	for range 2 {
		require.True(t, first(AllowEach(ctx, Take{visitor, "v"}, Take{company, "c"})))
	}
	require.False(t, first(AllowEach(ctx, Take{visitor, "v"}, Take{company, "c"})), "the local company bucket (2) is empty")
	require.Len(t, st.calls, 4)
}
