package db

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"concierge/ent"
)

// RiverDriver returns the River job-queue driver over the database's pool:
// riversqlite on SQLite, riverdatabasesql (lib/pq) on PostgreSQL. Both work
// on *sql.Tx, so jobs are inserted in the same transaction as the rows
// they process.
func (d *DB) RiverDriver() riverdriver.Driver[*sql.Tx] {
	if d.Dialect == dialect.SQLite {
		return riversqlite.New(d.SQL)
	}
	return riverdatabasesql.New(d.SQL)
}

// migrateRiver applies River's own migrations (its job, leader and queue
// tables) in the current schema. On PostgreSQL a session-level advisory
// lock serialises replicas that start at the same time.
func (d *DB) migrateRiver(ctx context.Context) error {
	m, err := rivermigrate.New(d.RiverDriver(), nil)
	if err != nil {
		return err
	}
	// Some River migrations must commit one by one (PostgreSQL cannot use
	// an enum value added in the same transaction): the lock is a session
	// lock, held while the migrator works on other connections.
	return d.WithLock(ctx, "concierge-river", func() error {
		_, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	})
}

// WithLock runs fn while holding a lock named name that serialises
// processes sharing the database: on PostgreSQL a session-level advisory
// lock in the current schema, held on one connection while fn uses
// others. SQLite databases belong to one process, which runs fn as is.
func (d *DB) WithLock(ctx context.Context, name string, fn func() error) error {
	if d.Dialect == dialect.SQLite {
		return fn()
	}
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var schemaName string
	if err := conn.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schemaName); err != nil {
		return fmt.Errorf("reading current schema: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte(name + ":" + schemaName))
	key := int64(h.Sum64() >> 1)
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return fmt.Errorf("locking %s: %w", name, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", key) //nolint:errcheck
	return fn()
}

// LiveJobStates are the states of a River job that will still run: a job
// unique among them is never queued, run or retried twice at once.
var LiveJobStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
	rivertype.JobStateRetryable, rivertype.JobStateScheduled,
}

// DefaultRescueGrace is AttemptLimit.Grace unless set: how long past its
// attempt's limit a job still marked running is taken for one whose process
// died.
const DefaultRescueGrace = time.Minute

// AttemptLimit bounds one attempt of a River job at Limit. River's rescuer
// takes a job still marked running for one whose process died, and runs it
// again, once it has been running longer than its worker's Timeout (and
// than the client's RescueStuckJobsAfter, which is set to Grace). So a
// worker's Timeout is Limit plus Grace and its Work bounds its own context
// at Limit (Bound): an attempt that ran out of time has Grace to record its
// failure, or a reply's fallback, before the job may run again beside it,
// and a job whose process died runs again Grace after its own limit, not
// after the longest limit of every kind (a reply 2 minutes in, not 10).
type AttemptLimit struct{ Limit, Grace time.Duration }

// Timeout is the worker's Timeout for River: Limit plus Grace.
func (l AttemptLimit) Timeout() time.Duration { return l.Limit + l.Grace }

// Bound returns ctx ending at Limit, for the attempt's work.
func (l AttemptLimit) Bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, l.Limit)
}

// TxClient returns an ent client bound to tx, an open transaction of the
// pool, so that ent writes and other statements on tx (a River InsertTx)
// commit or roll back together. Privacy policies and hooks apply as on
// Client. It is an ent transaction like db.WithTx's, opened on tx, so its
// rows behave alike: bound to tx (once tx has ended, their edges and
// updates fail with sql.ErrTxDone rather than run outside it) until the
// caller unwraps them (ent's Unwrap) after the commit, when they run on
// the pool. The caller commits or rolls back tx itself.
func (d *DB) TxClient(tx *sql.Tx) *ent.Client {
	opener := &txOpener{Driver: d.pool}
	open := dialect.NopTx(entsql.NewDriver(d.Dialect, entsql.Conn{ExecQuerier: tx}))
	opener.tx.Store(&open)
	etx, err := ent.NewClient(ent.Driver(opener)).Tx(context.Background())
	if err != nil {
		panic(err) // txOpener.Tx cannot fail, and the client is in no transaction
	}
	return etx.Client()
}

// txOpener is the pool, except that the first transaction asked of it (by
// TxClient's ent.Client.Tx) is one already open: the transactions ent
// opens for multi-statement writes inside it nest in it (ent's own
// transaction driver), and rows unwrapped from it after the commit, which
// get txOpener as their driver, run on the pool, their transactions too.
type txOpener struct {
	*entsql.Driver
	tx atomic.Pointer[dialect.Tx]
}

func (d *txOpener) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

func (d *txOpener) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	if tx := d.tx.Swap(nil); tx != nil {
		return *tx, nil
	}
	return d.Driver.BeginTx(ctx, opts)
}
