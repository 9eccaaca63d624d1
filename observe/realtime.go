package observe

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"concierge/realtime"
)

// StatsReporter is a broker that counts what it did (realtime.Memory,
// realtime.Postgres).
type StatsReporter interface {
	Stats() realtime.Stats
}

// WatchBroker exports b's counters (read at scrape time, nothing is added
// to the publish path) under the label broker="memory", "postgres" or
// "other". A later broker of the same kind replaces the earlier one. A
// broker that does not report stats is ignored.
func WatchBroker(b realtime.Broker) {
	sr, ok := b.(StatsReporter)
	if !ok {
		return
	}
	name := "other"
	switch b.(type) {
	case *realtime.Memory:
		name = "memory"
	case *realtime.Postgres:
		name = "postgres"
	}
	brokers.set(name, sr)
}

// brokerCollector reads the watched brokers' Stats at scrape time.
type brokerCollector struct {
	events, listener, gaps *prometheus.Desc

	mu     sync.Mutex
	byName map[string]StatsReporter
}

var brokers = &brokerCollector{
	events: prometheus.NewDesc("concierge_realtime_events_total",
		"Real-time events by broker and event: published (fanned out by this process), "+
			"delivered (to one subscriber), dropped (a lagging subscriber missed it and its subscription was ended).",
		[]string{"broker", "event"}, nil),
	listener: prometheus.NewDesc("concierge_realtime_notifications_total",
		"Notifications the PostgreSQL listener received (all replicas' events), by result (received, malformed).",
		[]string{"broker", "result"}, nil),
	gaps: prometheus.NewDesc("concierge_realtime_gaps_total",
		"Times the PostgreSQL listener reconnected and ended every subscription so that clients replay.",
		[]string{"broker"}, nil),
	byName: map[string]StatsReporter{},
}

func (c *brokerCollector) set(name string, b StatsReporter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byName[name] = b
}

// Describe implements prometheus.Collector.
func (c *brokerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.events
	ch <- c.listener
	ch <- c.gaps
}

// Collect implements prometheus.Collector.
func (c *brokerCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	watched := make(map[string]StatsReporter, len(c.byName))
	for k, v := range c.byName {
		watched[k] = v
	}
	c.mu.Unlock()
	for name, b := range watched {
		s := b.Stats()
		for _, e := range []struct {
			event string
			v     uint64
		}{{"published", s.Published}, {"delivered", s.Delivered}, {"dropped", s.Dropped}} {
			ch <- prometheus.MustNewConstMetric(c.events, prometheus.CounterValue, float64(e.v), name, e.event)
		}
		if name == "postgres" {
			ch <- prometheus.MustNewConstMetric(c.listener, prometheus.CounterValue, float64(s.Received), name, "received")
			ch <- prometheus.MustNewConstMetric(c.listener, prometheus.CounterValue, float64(s.Malformed), name, "malformed")
			ch <- prometheus.MustNewConstMetric(c.gaps, prometheus.CounterValue, float64(s.Gaps), name)
		}
	}
}
