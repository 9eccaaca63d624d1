package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/realtime"
)

// testBroker is what the shared tests need of a broker.
type testBroker interface {
	realtime.Broker
	Subscribers(topic realtime.Topic) int
	Stats() realtime.Stats
}

var (
	_ testBroker = (*realtime.Memory)(nil)
	_ testBroker = (*realtime.Postgres)(nil)
)

// eachBroker runs fn as parallel subtests "memory" and "postgres"; newBroker
// returns a fresh broker of that kind (buffer 0: the default), closed when
// the test ends. The PostgreSQL one has a NOTIFY channel of its own, and is
// skipped when the server is unreachable (unless CI is set).
func eachBroker(t *testing.T, fn func(t *testing.T, newBroker func(buffer int) testBroker)) {
	t.Helper()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		fn(t, func(buffer int) testBroker {
			b := realtime.NewMemory(realtime.WithBufferSize(buffer))
			t.Cleanup(func() { _ = b.Close() })
			return b
		})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, func(buffer int) testBroker {
			return newPostgres(t, realtime.PostgresOptions{BufferSize: buffer})
		})
	})
}

// bound returns a context that fails the test instead of hanging it.
func bound(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// receive reads one event or fails when ctx is done or the channel closed.
func receive(ctx context.Context, t *testing.T, sub *realtime.Subscription) string {
	t.Helper()
	select {
	case p, ok := <-sub.C():
		require.True(t, ok, "channel closed early: %v", sub.Err())
		return string(p)
	case <-ctx.Done():
		t.Fatal("timed out waiting for an event")
		return ""
	}
}

// waitClosed drains the channel until it is closed, returning what was left in it.
func waitClosed(ctx context.Context, t *testing.T, sub *realtime.Subscription) []string {
	t.Helper()
	var rest []string
	for {
		select {
		case p, ok := <-sub.C():
			if !ok {
				return rest
			}
			rest = append(rest, string(p))
		case <-ctx.Done():
			t.Fatal("timed out waiting for the channel to close")
		}
	}
}

// publish runs Publish and fails the test if it does not return in time.
func publish(ctx context.Context, t *testing.T, b realtime.Broker, topic realtime.Topic, payload string) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- b.Publish(ctx, topic, []byte(payload)) }()
	select {
	case err := <-errc:
		require.NoError(t, err)
	case <-ctx.Done():
		t.Fatal("Publish blocked")
	}
}

func TestDeliversInOrderToEverySubscriber(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, newBroker func(buffer int) testBroker) {
		ctx := bound(t)
		b := newBroker(0)
		t.Cleanup(func() { _ = b.Close() })
		topic := inboxTopic(uuid.New())

		subs := make([]*realtime.Subscription, 3)
		for i := range subs {
			var err error
			subs[i], err = b.Subscribe(ctx, topic)
			require.NoError(t, err)
		}
		require.Equal(t, 3, b.Subscribers(topic))

		const n = 100 // below the default buffer: nobody lags
		for i := range n {
			require.NoError(t, b.Publish(ctx, topic, []byte(strconv.Itoa(i))))
		}
		for _, sub := range subs {
			for i := range n {
				require.Equal(t, strconv.Itoa(i), receive(ctx, t, sub))
			}
			require.NoError(t, sub.Err())
		}
		require.EqualValues(t, len(subs)*n, b.Stats().Delivered)
		require.Zero(t, b.Stats().Dropped)
	})
}

func TestPayloadIsCopied(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, newBroker func(buffer int) testBroker) {
		ctx := bound(t)
		b := newBroker(0)
		t.Cleanup(func() { _ = b.Close() })
		topic := inboxTopic(uuid.New())
		sub, err := b.Subscribe(ctx, topic)
		require.NoError(t, err)

		buf := []byte("first")
		require.NoError(t, b.Publish(ctx, topic, buf))
		copy(buf, "XXXXX")
		require.Equal(t, "first", receive(ctx, t, sub))
	})
}

func TestPublishJSON(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, newBroker func(buffer int) testBroker) {
		ctx := bound(t)
		b := newBroker(0)
		t.Cleanup(func() { _ = b.Close() })
		topic := convTopic(uuid.New(), uuid.New())
		sub, err := b.Subscribe(ctx, topic)
		require.NoError(t, err)

		require.NoError(t, realtime.PublishJSON(ctx, b, topic, map[string]any{"kind": "TYPING", "typing": true}))
		require.JSONEq(t, `{"kind":"TYPING","typing":true}`, receive(ctx, t, sub))
		require.Error(t, realtime.PublishJSON(ctx, b, topic, make(chan int)))
	})
}

