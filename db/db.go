// Package db opens the application database (SQLite by default, PostgreSQL
// when a postgres:// URL is given), builds the ent client on it and applies
// the versioned migrations from package migrations.
package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"
	"modernc.org/sqlite" // "sqlite" driver (pure Go)

	"concierge/ent"
	_ "concierge/ent/runtime" // registers privacy policies, hooks and defaults
)

// PingTimeout bounds the initial connectivity check in Open.
const PingTimeout = 10 * time.Second

// SQLiteFileName is the database file created in the data directory when no
// database URL is configured.
const SQLiteFileName = "concierge.db"

// DB is an open database with its ent client.
type DB struct {
	// SQL is the underlying connection pool.
	SQL *sql.DB
	// Dialect is ent's dialect name: dialect.SQLite ("sqlite3") or
	// dialect.Postgres ("postgres").
	Dialect string
	// Client is the ent client. Privacy policies apply: use a viewer context
	// or privacy.DecisionContext(ctx, privacy.Allow) for system work.
	Client *ent.Client
	pool   *entsql.Driver // Client's driver: TxClient's rows run on it once unwrapped

	ckpt *checkpointer // SQLite's; nil with PostgreSQL
}

// Open connects to the database. An empty databaseURL means a SQLite file
// concierge.db in dataDir (created with mode 0700). postgres:// and
// postgresql:// URLs use PostgreSQL (lib/pq); sqlite://path and file:path
// select an explicit SQLite file. Open does not migrate; call Migrate.
func Open(ctx context.Context, databaseURL, dataDir string) (*DB, error) {
	var (
		sqlDB       *sql.DB
		dialectName string
		err         error
	)
	switch {
	case databaseURL == "":
		if dataDir == "" {
			dataDir = "."
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("db: creating data directory: %w", err)
		}
		sqlDB, err = openSQLite(filepath.Join(dataDir, SQLiteFileName))
		dialectName = dialect.SQLite
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		sqlDB, err = openPostgres(databaseURL, nil)
		dialectName = dialect.Postgres
	case strings.HasPrefix(databaseURL, "sqlite://"), strings.HasPrefix(databaseURL, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite://"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path == "" {
			return nil, fmt.Errorf("db: missing SQLite file path in %q", databaseURL)
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("db: creating database directory: %w", err)
			}
		}
		sqlDB, err = openSQLite(path)
		dialectName = dialect.SQLite
	default:
		return nil, fmt.Errorf("db: unsupported DATABASE_URL %q: use postgres://..., postgresql://..., sqlite://path or file:path (or leave it empty for SQLite in the data directory)", redact(databaseURL))
	}
	if err != nil {
		return nil, fmt.Errorf("db: opening %s: %w", dialectName, err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		sqlDB.Close()
		if dialectName == dialect.Postgres {
			return nil, fmt.Errorf("db: cannot connect to PostgreSQL at %s: %w", redact(databaseURL), err)
		}
		return nil, fmt.Errorf("db: cannot open SQLite database: %w", err)
	}
	drv := entsql.OpenDB(dialectName, sqlDB)
	d := &DB{
		SQL:     sqlDB,
		Dialect: dialectName,
		Client:  ent.NewClient(ent.Driver(drv)),
		pool:    drv,
	}
	if dialectName == dialect.SQLite {
		d.ckpt = startCheckpointer(sqlDB, checkpointEvery)
	}
	return d, nil
}

// firstReplan is how long a new PostgreSQL statement keeps its plan before
// it is prepared again (see stmtCacheConnector).
const firstReplan = 5 * time.Second

// openPostgres opens a pool of PostgreSQL connections that keep their
// prepared statements (see stmtCacheConnector); trace is the cache's test
// hook.
func openPostgres(databaseURL string, trace func(event, query string)) (*sql.DB, error) {
	c, err := pq.NewConnector(databaseURL)
	if err != nil {
		return nil, err
	}
	d := sql.OpenDB(&stmtCacheConnector{Connector: c, size: stmtCacheSize, replan: firstReplan, now: time.Now, trace: trace})
	// A bounded pool per process: replicas and workers share the server's
	// max_connections (100 by default). Requests beyond it wait for a
	// connection instead of failing.
	n := MaxConns()
	d.SetMaxOpenConns(n)
	d.SetMaxIdleConns(n)
	d.SetConnMaxIdleTime(5 * time.Minute)
	return d, nil
}

// openSQLite opens the SQLite file at path with connections that keep their
// prepared statements (see stmtCacheConnector) and write one at a time,
// queued in Go (see writeGate).
func openSQLite(path string) (*sql.DB, error) {
	c, err := sqliteConnector(path, sqliteBusyTimeout)
	if err != nil {
		return nil, err
	}
	d := sql.OpenDB(&stmtCacheConnector{Connector: c, size: stmtCacheSize, gate: newWriteGate(sqliteBusyTimeout)})
	// A bounded pool whose connections stay open: a connection closed when
	// idle (database/sql keeps 2 by default) takes its prepared statements
	// with it, and under load the pool churned through new connections
	// that prepared everything again. SQLite has one writer at a time and
	// readers need no more connections than there are cores to run them.
	n := MaxConns()
	d.SetMaxOpenConns(n)
	d.SetMaxIdleConns(n)
	return d, nil
}

// sqliteBusyTimeout is how long a SQLite write waits for another to end.
const sqliteBusyTimeout = 10 * time.Second

// sqliteConnector connects to the SQLite file at path, with the pragmas the
// application relies on; a write waits up to busy for another process's
// (the write gate queues this process's). It uses the driver registered as
// "sqlite", as sql.Open("sqlite", ...) would.
func sqliteConnector(path string, busy time.Duration) (driver.Connector, error) {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "wal_autocheckpoint(0)") // the checkpointer's job
	q.Set("_txlock", "immediate")
	return sqlite.NewConnector("file:" + path + "?" + q.Encode())
}

// Ping checks that the database answers (used by /readyz).
func (d *DB) Ping(ctx context.Context) error {
	return d.SQL.PingContext(ctx)
}

// Close closes the ent client and the connection pool.
func (d *DB) Close() error {
	if d.ckpt != nil {
		d.ckpt.Stop()
	}
	// The ent client closes its driver, which closes d.SQL.
	err := d.Client.Close()
	if errors.Is(err, sql.ErrConnDone) {
		return nil
	}
	return err
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "<database url>"
	}
	return u.Redacted()
}

// DefaultMaxConns is the PostgreSQL pool size of one process.
const DefaultMaxConns = 20

// MaxConns is DB_MAX_CONNS, or DefaultMaxConns.
func MaxConns() int {
	if n, err := strconv.Atoi(os.Getenv("DB_MAX_CONNS")); err == nil && n > 0 {
		return n
	}
	return DefaultMaxConns
}
