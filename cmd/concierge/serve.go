package main

import (
	"concierge/assistant"
	"concierge/observe"
	"concierge/realtime"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"concierge/auth"
	"concierge/db"
	"concierge/ent/resource"
	"concierge/ingest"
	"concierge/retrieval/backend"
	"concierge/secretbox"
	"concierge/server"
	"concierge/web/dashboard"
)

// testExtractors replace the ingest extractors in tests of this package
// (the crash test's child process blocks in one); nil otherwise.
var testExtractors map[resource.Type]ingest.Extractor

// testLLM replaces the language model in tests of this package (the crash
// test's child process blocks in it); nil otherwise.
var testLLM assistant.Provider

// app is the wired platform plus its configuration.
type app struct {
	*server.App
	cfg config
}

// open connects, migrates and wires the services.
func open(ctx context.Context, c config) (*app, error) {
	if c.production() && c.JWTSecret == "" {
		return nil, errors.New("JWT_SECRET must be set in production (every replica must share it)")
	}
	if c.production() && os.Getenv(secretbox.EnvKey) == "" {
		return nil, errors.New("ENCRYPTION_KEY must be set in production (32 bytes in base64 or hex, shared by every replica)")
	}
	d, err := db.Open(ctx, c.DatabaseURL, c.DataDir)
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("migrating: %w", err)
	}
	secret, err := auth.LoadOrCreateSecret(c.JWTSecret, c.DataDir, "jwt_secret")
	if err != nil {
		d.Close()
		return nil, err
	}
	rcfg := c.Retrieval
	rcfg.DataDir = filepath.Join(c.DataDir, "index")
	rs, err := backend.Open(ctx, rcfg)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("opening the knowledge index: %w", err)
	}
	icfg := c.Ingest
	if testExtractors != nil {
		icfg.Extractors = testExtractors
	}
	llm, err := assistant.NewProvider(c.LLM)
	if testLLM != nil {
		llm = testLLM
	}
	if err != nil {
		rs.Close()
		d.Close()
		return nil, fmt.Errorf("LLM: %w", err)
	}
	// Real-time events: in this process on SQLite; through PostgreSQL's
	// LISTEN/NOTIFY on PostgreSQL, so every replica and worker sees them.
	broker, err := realtime.Open(c.DatabaseURL, realtime.PostgresOptions{DB: d.SQL, BufferSize: server.BrokerBuffer})
	if err != nil {
		rs.Close()
		d.Close()
		return nil, fmt.Errorf("real-time events: %w", err)
	}
	observe.WatchBroker(broker)
	a, err := server.NewApp(d, secret, c.DataDir, server.Config{Production: c.production(), TrustProxy: c.TrustProxy,
		Ingest: icfg, LLM: llm, LLMTimeout: c.LLMTimeout, Chat: c.Chat, Broker: broker}, rs)
	if err != nil {
		broker.Close()
		rs.Close()
		d.Close()
		return nil, err
	}
	return &app{App: a, cfg: c}, nil
}

func (a *app) Close() {
	a.App.Close()
	_ = a.DB.Close()
}

func serve(ctx context.Context, args []string) error {
	c, _, err := parseConfig("serve", args)
	if err != nil {
		return err
	}
	setupLogger(c)
	a, err := open(ctx, c)
	if err != nil {
		if ctx.Err() != nil { // asked to stop while starting
			slog.Info("stopped while starting", slog.Any("err", err))
			return nil
		}
		return err
	}
	defer a.Close()
	creds, err := a.bootstrap(ctx)
	if err != nil {
		return err
	}
	// The job workers (ingestion, the assistant's replies) run in-process,
	// so `concierge serve` alone answers; `concierge worker` runs more.
	if err := a.StartWorkers(ctx); err != nil {
		if ctx.Err() != nil { // asked to stop while River was starting
			slog.Info("stopped while starting", slog.Any("err", err))
			return nil
		}
		return fmt.Errorf("starting workers: %w", err)
	}
	a.StartChat(ctx)
	h := a.Handler()
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	printBanner(c, ln.Addr(), creds)
	slog.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("env", c.Env), slog.String("database", a.DB.Dialect))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		slog.Warn("shutdown", slog.Any("err", err))
		_ = hs.Close()
	}
	return nil
}

var widgetKeyInBanner = regexp.MustCompile(`\(widget key (\S+)\)`)

func printBanner(c config, addr net.Addr, creds []string) {
	host := addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && (tcp.IP.IsUnspecified() || tcp.IP.IsLoopback()) {
		host = fmt.Sprintf("localhost:%d", tcp.Port)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nConcierge is running (%s).\n", c.Env)
	fmt.Fprintf(&b, "  Dashboard: http://%s/", host)
	if dashboard.FS() == nil {
		b.WriteString("  (not built into this binary: run `make run` to build it; needs Node 20)")
	}
	fmt.Fprintf(&b, "\n  API:       http://%s/graphql", host)
	if !c.production() {
		fmt.Fprintf(&b, "  (GraphiQL: http://%s/graphiql)", host)
	}
	fmt.Fprintf(&b, "\n  Health:    http://%s/healthz  http://%s/readyz  http://%s/metrics\n", host, host, host)
	for _, l := range creds {
		b.WriteString(l + "\n")
		if m := widgetKeyInBanner.FindStringSubmatch(l); m != nil {
			fmt.Fprintf(&b, "    try the widget: %s\n", server.WidgetTestURL("http://"+host, m[1]))
		}
	}
	fmt.Fprintln(os.Stdout, b.String())
}

// worker runs only the job workers (ingestion, the assistant's replies; no
// HTTP API), for scaling jobs apart from the API replicas on one
// PostgreSQL database.
func worker(ctx context.Context, args []string) error {
	c, _, err := parseConfig("worker", args)
	if err != nil {
		return err
	}
	setupLogger(c)
	a, err := open(ctx, c)
	if err != nil {
		if ctx.Err() != nil { // asked to stop while starting
			slog.Info("stopped while starting", slog.Any("err", err))
			return nil
		}
		return err
	}
	defer a.Close()
	if err := a.StartWorkers(ctx); err != nil {
		if ctx.Err() != nil { // asked to stop while River was starting
			slog.Info("stopped while starting", slog.Any("err", err))
			return nil
		}
		return fmt.Errorf("starting workers: %w", err)
	}
	a.StartChat(ctx)
	slog.Info("job workers running", slog.String("database", a.DB.Dialect))
	<-ctx.Done()
	slog.Info("shutting down")
	return nil
}
