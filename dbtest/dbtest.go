// Package dbtest gives tests a fresh, migrated database on each supported
// dialect. It is imported only by tests.
//
// PostgreSQL tests use a throwaway schema in the database named by
// TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test?sslmode=disable).
// When that server is unreachable the PostgreSQL subtests are skipped, or fail
// when CI is set.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	_ "github.com/lib/pq"

	"concierge/db"
)

// DefaultPostgresURL is used when TEST_DATABASE_URL is not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Dialects lists the dialects Run covers, as ent names them.
var Dialects = []string{dialect.SQLite, dialect.Postgres}

// Run runs fn as subtests "sqlite" and "postgres", each on a fresh, migrated
// database of its own.
func Run(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, dl := range Dialects {
		t.Run(subtestName(dl), func(t *testing.T) {
			fn(t, Open(t, dl))
		})
	}
}

func subtestName(dl string) string {
	if dl == dialect.SQLite {
		return "sqlite"
	}
	return dl
}

// Open returns a fresh, migrated database for one dialect ("sqlite3" or
// "sqlite", "postgres"). It is closed (and, on PostgreSQL, its schema dropped)
// when the test ends.
func Open(t testing.TB, dl string) *db.DB {
	t.Helper()
	switch dl {
	case dialect.SQLite, "sqlite":
		return openSQLite(t)
	case dialect.Postgres, "postgresql":
		return openPostgres(t)
	}
	t.Fatalf("dbtest: unknown dialect %q", dl)
	return nil
}

func ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Minute)
}

func openSQLite(t testing.TB) *db.DB {
	t.Helper()
	c, cancel := ctx()
	defer cancel()
	d, err := db.Open(c, "sqlite://"+filepath.Join(t.TempDir(), "test.db"), "")
	if err != nil {
		t.Fatalf("dbtest: opening SQLite: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(c); err != nil {
		t.Fatalf("dbtest: migrating SQLite: %v", err)
	}
	hook(t, d)
	return d
}

// PostgresURL returns TEST_DATABASE_URL or DefaultPostgresURL.
func PostgresURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

func unreachable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("dbtest: PostgreSQL at %s is required in CI but unreachable: %v", redact(PostgresURL()), err)
	}
	t.Skipf("dbtest: skipping PostgreSQL test, server at %s unreachable (%v). "+
		"Start it with `.ci/run` or `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, "+
		"create the database with `createdb -h 127.0.0.1 -U postgres test`, or set TEST_DATABASE_URL.",
		redact(PostgresURL()), err)
}

// URL returns the database URL of a fresh, empty database of one dialect,
// for tests that start the binary as a child process (which migrates it).
// The database is dropped when the test ends.
func URL(t testing.TB, dl string) string {
	t.Helper()
	switch dl {
	case dialect.SQLite, "sqlite":
		return "sqlite://" + filepath.Join(t.TempDir(), "test.db")
	case dialect.Postgres, "postgresql":
		return postgresSchemaURL(t)
	}
	t.Fatalf("dbtest: unknown dialect %q", dl)
	return ""
}

// postgresSchemaURL creates a throwaway schema and returns the URL whose
// search_path selects it.
func postgresSchemaURL(t testing.TB) string {
	t.Helper()
	c, cancel := ctx()
	defer cancel()
	base := PostgresURL()
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("dbtest: bad TEST_DATABASE_URL: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	pingCtx, pingCancel := context.WithTimeout(c, 5*time.Second)
	err = admin.PingContext(pingCtx)
	pingCancel()
	if err != nil {
		unreachable(t, err)
		return ""
	}
	schema := "t_" + randomHex(8)
	if _, err := admin.ExecContext(c, `CREATE SCHEMA "`+schema+`"`); err != nil {
		t.Fatalf("dbtest: creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(c, `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`); err != nil {
			t.Errorf("dbtest: dropping schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("dbtest: bad TEST_DATABASE_URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema) // lib/pq sends it as a run-time parameter
	u.RawQuery = q.Encode()
	return u.String()
}

func openPostgres(t testing.TB) *db.DB {
	t.Helper()
	u := postgresSchemaURL(t) // skips the test when PostgreSQL is unreachable
	c, cancel := ctx()
	defer cancel()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	schema := pu.Query().Get("search_path")
	d, err := db.Open(c, u, "")
	if err != nil {
		t.Fatalf("dbtest: opening PostgreSQL: %v", err)
	}
	// Registered after the schema drop, so it runs first: close the pool
	// before dropping the schema.
	t.Cleanup(func() { d.Close() })
	var got string
	if err := d.SQL.QueryRowContext(c, "SELECT current_schema()").Scan(&got); err != nil || got != schema {
		t.Fatalf("dbtest: search_path not applied: current_schema()=%q, want %q (err %v)", got, schema, err)
	}
	if err := d.Migrate(c); err != nil {
		t.Fatalf("dbtest: migrating PostgreSQL: %v", err)
	}
	hook(t, d)
	return d
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<invalid url>"
	}
	return u.Redacted()
}
