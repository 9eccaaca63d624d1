package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"
)

// Config is one load run.
type Config struct {
	// URLs are the replicas' base addresses (http://host:port). Agents and
	// visitors are spread over them round-robin, so with two replicas most
	// deliveries cross from one to the other.
	URLs []string
	// Visitors is the number of conversations, each with its visitor's
	// conversationEvents subscription; Agents the number of agents, each
	// following inboxEvents.
	Visitors, Agents int
	// Rate is the total sendMessage rate (per second) and Messages how many
	// are sent, round-robin over the visitors.
	Rate     float64
	Messages int
	// InFlight bounds the sendMessage requests waiting for an answer;
	// SetupConcurrency the requests and handshakes of the setup.
	InFlight, SetupConcurrency int
	// Bot leaves the conversations with the bot (and measures the time to
	// its MESSAGE_COMPLETED); by default every conversation is taken over
	// by an agent first, so only the messages sent travel.
	Bot bool
	// DisconnectRate is the fraction of visitor WebSockets dropped per
	// second while messages are sent; each reconnects at once with after =
	// the last message id it saw.
	DisconnectRate float64
	// SubscriptionsOnly opens the visitors' subscriptions, measures the
	// replicas' memory and goroutines, and sends nothing.
	SubscriptionsOnly bool
	// Settle is the pause between the end of the setup and the "after
	// setup" reading of the replicas' metrics.
	Settle time.Duration
	// Hold keeps the subscriptions of -subscriptions-only open this long
	// after the "after setup" reading, then reads the metrics again: the
	// CPU the idle subscriptions cost (keep-alive pings, credential
	// re-checks).
	Hold time.Duration
	// ReadyTimeout bounds the wait for every subscription to be live;
	// DrainTimeout the wait for deliveries after the last message was
	// acknowledged (what has not arrived then is lost).
	ReadyTimeout, DrainTimeout time.Duration
	// HandshakeTimeout bounds one WebSocket dial + connection_ack.
	HandshakeTimeout time.Duration
	// Retries is how many times a failed sendMessage is repeated (same
	// clientMessageId) when the failure is transient: RATE_LIMITED (after
	// retryAfterSeconds), a transport error, 5xx.
	Retries int
	// RunID tags the company, accounts and message bodies ("load <run>
	// <seq>"); a fresh one by default.
	RunID string
	// Seed seeds the disconnect chaos (0: random).
	Seed uint64
	// Log receives progress lines (nil: none).
	Log io.Writer
	// HTTPClient sends the GraphQL requests and reads /metrics (nil: one
	// sized for InFlight). Unused for the visitors' and agents' requests
	// when SourceIPs is set.
	HTTPClient *http.Client
	// SourceIPs are local addresses the visitors and agents connect from,
	// round-robin (on Linux any 127.x.y.z works for a server on loopback):
	// a server's per-IP limits (WebSockets, new conversations) then see
	// many clients, as in production. None: the system's choice.
	SourceIPs []string
}

// DefaultConfig is a modest run that finishes in well under a minute.
func DefaultConfig() Config {
	return Config{
		URLs:     []string{"http://127.0.0.1:8080"},
		Visitors: 200, Agents: 5, Rate: 100, Messages: 2000,
		InFlight: 64, SetupConcurrency: 50,
		Settle: 2 * time.Second, ReadyTimeout: 60 * time.Second, DrainTimeout: 15 * time.Second,
		HandshakeTimeout: 30 * time.Second, Retries: 3,
	}
}

