package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// openCached opens a new SQLite file (openCachedAt: the file at path) with one connection, as openSQLite does
// but with a cache of size statements (no cache when size is 0). The cache's
// events ("prepare <query>", "close <query>") are appended to *events.
func openCached(t testing.TB, size int) (db *sql.DB, events *[]string) {
	t.Helper()
	return openCachedAt(t, filepath.Join(t.TempDir(), "test.db"), size)
}

func openCachedAt(t testing.TB, path string, size int) (db *sql.DB, events *[]string) {
	t.Helper()
	c, err := sqliteConnector(path, sqliteBusyTimeout)
	if err != nil {
		t.Fatal(err)
	}
	events = new([]string)
	if size == 0 {
		db = sql.OpenDB(c)
	} else {
		db = sql.OpenDB(&stmtCacheConnector{Connector: c, size: size, trace: func(event, query string) {
			*events = append(*events, event+" "+query)
		}})
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db, events
}

const (
	createItems = `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, n INTEGER NOT NULL DEFAULT 0)`
	insertItem  = `INSERT INTO items (name) VALUES (?)`
	selectItem  = `SELECT name, n FROM items WHERE id = ?`
	selectAfter = `SELECT id, name FROM items WHERE id > ? ORDER BY id`
	bumpItem    = `UPDATE items SET n = n + 1 WHERE id = ?`
)

func mustExec(t testing.TB, db interface {
	Exec(string, ...any) (sql.Result, error)
}, query string, args ...any) sql.Result {
	t.Helper()
	res, err := db.Exec(query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}

// count returns how many of events are event query.
func count(events []string, event, query string) int {
	n := 0
	for _, e := range events {
		if e == event+" "+query {
			n++
		}
	}
	return n
}

func TestStmtCacheReuse(t *testing.T) {
	db, events := openCached(t, stmtCacheSize)
	mustExec(t, db, createItems)
	for i := 1; i <= 50; i++ {
		res := mustExec(t, db, insertItem, fmt.Sprint("item", i))
		if id, err := res.LastInsertId(); err != nil || id != int64(i) {
			t.Fatalf("LastInsertId = %d, %v; want %d", id, err, i)
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("RowsAffected = %d, %v; want 1", n, err)
		}
	}
	for i := 1; i <= 50; i++ {
		var name string
		var n int
		if err := db.QueryRow(selectItem, i).Scan(&name, &n); err != nil || name != fmt.Sprint("item", i) || n != 0 {
			t.Fatalf("item %d = %q, %d, %v", i, name, n, err)
		}
	}
	if err := db.QueryRow(selectItem, 999).Scan(new(string), new(int)); !errors.Is(err, sql.ErrNoRows) {
		t.Fatalf("missing item: err = %v, want sql.ErrNoRows", err)
	}
	for _, q := range []string{insertItem, selectItem} {
		if n := count(*events, "prepare", q); n != 1 {
			t.Errorf("%q prepared %d times, want 1", q, n)
		}
	}

	// A failed run (here a constraint) drops the statement, closed when the
	// connection is next reset (before its next use): it is prepared again.
	_, err := db.Exec(insertItem, "item1")
	if err == nil || !strings.Contains(err.Error(), "UNIQUE constraint failed") {
		t.Fatalf("duplicate insert: err = %v", err)
	}
	mustExec(t, db, insertItem, "item51")
	if count(*events, "close", insertItem) != 1 {
		t.Fatalf("failed statement not closed: %q", *events)
	}
	if n := count(*events, "prepare", insertItem); n != 2 {
		t.Errorf("%q prepared %d times, want 2", insertItem, n)
	}
}

// TestStmtCacheNested runs a cached statement again, and another, while its
// Rows are open on the same connection.
func TestStmtCacheNested(t *testing.T) {
	db, events := openCached(t, stmtCacheSize)
	mustExec(t, db, createItems)
	const items = 20
	for i := 1; i <= items; i++ {
		mustExec(t, db, insertItem, fmt.Sprint("item", i))
	}
	for range 2 { // the second time with every statement cached
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		rows, err := tx.Query(selectAfter, 0)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for rows.Next() {
			var id int
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				t.Fatal(err)
			}
			seen++
			if id != seen || name != fmt.Sprint("item", id) {
				t.Fatalf("row %d = %d, %q", seen, id, name)
			}
			// The same query, while the outer one is busy.
			var next int
			err := tx.QueryRow(selectAfter, id).Scan(&next, &name)
			switch {
			case id == items && !errors.Is(err, sql.ErrNoRows):
				t.Fatalf("after last: err = %v", err)
			case id < items && (err != nil || next != id+1 || name != fmt.Sprint("item", id+1)):
				t.Fatalf("after %d = %d, %q, %v", id, next, name, err)
			}
			mustExec(t, tx, bumpItem, id)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if seen != items {
			t.Fatalf("saw %d rows, want %d", seen, items)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	var total int
	if err := db.QueryRow(`SELECT sum(n) FROM items`).Scan(&total); err != nil || total != 2*items {
		t.Fatalf("sum(n) = %d, %v; want %d", total, err, 2*items)
	}
	if n := count(*events, "prepare", selectAfter); n != 1 {
		t.Errorf("%q prepared %d times, want 1 (the nested runs are uncached)", selectAfter, n)
	}
	if n := count(*events, "prepare", bumpItem); n != 1 {
		t.Errorf("%q prepared %d times, want 1", bumpItem, n)
	}
}

func TestStmtCacheScript(t *testing.T) {
	db, events := openCached(t, stmtCacheSize)
	mustExec(t, db, `CREATE TABLE s (x INTEGER);
		INSERT INTO s VALUES (1);
		INSERT INTO s VALUES (2);
	`)
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM s;`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("count = %d, %v; want 2", n, err)
	}
	if want := []string{"prepare SELECT count(*) FROM s;"}; !slices.Equal(*events, want) {
		t.Fatalf("events = %q, want %q", *events, want)
	}

	for q, want := range map[string]bool{
		"SELECT 1":                 true,
		"SELECT 1;":                true,
		"SELECT 1; \n\t":           true,
		"SELECT 1; SELECT 2":       false,
		"SELECT 1;;":               false,
		"SELECT 1; -- done":        false,
		"SELECT ';' AS semicolon ": false,
	} {
		if got := singleStatement(q); got != want {
			t.Errorf("singleStatement(%q) = %v, want %v", q, got, want)
		}
	}
}

func TestStmtCacheLRU(t *testing.T) {
	db, events := openCached(t, 2)
	run := func(q string) {
		t.Helper()
		if err := db.QueryRow(q).Scan(new(int)); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	expect := func(want ...string) {
		t.Helper()
		if !slices.Equal(*events, want) {
			t.Fatalf("events = %q, want %q", *events, want)
		}
		*events = nil
	}
	db.Ping() // opens the connection (Ping does not go through the cache)
	expect()

	run("SELECT 1")
	run("SELECT 2")
	run("SELECT 1")
	expect("prepare SELECT 1", "prepare SELECT 2")
	run("SELECT 3") // evicts the least recently used: SELECT 2
	expect("prepare SELECT 3", "close SELECT 2")
	run("SELECT 1")
	run("SELECT 3")
	expect()

	// An evicted statement whose Rows are open is closed with them.
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := conn.QueryContext(ctx, "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"SELECT 2", "SELECT 4", "SELECT 1"} {
		if err := conn.QueryRowContext(ctx, q).Scan(new(int)); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	expect("prepare SELECT 2", "close SELECT 3", "prepare SELECT 4",
		"prepare SELECT 1", "close SELECT 2") // a second SELECT 1, the first busy and out of the cache
	rows.Close()
	expect("close SELECT 1")
	conn.Close()
	db.Close()
	expect("close SELECT 1", "close SELECT 4")
}

func TestStmtCacheCancel(t *testing.T) {
	db, events := openCached(t, stmtCacheSize)
	const countTo = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c`
	var n int
	if err := db.QueryRow(countTo, 10).Scan(&n); err != nil || n != 10 {
		t.Fatalf("count = %d, %v; want 10", n, err)
	}
	for _, run := range []struct {
		name string
		f    func(ctx context.Context) error
	}{
		{"query", func(ctx context.Context) error { return db.QueryRowContext(ctx, countTo, 1e9).Scan(&n) }},
		{"exec", func(ctx context.Context) error { _, err := db.ExecContext(ctx, countTo, 1e9); return err }},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		err := run.f(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: err = %v, want context.DeadlineExceeded", run.name, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%s: returned after %v", run.name, d)
		}
	}
	if err := db.QueryRow(countTo, 20).Scan(&n); err != nil || n != 20 {
		t.Fatalf("after cancellation: count = %d, %v; want 20", n, err)
	}
	// The cancelled runs were on cached statements, closed after failing.
	p, c := "prepare "+countTo, "close "+countTo
	if want := []string{p, c, p, c, p}; !slices.Equal(*events, want) {
		t.Fatalf("events = %q, want %q", *events, want)
	}
}

// TestStmtCacheBusy checks that SQLite's busy error reaches the caller as
// the driver reports it, so that IsUnavailable recognises it.
func TestStmtCacheBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	db, _ := openCachedAt(t, path, stmtCacheSize)
	mustExec(t, db, createItems)
	mustExec(t, db, `PRAGMA busy_timeout = 0`)
	const insertReturning = insertItem + ` RETURNING id`
	mustExec(t, db, insertItem, "a")
	if err := db.QueryRow(insertReturning, "b").Scan(new(int)); err != nil {
		t.Fatal(err)
	}

	other, _ := openCachedAt(t, path, 0)
	tx, err := other.Begin() // BEGIN IMMEDIATE: takes the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var uncached error // the same insert, straight on the modernc.org/sqlite connection
	if err := conn.Raw(func(dc any) error {
		_, uncached = dc.(*stmtCacheConn).Unwrap().(driver.ExecerContext).ExecContext(ctx, insertItem, []driver.NamedValue{{Ordinal: 1, Value: "c"}})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !IsUnavailable(uncached) {
		t.Fatalf("uncached insert: err = %v, want a busy error", uncached)
	}
	_, execErr := conn.ExecContext(ctx, insertItem, "c")
	queryErr := conn.QueryRowContext(ctx, insertReturning, "c").Scan(new(int))
	for _, err := range []error{execErr, queryErr} {
		if !IsUnavailable(err) || err.Error() != uncached.Error() {
			t.Errorf("err = %v, want %v", err, uncached)
		}
	}
}

func TestStmtCacheInterfaces(t *testing.T) {
	db, _ := openCached(t, stmtCacheSize)
	mustExec(t, db, createItems)
	mustExec(t, db, insertItem, "a")
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	checkStmtCacheInterfaces(t, conn, "SELECT id, name, n FROM items")

	// sqlite.Limit finds the driver's connection through Unwrap.
	if n, err := sqlite.Limit(conn, sqlite3.SQLITE_LIMIT_LENGTH, -1); err != nil || n <= 0 {
		t.Errorf("sqlite.Limit = %d, %v", n, err)
	}

	// The column types database/sql reports are the driver's.
	plain, _ := openCached(t, 0)
	mustExec(t, plain, createItems)
	mustExec(t, plain, insertItem, "a")
	columnTypes := func(db interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}) string {
		rows, err := db.QueryContext(ctx, "SELECT id, name, n FROM items")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cts, err := rows.ColumnTypes()
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, ct := range cts {
			n, nok := ct.Nullable()
			l, lok := ct.Length()
			p, s, pok := ct.DecimalSize()
			fmt.Fprintf(&b, "%s %s %v %v,%v %v,%v %v,%v,%v; ", ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), n, nok, l, lok, p, s, pok)
		}
		return b.String()
	}
	if got, want := columnTypes(conn), columnTypes(plain); got != want {
		t.Errorf("column types: %s\nwant %s", got, want)
	}
}

// checkStmtCacheInterfaces checks that the connection under conn is a
// cache wrapper offering database/sql the driver interfaces of the driver's
// connection, and its rows those of the driver's rows for query.
func checkStmtCacheInterfaces(t *testing.T, conn *sql.Conn, query string) {
	t.Helper()
	ctx := context.Background()
	implements := func(v any, ifaces []reflect.Type) (names []string) {
		for _, i := range ifaces {
			if reflect.TypeOf(v).Implements(i) {
				names = append(names, i.String())
			}
		}
		return names
	}
	err := conn.Raw(func(dc any) error {
		wrapper, ok := dc.(driver.QueryerContext)
		if !ok {
			t.Fatalf("connection %T", dc)
		}
		inner := dc.(interface{ Unwrap() driver.Conn }).Unwrap()
		connIfaces := []reflect.Type{
			reflect.TypeFor[driver.Conn](),
			reflect.TypeFor[driver.ConnBeginTx](),
			reflect.TypeFor[driver.ConnPrepareContext](),
			reflect.TypeFor[driver.ExecerContext](),
			reflect.TypeFor[driver.QueryerContext](),
			reflect.TypeFor[driver.NamedValueChecker](),
			reflect.TypeFor[driver.Pinger](),
			reflect.TypeFor[driver.SessionResetter](),
			reflect.TypeFor[driver.Validator](),
		}
		if got, want := implements(wrapper, connIfaces), implements(inner, connIfaces); !slices.Equal(got, want) {
			t.Errorf("wrapper implements %v, the driver's conn %T %v", got, inner, want)
		}
		// database/sql uses Execer and Queryer only without ExecerContext and QueryerContext.
		for _, i := range []reflect.Type{reflect.TypeFor[driver.Execer](), reflect.TypeFor[driver.Queryer]()} {
			if reflect.TypeOf(wrapper).Implements(i) {
				t.Errorf("wrapper implements %v", i)
			}
		}

		// The wrapper's rows have every column type method, falling back to
		// database/sql's defaults: what matters is that they report the
		// driver's column types (describeRows).
		rowsIfaces := []reflect.Type{reflect.TypeFor[driver.RowsNextResultSet]()}
		// One query at a time: PostgreSQL connections run one.
		outer, err := wrapper.QueryContext(ctx, query, nil)
		if err != nil {
			return err
		}
		switch outer.(type) {
		case *cachedRows, *cachedRowsSets:
		default:
			t.Errorf("rows %T are not cached", outer)
		}
		got, gotTypes := implements(outer, rowsIfaces), describeRows(outer)
		if err := outer.Close(); err != nil {
			return err
		}
		plain, err := inner.(driver.QueryerContext).QueryContext(ctx, query, nil)
		if err != nil {
			return err
		}
		defer plain.Close()
		if want := implements(plain, rowsIfaces); !slices.Equal(got, want) {
			t.Errorf("wrapper's rows implement %v, the driver's rows %T %v", got, plain, want)
		}
		if want := describeRows(plain); gotTypes != want {
			t.Errorf("wrapper's rows report column types %s\nthe driver's rows %s", gotTypes, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// describeRows reports the column types of driver rows as database/sql
// sees them (its defaults where a method is missing).
func describeRows(r driver.Rows) string {
	var b strings.Builder
	for i, name := range r.Columns() {
		fmt.Fprintf(&b, "%s:", name)
		if x, ok := r.(driver.RowsColumnTypeDatabaseTypeName); ok {
			fmt.Fprintf(&b, " %s", x.ColumnTypeDatabaseTypeName(i))
		}
		if x, ok := r.(driver.RowsColumnTypeScanType); ok {
			fmt.Fprintf(&b, " %v", x.ColumnTypeScanType(i))
		} else {
			fmt.Fprintf(&b, " %v", reflect.TypeFor[any]())
		}
		if x, ok := r.(driver.RowsColumnTypeLength); ok {
			l, ok := x.ColumnTypeLength(i)
			fmt.Fprintf(&b, " len %v,%v", l, ok)
		} else {
			b.WriteString(" len 0,false")
		}
		if x, ok := r.(driver.RowsColumnTypeNullable); ok {
			n, ok := x.ColumnTypeNullable(i)
			fmt.Fprintf(&b, " null %v,%v", n, ok)
		} else {
			b.WriteString(" null false,false")
		}
		if x, ok := r.(driver.RowsColumnTypePrecisionScale); ok {
			p, s, ok := x.ColumnTypePrecisionScale(i)
			fmt.Fprintf(&b, " size %v,%v,%v", p, s, ok)
		} else {
			b.WriteString(" size 0,0,false")
		}
		b.WriteString("; ")
	}
	return b.String()
}

// BenchmarkSQLiteQuery compares a select by primary key and a small insert,
// in ent's style, with and without the statement cache.
func BenchmarkSQLiteQuery(b *testing.B) {
	const (
		create = `CREATE TABLE "users" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "created_at" datetime NOT NULL,
			"email" text NOT NULL, "name" text NOT NULL, "role" text NOT NULL DEFAULT 'agent', "company_id" integer NOT NULL)`
		insert = `INSERT INTO "users" ("created_at", "email", "name", "role", "company_id") VALUES (?, ?, ?, ?, ?)`
		get    = `SELECT "users"."id", "users"."created_at", "users"."email", "users"."name", "users"."role", "users"."company_id" FROM "users" WHERE "users"."id" = ? LIMIT 2`
		rows   = 1000
	)
	for _, c := range []struct {
		name string
		size int
	}{{"cached", stmtCacheSize}, {"uncached", 0}} {
		db, _ := openCached(b, c.size)
		mustExec(b, db, create)
		now := time.Now()
		for i := range rows {
			mustExec(b, db, insert, now, fmt.Sprintf("u%d@example.com", i), "User", "agent", 1)
		}
		b.Run("select/"+c.name, func(b *testing.B) {
			var (
				id, companyID     int64
				created           time.Time
				email, name, role string
			)
			i := 0
			for b.Loop() {
				i++
				if err := db.QueryRow(get, i%rows+1).Scan(&id, &created, &email, &name, &role, &companyID); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("insert/"+c.name, func(b *testing.B) {
			for b.Loop() {
				mustExec(b, db, insert, now, "new@example.com", "User", "agent", 1)
			}
		})
	}
}

// With replanning on, a statement is prepared again once older than its
// replanning age, which doubles each time up to maxReplan.
func TestStmtCacheReplans(t *testing.T) {
	c, err := sqliteConnector(filepath.Join(t.TempDir(), "test.db"), sqliteBusyTimeout)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var events []string
	db := sql.OpenDB(&stmtCacheConnector{Connector: c, size: stmtCacheSize, replan: time.Second,
		now: func() time.Time { return now }, trace: func(event, query string) { events = append(events, event+" "+query) }})
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	mustExec(t, db, createItems)
	mustExec(t, db, insertItem, "a")
	query := func() {
		t.Helper()
		var name string
		var n int
		if err := db.QueryRow(selectItem, 1).Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
	}
	prepared := func() int { return count(events, "prepare", selectItem) }
	query()
	for _, step := range []struct {
		advance time.Duration
		want    int
	}{
		{900 * time.Millisecond, 1}, // younger than 1 s
		{200 * time.Millisecond, 2}, // 1.1 s: prepared again, now kept 2 s
		{1900 * time.Millisecond, 2},
		{200 * time.Millisecond, 3}, // then 4 s
		{3 * time.Second, 3},
		{2 * time.Second, 4},
		{time.Hour, 5}, // kept 16 s, 32 s, ... up to maxReplan
		{time.Hour, 6}, {time.Hour, 7}, {time.Hour, 8}, {time.Hour, 9}, {time.Hour, 10}, {time.Hour, 11},
		{maxReplan - time.Second, 11},
		{2 * time.Second, 12},
	} {
		now = now.Add(step.advance)
		query()
		if got := prepared(); got != step.want {
			t.Fatalf("after %s more: prepared %d times, want %d", step.advance, got, step.want)
		}
	}
	// A replaced statement is closed at the connection's next reset (outside
	// any transaction): the last one when the connection is next used.
	if got := count(events, "close", selectItem); got != 10 {
		t.Fatalf("the replaced statements were closed %d times, want 10", got)
	}
	query()
	if got := count(events, "close", selectItem); got != 11 {
		t.Fatalf("the replaced statements were closed %d times, want 11", got)
	}
	if got := prepared(); got != 12 {
		t.Fatalf("prepared %d times, want 12", got)
	}
}
