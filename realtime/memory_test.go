package realtime_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/realtime"
)

// TestNoGoroutineLeak is deliberately not parallel: Go runs it while every
// parallel test is still paused, so the goroutine count is stable.
func TestNoGoroutineLeak(t *testing.T) {
	ctx := bound(t)
	before := runtime.NumGoroutine()

	b := realtime.NewMemory(realtime.WithBufferSize(1))
	topic := inboxTopic(uuid.New())
	var cancels []context.CancelFunc
	var subs []*realtime.Subscription
	for range 50 {
		subCtx, cancel := context.WithCancel(ctx)
		sub, err := b.Subscribe(subCtx, topic)
		require.NoError(t, err)
		cancels = append(cancels, cancel)
		subs = append(subs, sub)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before+2, "no goroutine per subscription")

	// End subscriptions every way there is: cancel, Close, lag, broker Close.
	for i := range 10 {
		cancels[i]()
	}
	for i := 10; i < 20; i++ {
		subs[i].Close()
	}
	require.NoError(t, b.Publish(ctx, topic, []byte("1")))
	for i := 20; i < 30; i++ { // these drain and keep up, the others lag
		<-subs[i].C()
	}
	require.NoError(t, b.Publish(ctx, topic, []byte("2")))
	require.NoError(t, b.Close())
	for _, sub := range subs {
		waitClosed(ctx, t, sub)
	}

	for runtime.NumGoroutine() > before {
		select {
		case <-ctx.Done():
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: before %d, after %d\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		case <-time.After(10 * time.Millisecond):
		}
	}
	for _, cancel := range cancels {
		cancel()
	}
}

func BenchmarkPublish(b *testing.B) {
	ctx := b.Context()
	broker := realtime.NewMemory(realtime.WithBufferSize(4096))
	defer broker.Close()
	topic := convTopic(uuid.New(), uuid.New())

	const subscribers = 100
	var wg sync.WaitGroup
	subs := make([]*realtime.Subscription, subscribers)
	for i := range subs {
		sub, err := broker.Subscribe(ctx, topic)
		require.NoError(b, err)
		subs[i] = sub
		wg.Go(func() {
			for range sub.C() {
			}
		})
	}
	payload := []byte(`{"kind":"MESSAGE_DELTA","delta":"hello, how can I help you today?"}`)

	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := broker.Publish(ctx, topic, payload); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()

	lagged := 0
	for _, sub := range subs {
		if errors.Is(sub.Err(), realtime.ErrLagged) {
			lagged++
		}
	}
	b.ReportMetric(float64(lagged), "lagged")
	broker.Close()
	wg.Wait()
}

// TestNotify: the callback runs once when set, after each queued event and
// when the subscription ends (however it ends), so a consumer can read the
// channel only when woken and never miss an event or the end.
func TestNotify(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	b := realtime.NewMemory(realtime.WithBufferSize(2))
	defer b.Close()
	topic := inboxTopic(uuid.New())
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub, err := b.Subscribe(subCtx, topic)
	require.NoError(t, err)
	require.NoError(t, b.Publish(ctx, topic, []byte("before")))
	var woken atomic.Int32
	sub.Notify(func() { woken.Add(1) })
	require.EqualValues(t, 1, woken.Load(), "once when set (an event may already wait)")
	require.Equal(t, "before", string(<-sub.C()))

	require.NoError(t, b.Publish(ctx, topic, []byte("a")))
	require.NoError(t, b.Publish(ctx, topic, []byte("b")))
	require.EqualValues(t, 3, woken.Load(), "after each queued event")
	require.NoError(t, b.Publish(ctx, topic, []byte("c"))) // the buffer is full: the subscription lags
	require.EqualValues(t, 4, woken.Load(), "when it ends")
	require.ErrorIs(t, sub.Err(), realtime.ErrLagged)
	require.Equal(t, "a", string(<-sub.C()))
	require.Equal(t, "b", string(<-sub.C()))
	_, open := <-sub.C()
	require.False(t, open)

	sub2, err := b.Subscribe(subCtx, topic)
	require.NoError(t, err)
	var woken2 atomic.Int32
	sub2.Notify(func() { woken2.Add(1) })
	cancel()
	require.Eventually(t, func() bool { return woken2.Load() == 2 }, 5*time.Second, time.Millisecond,
		"a cancelled subscription wakes its consumer")
}

// A subscription with a BufferFactor holds that many times the broker's
// buffer before it lags; the others keep the broker's.
func TestBufferFactor(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	b := realtime.NewMemory(realtime.WithBufferSize(4))
	defer b.Close()
	topic := inboxTopic(uuid.New())
	plain, err := b.Subscribe(ctx, topic)
	require.NoError(t, err)
	big, err := b.Subscribe(ctx, topic, realtime.BufferFactor(3))
	require.NoError(t, err)
	for i := range 12 {
		require.NoError(t, b.Publish(ctx, topic, []byte{byte(i)}))
	}
	require.ErrorIs(t, plain.Err(), realtime.ErrLagged, "4 events fill the broker's buffer")
	require.NoError(t, big.Err(), "12 fit in 3 times the buffer")
	require.Len(t, big.C(), 12)
	require.NoError(t, b.Publish(ctx, topic, []byte("one more")))
	require.ErrorIs(t, big.Err(), realtime.ErrLagged)
}