func (c *Config) fill() error {
	d := DefaultConfig()
	if len(c.URLs) == 0 {
		c.URLs = d.URLs
	}
	for i, u := range c.URLs {
		u = strings.TrimRight(strings.TrimSpace(u), "/")
		c.URLs[i] = strings.TrimSuffix(u, "/graphql")
		if !strings.HasPrefix(c.URLs[i], "http://") && !strings.HasPrefix(c.URLs[i], "https://") {
			return fmt.Errorf("url %q: want http://host:port", u)
		}
	}
	if c.SubscriptionsOnly {
		c.Agents, c.Messages = 0, 0
	}
	if c.Visitors <= 0 {
		return errors.New("visitors must be at least 1")
	}
	if !c.SubscriptionsOnly {
		if c.Agents <= 0 {
			return errors.New("agents must be at least 1 (or use -subscriptions-only)")
		}
		if c.Messages < 0 || c.Rate <= 0 {
			return errors.New("messages must be >= 0 and rate > 0")
		}
	}
	if c.InFlight <= 0 {
		c.InFlight = d.InFlight
	}
	if c.SetupConcurrency <= 0 {
		c.SetupConcurrency = d.SetupConcurrency
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = d.ReadyTimeout
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = d.DrainTimeout
	}
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = d.HandshakeTimeout
	}
	if c.Retries < 0 {
		c.Retries = 0
	}
	if c.RunID == "" {
		c.RunID = strconv.FormatInt(time.Now().UnixMilli(), 36) + strconv.FormatUint(rand.Uint64N(36*36), 36)
	}
	if c.Seed == 0 {
		c.Seed = rand.Uint64()
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 60 * time.Second, Transport: c.transport(nil)}
	}
	for _, ip := range c.SourceIPs {
		if net.ParseIP(ip) == nil {
			return fmt.Errorf("source IP %q is not an IP address", ip)
		}
	}
	return nil
}

// transport is an HTTP transport connecting from local (nil: any).
func (c *Config) transport(local net.Addr) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, LocalAddr: local}).DialContext,
		MaxIdleConnsPerHost: c.InFlight + c.SetupConcurrency + 8,
		IdleConnTimeout:     90 * time.Second,
	}
}

// source is where requests and WebSockets come from: one local address.
type source struct {
	gql *gqlClient
	ws  *http.Client // for the WebSocket handshakes (nil: http.DefaultClient)
}

func (c *Config) sources() []*source {
	if len(c.SourceIPs) == 0 {
		return []*source{{gql: &gqlClient{http: c.HTTPClient}}}
	}
	out := make([]*source, len(c.SourceIPs))
	for i, ip := range c.SourceIPs {
		t := c.transport(&net.TCPAddr{IP: net.ParseIP(ip)})
		out[i] = &source{gql: &gqlClient{http: &http.Client{Timeout: 60 * time.Second, Transport: t}},
			ws: &http.Client{Transport: t}}
	}
	return out
}

// agent is one agent and its inbox subscription.
type agent struct {
	url         string
	src         *source
	email       string
	token       string
	ready       atomic.Bool
	recv        []atomic.Int64 // by message seq: first receipt (unix ns)
	dup         atomic.Int64
	reconnected atomic.Int64
}

// visitor is one conversation and its visitor's subscription.
type visitor struct {
	idx   int
	url   string
	src   *source
	token string
	conv  string
	ready atomic.Bool

	mu    sync.Mutex
	conn  *websocket.Conn // nil while reconnecting
	chaos bool            // conn was closed on purpose

	// Owned by the subscription's goroutine.
	lastID string
	seen   map[string]struct{}

	reconnects atomic.Int64
	dup        atomic.Int64
}

func (v *visitor) setConn(c *websocket.Conn) {
	v.mu.Lock()
	v.conn, v.chaos = c, false
	v.mu.Unlock()
}

// dropped forgets the connection and says whether chaos closed it.
func (v *visitor) dropped() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	chaos := v.chaos
	v.conn, v.chaos = nil, false
	return chaos
}

// disconnect drops the live connection, if there is one.
func (v *visitor) disconnect() bool {
	v.mu.Lock()
	c := v.conn
	if c == nil || v.chaos {
		v.mu.Unlock()
		return false
	}
	v.chaos = true
	v.mu.Unlock()
	c.CloseNow()
	return true
}

