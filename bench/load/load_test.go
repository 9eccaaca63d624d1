package main

import (
	"bufio"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/auth"
	"concierge/chat"
	"concierge/dbtest"
	"concierge/server"
)

// TestLoad runs a small load against the whole platform in process (SQLite,
// limits lifted as the benchmarks do), with visitors' WebSockets dropped at
// random while messages flow: nothing may be lost, repeated or refused.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load run")
	}
	d := dbtest.Open(t, "sqlite3")
	e := apitest.NewWithConfig(t, d, server.Config{Chat: chat.Config{
		VisitorMessages: auth.NewLimiter(1<<30, time.Nanosecond),
		CompanyMessages: auth.NewLimiter(1<<30, time.Nanosecond),
		Conversations:   auth.NewLimiter(1<<30, time.Nanosecond),
	}})
	cfg := DefaultConfig()
	cfg.URLs = []string{strings.TrimSuffix(e.URL, "/graphql")}
	cfg.Visitors, cfg.Agents, cfg.Messages, cfg.Rate = 20, 2, 200, 200
	cfg.DisconnectRate = 0.5 // about 10 drops while the messages are sent
	cfg.Settle = 100 * time.Millisecond
	cfg.DrainTimeout = 20 * time.Second
	cfg.Seed = 42
	cfg.Log = t.Output()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	res, err := Run(ctx, cfg)
	require.NoError(t, err)
	var out strings.Builder
	res.Print(&out)
	t.Log("\n" + out.String())

	require.Equal(t, 22, res.Subscriptions)
	require.Zero(t, res.NotReady, "subscriptions never confirmed live")
	require.Equal(t, 200, res.Sent)
	require.Equal(t, 200, res.Acked)
	require.Equal(t, 400, res.AgentDeliveries)
	require.Equal(t, 200, res.VisitorDeliveries)
	require.Zero(t, res.Lost, "lost")
	require.Zero(t, res.LostVisitor, "lost on the visitors' subscriptions")
	require.Zero(t, res.Duplicated, "duplicated")
	require.Empty(t, res.Errors, "errors")
	require.Positive(t, res.Reconnects, "no visitor was disconnected")
	require.Zero(t, res.ReconnectDuplicates+res.ReconnectLost)
	require.Equal(t, 200, res.AgentLatency.N/2)
	require.NotEmpty(t, res.Replicas)
	require.Empty(t, res.Replicas[0].AfterSetup.Error)
	require.Positive(t, res.Replicas[0].AfterSetup.Goroutines)
}

// TestSubscriptionsOnly opens visitors' subscriptions and reads the
// server's metrics.
func TestSubscriptionsOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("load run")
	}
	d := dbtest.Open(t, "sqlite3")
	e := apitest.NewWithConfig(t, d, server.Config{Chat: chat.Config{
		Conversations: auth.NewLimiter(1<<30, time.Nanosecond),
	}})
	cfg := DefaultConfig()
	cfg.URLs = []string{strings.TrimSuffix(e.URL, "/graphql")}
	cfg.SubscriptionsOnly, cfg.Visitors, cfg.Settle = true, 30, 100*time.Millisecond
	cfg.Log = t.Output()
	res, err := Run(context.Background(), cfg)
	require.NoError(t, err)
	require.Equal(t, 30, res.Subscriptions)
	require.Zero(t, res.NotReady)
	require.Empty(t, res.Errors)
	require.Zero(t, res.Sent)
	require.Equal(t, 30, res.Replicas[0].Subscriptions)
	require.Positive(t, res.Replicas[0].GoroutinesPerSubscription)
}

func TestParseMetrics(t *testing.T) {
	var s Sample
	require.NoError(t, parseMetrics(bufio.NewScanner(strings.NewReader(`# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 1234
go_gc_duration_seconds{quantile="0.5"} 3e-05
go_memstats_heap_inuse_bytes 2.5e+07
process_resident_memory_bytes 4.2e+07 1700000000000
concierge_subscription_resyncs_total{stream="inbox"} 3
concierge_subscription_resyncs_total{stream="conversation"} 1
`)), &s))
	require.Equal(t, Sample{RSSBytes: 4.2e7, Goroutines: 1234, HeapInuseBytes: 2.5e7,
		Resyncs: map[string]float64{"inbox": 3, "conversation": 1}}, s)
	require.Error(t, parseMetrics(bufio.NewScanner(strings.NewReader("# nothing\n")), &s))
}

func TestParseIPs(t *testing.T) {
	ips, err := parseIPs("127.0.0.1, 127.0.0.10-12,::1")
	require.NoError(t, err)
	require.Equal(t, []string{"127.0.0.1", "127.0.0.10", "127.0.0.11", "127.0.0.12", "::1"}, ips)
	for _, bad := range []string{"localhost", "127.0.0.10-9", "127.0.0.1-300", "::1-3"} {
		_, err := parseIPs(bad)
		require.Error(t, err, bad)
	}
}
