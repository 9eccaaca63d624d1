package server

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"

	"concierge/account"
	"concierge/auth"
	"concierge/db"
	"concierge/filestore"
	"concierge/graph"
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
	return a, nil
}

// Handler returns the HTTP handler of the whole service.
func (a *App) Handler() http.Handler {
	schema := graph.NewSchema(&graph.Resolver{Client: a.DB.Client, Auth: a.Auth, Accounts: a.Accounts, Broker: a.Broker})
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

// Close stops the broker and closes the knowledge index. The database is
// the caller's to close.
func (a *App) Close() {
	_ = a.Broker.Close()
	if a.Retrieval != nil {
		_ = a.Retrieval.Close()
	}
}