// loader is one run in progress.
type loader struct {
	cfg     Config
	sources []*source
	prefix  string // of the message bodies: "load <run> "

	errs      counter // load phase: sends and subscriptions
	setupErrs counter // setup requests that were retried or failed

	companyKey     string
	adminToken     string
	failedVisitors int
	agents         []*agent
	visitors       []*visitor
	perReplica     []int // subscriptions by replica

	sendAt  []atomic.Int64 // by seq: first attempt started (unix ns)
	ackAt   []atomic.Int64 // answer received
	visRecv []atomic.Int64 // first receipt on the visitor's own subscription
	botAt   []atomic.Int64 // the bot's MESSAGE_COMPLETED answering it
	ids     sync.Map       // message id -> seq (bot mode)

	botReplies atomic.Int64
	reconnects atomic.Int64
	wg         sync.WaitGroup
}

// Run sets up a company, its agents and visitors on the replicas, sends
// the messages and measures their delivery. It returns an error only when
// the run could not be set up; what went wrong under load is in Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	l := &loader{cfg: cfg, sources: cfg.sources(), prefix: "load " + cfg.RunID + " ",
		perReplica: make([]int, len(cfg.URLs))}
	return l.run(ctx)
}

func (l *loader) logf(format string, args ...any) {
	fmt.Fprintf(l.cfg.Log, format+"\n", args...)
}

func (l *loader) run(ctx context.Context) (*Result, error) {
	cfg := l.cfg
	res := &Result{RunID: cfg.RunID, Mode: "human", URLs: cfg.URLs, TargetRate: cfg.Rate,
		DisconnectRate: cfg.DisconnectRate, LoadAverageStart: loadAverage()}
	cpu0 := cpuSeconds()
	switch {
	case cfg.SubscriptionsOnly:
		res.Mode = "subscriptions-only"
	case cfg.Bot:
		res.Mode = "bot"
	}
	subCtx, stopSubs := context.WithCancel(ctx)
	defer func() {
		stopSubs()
		l.wg.Wait()
	}()

	res.Replicas = make([]ReplicaStats, len(cfg.URLs))
	for i, u := range cfg.URLs {
		res.Replicas[i] = ReplicaStats{URL: u, Before: scrape(ctx, cfg.HTTPClient, u)}
	}

	n := cfg.Messages
	l.sendAt, l.ackAt, l.visRecv = make([]atomic.Int64, n), make([]atomic.Int64, n), make([]atomic.Int64, n)
	if cfg.Bot {
		l.botAt = make([]atomic.Int64, n)
	}

	setupStart := time.Now()
	if err := l.setupCompany(ctx); err != nil {
		return nil, err
	}
	if err := l.setupAgents(ctx, subCtx); err != nil {
		return nil, err
	}
	if err := l.setupVisitors(ctx, subCtx); err != nil {
		return nil, err
	}
	if !cfg.Bot && !cfg.SubscriptionsOnly {
		if err := l.takeOver(ctx); err != nil {
			return nil, err
		}
	}
	res.NotReady = l.waitReady(ctx)
	res.SetupSeconds = time.Since(setupStart).Seconds()
	res.Visitors, res.Agents, res.FailedVisitors = len(l.visitors), len(l.agents), l.failedVisitors
	res.Subscriptions = len(l.visitors) + len(l.agents)
	l.logf("setup: %d subscriptions live in %.1fs (%d not confirmed); settling %s", res.Subscriptions-res.NotReady,
		res.SetupSeconds, res.NotReady, cfg.Settle)
	if err := sleep(ctx, cfg.Settle); err != nil {
		return nil, err
	}
	for i, u := range cfg.URLs {
		res.Replicas[i].Subscriptions = l.perReplica[i]
		res.Replicas[i].AfterSetup = scrape(ctx, cfg.HTTPClient, u)
	}

	if !cfg.SubscriptionsOnly {
		sendStart := time.Now()
		stopChaos := l.chaos(subCtx)
		l.send(ctx)
		stopChaos()
		res.SendSeconds = time.Since(sendStart).Seconds()
		l.drain(ctx)
		for i, u := range cfg.URLs {
			res.Replicas[i].End = scrape(ctx, cfg.HTTPClient, u)
		}
	} else {
		if cfg.Hold > 0 {
			l.logf("holding %d idle subscriptions for %s", res.Subscriptions, cfg.Hold)
			if err := sleep(ctx, cfg.Hold); err != nil {
				return nil, err
			}
		}
		for i, u := range cfg.URLs {
			if cfg.Hold > 0 {
				res.Replicas[i].End = scrape(ctx, cfg.HTTPClient, u)
			} else {
				res.Replicas[i].End = res.Replicas[i].AfterSetup
			}
		}
		res.HoldSeconds = cfg.Hold.Seconds()
	}
	stopSubs()
	l.wg.Wait()
	l.summarize(res)
	res.LoadAverageEnd = loadAverage()
	res.ClientCPUSeconds = cpuSeconds() - cpu0
	res.ClientProcs = runtime.GOMAXPROCS(0)
	return res, ctx.Err()
}

