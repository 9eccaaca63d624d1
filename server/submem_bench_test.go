package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/account"
	"concierge/apitest"
	"concierge/chat"
	"concierge/dbtest"
	"concierge/realtime"
)

// subClientSpec is what the benchmark hands its client process: the
// connections to open and what each subscribes to.
type subClientSpec struct {
	URL   string        `json:"url"`
	Conns []subConnSpec `json:"conns"`
}

type subConnSpec struct {
	Token string           `json:"token"`
	Query string           `json:"query"`
	Vars  []map[string]any `json:"vars"` // one subscription per entry
}

// BenchmarkSubscriptionMemory measures what open subscriptions cost the
// server, heap and goroutine stacks, with the clients in another process
// (so their side is not counted):
//
//   - agents: subscriptions sharing WebSocket connections (a dashboard
//     follows many topics over one connection);
//
//   - visitors: one WebSocket per subscription, each visitor following
//     their own conversation (the widget).
//
//     go test ./server -run '^$' -bench SubscriptionMemory -benchtime 1x
//     SUBMEM_VISITORS=10000 go test ./server -run '^$' -bench SubscriptionMemory/visitors -benchtime 1x
func BenchmarkSubscriptionMemory(b *testing.B) {
	if os.Getenv("SUBMEM_PROFILE") != "" {
		runtime.MemProfileRate = 1 // every allocation, for an exact account
	}
	visitors := 2000
	if v, err := strconv.Atoi(os.Getenv("SUBMEM_VISITORS")); err == nil && v > 0 {
		visitors = v
	}
	b.Run("agents/conns=20/subs=250", func(b *testing.B) {
		e, a := subMemEnv(b)
		spec := subClientSpec{URL: wsURL(e)}
		for range 20 {
			c := subConnSpec{Token: a.AgentToken, Query: `subscription { companyEvents { kind } }`}
			for range 250 {
				c.Vars = append(c.Vars, nil)
			}
			spec.Conns = append(spec.Conns, c)
		}
		measureSubs(b, e, spec, func() int {
			return e.App.Broker.(interface{ Subscribers(realtime.Topic) int }).Subscribers(account.CompanyTopic(a.CompanyID))
		})
	})
	b.Run(fmt.Sprintf("visitors/conns=%d/subs=1", visitors), func(b *testing.B) {
		e, a := subMemEnv(b)
		spec := subClientSpec{URL: wsURL(e)}
		var topics []realtime.Topic
		for range visitors {
			r := e.Do("", `mutation($k: String!) { startConversation(input: {companyKey: $k}) { token conversation { id } } }`,
				map[string]any{"k": a.WidgetKey}).OK(b)
			id := r.Str("startConversation.conversation.id")
			topics = append(topics, chat.Topic(a.CompanyID, uuid.MustParse(id)))
			spec.Conns = append(spec.Conns, subConnSpec{Token: r.Str("startConversation.token"),
				Query: `subscription($c: ID!) { conversationEvents(conversationId: $c) { kind message { id body } } }`,
				Vars:  []map[string]any{{"c": id}}})
		}
		broker := e.App.Broker.(interface{ Subscribers(realtime.Topic) int })
		measureSubs(b, e, spec, func() int {
			n := 0
			for _, t := range topics {
				n += broker.Subscribers(t)
			}
			return n
		})
	})
}

func subMemEnv(b *testing.B) (*apitest.Env, *apitest.Tenant) {
	d := dbtest.Open(b, "sqlite3")
	cfg := unlimited()
	cfg.WSMaxSubsPerConn = 1000
	cfg.WSMaxSubsPerCompany = 1 << 20
	e := apitest.NewWithConfig(b, d, cfg)
	return e, e.Register("alpha")
}

func wsURL(e *apitest.Env) string { return "ws" + strings.TrimPrefix(e.URL, "http") }

