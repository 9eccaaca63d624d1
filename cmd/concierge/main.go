// Command concierge runs the Concierge platform.
//
//	concierge serve                 run the API (and, on first start in development, create demo data)
//	concierge worker                run only the ingestion workers
//	concierge migrate [--status]    apply database migrations
//	concierge superadmin create     create a super admin
//	concierge demo                  create the demo company now
package main

import (
	"concierge/ingest/pdf"
	"concierge/observe"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // business hours in any IANA time zone, also without the OS database
)

const usage = `Concierge: multi-tenant customer-support chatbot platform.

Usage:
  concierge serve      [--addr :8080] [--data ./data] [--env development|production]
  concierge worker     [--data ./data]            (ingestion workers only; serve runs them too)
  concierge migrate    [--status] [--data ./data]
  concierge superadmin create --username NAME --password PASS [--email EMAIL] [--name FULL_NAME]
  concierge demo       [--data ./data]

Environment: DATABASE_URL (PostgreSQL; default SQLite in the data directory),
CONCIERGE_ADDR, CONCIERGE_DATA_DIR, CONCIERGE_ENV, JWT_SECRET,
SUPERADMIN_USERNAME, SUPERADMIN_PASSWORD, CONCIERGE_TRUST_PROXY,
INGEST_WORKERS (jobs at once per process, default 4), INGEST_JOB_TIMEOUT
(one attempt, default 10m), INGEST_RESCUE_AFTER (a job whose process died
runs again this long after its attempt's limit, default 1m), REPLY_TIMEOUT
(one attempt at a reply, default 2m).
`

func main() {
	// A child process for the pure-Go PDF fallback: runs and exits here.
	pdf.MaybeRunChild()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "concierge:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest)
	case "worker":
		return worker(ctx, rest)
	case "migrate":
		return migrateCmd(ctx, rest)
	case "superadmin":
		return superadminCmd(ctx, rest)
	case "demo":
		return demoCmd(ctx, rest)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	default:
		fmt.Fprint(os.Stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func setupLogger(c config) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if c.production() {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	slog.SetDefault(slog.New(observe.NewLogHandler(h)))
}
