// Command gen writes a new versioned migration for both dialects (SQLite and
// PostgreSQL) from the ent schema, in goose format, using ent's versioned
// migration support (Atlas replay mode: the existing migration directory is
// replayed on a clean dev database and diffed against ent/schema).
//
// Run it from the repository root:
//
//	go run ./migrations/gen <name>        (or: make migration name=<name>)
//
// SQLite uses an in-memory dev database. PostgreSQL uses a throwaway database
// concierge_migrate_dev created on the server named by MIGRATE_DEV_POSTGRES_URL
// (default postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) and
// dropped afterwards.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"
	"modernc.org/sqlite"

	"concierge/ent/migrate"
)

const devDBName = "concierge_migrate_dev"

func init() {
	// Atlas opens sqlite:// URLs through the "sqlite3" database/sql driver
	// name; serve it with the pure-Go modernc driver.
	sql.Register("sqlite3", &sqlite.Driver{})
}

func main() {
	dir := flag.String("dir", "migrations", "root migrations directory (holds sqlite/ and postgres/)")
	only := flag.String("dialect", "", "generate only for this dialect (sqlite3 or postgres); default both")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: go run ./migrations/gen [-dir migrations] [-dialect sqlite3|postgres] <name>\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || flag.Arg(0) == "" {
		flag.Usage()
		os.Exit(2)
	}
	name := flag.Arg(0)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	if *only == "" || *only == dialect.SQLite {
		if err := genSQLite(ctx, filepath.Join(*dir, "sqlite"), name); err != nil {
			log.Fatalf("sqlite: %v", err)
		}
	}
	if *only == "" || *only == dialect.Postgres {
		if err := genPostgres(ctx, filepath.Join(*dir, "postgres"), name); err != nil {
			log.Fatalf("postgres: %v", err)
		}
	}
}

func diff(ctx context.Context, path, devURL, dialectName, name string) error {
	if err := os.MkdirAll(path, 0o755); err != nil {
		return err
	}
	dir, err := sqltool.NewGooseDir(path)
	if err != nil {
		return fmt.Errorf("opening migration directory: %w", err)
	}
	err = migrate.NamedDiff(ctx, devURL, name,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dialectName),
		schema.WithFormatter(sqltool.GooseFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithErrNoPlan(true),
	)
	switch {
	case errors.Is(err, atlasmigrate.ErrNoPlan):
		log.Printf("%s: no changes, nothing written", dialectName)
		return nil
	case err != nil:
		return err
	}
	log.Printf("%s: wrote new migration %q to %s", dialectName, name, path)
	if dialectName == dialect.SQLite {
		return fixSQLiteForeignKeys(dir)
	}
	return nil
}

// fixSQLiteForeignKeys marks SQLite migrations that switch foreign keys off
// (Atlas does so when it has to recreate a table) as
// "-- +goose NO TRANSACTION": PRAGMA foreign_keys is a no-op inside a
// transaction, and dropping a referenced table with foreign keys on would
// cascade deletes. atlas.sum is rewritten afterwards.
func fixSQLiteForeignKeys(dir *sqltool.GooseDir) error {
	files, err := dir.Files()
	if err != nil {
		return err
	}
	changed := false
	for _, f := range files {
		body := string(f.Bytes())
		if !strings.Contains(body, "PRAGMA foreign_keys = off") || strings.Contains(body, "+goose NO TRANSACTION") {
			continue
		}
		if err := dir.WriteFile(f.Name(), []byte("-- +goose NO TRANSACTION\n"+body)); err != nil {
			return err
		}
		changed = true
	}
	if !changed {
		return nil
	}
	sum, err := dir.Checksum()
	if err != nil {
		return err
	}
	return atlasmigrate.WriteSumFile(dir, sum)
}

func genSQLite(ctx context.Context, path, name string) error {
	devURL := "sqlite://concierge_migrate_dev?mode=memory&cache=shared&_pragma=foreign_keys(1)"
	return diff(ctx, path, devURL, dialect.SQLite, name)
}

func genPostgres(ctx context.Context, path, name string) (err error) {
	adminURL := os.Getenv("MIGRATE_DEV_POSTGRES_URL")
	if adminURL == "" {
		adminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	admin, err := sql.Open("postgres", adminURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := admin.PingContext(pingCtx); err != nil {
		return fmt.Errorf("cannot reach the PostgreSQL dev server %s (set MIGRATE_DEV_POSTGRES_URL): %w", redact(adminURL), err)
	}
	drop := func() error {
		_, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+devDBName+" WITH (FORCE)")
		return err
	}
	if err := drop(); err != nil {
		return fmt.Errorf("dropping stale dev database: %w", err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+devDBName); err != nil {
		return fmt.Errorf("creating dev database: %w", err)
	}
	defer func() {
		if derr := drop(); derr != nil && err == nil {
			err = fmt.Errorf("dropping dev database: %w", derr)
		}
	}()
	u, err := url.Parse(adminURL)
	if err != nil {
		return err
	}
	u.Path = "/" + devDBName
	// Bind Atlas to the public schema so the generated statements are not
	// schema-qualified and apply to whatever search_path the app uses.
	q := u.Query()
	q.Set("search_path", "public")
	u.RawQuery = q.Encode()
	return diff(ctx, path, u.String(), dialect.Postgres, name)
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<invalid url>"
	}
	return u.Redacted()
}