// measureSubs starts the client process, waits until the server counts
// every subscription, and reports the server's heap and stacks per
// subscription.
func measureSubs(b *testing.B, e *apitest.Env, spec subClientSpec, subscribers func() int) {
	n := 0
	for _, c := range spec.Conns {
		n += len(c.Vars)
	}
	mem := func() (uint64, int) {
		for range 6 { // each collection may halve a stack that is mostly unused
			runtime.GC()
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse + ms.StackInuse, runtime.NumGoroutine()
	}
	time.Sleep(500 * time.Millisecond) // the server's background work settles
	m0, g0 := mem()

	data, err := json.Marshal(spec)
	require.NoError(b, err)
	f, err := os.CreateTemp(b.TempDir(), "spec")
	require.NoError(b, err)
	_, err = f.Write(data)
	require.NoError(b, err)
	require.NoError(b, f.Close())
	cmd := exec.Command(os.Args[0], "-test.run", "^TestSubscriptionClient$")
	cmd.Env = append(os.Environ(), "SUBMEM_SPEC="+f.Name())
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	out, err := cmd.StdoutPipe()
	require.NoError(b, err)
	cmd.Stderr = os.Stderr
	require.NoError(b, cmd.Start())
	defer func() {
		_ = stdin.Close() // the client closes its connections and exits
		_ = cmd.Wait()
	}()
	ready := make(chan error, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if strings.HasPrefix(s.Text(), "ERROR") {
				ready <- fmt.Errorf("client: %s", s.Text())
			}
			if s.Text() == "READY" {
				ready <- nil
			}
		}
	}()
	select {
	case err := <-ready:
		require.NoError(b, err)
	case <-time.After(5 * time.Minute):
		b.Fatal("the client did not open its subscriptions in time")
	}
	require.Eventually(b, func() bool { return subscribers() == n }, time.Minute, 50*time.Millisecond)
	time.Sleep(11 * time.Second) // past the connections' setup (the init timeout's timers)
	m1, g1 := mem()
	b.ReportMetric(float64(m1-m0)/float64(n)/1024, "KB/sub")
	b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/sub")
	b.ReportMetric(float64(n), "subs")
	ss := []metrics.Sample{{Name: "/gc/stack/starting-size:bytes"}}
	metrics.Read(ss)
	b.Logf("starting stack size %d", ss[0].Value.Uint64())
	if dir := os.Getenv("SUBMEM_PROFILE"); dir != "" { // where the memory goes
		for _, p := range []string{"heap", "goroutine"} {
			f, err := os.Create(filepath.Join(dir, strings.ReplaceAll(b.Name(), "/", "_")+"."+p))
			require.NoError(b, err)
			require.NoError(b, pprof.Lookup(p).WriteTo(f, 1))
			require.NoError(b, f.Close())
		}
	}
}

// TestSubscriptionClient is BenchmarkSubscriptionMemory's client process;
// it does nothing unless the benchmark started it.
func TestSubscriptionClient(t *testing.T) {
	path := os.Getenv("SUBMEM_SPEC")
	if path == "" {
		t.Skip("started by BenchmarkSubscriptionMemory")
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var spec subClientSpec
	require.NoError(t, json.Unmarshal(data, &spec))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fail := func(err error) {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	var (
		mu    sync.Mutex
		conns []*websocket.Conn
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 32)
	)
	for _, c := range spec.Conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			conn, _, err := websocket.Dial(ctx, spec.URL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
			if err != nil {
				fail(err)
			}
			if err := wsjson.Write(ctx, conn, map[string]any{"type": "connection_init",
				"payload": map[string]any{"authorization": "Bearer " + c.Token}}); err != nil {
				fail(err)
			}
			var ack map[string]any
			if err := wsjson.Read(ctx, conn, &ack); err != nil || ack["type"] != "connection_ack" {
				fail(fmt.Errorf("connection_init: %v %v", ack, err))
			}
			for i, v := range c.Vars {
				if err := wsjson.Write(ctx, conn, map[string]any{"id": fmt.Sprint(i), "type": "subscribe",
					"payload": map[string]any{"query": c.Query, "variables": v}}); err != nil {
					fail(err)
				}
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			go func() { // answer pings until closed
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
		}()
	}
	wg.Wait()
	fmt.Println("READY")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the benchmark closes stdin
	for _, c := range conns {
		c.CloseNow()
	}
}