func TestTopicsAreIsolatedByCompany(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, newBroker func(buffer int) testBroker) {
		ctx := bound(t)
		b := newBroker(0)
		t.Cleanup(func() { _ = b.Close() })
		companyA, companyB := uuid.New(), uuid.New()
		conv := uuid.New() // the same conversation id under two companies must not collide

		subA, err := b.Subscribe(ctx, inboxTopic(companyA))
		require.NoError(t, err)
		convA, err := b.Subscribe(ctx, convTopic(companyA, conv))
		require.NoError(t, err)

		require.NoError(t, b.Publish(ctx, inboxTopic(companyB), []byte("b-inbox")))
		require.NoError(t, b.Publish(ctx, convTopic(companyB, conv), []byte("b-conv")))
		require.NoError(t, b.Publish(ctx, resourcesTopic(companyA), []byte("a-resources")))
		require.NoError(t, b.Publish(ctx, inboxTopic(companyA), []byte("a-inbox")))
		require.NoError(t, b.Publish(ctx, convTopic(companyA, conv), []byte("a-conv")))

		// Events reach subscribers in publish order, across topics too (Memory
		// delivers in Publish; Postgres through one channel in commit order), so
		// anything misrouted is already buffered ahead of the expected event.
		require.Equal(t, "a-inbox", receive(ctx, t, subA))
		require.Equal(t, "a-conv", receive(ctx, t, convA))
		require.Empty(t, subA.C())
		require.Empty(t, convA.C())
	})
}

func TestLaggingSubscriberIsDroppedWithoutBlocking(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, newBroker func(buffer int) testBroker) {
		ctx := bound(t)
		const buffer = 4
		b := newBroker(buffer)
		t.Cleanup(func() { _ = b.Close() })
		topic := convTopic(uuid.New(), uuid.New())

		slow, err := b.Subscribe(ctx, topic) // never reads
		require.NoError(t, err)
		fast, err := b.Subscribe(ctx, topic)
		require.NoError(t, err)

		const n = 3 * buffer
		for i := range n {
			publish(ctx, t, b, topic, strconv.Itoa(i))
			require.Equal(t, strconv.Itoa(i), receive(ctx, t, fast))
		}

		// The slow subscriber keeps what was buffered before it lagged, then ends.
		rest := waitClosed(ctx, t, slow)
		require.Equal(t, []string{"0", "1", "2", "3"}, rest)
		require.ErrorIs(t, slow.Err(), realtime.ErrLagged)
		require.NoError(t, fast.Err())
		require.Equal(t, 1, b.Subscribers(topic))
		require.EqualValues(t, 1, b.Stats().Dropped)
	})
}

func TestContextCancelUnsubscribes(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, newBroker func(buffer int) testBroker) {
		ctx := bound(t)
		b := newBroker(0)
		t.Cleanup(func() { _ = b.Close() })
		topic := inboxTopic(uuid.New())

		subCtx, cancel := context.WithCancel(ctx)
		sub, err := b.Subscribe(subCtx, topic)
		require.NoError(t, err)
		other, err := b.Subscribe(ctx, topic)
		require.NoError(t, err)
		require.Equal(t, 2, b.Subscribers(topic))

		cancel()
		require.Empty(t, waitClosed(ctx, t, sub))
		require.ErrorIs(t, sub.Err(), context.Canceled)
		require.Equal(t, 1, b.Subscribers(topic))

		require.NoError(t, b.Publish(ctx, topic, []byte("still here")))
		require.Equal(t, "still here", receive(ctx, t, other))

		_, err = b.Subscribe(subCtx, topic)
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestSubscriptionClose(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, newBroker func(buffer int) testBroker) {
		ctx := bound(t)
		b := newBroker(0)
		t.Cleanup(func() { _ = b.Close() })
		topic := inboxTopic(uuid.New())

		sub, err := b.Subscribe(ctx, topic)
		require.NoError(t, err)
		sub.Close()
		sub.Close() // idempotent
		require.Empty(t, waitClosed(ctx, t, sub))
		require.ErrorIs(t, sub.Err(), realtime.ErrClosed)
		require.Zero(t, b.Subscribers(topic))
		require.NoError(t, b.Publish(ctx, topic, []byte("nobody listens")))
	})
}