// setupDo is a setup request, repeated while it fails transiently (a
// RATE_LIMITED one after the server's retryAfterSeconds).
func (l *loader) setupDo(ctx context.Context, src *source, base, token, query string, vars map[string]any, out any) error {
	for attempt := 0; ; attempt++ {
		err := src.gql.do(ctx, base, token, query, vars, out)
		if err == nil {
			return nil
		}
		code := errCode(err)
		l.setupErrs.add(code, 1)
		if attempt >= 8 || !retryable(err) || ctx.Err() != nil {
			return err
		}
		wait := min(retryWait(err, attempt), 2*time.Minute)
		if code == "RATE_LIMITED" && attempt == 0 {
			l.logf("setup: RATE_LIMITED, retrying in %s (start the server with higher MESSAGE_RATE_COMPANY, MESSAGE_RATE_VISITOR, CONVERSATION_RATE_IP)", wait)
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

func (l *loader) setupCompany(ctx context.Context) error {
	run := l.cfg.RunID
	var out struct {
		RegisterCompany struct {
			Token   string
			Company struct{ ID, WidgetKey string }
		}
	}
	err := l.setupDo(ctx, l.sources[0], l.cfg.URLs[0], "", qRegister, map[string]any{"in": map[string]any{
		"name": "Load " + run, "slug": "load-" + run, "email": "hello-" + run + "@load.test",
		"adminFullName": "Load admin", "adminEmail": "admin-" + run + "@load.test", "adminPassword": password,
	}}, &out)
	if err != nil {
		return fmt.Errorf("registering the company: %w", err)
	}
	l.adminToken, l.companyKey = out.RegisterCompany.Token, out.RegisterCompany.Company.WidgetKey
	l.logf("setup: company load-%s registered on %s", run, l.cfg.URLs[0])
	return nil
}

const password = "load-test password 1"

// setupAgents creates and logs in the agents and opens their inboxes.
func (l *loader) setupAgents(ctx, subCtx context.Context) error {
	m := l.cfg.Agents
	if m == 0 {
		return nil
	}
	l.agents = make([]*agent, m)
	for i := range l.agents {
		url := l.cfg.URLs[i%len(l.cfg.URLs)]
		l.agents[i] = &agent{url: url, src: l.sources[i%len(l.sources)], email: fmt.Sprintf("agent%d-%s@load.test", i, l.cfg.RunID),
			recv: make([]atomic.Int64, l.cfg.Messages)}
		l.perReplica[i%len(l.cfg.URLs)]++
	}
	return parallel(ctx, l, "agents", m, min(m, l.cfg.SetupConcurrency), func(i int) error {
		a := l.agents[i]
		if err := l.setupDo(ctx, a.src, a.url, l.adminToken, qAgent, map[string]any{"in": map[string]any{
			"email": a.email, "fullName": fmt.Sprintf("Load agent %d", i), "password": password,
		}}, nil); err != nil {
			return fmt.Errorf("creating agent %d: %w", i, err)
		}
		var out struct{ Login struct{ Token string } }
		if err := l.setupDo(ctx, a.src, a.url, "", qLogin, map[string]any{"e": a.email, "p": password}, &out); err != nil {
			return fmt.Errorf("logging agent %d in: %w", i, err)
		}
		a.token = out.Login.Token
		conn, err := l.dial(ctx, a.src, a.url, a.token, qInbox, nil)
		if err != nil {
			return fmt.Errorf("agent %d inboxEvents: %w", i, err)
		}
		l.wg.Add(1)
		go l.agentLoop(subCtx, a, conn)
		return nil
	})
}

// dial opens a subscription during setup, repeating failed handshakes.
func (l *loader) dial(ctx context.Context, src *source, base, token, query string, vars map[string]any) (*websocket.Conn, error) {
	for attempt := 0; ; attempt++ {
		conn, err := subscribe(ctx, src.ws, base, token, query, vars, l.cfg.HandshakeTimeout)
		if err == nil {
			return conn, nil
		}
		l.setupErrs.add(errCode(err), 1)
		if attempt >= 5 || ctx.Err() != nil {
			switch msg := err.Error(); {
			case strings.Contains(msg, "too many open files") || strings.Contains(msg, "reset by peer"):
				err = fmt.Errorf("%w (file-descriptor limit? raise it with `ulimit -n 65536` on the client and before starting the server)", err)
			case strings.Contains(msg, "got 429"):
				err = fmt.Errorf("%w (the server caps WebSockets per client IP: connect from several with -source-ips, or raise the cap)", err)
			}
			return nil, err
		}
		if err := sleep(ctx, retryWait(err, attempt)); err != nil {
			return nil, err
		}
	}
}

// setupVisitors starts the conversations and opens the visitors'
// subscriptions. A visitor that cannot be set up is counted and left out.
func (l *loader) setupVisitors(ctx, subCtx context.Context) error {
	n := l.cfg.Visitors
	all := make([]*visitor, n)
	var (
		mu       sync.Mutex
		failed   int
		firstErr error
	)
	err := parallel(ctx, l, "visitors", n, min(n, l.cfg.SetupConcurrency), func(i int) error {
		v := &visitor{idx: i, url: l.cfg.URLs[i%len(l.cfg.URLs)], src: l.sources[i%len(l.sources)], seen: map[string]struct{}{}}
		var out struct {
			StartConversation struct {
				Token        string
				Conversation struct{ ID string }
			}
		}
		err := l.setupDo(ctx, v.src, v.url, "", qStart, map[string]any{"k": l.companyKey}, &out)
		if err == nil {
			v.token, v.conv = out.StartConversation.Token, out.StartConversation.Conversation.ID
			var conn *websocket.Conn
			if conn, err = l.dial(ctx, v.src, v.url, v.token, qVisitor, map[string]any{"c": v.conv}); err == nil {
				v.setConn(conn)
				all[i] = v
				l.wg.Add(1)
				go l.visitorLoop(subCtx, v, conn)
				return nil
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		mu.Lock()
		if failed++; firstErr == nil {
			firstErr = fmt.Errorf("visitor %d: %w", i, err)
		}
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	for _, v := range all {
		if v != nil {
			v.idx = len(l.visitors)
			l.visitors = append(l.visitors, v)
			l.perReplica[indexOf(l.cfg.URLs, v.url)]++
		}
	}
	l.failedVisitors = failed
	if failed > 0 {
		l.logf("setup: %d visitors failed, first: %v", failed, firstErr)
		if len(l.visitors) == 0 {
			return fmt.Errorf("no visitor could be set up: %w", firstErr)
		}
	}
	return nil
}

func indexOf(s []string, x string) int {
	for i, v := range s {
		if v == x {
			return i
		}
	}
	return 0
}

// takeOver gives every conversation to an agent (round-robin), so the bot
// stays silent.
func (l *loader) takeOver(ctx context.Context) error {
	return parallel(ctx, l, "takeovers", len(l.visitors), min(len(l.visitors), l.cfg.SetupConcurrency), func(i int) error {
		v := l.visitors[i]
		a := l.agents[i%len(l.agents)]
		if err := l.setupDo(ctx, a.src, a.url, a.token, qTakeOver, map[string]any{"id": v.conv}, nil); err != nil {
			return fmt.Errorf("taking over conversation %s: %w", v.conv, err)
		}
		return nil
	})
}

// waitReady waits until every subscription has received an event, which
// proves the server follows it: agents see the conversations being created
// and taken over; a visitor that saw nothing yet is probed with setTyping
// (its own TYPING event comes back on its subscription). It returns how
// many were still unconfirmed at ReadyTimeout.
func (l *loader) waitReady(ctx context.Context) int {
	deadline := time.Now().Add(l.cfg.ReadyTimeout)
	for round := 0; ; round++ {
		var waiting []*visitor
		for _, v := range l.visitors {
			if !v.ready.Load() {
				waiting = append(waiting, v)
			}
		}
		agentsWaiting := 0
		for _, a := range l.agents {
			if !a.ready.Load() {
				agentsWaiting++
			}
		}
		if len(waiting)+agentsWaiting == 0 {
			return 0
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			l.logf("setup: %d visitor and %d agent subscriptions received nothing within %s", len(waiting), agentsWaiting, l.cfg.ReadyTimeout)
			return len(waiting) + agentsWaiting
		}
		if round > 0 && len(waiting) > 0 {
			_ = parallel(ctx, l, "probes", len(waiting), min(len(waiting), l.cfg.SetupConcurrency), func(i int) error {
				v := waiting[i]
				if v.ready.Load() {
					return nil
				}
				if err := v.src.gql.do(ctx, v.url, v.token, qTyping, map[string]any{"c": v.conv}, nil); err != nil {
					l.setupErrs.add(errCode(err), 1)
				}
				return nil
			})
		}
		if sleep(ctx, 500*time.Millisecond) != nil {
			return len(waiting) + agentsWaiting
		}
	}
}

// parallel runs fn(0..n-1) at most conc at a time, printing progress once
// a second; it stops at the first error.
func parallel(ctx context.Context, l *loader, what string, n, conc int, fn func(i int) error) error {
	if n == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var done atomic.Int64
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(conc, 1) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					cancel(err)
				}
				done.Add(1)
			}
		})
	}
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	stopProgress := make(chan struct{})
	progress := sync.WaitGroup{}
	progress.Go(func() {
		for {
			select {
			case <-tick.C:
				l.logf("setup: %s %d/%d (%.0fs)", what, done.Load(), n, time.Since(start).Seconds())
			case <-stopProgress:
				return
			}
		}
	})
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	close(stopProgress)
	progress.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if n >= 100 || time.Since(start) > time.Second {
		l.logf("setup: %s %d/%d done in %.1fs", what, n, n, time.Since(start).Seconds())
	}
	return nil
}

// seqOf is the sequence number in one of this run's message bodies.
func (l *loader) seqOf(body string) (int, bool) {
	rest, ok := strings.CutPrefix(body, l.prefix)
	if !ok {
		return 0, false
	}
	seq, err := strconv.Atoi(rest)
	if err != nil || seq < 0 || seq >= len(l.sendAt) {
		return 0, false
	}
	return seq, true
}

type message struct {
	ID         string  `json:"id"`
	Body       string  `json:"body"`
	SenderType string  `json:"senderType"`
	ReplyToID  *string `json:"replyToID"`
}

func (l *loader) agentLoop(ctx context.Context, a *agent, conn *websocket.Conn) {
	defer l.wg.Done()
	onError := func(p json.RawMessage) {
		for _, c := range subErrors(p) {
			l.errs.add(c, 1)
		}
	}
	for {
		err := readLoop(ctx, conn, func(p *nextPayload) { l.onInbox(a, p) }, onError)
		conn.CloseNow()
		if ctx.Err() != nil {
			return
		}
		if c := closeCode(err); c != "" {
			l.errs.add(c, 1)
		}
		// The inbox has no replay: what is sent meanwhile is lost for this
		// agent, and counted so.
		a.reconnected.Add(1)
		if conn = l.redial(ctx, a.src, a.url, a.token, qInbox, nil); conn == nil {
			return
		}
	}
}

// streamEvent is one event of an inbox or conversation subscription.
type streamEvent struct {
	Kind    string   `json:"kind"`
	Message *message `json:"message"`
}

// event is the event of a subscription's payload (data.<field>),
// counting its errors; nil when there is none.
func (l *loader) event(p *nextPayload, field string) *streamEvent {
	if p.bad {
		l.errs.add("BAD_EVENT", 1)
		return nil
	}
	for _, e := range p.Errors {
		l.errs.add(e.code(), 1)
	}
	return p.Data[field]
}

func (l *loader) onInbox(a *agent, p *nextPayload) {
	now := time.Now().UnixNano()
	a.ready.Store(true)
	ev := l.event(p, "inboxEvents")
	if ev == nil || ev.Kind != "MESSAGE_CREATED" || ev.Message == nil {
		return
	}
	if seq, ok := l.seqOf(ev.Message.Body); ok && !a.recv[seq].CompareAndSwap(0, now) {
		a.dup.Add(1)
	}
}

func (l *loader) visitorLoop(ctx context.Context, v *visitor, conn *websocket.Conn) {
	defer l.wg.Done()
	onError := func(p json.RawMessage) {
		for _, c := range subErrors(p) {
			l.errs.add(c, 1)
		}
	}
	for {
		err := readLoop(ctx, conn, func(p *nextPayload) { l.onVisitor(v, p) }, onError)
		chaos := v.dropped()
		conn.CloseNow()
		if ctx.Err() != nil {
			return
		}
		if chaos {
			v.reconnects.Add(1)
			l.reconnects.Add(1)
		} else if c := closeCode(err); c != "" {
			l.errs.add(c, 1)
		}
		vars := map[string]any{"c": v.conv, "a": nil}
		if v.lastID != "" {
			vars["a"] = v.lastID
		}
		if conn = l.redial(ctx, v.src, v.url, v.token, qVisitor, vars); conn == nil {
			return
		}
		v.setConn(conn)
	}
}

// redial reopens a subscription under load, until it works or ctx ends;
// each failure is counted.
func (l *loader) redial(ctx context.Context, src *source, base, token, query string, vars map[string]any) *websocket.Conn {
	for attempt := 0; ; attempt++ {
		conn, err := subscribe(ctx, src.ws, base, token, query, vars, l.cfg.HandshakeTimeout)
		if err == nil {
			return conn
		}
		if ctx.Err() != nil {
			return nil
		}
		l.errs.add(errCode(err), 1)
		if sleep(ctx, retryWait(err, min(attempt, 5))) != nil {
			return nil
		}
	}
}

func (l *loader) onVisitor(v *visitor, p *nextPayload) {
	now := time.Now().UnixNano()
	v.ready.Store(true)
	ev := l.event(p, "conversationEvents")
	if ev == nil || ev.Message == nil || (ev.Kind != "MESSAGE_CREATED" && ev.Kind != "MESSAGE_COMPLETED") {
		return
	}
	m := ev.Message
	if _, ok := v.seen[m.ID]; ok {
		v.dup.Add(1)
		return
	}
	v.seen[m.ID] = struct{}{}
	v.lastID = m.ID
	if seq, ok := l.seqOf(m.Body); ok {
		if !l.visRecv[seq].CompareAndSwap(0, now) {
			v.dup.Add(1) // the same body under another id: stored twice
		}
		if l.botAt != nil {
			l.ids.Store(m.ID, seq)
		}
	}
	if ev.Kind == "MESSAGE_COMPLETED" && m.SenderType == "BOT" {
		l.botReplies.Add(1)
		if m.ReplyToID != nil && l.botAt != nil {
			if seq, ok := l.ids.Load(*m.ReplyToID); ok {
				l.botAt[seq.(int)].CompareAndSwap(0, now)
			}
		}
	}
}

// chaos drops a random DisconnectRate of the visitors' WebSockets per
// second until the returned stop is called.
func (l *loader) chaos(ctx context.Context) (stop func()) {
	if l.cfg.DisconnectRate <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		rng := rand.New(rand.NewPCG(l.cfg.Seed, 0x10ad))
		const tick = 100 * time.Millisecond
		p := l.cfg.DisconnectRate * tick.Seconds()
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				for _, v := range l.visitors {
					if rng.Float64() < p {
						v.disconnect()
					}
				}
			}
		}
	})
	return func() {
		cancel()
		wg.Wait()
	}
}

