package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/google/uuid"

	"concierge/db"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/ent/company"
	"concierge/ent/migrate"
	"concierge/ent/privacy"
	"concierge/ent/user"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return privacy.DecisionContext(ctx, privacy.Allow)
}

func createCompany(ctx context.Context, c *ent.Client, slug string) (*ent.Company, error) {
	return c.Company.Create().
		SetName("Company " + slug).
		SetSlug(slug).
		SetEmail(slug + "@example.com").
		SetWidgetKey("wk_" + uuid.NewString()).
		SetIdentitySecret("secret_" + uuid.NewString()).
		Save(ctx)
}

func TestOpenDefaultSQLite(t *testing.T) {
	ctx := testCtx(t)
	dir := filepath.Join(t.TempDir(), "data")
	d, err := db.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Dialect != dialect.SQLite {
		t.Fatalf("dialect = %q", d.Dialect)
	}
	var fk int
	if err := d.SQL.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d (err %v), want 1", fk, err)
	}
	var mode string
	if err := d.SQL.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q (err %v), want wal", mode, err)
	}
	if err := d.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := createCompany(ctx, d.Client, "acme"); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRejectsUnknownURL(t *testing.T) {
	_, err := db.Open(context.Background(), "mysql://root@localhost/x", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "unsupported") {
		t.Fatalf("err = %v, want unsupported URL error", err)
	}
}

func TestOpenUnreachablePostgres(t *testing.T) {
	start := time.Now()
	// Port 1 on loopback: nothing listens there.
	_, err := db.Open(context.Background(), "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "")
	if err == nil || !strings.Contains(err.Error(), "cannot connect to PostgreSQL") {
		t.Fatalf("err = %v, want connection error", err)
	}
	if time.Since(start) > db.PingTimeout+5*time.Second {
		t.Fatalf("Open took %v", time.Since(start))
	}
}

func TestMigrateIdempotent(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := testCtx(t)
		for i := 0; i < 2; i++ {
			if err := d.Migrate(ctx); err != nil {
				t.Fatalf("Migrate #%d: %v", i+2, err)
			}
		}
		st, err := d.MigrationStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) == 0 {
			t.Fatal("no migrations")
		}
		for _, s := range st {
			if !s.Applied {
				t.Errorf("migration %d %s not applied", s.Version, s.Name)
			}
		}
	})
}

// TestSchemaMatchesEnt checks that the migrated database has exactly the
// schema ent expects: an inspection diff against ent's tables is empty.
// If this fails, run `make migration name=<change>`.
func TestSchemaMatchesEnt(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := testCtx(t)
		dir := &atlasmigrate.MemDir{}
		m, err := schema.NewMigrate(entsql.OpenDB(d.Dialect, d.SQL),
			schema.WithDir(dir),
			schema.WithDropColumn(true),
			schema.WithDropIndex(true),
			schema.WithErrNoPlan(true),
		)
		if err != nil {
			t.Fatal(err)
		}
		err = m.NamedDiff(ctx, "pending", migrate.Tables...)
		if errors.Is(err, atlasmigrate.ErrNoPlan) {
			return
		}
		if err != nil {
			t.Fatalf("diff: %v", err)
		}
		var b strings.Builder
		files, _ := dir.Files()
		for _, f := range files {
			fmt.Fprintf(&b, "%s:\n%s\n", f.Name(), f.Bytes())
		}
		t.Fatalf("migrations are behind ent/schema; run `make migration name=<change>`. Pending changes:\n%s", b.String())
	})
}

func TestAllEntTablesAndColumnsExist(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := testCtx(t)
		for _, tbl := range migrate.Tables {
			var q string
			switch d.Dialect {
			case dialect.SQLite:
				q = "SELECT name FROM pragma_table_info(?)"
			default:
				q = "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1"
			}
			rows, err := d.SQL.QueryContext(ctx, q, tbl.Name)
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for rows.Next() {
				var c string
				if err := rows.Scan(&c); err != nil {
					t.Fatal(err)
				}
				have[c] = true
			}
			rows.Close()
			if len(have) == 0 {
				t.Errorf("table %s missing", tbl.Name)
				continue
			}
			for _, c := range tbl.Columns {
				if !have[c.Name] {
					t.Errorf("column %s.%s missing", tbl.Name, c.Name)
				}
			}
		}
	})
}

func TestUniqueConstraint(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := testCtx(t)
		if _, err := createCompany(ctx, d.Client, "acme"); err != nil {
			t.Fatal(err)
		}
		_, err := createCompany(ctx, d.Client, "acme")
		if !ent.IsConstraintError(err) {
			t.Fatalf("duplicate slug: err = %v (%T), want constraint error", err, err)
		}
	})
}

func TestDeleteCompanyCascades(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := testCtx(t)
		acme, err := createCompany(ctx, d.Client, "acme")
		if err != nil {
			t.Fatal(err)
		}
		other, err := createCompany(ctx, d.Client, "other")
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range []*ent.Company{acme, acme, other} {
			_, err := d.Client.User.Create().
				SetCompanyID(c.ID).
				SetEmail(fmt.Sprintf("u%d@%s.example.com", i, c.Slug)).
				SetHashedPassword("x").
				SetFullName("User").
				Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := d.Client.Company.DeleteOneID(acme.ID).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if n := d.Client.User.Query().Where(user.CompanyID(acme.ID)).CountX(ctx); n != 0 {
			t.Fatalf("%d users of the deleted company remain", n)
		}
		if n := d.Client.User.Query().Where(user.CompanyID(other.ID)).CountX(ctx); n != 1 {
			t.Fatalf("other company has %d users, want 1", n)
		}
		if ok := d.Client.Company.Query().Where(company.ID(other.ID)).ExistX(ctx); !ok {
			t.Fatal("other company deleted")
		}
	})
}