func TestBrokerCloseClosesAll(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, newBroker func(buffer int) testBroker) {
		ctx := bound(t)
		b := newBroker(0)
		company := uuid.New()

		var subs []*realtime.Subscription
		for _, topic := range []realtime.Topic{
			inboxTopic(company),
			resourcesTopic(company),
			convTopic(company, uuid.New()),
		} {
			sub, err := b.Subscribe(ctx, topic)
			require.NoError(t, err)
			subs = append(subs, sub)
		}

		require.NoError(t, b.Close())
		require.NoError(t, b.Close()) // idempotent
		for _, sub := range subs {
			require.Empty(t, waitClosed(ctx, t, sub))
			require.ErrorIs(t, sub.Err(), realtime.ErrClosed)
			sub.Close() // after the broker: still safe
		}
		require.ErrorIs(t, b.Publish(ctx, inboxTopic(company), nil), realtime.ErrClosed)
		_, err := b.Subscribe(ctx, inboxTopic(company))
		require.ErrorIs(t, err, realtime.ErrClosed)
	})
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, newBroker func(buffer int) testBroker) {
		ctx := bound(t)
		b := newBroker(8)
		company := uuid.New()
		topics := []realtime.Topic{
			inboxTopic(company),
			convTopic(company, uuid.New()),
		}

		var wg, publishers sync.WaitGroup
		for p := range 4 {
			publishers.Go(func() {
				for i := range 500 {
					err := b.Publish(ctx, topics[i%len(topics)], []byte(fmt.Sprintf("%d-%d", p, i)))
					if err != nil && !errors.Is(err, realtime.ErrClosed) {
						t.Errorf("publish: %v", err)
						return
					}
				}
			})
		}
		for s := range 16 {
			wg.Go(func() {
				for i := range 50 {
					subCtx, cancel := context.WithCancel(ctx)
					sub, err := b.Subscribe(subCtx, topics[(s+i)%len(topics)])
					if err != nil {
						cancel()
						if !errors.Is(err, realtime.ErrClosed) {
							t.Errorf("subscribe: %v", err)
						}
						return
					}
					for range i % 5 { // read a little, sometimes lag
						if _, ok := <-sub.C(); !ok {
							break
						}
					}
					// End it by cancel only, Close then cancel, or cancel then Close.
					if i%3 == 1 {
						sub.Close()
					}
					cancel()
					if i%3 == 2 {
						sub.Close()
					}
					for range sub.C() { // must end
					}
					if sub.Err() == nil {
						t.Errorf("closed subscription without an error")
					}
				}
			})
		}
		// Close the broker while subscribers are still coming and going; that also
		// ends reads still waiting for events.
		publishers.Wait()
		require.NoError(t, b.Close())
		wg.Wait()
		require.Zero(t, b.Subscribers(topics[0]))
		require.Zero(t, b.Subscribers(topics[1]))
	})
}

func TestErrGapIsErrLagged(t *testing.T) {
	t.Parallel()
	require.ErrorIs(t, realtime.ErrGap, realtime.ErrLagged)
	require.ErrorIs(t, realtime.ErrGap, realtime.ErrGap)
	require.NotErrorIs(t, realtime.ErrLagged, realtime.ErrGap)
	require.NotErrorIs(t, realtime.ErrGap, realtime.ErrClosed)
	wrapped := fmt.Errorf("inbox: %w", realtime.ErrGap)
	require.ErrorIs(t, wrapped, realtime.ErrLagged)
	require.ErrorIs(t, wrapped, realtime.ErrGap)
	require.Equal(t, "realtime: events may have been missed; resubscribe and replay", realtime.ErrGap.Error())
}

// PublishAll sends its events in order, identical ones included, and none
// of them when one cannot be sent (Postgres checks them all first).
func TestPublishAll(t *testing.T) {
	eachBroker(t, func(t *testing.T, newBroker func(int) testBroker) {
		ctx := bound(t)
		b := newBroker(0)
		company := uuid.New()
		conv, inbox := convTopic(company, uuid.New()), inboxTopic(company)
		subConv, err := b.Subscribe(ctx, conv)
		require.NoError(t, err)
		subInbox, err := b.Subscribe(ctx, inbox)
		require.NoError(t, err)
		publish := func(events ...any) error { // topic, payload, ...
			var envs []realtime.Envelope
			for i := 0; i < len(events); i += 2 {
				envs = append(envs, realtime.Envelope{Topic: events[i].(realtime.Topic), Payload: []byte(events[i+1].(string))})
			}
			return realtime.PublishAll(ctx, b, envs...)
		}

		require.NoError(t, publish(conv, "1", inbox, "a", conv, "2"))
		require.NoError(t, publish(conv, "3", conv, "3"))
		if _, ok := b.(*realtime.Postgres); ok {
			require.Error(t, publish(conv, "never", inbox, "a\x00b"))
		}
		require.NoError(t, publish(conv, "end", inbox, "end"))
		expectSequence(ctx, t, subConv, []string{"1", "2", "3", "3", "end"})
		expectSequence(ctx, t, subInbox, []string{"a", "end"})
		require.Empty(t, subConv.C())
		require.Empty(t, subInbox.C())
	})
}
