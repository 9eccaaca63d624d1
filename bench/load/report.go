package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// Result is what a run measured.
type Result struct {
	RunID          string   `json:"runId"`
	Mode           string   `json:"mode"` // human, bot or subscriptions-only
	URLs           []string `json:"urls"`
	TargetRate     float64  `json:"targetRate"`
	DisconnectRate float64  `json:"disconnectRate"`

	Visitors       int     `json:"visitors"`
	Agents         int     `json:"agents"`
	Subscriptions  int     `json:"subscriptions"`
	FailedVisitors int     `json:"failedVisitors"` // could not be set up (left out)
	NotReady       int     `json:"notReady"`       // subscriptions that never received an event during setup
	SetupSeconds   float64 `json:"setupSeconds"`
	HoldSeconds    float64 `json:"holdSeconds,omitempty"` // -subscriptions-only -hold

	Sent         int     `json:"sent"`
	Acked        int     `json:"acknowledged"`
	SendSeconds  float64 `json:"sendSeconds"`
	AchievedRate float64 `json:"achievedRate"`

	// AgentDeliveries counts (message, agent) first receipts; the
	// expectation is Acked × Agents. VisitorDeliveries counts messages
	// received on their visitor's own subscription.
	AgentDeliveries   int `json:"agentDeliveries"`
	VisitorDeliveries int `json:"visitorDeliveries"`

	AgentLatency   Latency  `json:"visitorToAgentMs"`
	VisitorLatency Latency  `json:"visitorToOwnSubscriptionMs"`
	AckLatency     Latency  `json:"sendMessageAckMs"`
	BotLatency     *Latency `json:"visitorToBotCompletedMs,omitempty"`
	BotReplies     int      `json:"botReplies,omitempty"`

	// Lost: acknowledged messages that at least one agent never received
	// (LostDeliveries: the missing (message, agent) pairs); LostVisitor:
	// acknowledged messages their visitor's subscription never received.
	Lost           int `json:"lost"`
	LostDeliveries int `json:"lostDeliveries"`
	LostVisitor    int `json:"lostVisitor"`
	// LossWindows counts, over the agents, the bursts of lost messages
	// (lost messages sent less than a second apart are one burst): a few
	// bursts mean an inbox subscription was cut off for a while (a slow
	// consumer dropped by the broker), many mean scattered losses.
	LossWindows int `json:"lossWindows"`
	// Duplicated: events received twice by the same subscriber (same
	// message id, or the same body under another id).
	Duplicated        int `json:"duplicated"`
	DuplicatedAgent   int `json:"duplicatedAgent"`
	DuplicatedVisitor int `json:"duplicatedVisitor"`

	// Reconnects of visitors dropped by -disconnect-rate, and the
	// duplicates and losses on the visitors that reconnected (must be 0:
	// after = the last message id replays exactly what was missed).
	Reconnects                 int            `json:"reconnects"`
	ReconnectedVisitors        int            `json:"reconnectedVisitors"`
	ReconnectDuplicates        int            `json:"reconnectDuplicates"`
	ReconnectLost              int            `json:"reconnectLost"`
	AgentReconnects            int            `json:"agentReconnects"`
	DeliveredUnacked           int            `json:"deliveredUnacknowledged"` // failed sends that were stored anyway
	NotAnsweredByBot           int            `json:"notAnsweredByBot,omitempty"`
	ErrorsTotal                int            `json:"errorsTotal"`
	Errors                     map[string]int `json:"errors"`                     // load phase, by extensions.code / transport
	SetupErrors                map[string]int `json:"setupErrors"`                // setup requests retried or failed
	ClientCPUSeconds           float64        `json:"clientCpuSeconds,omitempty"` // this program's user+sys time
	ClientProcs                int            `json:"clientProcs,omitempty"`      // this program's GOMAXPROCS
	LoadAverageStart           string         `json:"loadAverageStart,omitempty"`
	LoadAverageEnd             string         `json:"loadAverageEnd,omitempty"`
	Replicas                   []ReplicaStats `json:"replicas"`
	MemoryPerSubscriptionBytes float64        `json:"rssPerSubscriptionBytes"` // all replicas
}

// lossGap separates two bursts of lost messages.
const lossGap = time.Second

// Latency is a distribution in milliseconds.
type Latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func latency(ns []int64) Latency {
	if len(ns) == 0 {
		return Latency{}
	}
	slices.Sort(ns)
	at := func(p float64) float64 {
		return float64(ns[min(len(ns)-1, int(float64(len(ns))*p))]) / 1e6
	}
	return Latency{N: len(ns), P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: float64(ns[len(ns)-1]) / 1e6}
}

