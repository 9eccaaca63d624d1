package server

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"entgo.io/ent/dialect"

	"github.com/google/uuid"

	"concierge/account"
	"concierge/assistant"
	"concierge/auth"
	"concierge/chat"
	"concierge/db"
	"concierge/ent"
	"concierge/ent/company"
	"concierge/ent/resource"
	"concierge/fault"
	"concierge/filestore"
	"concierge/graph"
	"concierge/ingest"
	"concierge/ingest/facebook"
	"concierge/ingest/web"
	"concierge/ratelimit"
	"concierge/realtime"
	"concierge/retrieval"
	"concierge/secretbox"
	"concierge/viewer"
)

// BrokerBuffer is how many events a subscriber may have unread before the
// broker drops it. Conversation and inbox streams then catch up from the
// database, so the buffer only absorbs bursts; every subscription pays for
// it, which matters at tens of thousands of subscriptions.
const BrokerBuffer = 64

// App is the wired platform over one database: the services and the HTTP
// handler. `concierge serve` and the end-to-end tests build it the same way.
type App struct {
	Config   Config
	DB       *db.DB
	Auth     *auth.Service
	Accounts *account.Service
	Files    *filestore.Store
	Broker   realtime.Broker
	// Retrieval is the company knowledge index (nil: none configured).
	Retrieval *retrieval.Service
	// Ingest manages resources and runs their ingestion jobs (after
	// StartWorkers).
	Ingest *ingest.Service
	// Chat runs conversations and the assistant's replies.
	Chat *chat.Service
	// Assistant answers from the knowledge (nil without Retrieval).
	Assistant *assistant.Assistant
	// Limits is the shared rate-limit store.
	Limits *ratelimit.SQL

	// stopping ends when Close starts: WebSocket clients are told the
	// server restarts before their streams' sources close.
	stopping  context.Context
	stop      context.CancelFunc
	closeOnce sync.Once
}

// NewApp wires the services over a migrated database. Files go under
// dataDir/files; secret signs access tokens; rs (optional) is the knowledge
// index, whose company index goes with a deleted company.
func NewApp(d *db.DB, secret []byte, dataDir string, cfg Config, rs *retrieval.Service) (*App, error) {
	signer, err := auth.NewSigner(secret)
	if err != nil {
		return nil, err
	}
	files, err := filestore.New(filepath.Join(dataDir, "files"))
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, DB: d, Files: files, Broker: cfg.Broker, Retrieval: rs}
	a.stopping, a.stop = context.WithCancel(context.Background())
	if a.Broker == nil {
		a.Broker = realtime.NewMemory(realtime.WithBufferSize(BrokerBuffer))
	}
	a.Auth = auth.NewService(d.Client, signer)
	// Rate limits live in the database: every replica counts against them.
	if a.Limits, err = ratelimit.New(d.SQL, d.Dialect); err != nil {
		return nil, err
	}
	// Replicas exist only on PostgreSQL: there the per-request limits
	// (logins, messages, new conversations) live in the database, shared.
	// The embedded default is one process, whose own buckets are exact and
	// spare SQLite's single writer two writes a message.
	shared := d.Dialect == dialect.Postgres || cfg.ShareLimits
	if shared {
		a.Auth.ShareLimits(a.Limits)
	}
	a.Accounts = account.NewService(d.Client, a.Auth, files, a.Broker)
	icfg := cfg.Ingest
	icfg.DB, icfg.Index, icfg.Broker, icfg.Files, icfg.Limits = d, rs, a.Broker, files, a.Limits
	if icfg.Secrets == nil {
		// ENCRYPTION_KEY, else a key generated once into the data directory.
		key, err := secretbox.LoadOrCreateKey(os.Getenv(secretbox.EnvKey), dataDir)
		if err != nil {
			return nil, err
		}
		if icfg.Secrets, err = secretbox.New(key); err != nil {
			return nil, err
		}
	}
	if _, ok := icfg.Extractors[resource.TypeFACEBOOK]; !ok {
		fb, err := facebook.New(facebook.Config{})
		if err != nil {
			return nil, err
		}
		icfg.Extractors = maps.Clone(icfg.Extractors)
		if icfg.Extractors == nil {
			icfg.Extractors = map[resource.Type]ingest.Extractor{}
		}
		icfg.Extractors[resource.TypeFACEBOOK] = &facebook.Extractor{Client: fb, Secrets: icfg.Secrets}
	}
	if _, ok := icfg.Extractors[resource.TypeWEBSITE]; !ok {
		// Plain HTTP or Chromium, guarded by INGEST_ALLOW_HOSTS's policy.
		icfg.Extractors = maps.Clone(icfg.Extractors)
		if icfg.Extractors == nil {
			icfg.Extractors = map[resource.Type]ingest.Extractor{}
		}
		icfg.Extractors[resource.TypeWEBSITE] = web.New(web.Config{Logger: icfg.Logger})
	}
	ccfg := cfg.Chat
	if rs != nil {
		// Without a knowledge index there is nothing to answer from.
		llm := cfg.LLM
		if llm == nil {
			if llm, err = assistant.NewProvider(assistant.ProviderConfig{Name: assistant.ProviderOffline}); err != nil {
				return nil, err
			}
		}
		bot, err := assistant.New(assistant.Config{Provider: llm, Search: rs, Timeout: cfg.LLMTimeout})
		if err != nil {
			return nil, err
		}
		a.Assistant, ccfg.Assistant = bot, bot
	}
	ccfg.DB, ccfg.Client, ccfg.Auth, ccfg.Broker = d, d.Client, a.Auth, a.Broker
	if shared {
		ccfg.LimitStore = a.Limits
	}
	if a.Chat, err = chat.New(ccfg); err != nil {
		return nil, err
	}
	// One River client runs the process's jobs: ingestion, and the
	// assistant's replies.
	icfg.Register, icfg.Queues = a.Chat.AddWorkers, a.Chat.Queues()
	if a.Ingest, err = ingest.New(icfg); err != nil {
		return nil, err
	}
	a.Chat.UseJobs(a.Ingest.River())
	// A deleted company's index and files go by an ingest job.
	a.Accounts.UseCleanup(d, a.Ingest)
	return a, nil
}