// Rows read or written in a transaction stay bound to it: once it has
// ended, their edges and updates fail rather than run outside it; the
// rows a caller unwraps (ent's Unwrap) or loads again after the commit
// run on the pool. Through ent's transactions and through TxClient.
func TestRowsOfAFinishedTransaction(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := testCtx(t)
		newUser := func(c *ent.Client, slug string) (*ent.User, error) {
			co, err := createCompany(ctx, c, slug)
			if err != nil {
				return nil, err
			}
			return c.User.Create().SetCompanyID(co.ID).SetEmail("a@" + slug + ".example").SetFullName("A").
				SetHashedPassword("x").Save(ctx)
		}
		var u *ent.User
		err := db.WithTx(ctx, d.Client, func(tx *ent.Client) error {
			var err error
			u, err = newUser(tx, "late")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := u.QueryCompany().Only(ctx); !errors.Is(err, sql.ErrTxDone) {
			t.Fatalf("edge of a row bound to a committed transaction: %v, want sql.ErrTxDone", err)
		}
		if co, err := u.Unwrap().QueryCompany().Only(ctx); err != nil || co.Slug != "late" {
			t.Fatalf("company of an unwrapped user: %v", err)
		}

		sqlTx, err := d.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		other, err := newUser(d.TxClient(sqlTx), "late2")
		if err != nil {
			t.Fatal(err)
		}
		if err := sqlTx.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := other.QueryCompany().Only(ctx); !errors.Is(err, sql.ErrTxDone) {
			t.Fatalf("edge of a row written through TxClient after the commit: %v, want sql.ErrTxDone", err)
		}
		if _, err := other.Update().SetFullName("Renamed").Save(ctx); !errors.Is(err, sql.ErrTxDone) {
			t.Fatalf("updating it after the commit: %v, want sql.ErrTxDone", err)
		}
		if co, err := other.Unwrap().QueryCompany().Only(ctx); err != nil || co.Slug != "late2" {
			t.Fatalf("company of a user unwrapped from TxClient's transaction: %v", err)
		}
		again, err := d.Client.User.Get(ctx, other.ID)
		if err != nil || again.FullName != "A" {
			t.Fatalf("the user loaded again after the commit: %+v, %v (an update ran outside its transaction?)", again, err)
		}
		if co, err := again.QueryCompany().Only(ctx); err != nil || co.Slug != "late2" {
			t.Fatalf("company of the user loaded again: %v", err)
		}
		if got, err := again.Update().SetFullName("Renamed").Save(ctx); err != nil || got.FullName != "Renamed" {
			t.Fatalf("updating the user loaded again: %v", err)
		}

		// Inside a transaction, statements still run in it: what it wrote
		// is invisible outside, and gone once it rolls back.
		err = db.WithTx(ctx, d.Client, func(tx *ent.Client) error {
			if _, err := createCompany(ctx, tx, "late3"); err != nil {
				return err
			}
			if ok, err := tx.Company.Query().Where(company.Slug("late3")).Exist(ctx); err != nil || !ok {
				t.Errorf("inside: exists %v, %v", ok, err)
			}
			return errors.New("roll back")
		})
		if err == nil {
			t.Fatal("the transaction did not fail")
		}
		if ok, err := d.Client.Company.Query().Where(company.Slug("late3")).Exist(ctx); err != nil || ok {
			t.Fatalf("a rolled-back company exists: %v, %v", ok, err)
		}

		// A transaction whose context ends is rolled back: a statement
		// meant for it, even with a live context, fails rather than run
		// outside it.
		cctx, cancel := context.WithCancel(ctx)
		live := context.WithoutCancel(cctx)
		err = db.WithTx(cctx, d.Client, func(tx *ent.Client) error {
			cancel()
			time.Sleep(100 * time.Millisecond) // database/sql rolls back in its own goroutine
			_, err := createCompany(live, tx, "late4")
			return err
		})
		if !errors.Is(err, sql.ErrTxDone) {
			t.Fatalf("writing in a transaction whose context ended: %v, want sql.ErrTxDone", err)
		}
		cctx, cancel = context.WithCancel(ctx)
		live = context.WithoutCancel(cctx)
		sqlTx, err = d.SQL.BeginTx(cctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		time.Sleep(100 * time.Millisecond)
		if _, err := createCompany(live, d.TxClient(sqlTx), "late5"); !errors.Is(err, sql.ErrTxDone) {
			t.Fatalf("writing through TxClient after its context ended: %v, want sql.ErrTxDone", err)
		}
		for _, slug := range []string{"late4", "late5"} {
			if ok, err := d.Client.Company.Query().Where(company.Slug(slug)).Exist(ctx); err != nil || ok {
				t.Fatalf("company %s was written outside its transaction: %v, %v", slug, ok, err)
			}
		}
	})
}