// send sends the messages at Rate (a token bucket), round-robin over the
// visitors, with at most InFlight requests waiting.
func (l *loader) send(ctx context.Context) {
	n := l.cfg.Messages
	burst := max(1, int(l.cfg.Rate/50))
	lim := rate.NewLimiter(rate.Limit(l.cfg.Rate), burst)
	sem := make(chan struct{}, l.cfg.InFlight)
	var wg sync.WaitGroup
	var sent, acked atomic.Int64
	start := time.Now()
	stopProgress := make(chan struct{})
	var progress sync.WaitGroup
	progress.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				s := sent.Load()
				l.logf("send: %d/%d sent, %d acknowledged, %.0f/s, %d in flight, %d errors, %d reconnects",
					s, n, acked.Load(), float64(s)/time.Since(start).Seconds(), len(sem), l.errs.total(), l.reconnects.Load())
			case <-stopProgress:
				return
			}
		}
	})
	for seq := range n {
		if lim.Wait(ctx) != nil {
			break
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		sent.Add(1)
		wg.Go(func() {
			defer func() { <-sem }()
			if l.sendOne(ctx, seq) {
				acked.Add(1)
			}
		})
	}
	wg.Wait()
	close(stopProgress)
	progress.Wait()
	l.logf("send: %d sent, %d acknowledged in %.1fs", sent.Load(), acked.Load(), time.Since(start).Seconds())
}

