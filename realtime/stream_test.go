package realtime_test

import (
	"bytes"
	"context"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/realtime"
)

// store is a stand-in for the database a stream replays from: numbered
// events, each stored before it is published (as chat's messages are).
type store struct {
	mu     sync.Mutex
	events []int // 1, 2, 3, ...
}

func (s *store) add(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, n)
}

// after returns the stored events after n, up to upTo (0: all).
func (s *store) after(n, upTo int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for _, e := range s.events {
		if e > n && (upTo == 0 || e <= upTo) {
			out = append(out, e)
		}
	}
	return out
}

// counter is a subscriber's stream of the store's events: replayed after
// its cursor, then live, a live event past a gap preceded by the gap.
type counter struct {
	db       *store
	last     int
	replays  atomic.Int32
	resyncs  atomic.Int32
	batches  atomic.Int32
	maxBatch atomic.Int32
	done     chan struct{}
}

func newCounter(db *store, after int) *counter {
	return &counter{db: db, last: after, done: make(chan struct{})}
}

func (c *counter) catchUp(upTo int, send func(int) bool) bool {
	for _, n := range c.db.after(c.last, upTo) {
		if !send(n) {
			return false
		}
		c.last = n
	}
	return true
}

func (c *counter) source(b realtime.Broker, topic realtime.Topic, batch int) realtime.Source[int] {
	return realtime.Source[int]{
		Broker: b, Topic: topic, Batch: batch,
		Replay: func(_ context.Context, send func(int) bool) bool {
			c.replays.Add(1)
			return c.catchUp(0, send)
		},
		Live: func(_ context.Context, ps [][]byte, send func(int) bool) bool {
			c.batches.Add(1)
			if int32(len(ps)) > c.maxBatch.Load() {
				c.maxBatch.Store(int32(len(ps)))
			}
			for _, p := range ps {
				n, err := strconv.Atoi(string(p))
				if err != nil || n <= c.last {
					continue
				}
				if n > c.last+1 && !c.catchUp(n-1, send) {
					return false
				}
				if !send(n) {
					return false
				}
				c.last = n
			}
			return true
		},
		Resynced: func() { c.resyncs.Add(1) },
		Done:     func() { close(c.done) },
	}
}

// add stores event n and publishes it.
func add(ctx context.Context, t *testing.T, b realtime.Broker, topic realtime.Topic, db *store, n int) {
	t.Helper()
	db.add(n)
	require.NoError(t, b.Publish(ctx, topic, []byte(strconv.Itoa(n))))
}

// next receives one value or fails.
func next(t *testing.T, ch <-chan int) int {
	t.Helper()
	select {
	case n, ok := <-ch:
		require.True(t, ok, "the stream ended early")
		return n
	case <-time.After(5 * time.Second):
		t.Fatal("no value in time")
		return 0
	}
}

// streamGoroutines counts the goroutines running a Stream's worker.
func streamGoroutines() int {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
	n := 0
	for _, g := range strings.Split(buf.String(), "\n\n") {
		if strings.Contains(g, "concierge/realtime.(*stream[") || strings.Contains(g, "realtime_test.(*counter)") {
			n++
		}
	}
	return n
}

func TestStreamReplaysThenLive(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, newBroker func(int) testBroker) {
		ctx := bound(t)
		b := newBroker(0)
		topic := convTopic(uuid.New(), uuid.New())
		db := &store{}
		for n := 1; n <= 5; n++ {
			db.add(n) // stored before anyone follows
		}

		c := newCounter(db, 2) // the client has seen up to 2
		ch, err := realtime.Stream(ctx, c.source(b, topic, 1))
		require.NoError(t, err)
		require.Equal(t, 1, b.Subscribers(topic), "subscribed before Stream returns: nothing published after is missed")
		add(ctx, t, b, topic, db, 6)
		add(ctx, t, b, topic, db, 7)
		// 8 is stored but its event is lost: 9 brings it from the store.
		db.add(8)
		add(ctx, t, b, topic, db, 9)
		for want := 3; want <= 9; want++ {
			require.Equal(t, want, next(t, ch), "replayed (3-5), then live (6, 7, 9) with 8 caught up, once each and in order")
		}
		require.EqualValues(t, 1, c.replays.Load())
		require.Zero(t, c.resyncs.Load())

		// Waiting, the stream holds no goroutine.
		require.Eventually(t, func() bool { return streamGoroutines() == 0 }, 5*time.Second, 10*time.Millisecond)
		add(ctx, t, b, topic, db, 10)
		require.Equal(t, 10, next(t, ch))
		select {
		case n := <-ch:
			t.Fatalf("unexpected %d", n)
		case <-time.After(50 * time.Millisecond):
		}
	})
}

