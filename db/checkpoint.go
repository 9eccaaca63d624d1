package db

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"time"
)

// checkpointEvery is how often a SQLite database's checkpointer runs.
const checkpointEvery = time.Second

// checkpointQuery copies what it can of the WAL into the database file
// without waiting for anyone; it does not pass the write gate (see writes).
const checkpointQuery = "PRAGMA wal_checkpoint(PASSIVE)"

// checkpointer copies the pages of a SQLite database's write-ahead log into
// the database file every interval, beside the writers. SQLite's own
// checkpoints (wal_autocheckpoint, off on the pool's connections) run in the
// connection whose commit took the log past 1,000 pages, before its COMMIT
// returns, and sync the file: under load, every few seconds a message
// waited tens of milliseconds for one, and, behind the write gate, so did
// every write queued after it. A PASSIVE checkpoint takes no lock a writer
// or a reader needs; the next writer starts the log over once all of it is
// copied and no reader still needs it.
type checkpointer struct {
	stop func()
	done sync.WaitGroup
}

func startCheckpointer(d *sql.DB, every time.Duration) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{stop: cancel}
	c.done.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		failing := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := checkpoint(ctx, d)
			if err != nil && !failing && ctx.Err() == nil {
				slog.Warn("db: checkpointing the SQLite log", slog.Any("err", err))
			}
			failing = err != nil
		}
	})
	return c
}

// checkpoint runs one PASSIVE checkpoint.
func checkpoint(ctx context.Context, d *sql.DB) error {
	return d.QueryRowContext(ctx, checkpointQuery).Scan(new(int), new(int), new(int))
}

// Stop ends the checkpoints (the last connection to close checkpoints the
// rest of the log).
func (c *checkpointer) Stop() {
	c.stop()
	c.done.Wait()
}