// ReplicaStats are one replica's metrics before the setup, with every
// subscription open, and at the end.
type ReplicaStats struct {
	URL           string `json:"url"`
	Subscriptions int    `json:"subscriptions"`
	Before        Sample `json:"before"`
	AfterSetup    Sample `json:"afterSetup"`
	End           Sample `json:"end"`
	// IdleCPU is the CPU (in cores) the replica used while -hold kept the
	// subscriptions open and idle.
	IdleCPU float64 `json:"idleCpuCores,omitempty"`
	// Per subscription, between Before and AfterSetup.
	RSSPerSubscription        float64 `json:"rssPerSubscriptionBytes"`
	HeapPerSubscription       float64 `json:"heapInusePerSubscriptionBytes"`
	StackPerSubscription      float64 `json:"stackInusePerSubscriptionBytes"`
	GoroutinesPerSubscription float64 `json:"goroutinesPerSubscription"`
}

func (l *loader) summarize(r *Result) {
	var agentLat, visLat, ackLat, botLat []int64
	reconnected := map[int]bool{}
	for _, v := range l.visitors {
		if v.reconnects.Load() > 0 {
			reconnected[v.idx] = true
			r.ReconnectedVisitors++
			r.ReconnectDuplicates += int(v.dup.Load())
		}
		r.DuplicatedVisitor += int(v.dup.Load())
	}
	for _, a := range l.agents {
		r.DuplicatedAgent += int(a.dup.Load())
		r.AgentReconnects += int(a.reconnected.Load())
	}
	for _, a := range l.agents {
		var lost []int64
		for seq := range l.sendAt {
			if l.ackAt[seq].Load() != 0 && a.recv[seq].Load() == 0 {
				lost = append(lost, l.sendAt[seq].Load())
			}
		}
		slices.Sort(lost)
		for i, t := range lost {
			if i == 0 || time.Duration(t-lost[i-1]) > lossGap {
				r.LossWindows++
			}
		}
	}
	for seq := range l.sendAt {
		t0 := l.sendAt[seq].Load()
		if t0 == 0 {
			continue
		}
		r.Sent++
		acked := l.ackAt[seq].Load() != 0
		if acked {
			r.Acked++
			ackLat = append(ackLat, l.ackAt[seq].Load()-t0)
		}
		lost, delivered := false, false
		for _, a := range l.agents {
			if t := a.recv[seq].Load(); t != 0 {
				r.AgentDeliveries++
				agentLat = append(agentLat, max(0, t-t0))
				delivered = true
			} else if acked {
				r.LostDeliveries++
				lost = true
			}
		}
		if lost {
			r.Lost++
		}
		if t := l.visRecv[seq].Load(); t != 0 {
			r.VisitorDeliveries++
			visLat = append(visLat, max(0, t-t0))
			delivered = true
		} else if acked {
			r.LostVisitor++
			if reconnected[seq%len(l.visitors)] {
				r.ReconnectLost++
			}
		}
		if delivered && !acked {
			r.DeliveredUnacked++
		}
		if l.botAt != nil && acked {
			if t := l.botAt[seq].Load(); t != 0 {
				botLat = append(botLat, max(0, t-t0))
			} else {
				r.NotAnsweredByBot++
			}
		}
	}
	r.AgentLatency, r.VisitorLatency, r.AckLatency = latency(agentLat), latency(visLat), latency(ackLat)
	if l.botAt != nil {
		b := latency(botLat)
		r.BotLatency = &b
		r.BotReplies = int(l.botReplies.Load())
	}
	r.Duplicated = r.DuplicatedAgent + r.DuplicatedVisitor
	r.Reconnects = int(l.reconnects.Load())
	if r.SendSeconds > 0 {
		r.AchievedRate = float64(r.Sent) / r.SendSeconds
	}
	r.Errors, r.SetupErrors = l.errs.snapshot(), l.setupErrs.snapshot()
	for _, n := range r.Errors {
		r.ErrorsTotal += n
	}
	if r.HoldSeconds > 0 {
		for i := range r.Replicas {
			p := &r.Replicas[i]
			if p.AfterSetup.Error == "" && p.End.Error == "" {
				p.IdleCPU = (p.End.CPUSeconds - p.AfterSetup.CPUSeconds) / r.HoldSeconds
			}
		}
	}
	var rss float64
	subs := 0
	for i := range r.Replicas {
		p := &r.Replicas[i]
		if p.Subscriptions > 0 && p.Before.Error == "" && p.AfterSetup.Error == "" {
			n := float64(p.Subscriptions)
			p.RSSPerSubscription = (p.AfterSetup.RSSBytes - p.Before.RSSBytes) / n
			p.HeapPerSubscription = (p.AfterSetup.HeapInuseBytes - p.Before.HeapInuseBytes) / n
			p.StackPerSubscription = (p.AfterSetup.StackBytes - p.Before.StackBytes) / n
			p.GoroutinesPerSubscription = (p.AfterSetup.Goroutines - p.Before.Goroutines) / n
			rss += p.AfterSetup.RSSBytes - p.Before.RSSBytes
			subs += p.Subscriptions
		}
	}
	if subs > 0 {
		r.MemoryPerSubscriptionBytes = rss / float64(subs)
	}
}

