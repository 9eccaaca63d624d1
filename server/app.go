package server

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"time"

	"concierge/account"
	"concierge/auth"
	"concierge/db"
	"concierge/filestore"
	"concierge/graph"
	"concierge/ingest"
	"concierge/realtime"
	"concierge/retrieval"
)

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
	a := &App{Config: cfg, DB: d, Files: files, Broker: realtime.NewMemory(), Retrieval: rs}
	a.Auth = auth.NewService(d.Client, signer)
	a.Accounts = account.NewService(d.Client, a.Auth, files, a.Broker)
	if rs != nil {
		a.Accounts.OnCompanyDeleted = rs.DeleteCompany
	}
	icfg := cfg.Ingest
	icfg.DB, icfg.Index, icfg.Broker, icfg.Files = d, rs, a.Broker, files
	if a.Ingest, err = ingest.New(icfg); err != nil {
		return nil, err
	}
	return a, nil
}

// StartWorkers runs the ingestion workers in this process until Close or
// ctx ends.
func (a *App) StartWorkers(ctx context.Context) error {
	return a.Ingest.Start(ctx)
}

// Handler returns the HTTP handler of the whole service.
func (a *App) Handler() http.Handler {
	schema := graph.NewSchema(&graph.Resolver{Client: a.DB.Client, Auth: a.Auth, Accounts: a.Accounts, Broker: a.Broker, Ingest: a.Ingest})
	return New(a.Config, Deps{Schema: schema, Auth: a.Auth, Files: a.Files, Ready: a.ready})
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
func (a *App) Close() {
	a.Ingest.Stop(10 * time.Second)
	_ = a.Broker.Close()
	if a.Retrieval != nil {
		_ = a.Retrieval.Close()
	}
}
