package realtime

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A worker's runs never overlap, each wake-up is followed by a run that
// sees what was queued before it, and a worker that is done runs no more.
func TestWorkerRunsAfterEveryWake(t *testing.T) {
	var (
		queued, handled atomic.Int64
		running         atomic.Int32
		runs            atomic.Int64
	)
	const stopAt = 5000
	w := NewWorker(func() bool {
		if running.Add(1) != 1 {
			t.Error("two runs at once")
		}
		defer running.Add(-1)
		runs.Add(1)
		handled.Store(queued.Load()) // takes everything queued so far
		return handled.Load() < stopAt
	})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				queued.Add(1)
				w.Wake()
			}
		}()
	}
	wg.Wait()
	require.Eventually(t, func() bool { return w.pending.Load() == 0 }, 5*time.Second, time.Millisecond)
	require.EqualValues(t, 4000, handled.Load(), "the last wake-up's run saw everything queued")

	// Done: wake-ups only count from now on.
	queued.Add(stopAt)
	w.Wake()
	require.Eventually(t, func() bool { return w.pending.Load() == 0 }, 5*time.Second, time.Millisecond)
	n := runs.Load()
	w.Wake()
	w.Wake()
	require.Eventually(t, func() bool { return w.pending.Load() == 0 }, 5*time.Second, time.Millisecond)
	require.Equal(t, n, runs.Load(), "a worker that is done runs no more")
}
