package realtime

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// wakerConsumer takes values from ch through a waker, checking that each
// take finds a value or the channel's end without waiting, and that takes
// never overlap.
type wakerConsumer struct {
	t       *testing.T
	ch      chan int
	got     []int
	running atomic.Int32
	takes   atomic.Int64
	ended   chan struct{}
}

func (c *wakerConsumer) take() bool {
	if c.running.Add(1) != 1 {
		c.t.Error("two takes at once")
	}
	defer c.running.Add(-1)
	c.takes.Add(1)
	select {
	case v, ok := <-c.ch:
		if !ok {
			close(c.ended)
			return false
		}
		c.got = append(c.got, v)
		return true
	default:
		c.t.Error("take called with nothing ready")
		return false
	}
}

func TestWakerTakesEachValueWithoutWaiting(t *testing.T) {
	for _, early := range []int{0, 3} { // values sent before Run
		w := NewWaker()
		ctx := WithWaker(context.Background(), w)
		require.Same(t, w, WakerFrom(ctx))
		c := &wakerConsumer{t: t, ch: make(chan int, 4), ended: make(chan struct{})}

		p := WakerFrom(ctx)
		p.Attach()
		require.True(t, w.Attached())
		const total = 20000
		for i := range early {
			c.ch <- i
			p.Ready()
		}
		produced := make(chan struct{})
		go func() {
			defer close(produced)
			for i := early; i < total; i++ {
				c.ch <- i
				p.Ready()
				if i%1000 == 0 {
					time.Sleep(time.Millisecond) // let the consumer rest
				}
			}
			close(c.ch)
			p.Ready()
		}()
		w.Run(c.take)
		<-produced
		select {
		case <-c.ended:
		case <-time.After(10 * time.Second):
			t.Fatal("the consumer did not see the end")
		}
		// Ready after the end only counts (the consumer's context ending).
		w.Ready()
		w.Ready()
		require.Eventually(t, func() bool { return w.worker.pending.Load() == 0 }, 5*time.Second, time.Millisecond)
		require.EqualValues(t, total+1, c.takes.Load(), "one take per value and one for the end")
		require.Len(t, c.got, total)
		for i, v := range c.got {
			if v != i {
				t.Fatalf("value %d is %d: out of order", i, v)
			}
		}
	}
}

func TestWakerWithoutProducer(t *testing.T) {
	var w *Waker = WakerFrom(context.Background())
	require.Nil(t, w)
	w.Attach() // a nil waker does nothing
	w.Ready()
	require.False(t, w.Attached())

	w = NewWaker()
	require.False(t, w.Attached(), "a producer that does not attach is read the old way")
}
