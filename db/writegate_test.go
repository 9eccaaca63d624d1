package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// openGated opens a pool of n connections to a new SQLite file, as
// openSQLite does, with its write gate waiting up to wait (no gate when
// wait is 0) and SQLite's own busy timeout busy: at 0, a write that found
// another connection writing fails at once with SQLITE_BUSY rather than
// sleeping.
func openGated(t testing.TB, n int, wait, busy time.Duration) *sql.DB {
	t.Helper()
	c, err := sqliteConnector(filepath.Join(t.TempDir(), "test.db"), busy)
	if err != nil {
		t.Fatal(err)
	}
	sc := &stmtCacheConnector{Connector: c, size: stmtCacheSize}
	if wait > 0 {
		sc.gate = newWriteGate(wait)
	}
	d := sql.OpenDB(sc)
	d.SetMaxOpenConns(n)
	d.SetMaxIdleConns(n)
	t.Cleanup(func() { d.Close() })
	mustExec(t, d, createItems)
	mustExec(t, d, insertItem, "counter")
	return d
}

// appendItem is the shape of a message's transaction: a counter bumped,
// then a row inserted.
func appendItem(ctx context.Context, d *sql.DB, name string) error {
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, bumpItem, 1); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, insertItem, name); err != nil {
		return err
	}
	return tx.Commit()
}

// Writers of every kind (transactions, statements, INSERT … RETURNING read
// to the end) queue at the gate: none of them ever meets another writer in
// SQLite, and reads run beside them.
func TestWriteGateQueuesWriters(t *testing.T) {
	const writers, each = 8, 40
	d := openGated(t, writers+2, 10*time.Second, 0)
	ctx := context.Background()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprintf("w%d-%d", w, i)
				switch i % 4 {
				case 0, 1:
					if err := appendItem(ctx, d, name); err != nil {
						fail(err)
					}
				case 2:
					if _, err := d.ExecContext(ctx, insertItem, name); err != nil {
						fail(err)
					}
				case 3:
					var id int64
					if err := d.QueryRowContext(ctx, insertItem+" RETURNING id", name).Scan(&id); err != nil {
						fail(err)
					}
				}
				var n int
				if err := d.QueryRowContext(ctx, `SELECT count(*) FROM items`).Scan(&n); err != nil {
					fail(err)
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d writes failed, the first: %v", len(errs), errs[0])
	}
	var rows, bumps int
	if err := d.QueryRow(`SELECT count(*), (SELECT n FROM items WHERE id = 1) FROM items`).Scan(&rows, &bumps); err != nil {
		t.Fatal(err)
	}
	if rows != 1+writers*each || bumps != writers*each/2 {
		t.Errorf("%d rows and %d bumps, want %d and %d", rows, bumps, 1+writers*each, writers*each/2)
	}
}