// sendOne sends message seq from its visitor, repeating it (same
// clientMessageId) on transient failures, and says whether it was stored.
func (l *loader) sendOne(ctx context.Context, seq int) bool {
	v := l.visitors[seq%len(l.visitors)]
	vars := map[string]any{"c": v.conv, "b": l.prefix + strconv.Itoa(seq), "m": l.cfg.RunID + "-" + strconv.Itoa(seq)}
	l.sendAt[seq].Store(time.Now().UnixNano())
	for attempt := 0; ; attempt++ {
		var out struct{ SendMessage struct{ ID string } }
		err := v.src.gql.do(ctx, v.url, v.token, qSend, vars, &out)
		if err == nil {
			l.ackAt[seq].Store(time.Now().UnixNano())
			if l.botAt != nil {
				l.ids.Store(out.SendMessage.ID, seq)
			}
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		l.errs.add(errCode(err), 1)
		if attempt >= l.cfg.Retries || !retryable(err) {
			return false
		}
		if sleep(ctx, min(retryWait(err, attempt), 30*time.Second)) != nil {
			return false
		}
	}
}

// drain waits until every acknowledged message reached every agent and its
// visitor (and, with the bot, until the replies stop coming), or
// DrainTimeout.
func (l *loader) drain(ctx context.Context) {
	start := time.Now()
	deadline := start.Add(l.cfg.DrainTimeout)
	lastBot, botQuiet := l.botReplies.Load(), time.Now()
	for {
		agentMissing, visitorMissing := l.missing()
		done := agentMissing == 0 && visitorMissing == 0
		if l.cfg.Bot {
			if b := l.botReplies.Load(); b != lastBot {
				lastBot, botQuiet = b, time.Now()
			}
			done = done && time.Since(botQuiet) > 3*time.Second
		}
		if done {
			l.logf("drain: everything delivered %.1fs after the last answer", time.Since(start).Seconds())
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			l.logf("drain: gave up after %s: %d agent deliveries and %d visitor deliveries missing",
				l.cfg.DrainTimeout, agentMissing, visitorMissing)
			return
		}
		_ = sleep(ctx, 100*time.Millisecond)
	}
}

// missing counts the deliveries of acknowledged messages not received yet.
func (l *loader) missing() (agents, visitors int) {
	for seq := range l.ackAt {
		if l.ackAt[seq].Load() == 0 {
			continue
		}
		for _, a := range l.agents {
			if a.recv[seq].Load() == 0 {
				agents++
			}
		}
		if l.visRecv[seq].Load() == 0 {
			visitors++
		}
	}
	return agents, visitors
}
