// Command load drives a running Concierge (one replica or several) the way
// widgets and dashboards do, over the public GraphQL API and real
// graphql-transport-ws subscriptions, and measures message delivery:
// latency from a visitor's sendMessage to every agent's inbox and to the
// visitor's own subscription, losses, duplicates and errors, and the
// replicas' memory and goroutines per open subscription.
//
//	go run ./bench/load -url http://127.0.0.1:8080 -visitors 1000 -agents 10 -rate 500 -messages 10000
//	go run ./bench/load -subscriptions-only -visitors 10000
//
// Start the server with the message and conversation limits raised (see
// bench/README.md).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
)

type urlList []string

func (u *urlList) String() string { return strings.Join(*u, ",") }

func (u *urlList) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*u = append(*u, part)
		}
	}
	return nil
}

// parseIPs reads a list of addresses: "127.0.0.1,127.0.0.2", and ranges of
// the last IPv4 byte: "127.0.0.10-49".
func parseIPs(s string) ([]string, error) {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		first, last, isRange := strings.Cut(part, "-")
		ip := net.ParseIP(first).To4()
		if !isRange {
			if net.ParseIP(part) == nil {
				return nil, fmt.Errorf("%q is not an IP address", part)
			}
			out = append(out, part)
			continue
		}
		end, err := strconv.Atoi(last)
		if ip == nil || err != nil || end < int(ip[3]) || end > 255 {
			return nil, fmt.Errorf("%q: want a range like 127.0.0.10-49", part)
		}
		for b := int(ip[3]); b <= end; b++ {
			out = append(out, net.IPv4(ip[0], ip[1], ip[2], byte(b)).String())
		}
	}
	return out, nil
}

func main() {
	cfg := DefaultConfig()
	var urls urlList
	var asJSON bool
	var sourceIPs, cpuProfile string
	var procs int
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	fs.Var(&urls, "url", "base URL of a replica; repeat (or comma-separate) for several (default http://127.0.0.1:8080)")
	fs.IntVar(&cfg.Visitors, "visitors", cfg.Visitors, "conversations, each with its visitor's conversationEvents subscription")
	fs.IntVar(&cfg.Agents, "agents", cfg.Agents, "agents, each following inboxEvents")
	fs.Float64Var(&cfg.Rate, "rate", cfg.Rate, "messages per second, all visitors together")
	fs.IntVar(&cfg.Messages, "messages", cfg.Messages, "messages to send, round-robin over the visitors")
	fs.IntVar(&cfg.InFlight, "inflight", cfg.InFlight, "sendMessage requests waiting for an answer at most")
	fs.IntVar(&cfg.SetupConcurrency, "setup-concurrency", cfg.SetupConcurrency, "setup requests and WebSocket handshakes at a time")
	fs.BoolVar(&cfg.Bot, "bot", false, "leave the conversations with the bot and measure the time to its MESSAGE_COMPLETED (default: agents take them over)")
	fs.Float64Var(&cfg.DisconnectRate, "disconnect-rate", 0, "fraction of visitor WebSockets dropped per second while sending; each resubscribes with after = its last message id")
	fs.BoolVar(&cfg.SubscriptionsOnly, "subscriptions-only", false, "only open -visitors subscriptions and report memory and goroutines per subscription")
	fs.DurationVar(&cfg.Settle, "settle", cfg.Settle, "pause after the setup before reading the replicas' metrics")
	fs.DurationVar(&cfg.Hold, "hold", 0, "-subscriptions-only: keep them open this long after the reading and measure the idle CPU")
	fs.DurationVar(&cfg.DrainTimeout, "drain", cfg.DrainTimeout, "wait for deliveries after the last answer; what is missing then is lost")
	fs.DurationVar(&cfg.ReadyTimeout, "ready-timeout", cfg.ReadyTimeout, "wait for every subscription to be live")
	fs.IntVar(&cfg.Retries, "retries", cfg.Retries, "repeats of a sendMessage that failed transiently (same clientMessageId)")
	fs.StringVar(&cfg.RunID, "run", "", "run id in slugs, emails and message bodies (default: fresh)")
	fs.Uint64Var(&cfg.Seed, "seed", 0, "seed of the disconnect chaos (default: random)")
	fs.StringVar(&sourceIPs, "source-ips", "", "local addresses to connect from, round-robin, e.g. 127.0.0.1-50 (spreads the server's per-IP limits)")
	fs.BoolVar(&asJSON, "json", false, "print the summary as JSON too")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write this program's CPU profile to the file (go tool pprof reads it)")
	fs.IntVar(&procs, "procs", 1, "GOMAXPROCS of this program; 0 leaves Go's default (every core, or $GOMAXPROCS)")
	_ = fs.Parse(os.Args[1:])
	// On the machine it measures, the program runs in one core's share by
	// default: with a thread per core it spends a quarter more CPU, taken
	// from the servers, in a scheduler that spins looking for work.
	if procs > 0 {
		runtime.GOMAXPROCS(procs)
	}
	if len(urls) > 0 {
		cfg.URLs = urls
	}
	ips, err := parseIPs(sourceIPs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load: -source-ips:", err)
		os.Exit(2)
	}
	cfg.SourceIPs = ips
	cfg.Log = os.Stderr

	subs := cfg.Visitors + cfg.Agents
	if cfg.SubscriptionsOnly {
		subs = cfg.Visitors
	}
	want := uint64(subs + cfg.InFlight + cfg.SetupConcurrency + 256)
	limit, err := raiseFileLimit(max(want, 65536))
	switch {
	case err != nil:
		fmt.Fprintf(os.Stderr, "load: could not raise the open-file limit (%v); it is %d\n", err, limit)
	case limit != 0 && limit < want:
		fmt.Fprintf(os.Stderr, "load: the open-file limit is %d, %d subscriptions need about %d: expect dial errors (ulimit -n 65536)\n", limit, subs, want)
	}
	if perReplica := subs / max(1, len(cfg.URLs)); perReplica > 500 {
		fmt.Fprintf(os.Stderr, "load: each replica holds ~%d WebSockets: start it with `ulimit -n 65536` (or at least %d) in its shell\n",
			perReplica, perReplica+1024)
	}

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "load: -cpuprofile:", err)
			os.Exit(2)
		}
	}
	// exit ends the program, the profile written first.
	exit := func(code int) {
		pprof.StopCPUProfile()
		os.Exit(code)
	}
	defer pprof.StopCPUProfile()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := Run(ctx, cfg)
	if res == nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		exit(1)
	}
	res.Print(os.Stdout)
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		exit(1)
	}
	if res.Lost+res.LostVisitor+res.Duplicated > 0 {
		exit(2)
	}
}