// The gate is held as long as SQLite's write lock: by a transaction until
// it ends, by a writing query until its rows are closed. Meanwhile reads
// pass, a write waits, and one that waits too long fails as SQLite's busy
// timeout would (a passing unavailability); one whose context ends stops
// waiting.
func TestWriteGateHeldUntilDone(t *testing.T) {
	d := openGated(t, 4, 50*time.Millisecond, 0)
	ctx := context.Background()
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(insertItem, "in tx"); err != nil {
		t.Fatal(err)
	}
	var name string
	if err := d.QueryRow(selectItem, 1).Scan(&name, new(int)); err != nil || name != "counter" {
		t.Errorf("read beside a transaction: %q, %v", name, err)
	}
	_, err = d.Exec(insertItem, "beside tx")
	if err == nil || !IsUnavailable(err) {
		t.Errorf("write beside a transaction: %v, want a passing unavailability", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.ExecContext(cancelled, insertItem, "cancelled"); !errors.Is(err, context.Canceled) {
		t.Errorf("write with its context ended: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, d, insertItem, "after tx")

	rows, err := d.Query(`INSERT INTO items (name) VALUES ('r1'), ('r2') RETURNING id`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Exec(insertItem, "beside rows"); !IsUnavailable(err) {
		t.Errorf("write beside open rows: %v", err)
	}
	rows.Close()
	mustExec(t, d, insertItem, "after rows")
	rollback, err := d.Begin()
	if err != nil {
		t.Fatal(err)
	}
	rollback.Rollback()
	mustExec(t, d, insertItem, "after rollback")

	var names []string
	r, err := d.Query(`SELECT name FROM items ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for r.Next() {
		r.Scan(&name)
		names = append(names, name)
	}
	r.Close()
	want := []string{"counter", "in tx", "after tx", "r1", "r2", "after rows", "after rollback"}
	if !slices.Equal(names, want) {
		t.Errorf("rows %q, want %q", names, want)
	}
}

func TestWrites(t *testing.T) {
	for q, want := range map[string]bool{
		`SELECT 1`:                     false,
		"  \n\tselect id FROM items":   false,
		`(SELECT 1) UNION (SELECT 2)`:  false,
		checkpointQuery:                false,
		`INSERT INTO items VALUES (1)`: true,
		`UPDATE items SET n = 1`:       true,
		`WITH w AS (SELECT 1) INSERT INTO items (name) SELECT 'x' FROM w`: true,
		`PRAGMA foreign_keys = ON`:                                        true,
		`SEL`:                                                             true,
		``:                                                                true,
	} {
		if got := writes(q); got != want {
			t.Errorf("writes(%q) = %v", q, got)
		}
	}
}

// The pool's connections leave checkpoints to the checkpointer, which
// copies the whole log into the database file beside the writers.
func TestCheckpointer(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(context.Background(), "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var auto int
	if err := d.SQL.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil || auto != 0 {
		t.Fatalf("wal_autocheckpoint %d, %v; want 0", auto, err)
	}
	d.ckpt.Stop() // this test's own, quicker
	mustExec(t, d.SQL, `CREATE TABLE pages (b BLOB)`)
	for range 300 { // 1,200 pages: past SQLite's own threshold of 1,000
		mustExec(t, d.SQL, `INSERT INTO pages VALUES (randomblob(16000))`)
	}
	fileSize := func(name string) int64 {
		t.Helper()
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	const pages = 1200 * 4096
	if wal, file := fileSize(SQLiteFileName+"-wal"), fileSize(SQLiteFileName); wal < pages || file > pages/4 {
		t.Fatalf("before the checkpointer: log %d bytes, file %d; want the pages in the log", wal, file)
	}
	d.ckpt = startCheckpointer(d.SQL, time.Millisecond)
	for deadline := time.Now().Add(10 * time.Second); fileSize(SQLiteFileName) < pages; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the checkpointer did not copy the log into the file")
		}
	}
	// Once all of it is copied, the next write starts the log over.
	d.ckpt.Stop()
	if err := checkpoint(context.Background(), d.SQL); err != nil {
		t.Fatal(err)
	}
	mustExec(t, d.SQL, `INSERT INTO pages VALUES (randomblob(100))`)
	var logPages int
	if err := d.SQL.QueryRow(checkpointQuery).Scan(new(int), &logPages, new(int)); err != nil {
		t.Fatal(err)
	}
	if logPages > 10 {
		t.Errorf("after a checkpoint and a write, %d pages in the log", logPages)
	}
	d.ckpt = startCheckpointer(d.SQL, time.Second) // for Close
}

// BenchmarkSQLiteWriters runs message-shaped transactions from 16
// goroutines sharing a pool of 16 connections, at 1,500 a second in all
// (about what one replica writes at 500 messages a second), queued by the
// write gate or by SQLite's busy handler, and reports percentiles of their
// latency. b.N is the number of transactions: run it with -benchtime 6000x.
func BenchmarkSQLiteWriters(b *testing.B) {
	const (
		writers = 16
		rate    = 1500 // transactions a second, in all
	)
	for _, c := range []struct {
		name string
		gate bool
	}{{"gate", true}, {"busy-handler", false}} {
		b.Run(c.name, func(b *testing.B) {
			var wait time.Duration
			if c.gate {
				wait = sqliteBusyTimeout
			}
			d := openGated(b, writers, wait, sqliteBusyTimeout)
			took := make([][]time.Duration, writers)
			interval := time.Duration(writers) * time.Second / rate
			start := time.Now()
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					// Each writer's turns are spread over the interval.
					next := start.Add(time.Duration(w) * interval / writers)
					for i := range b.N / writers {
						time.Sleep(time.Until(next))
						next = next.Add(interval)
						t0 := time.Now()
						if err := appendItem(context.Background(), d, fmt.Sprintf("%d-%d", w, i)); err != nil {
							b.Error(err)
							return
						}
						took[w] = append(took[w], time.Since(t0))
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			all := slices.Sorted(slices.Values(slices.Concat(took...)))
			if len(all) > 0 {
				q := func(f float64) float64 { return float64(all[int(f*float64(len(all)-1))].Microseconds()) }
				b.ReportMetric(q(0.5), "p50-µs")
				b.ReportMetric(q(0.99), "p99-µs")
				b.ReportMetric(q(0.999), "p99.9-µs")
			}
		})
	}
}
