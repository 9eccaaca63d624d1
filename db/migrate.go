package db

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"entgo.io/ent/dialect"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"concierge/migrations"
)

// MigrationState is one migration's status, for `concierge migrate --status`.
type MigrationState struct {
	Version   int64
	Name      string // file name
	Applied   bool
	AppliedAt time.Time // zero when pending
}

func (d *DB) provider(ctx context.Context) (*goose.Provider, error) {
	fsys, err := migrations.FS(d.Dialect)
	if err != nil {
		return nil, err
	}
	var gd goose.Dialect
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	switch d.Dialect {
	case dialect.SQLite:
		gd = goose.DialectSQLite3
	case dialect.Postgres:
		gd = goose.DialectPostgres
		// A session-level advisory lock serialises replicas that start at
		// the same time. The lock id is derived from the current schema so
		// independent schemas in one database (tests) do not wait on each
		// other; the default "public" schema keeps goose's default id.
		var schemaName string
		if err := d.SQL.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schemaName); err != nil {
			return nil, fmt.Errorf("db: reading current schema: %w", err)
		}
		lockOpts := []lock.SessionLockerOption{
			lock.WithLockTimeout(1, 600), // poll every second, up to 10 minutes
		}
		if schemaName != "public" {
			h := fnv.New64a()
			h.Write([]byte("concierge-goose:" + schemaName))
			lockOpts = append(lockOpts, lock.WithLockID(int64(h.Sum64()>>1)))
		}
		locker, err := lock.NewPostgresSessionLocker(lockOpts...)
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	default:
		return nil, fmt.Errorf("db: unsupported dialect %q", d.Dialect)
	}
	return goose.NewProvider(gd, d.SQL, fsys, opts...)
}

// Migrate applies all pending versioned migrations, then those of the job
// queue (River). It is safe to call on an
// up-to-date database and, on PostgreSQL, from several processes at once.
func (d *DB) Migrate(ctx context.Context) error {
	p, err := d.provider(ctx)
	if err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("db: migrate: %w", err)
	}
	if err := d.migrateRiver(ctx); err != nil {
		return fmt.Errorf("db: migrate job queue: %w", err)
	}
	return nil
}

// MigrationStatus lists every known migration and whether it is applied.
func (d *DB) MigrationStatus(ctx context.Context) ([]MigrationState, error) {
	p, err := d.provider(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: migration status: %w", err)
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("db: migration status: %w", err)
	}
	out := make([]MigrationState, 0, len(st))
	for _, s := range st {
		ms := MigrationState{Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt}
		if s.Source != nil {
			ms.Version, ms.Name = s.Source.Version, s.Source.Path
		}
		out = append(out, ms)
	}
	return out, nil
}
