package server_test

import (
	"bytes"
	"fmt"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"concierge/account"
	"concierge/apitest"
	"concierge/dbtest"
	"concierge/realtime"
	"concierge/server"
)

// TestSubscriptionsDoNotLeak opens and closes 10,000 subscriptions (100
// connections of 100 subscriptions, ten connections at a time; half of
// each connection's subscriptions are stopped by the client, the rest end
// with the connection) and checks that goroutines and heap come back to
// where they were.
func TestSubscriptionsDoNotLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 10,000 subscriptions")
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < 4096 && lim.Max > lim.Cur {
		lim.Cur = min(lim.Max, 4096)
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	const (
		conns, perConn, together = 100, 100, 10
		goroutineMargin          = 20
		heapMargin               = 20 << 20
	)
	e := apitest.NewWithConfig(t, dbtest.Open(t, "sqlite3"), server.Config{WSMaxSubsPerConn: perConn})
	a := e.Register("alpha")
	topic := account.CompanyTopic(a.CompanyID)

	batch := func() {
		t.Helper()
		var wg sync.WaitGroup
		clients := make([]*wsClient, together)
		errs := make(chan error, together)
		for i := range together {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, _, err := wsDial(t, e, "")
				if err != nil {
					errs <- err
					return
				}
				if typ, err := c.init(a.AgentToken); err != nil || typ != "connection_ack" {
					errs <- fmt.Errorf("init: %s %v", typ, err)
					return
				}
				for id := range perConn {
					if err := c.subscribe(fmt.Sprint(id), companyEventsQ, nil); err != nil {
						errs <- err
						return
					}
				}
				clients[i] = c
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		e.WaitSubscribers(topic, together*perConn)
		for _, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range perConn / 2 {
					_ = c.send(map[string]any{"id": fmt.Sprint(id), "type": "complete"})
				}
				_ = c.conn.Close(websocket.StatusNormalClosure, "")
			}()
		}
		wg.Wait()
	}

	subscribers := func() int { return e.App.Broker.(interface{ Subscribers(realtime.Topic) int }).Subscribers(topic) }
	measure := func() (int, uint64) {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapAlloc
	}
	settle := func(goroutines int) (int, uint64) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			g, h := measure()
			if (subscribers() == 0 && g <= goroutines) || time.Now().After(deadline) {
				return g, h
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// wsGoroutines counts the goroutines of the GraphQL transport, the
	// WebSocket library and the broker: they must all go when the
	// subscriptions go (River's workers start in stages over the first
	// seconds and blur the total count).
	wsGoroutines := func() int {
		return goroutinesIn("TestSubscriptionsDoNotLeak",
			"99designs/gqlgen", "coder/websocket", "concierge/realtime", "concierge/server.", "concierge/account")
	}

	batch() // warm up: pools, caches, lazily started goroutines
	// Baseline: no subscriber left and the goroutine count steady for a
	// second.
	g0, h0 := measure()
	for steady, deadline := 0, time.Now().Add(15*time.Second); steady < 10 && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		g, h := measure()
		if subscribers() == 0 && g == g0 {
			steady++
		} else {
			steady = 0
		}
		g0, h0 = g, h
	}
	w0 := wsGoroutines()
	start := time.Now()
	for range conns / together {
		batch()
	}
	opened := time.Since(start)
	g1, h1 := settle(g0)
	w1 := wsGoroutines()
	heapDelta := int64(h1) - int64(h0)
	t.Logf("10,000 subscriptions opened and closed in %v; goroutines %d -> %d (%+d), of the transport and broker %d -> %d; heap %.1f MB -> %.1f MB (%+.1f MB); broker subscribers left %d",
		opened.Round(time.Millisecond), g0, g1, g1-g0, w0, w1, float64(h0)/(1<<20), float64(h1)/(1<<20), float64(heapDelta)/(1<<20), subscribers())
	if g1 > g0+goroutineMargin || w1 > w0 {
		var buf bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
		t.Logf("goroutines after:\n%s", buf.String())
	}
	require.Zero(t, subscribers(), "every subscription left the broker")
	require.LessOrEqual(t, w1, w0, "no transport or broker goroutine left behind")
	require.LessOrEqual(t, g1, g0+goroutineMargin, "goroutines came back")
	require.Less(t, heapDelta, int64(heapMargin), "heap came back")

	// The server still serves subscriptions afterwards.
	sub, err := e.Subscribe(a.AgentToken, companyEventsQ, nil)
	require.NoError(t, err)
	e.WaitSubscribers(topic, 1)
	sub.Close()
}
