package server_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"concierge/account"
	"concierge/apitest"
	"concierge/dbtest"
)

// BenchmarkSubscriptionMemory measures what an open subscription costs the
// server (heap and goroutine stacks), for subscriptions sharing WebSocket
// connections (an agent's dashboard follows many) and for one WebSocket per
// subscription (a widget). Client and server share the process; the
// client's side of a shared connection is a few bytes per subscription.
//
//	go test ./server -run '^$' -bench SubscriptionMemory -benchtime 1x
func BenchmarkSubscriptionMemory(b *testing.B) {
	for _, c := range []struct{ conns, perConn int }{{20, 250}, {2000, 1}} {
		b.Run(fmt.Sprintf("conns=%d/subs=%d", c.conns, c.perConn), func(b *testing.B) {
			d := dbtest.Open(b, "sqlite3")
			cfg := unlimited()
			cfg.WSMaxSubsPerConn = 1000
			e := apitest.NewWithConfig(b, d, cfg)
			a := e.Register("alpha")
			mem := func() (uint64, int) {
				runtime.GC()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				return ms.HeapInuse + ms.StackInuse, runtime.NumGoroutine()
			}
			time.Sleep(500 * time.Millisecond)
			m0, g0 := mem()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			wsURL := "ws" + strings.TrimPrefix(e.URL, "http")
			var conns []*websocket.Conn
			for range c.conns {
				conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
				require.NoError(b, err)
				conns = append(conns, conn)
				require.NoError(b, wsjson.Write(ctx, conn, map[string]any{"type": "connection_init",
					"payload": map[string]any{"authorization": "Bearer " + a.AgentToken}}))
				var ack map[string]any
				require.NoError(b, wsjson.Read(ctx, conn, &ack))
				for i := range c.perConn {
					require.NoError(b, wsjson.Write(ctx, conn, map[string]any{"id": fmt.Sprint(i), "type": "subscribe",
						"payload": map[string]any{"query": `subscription { companyEvents { kind } }`}}))
				}
				go func() { // read (pings) until closed
					for {
						var m map[string]any
						if wsjson.Read(ctx, conn, &m) != nil {
							return
						}
						if m["type"] == "ping" {
							_ = wsjson.Write(ctx, conn, map[string]any{"type": "pong"})
						}
					}
				}()
			}
			n := c.conns * c.perConn
			require.Eventually(b, func() bool {
				return e.App.Broker.(interface{ Subscribers(string) int }).Subscribers(account.CompanyTopic(a.CompanyID)) == n
			}, 60*time.Second, 50*time.Millisecond)
			m1, g1 := mem()
			b.ReportMetric(float64(m1-m0)/float64(n)/1024, "KB/sub")
			b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/sub")
			for _, conn := range conns {
				conn.CloseNow()
			}
		})
	}
}