func TestStreamCatchesUpAfterLag(t *testing.T) {
	t.Parallel()
	eachBroker(t, func(t *testing.T, newBroker func(int) testBroker) {
		ctx := bound(t)
		b := newBroker(2) // two events queued at most
		topic := inboxTopic(uuid.New())
		db := &store{}
		c := newCounter(db, 0)
		ch, err := realtime.Stream(ctx, c.source(b, topic, 4))
		require.NoError(t, err)

		// The client reads nothing while 100 events come: the stream's
		// channel fills, then its subscription's buffer, and the broker
		// drops it.
		const total = 100
		for n := 1; n <= total; n++ {
			add(ctx, t, b, topic, db, n)
		}
		require.Eventually(t, func() bool { return c.resyncs.Load() > 0 || b.Stats().Dropped > 0 }, 5*time.Second, time.Millisecond)
		for want := 1; want <= total; want++ {
			require.Equal(t, want, next(t, ch), "every event, once, in order")
		}
		require.Positive(t, b.Stats().Dropped, "the subscriber was dropped")
		// (The first replay may have sent everything already, when the
		// worker started late: the resubscription may follow the reads.)
		require.Eventually(t, func() bool { return c.resyncs.Load() > 0 && b.Subscribers(topic) == 1 }, 5*time.Second, time.Millisecond,
			"and resubscribed")
		require.Eventually(t, func() bool { return c.replays.Load() == c.resyncs.Load()+1 }, 5*time.Second, time.Millisecond,
			"replaying after each resubscription")
		require.LessOrEqual(t, c.maxBatch.Load(), int32(4), "batches of Batch at most")

		// Live again after the catch-up.
		add(ctx, t, b, topic, db, total+1)
		require.Equal(t, total+1, next(t, ch))
	})
}

func TestStreamWithoutReplayEndsOnLag(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	b := realtime.NewMemory(realtime.WithBufferSize(1))
	defer b.Close()
	topic := resourcesTopic(uuid.New())
	done := make(chan struct{})
	ch, err := realtime.Stream(ctx, realtime.Source[string]{
		Broker: b, Topic: topic,
		Live: func(_ context.Context, ps [][]byte, send func(string) bool) bool { return send(string(ps[0])) },
		Done: func() { close(done) },
	})
	require.NoError(t, err)
	for i := range 10 {
		require.NoError(t, b.Publish(ctx, topic, []byte(strconv.Itoa(i))))
	}
	var got []string
	for s := range ch {
		got = append(got, s)
	}
	require.NotEmpty(t, got)
	require.Less(t, len(got), 10, "a lag with nothing to replay from ends the stream (the client resubscribes)")
	<-done
	require.Zero(t, b.Subscribers(topic))
}

func TestStreamLiveEnds(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	b := realtime.NewMemory()
	defer b.Close()
	topic := resourcesTopic(uuid.New())
	ch, err := realtime.Stream(ctx, realtime.Source[string]{
		Broker: b, Topic: topic,
		Live: func(_ context.Context, ps [][]byte, send func(string) bool) bool {
			return string(ps[0]) != "stop" && send(string(ps[0]))
		},
	})
	require.NoError(t, err)
	require.NoError(t, b.Publish(ctx, topic, []byte("a")))
	require.NoError(t, b.Publish(ctx, topic, []byte("stop")))
	require.NoError(t, b.Publish(ctx, topic, []byte("b")))
	var got []string
	for s := range ch {
		got = append(got, s)
	}
	require.Equal(t, []string{"a"}, got)
	require.Eventually(t, func() bool { return b.Subscribers(topic) == 0 }, 5*time.Second, time.Millisecond)

	_, err = realtime.Stream(ctx, realtime.Source[string]{Broker: b, Topic: topic})
	require.Error(t, err, "Live is required")
	_, err = realtime.Stream(ctx, realtime.Source[string]{Broker: b, Live: func(context.Context, [][]byte, func(string) bool) bool { return true }})
	require.Error(t, err, "the zero topic is refused")
}