// Print writes the summary for a human.
func (r *Result) Print(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("run %s (%s mode): %d replica(s), %d visitors, %d agents, %d subscriptions (%d unconfirmed), setup %.1fs",
		r.RunID, r.Mode, len(r.URLs), r.Visitors, r.Agents, r.Subscriptions, r.NotReady, r.SetupSeconds)
	if r.FailedVisitors > 0 {
		p("%d visitors could not be set up and were left out (see setup errors)", r.FailedVisitors)
	}
	if r.LoadAverageStart != "" {
		p("client machine load average: %s at the start, %s at the end; this program used %.1f s of CPU (GOMAXPROCS %d)",
			r.LoadAverageStart, r.LoadAverageEnd, r.ClientCPUSeconds, r.ClientProcs)
	}
	if r.Mode != "subscriptions-only" {
		p("messages: %d sent, %d acknowledged in %.1fs (%.1f/s achieved, target %.0f/s)",
			r.Sent, r.Acked, r.SendSeconds, r.AchievedRate, r.TargetRate)
		p("deliveries: agents %d of %d expected, visitors' own subscriptions %d of %d",
			r.AgentDeliveries, r.Acked*r.Agents, r.VisitorDeliveries, r.Acked)
		p("latency (ms)              %8s %8s %8s %8s %8s", "n", "p50", "p90", "p99", "max")
		row := func(name string, l Latency) {
			p("  %-23s %8d %8.1f %8.1f %8.1f %8.1f", name, l.N, l.P50, l.P90, l.P99, l.Max)
		}
		row("visitor -> agent", r.AgentLatency)
		row("visitor -> own sub", r.VisitorLatency)
		row("sendMessage answer", r.AckLatency)
		if r.BotLatency != nil {
			row("visitor -> bot reply", *r.BotLatency)
			p("bot: %d replies completed, %d acknowledged messages without a reply of their own (a reply may answer several)",
				r.BotReplies, r.NotAnsweredByBot)
		}
		p("lost: %d messages (%d agent deliveries, in %d bursts), %d on the visitor's own subscription",
			r.Lost, r.LostDeliveries, r.LossWindows, r.LostVisitor)
		p("duplicated: %d (agents %d, visitors %d)", r.Duplicated, r.DuplicatedAgent, r.DuplicatedVisitor)
		if r.DisconnectRate > 0 || r.Reconnects > 0 {
			p("disconnects: %d reconnects of %d visitors (after = last message id); on them: %d duplicated, %d lost",
				r.Reconnects, r.ReconnectedVisitors, r.ReconnectDuplicates, r.ReconnectLost)
		}
		if r.AgentReconnects > 0 {
			p("agent inboxes reconnected %d times (no replay: what was sent meanwhile counts as lost)", r.AgentReconnects)
		}
		if r.DeliveredUnacked > 0 {
			p("delivered although the sendMessage failed: %d", r.DeliveredUnacked)
		}
	}
	p("errors: %s", codes(r.Errors))
	if len(r.SetupErrors) > 0 {
		p("setup errors (retried): %s", codes(r.SetupErrors))
	}
	for _, rp := range r.Replicas {
		p("replica %s (%d subscriptions):", rp.URL, rp.Subscriptions)
		p("  %-12s %10s %11s %10s %10s %9s", "", "RSS", "goroutines", "heap", "stacks", "CPU")
		s := func(name string, x Sample) {
			if x.Error != "" {
				p("  %-12s metrics unavailable: %s", name, x.Error)
				return
			}
			p("  %-12s %10s %11.0f %10s %10s %8.1fs", name, mb(x.RSSBytes), x.Goroutines, mb(x.HeapInuseBytes),
				mb(x.StackBytes), x.CPUSeconds)
		}
		s("before", rp.Before)
		s("after setup", rp.AfterSetup)
		if r.Mode != "subscriptions-only" || r.HoldSeconds > 0 {
			s("end", rp.End)
		}
		if len(rp.End.Resyncs) > 0 {
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(rp.End.Resyncs)) {
				parts = append(parts, fmt.Sprintf("%s %.0f", k, rp.End.Resyncs[k]-rp.Before.Resyncs[k]))
			}
			p("  subscribers that fell behind the broker and resubscribed: %s", strings.Join(parts, ", "))
		}
		if rp.Subscriptions > 0 {
			p("  per subscription: RSS %.1f KB (heap %.1f KB, goroutine stacks %.1f KB), %.2f goroutines",
				rp.RSSPerSubscription/1024, rp.HeapPerSubscription/1024, rp.StackPerSubscription/1024, rp.GoroutinesPerSubscription)
		}
		if r.HoldSeconds > 0 {
			p("  idle: %.2f cores over %.0fs with the subscriptions open", rp.IdleCPU, r.HoldSeconds)
		}
	}
	if len(r.Replicas) > 1 && r.MemoryPerSubscriptionBytes != 0 {
		p("RSS per subscription, all replicas: %.1f KB", r.MemoryPerSubscriptionBytes/1024)
	}
}

func mb(b float64) string { return fmt.Sprintf("%.1f MB", b/(1<<20)) }

func codes(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