// StartWorkers runs the job workers (ingestion, the assistant's replies) in
// this process until Close or ctx ends.
func (a *App) StartWorkers(ctx context.Context) error {
	return a.Ingest.Start(ctx)
}

// StartChat runs the chat's upkeep (the pruning of idle rate-limit
// buckets) until ctx ends.
func (a *App) StartChat(ctx context.Context) {
	go func() {
		// Forget rate-limit buckets idle for an hour: they are full again.
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := a.Limits.Prune(ctx, time.Hour); err != nil && ctx.Err() == nil {
					slog.Warn("pruning rate-limit buckets", slog.Any("err", err))
				}
			}
		}
	}()
}

// Handler returns the HTTP handler of the whole service.
func (a *App) Handler() http.Handler {
	schema := graph.NewSchema(&graph.Resolver{Client: a.DB.Client, Auth: a.Auth, Accounts: a.Accounts, Broker: a.Broker,
		Ingest: a.Ingest, Chat: a.Chat, Assistant: a.Assistant})
	return New(a.Config, Deps{Schema: schema, Auth: a.Auth, Files: a.Files, Ready: a.ready, CompanyOrigins: a.companyOrigins, Stopping: a.stopping})
}

// companyOrigins returns the origins the company's widget may run on
// (none: any), read as the system viewer of that company.
func (a *App) companyOrigins(ctx context.Context, companyID uuid.UUID) ([]string, error) {
	co, err := a.DB.Client.Company.Query().
		Where(company.ID(companyID)).
		Select(company.FieldAllowedOrigins).
		Only(viewer.SystemContext(ctx, companyID))
	if err != nil {
		if ent.IsNotFound(err) {
			return nil, fault.Unauthenticated("the credential's company no longer exists")
		}
		return nil, err
	}
	return co.AllowedOrigins, nil
}

// ready reports whether the database and the knowledge index answer.
func (a *App) ready(ctx context.Context) error {
	if err := a.DB.Ping(ctx); err != nil {
		return errors.New("database unreachable")
	}
	if a.Retrieval != nil {
		if err := a.Retrieval.Ping(ctx); err != nil {
			return errors.New("knowledge index unreachable")
		}
	}
	return nil
}

// Close stops the ingestion workers (running jobs get a few seconds to
// finish, then are cancelled and retried later), the broker and the
// knowledge index. The database is the caller's to close.
func (a *App) Close() { a.closeOnce.Do(a.close) }

func (a *App) close() {
	// WebSocket clients first: they are told to come back (1012), and
	// their streams, which end when the broker closes, are not completed.
	a.stop()
	a.Chat.Close()
	a.Ingest.Stop(10 * time.Second)
	_ = a.Broker.Close()
	if a.Retrieval != nil {
		_ = a.Retrieval.Close()
	}
}
