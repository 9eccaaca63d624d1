package db_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"concierge/db"
	"concierge/dbtest"
)

// openPostgresTraced opens a fresh PostgreSQL schema with one cached
// connection; the cache's events ("prepare <query>", "close <query>") are
// returned by the function.
func openPostgresTraced(t *testing.T) (*sql.DB, func() []string) {
	t.Helper()
	var (
		mu     sync.Mutex
		events []string
	)
	d, err := db.OpenPostgresTraced(dbtest.URL(t, "postgres"), func(event, query string) {
		mu.Lock()
		events = append(events, event+" "+query)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	d.SetMaxOpenConns(1)
	t.Cleanup(func() { d.Close() })
	return d, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(events) }
}

// On PostgreSQL, statements are prepared once per connection and run again
// in one round trip, with lib/pq's argument conversion; failures leave the
// connection usable, inside a transaction too.
func TestStmtCachePostgres(t *testing.T) {
	d, events := openPostgresTraced(t)
	ctx := context.Background()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := d.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// A script of two statements runs uncached (PostgreSQL prepares one).
	exec(`CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL UNIQUE, tags text[]); CREATE INDEX items_tags ON items USING gin (tags)`)
	const (
		insert = `INSERT INTO items (name, tags) VALUES ($1, $2) RETURNING id`
		get    = `SELECT name, tags FROM items WHERE id = $1`
	)
	for i := 1; i <= 20; i++ {
		var id int
		// pq.Array is a Valuer lib/pq's own CheckNamedValue lets through.
		if err := d.QueryRowContext(ctx, insert, "item"+string(rune('a'+i)), pq.Array([]string{"t", "u"})).Scan(&id); err != nil || id != i {
			t.Fatalf("insert %d: id %d, %v", i, id, err)
		}
		var name string
		var tags []string
		if err := d.QueryRowContext(ctx, get, id).Scan(&name, pq.Array(&tags)); err != nil || !slices.Equal(tags, []string{"t", "u"}) {
			t.Fatalf("get %d: %q %v, %v", id, name, tags, err)
		}
	}
	for _, q := range []string{insert, get} {
		if n := db.CountEvents(events(), "prepare", q); n != 1 {
			t.Errorf("%q prepared %d times, want 1", q, n)
		}
	}

	conn, err := d.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db.CheckStmtCacheInterfaces(t, conn, `SELECT id, name, tags FROM items`)
	conn.Close()

	// A constraint fails the transaction; it rolls back, and the statement
	// is prepared again once the connection is back in the pool.
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var pe *pq.Error
	if err := tx.QueryRowContext(ctx, insert, "itemb", nil).Scan(new(int)); !errors.As(err, &pe) || pe.Code != "23505" {
		t.Fatalf("duplicate insert: %v, want a unique violation", err)
	}
	if err := tx.QueryRowContext(ctx, get, 1).Scan(new(string), new(any)); err == nil || !strings.Contains(err.Error(), "current transaction is aborted") {
		t.Fatalf("in the failed transaction: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("rollback: %v", err)
	}
	var id int
	if err := d.QueryRowContext(ctx, insert, "after", nil).Scan(&id); err != nil || id != 22 {
		t.Fatalf("insert after the rollback: id %d, %v", id, err)
	}
	ev := events()
	if db.CountEvents(ev, "close", insert) != 1 || db.CountEvents(ev, "prepare", insert) != 2 {
		t.Fatalf("the failed statement was not closed and prepared again: %q", ev)
	}

	// A table changed under a cached plan fails its next run once.
	const all = `SELECT * FROM items WHERE id = $1`
	cols := func() ([]string, error) {
		rows, err := d.QueryContext(ctx, all, 1)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		return rows.Columns()
	}
	if c, err := cols(); err != nil || len(c) != 3 {
		t.Fatalf("columns %v, %v", c, err)
	}
	exec(`ALTER TABLE items ADD COLUMN extra int`)
	if _, err := cols(); err == nil || !strings.Contains(err.Error(), "cached plan must not change result type") {
		t.Fatalf("after ALTER TABLE: %v, want the cached plan refused", err)
	}
	if c, err := cols(); err != nil || len(c) != 4 {
		t.Fatalf("columns after ALTER TABLE %v, %v; want 4", c, err)
	}

	// Cancelling a cached statement's run ends it at once; the connection
	// serves the next query.
	const sleep = `SELECT pg_sleep($1)`
	exec(sleep, 0)
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	start := time.Now()
	_, err = d.ExecContext(tctx, sleep, 30)
	cancel()
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("cancelled sleep: %v after %v", err, time.Since(start))
	}
	exec(sleep, 0)
	var n int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(&n); err != nil || n != 21 {
		t.Fatalf("count %d, %v", n, err)
	}
}