// TestStreamCancelFreesEverything: when the subscriber leaves (its context
// ends), streams waiting, streams blocked sending to a client that does
// not read, and streams in the middle of a replay all end: channels
// closed, subscriptions gone, Done called, no goroutine left.
func TestStreamCancelFreesEverything(t *testing.T) {
	ctx := bound(t)
	b := realtime.NewMemory(realtime.WithBufferSize(4))
	defer b.Close()
	topic := inboxTopic(uuid.New())
	db := &store{}
	for n := 1; n <= 50; n++ {
		db.add(n)
	}
	before := runtime.NumGoroutine()

	subCtx, cancel := context.WithCancel(ctx)
	const streams = 60
	var counters []*counter
	var chans []<-chan int
	for i := range streams {
		after := 50 // waiting: nothing to replay
		if i%3 == 1 {
			after = 0 // blocked in its replay: the client reads nothing
		}
		c := newCounter(db, after)
		ch, err := realtime.Stream(subCtx, c.source(b, topic, 2))
		require.NoError(t, err)
		counters, chans = append(counters, c), append(chans, ch)
	}
	require.Equal(t, streams, b.Subscribers(topic))
	for n := 51; n <= 60; n++ {
		add(ctx, t, b, topic, db, n) // blocks some in send, drops others
	}
	for i, ch := range chans {
		if i%3 == 2 {
			require.Equal(t, 51, next(t, ch)) // some read a little
		}
	}

	cancel()
	for i, ch := range chans {
		deadline := time.After(5 * time.Second)
	drain:
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					break drain
				}
			case <-deadline:
				t.Fatalf("stream %d not closed", i)
			}
		}
		select {
		case <-counters[i].done:
		case <-time.After(5 * time.Second):
			t.Fatalf("stream %d: Done not called", i)
		}
	}
	require.Zero(t, b.Subscribers(topic))
	ok := false
	for deadline := time.Now().Add(5 * time.Second); !ok && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		ok = streamGoroutines() == 0 && runtime.NumGoroutine() <= before
	}
	if !ok {
		var buf bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Fatalf("goroutines: %d before, %d now, %d in streams\n%s", before, runtime.NumGoroutine(), streamGoroutines(), buf.String())
	}
}

// TestStreamTellsItsWaker: a transport that puts a waker in the context
// is told of every value and of the end, and reads without a goroutine
// parked on the channel.
func TestStreamTellsItsWaker(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(bound(t))
	b := realtime.NewMemory()
	defer b.Close()
	topic := resourcesTopic(uuid.New())
	w := realtime.NewWaker()
	ch, err := realtime.Stream(realtime.WithWaker(ctx, w), realtime.Source[string]{
		Broker: b, Topic: topic,
		Live: func(_ context.Context, ps [][]byte, send func(string) bool) bool { return send(string(ps[0])) },
	})
	require.NoError(t, err)
	require.True(t, w.Attached())

	got := make(chan string, 10)
	closed := make(chan struct{})
	w.Run(func() bool {
		select {
		case s, ok := <-ch:
			if !ok {
				close(closed)
				return false
			}
			got <- s
			return true
		default:
			t.Error("woken with nothing to take")
			return false
		}
	})
	require.NoError(t, b.Publish(ctx, topic, []byte("a")))
	require.NoError(t, b.Publish(ctx, topic, []byte("b")))
	require.Equal(t, "a", <-got)
	require.Equal(t, "b", <-got)
	cancel()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the end was not told")
	}
}
