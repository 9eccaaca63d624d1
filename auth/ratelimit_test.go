package auth

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
