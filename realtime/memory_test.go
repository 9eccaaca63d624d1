package realtime_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
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
	topic := realtime.CompanyTopic(uuid.New(), "inbox")
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
	topic := realtime.ConversationTopic(uuid.New(), uuid.New())

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
