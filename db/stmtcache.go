package db

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"
)

// stmtCacheSize bounds the prepared statements one SQLite connection keeps.
const stmtCacheSize = 256

// stmtCacheConnector opens SQLite connections that keep their prepared
// statements. modernc.org/sqlite compiles the SQL of every query it is given
// (sqlite3_prepare was ~18% of the server's CPU under load), while ent, River
// and goose send the same few hundred statements over and over.
type stmtCacheConnector struct {
	driver.Connector
	size  int                       // statements per connection, at least 1
	trace func(event, query string) // test hook: "prepare" and "close" of cached statements
}

// Connect opens a modernc.org/sqlite connection and wraps it.
func (c *stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(sqliteConn)
	if !ok {
		dc.Close()
		return nil, fmt.Errorf("db: SQLite connection %T lacks a driver interface", dc)
	}
	return &stmtCacheConn{sqliteConn: sc, connector: c, stmts: map[string]*list.Element{}}, nil
}

// sqliteConn is what modernc.org/sqlite connections implement of
// database/sql/driver, but for the deprecated Execer and Queryer, which
// database/sql ignores when ExecerContext and QueryerContext are there
// (TestStmtCacheInterfaces). stmtCacheConn embeds it to offer database/sql
// the same: a wrapper that hid one would change how database/sql uses the
// connection (BeginTx options, lock waits that end with the context, session
// reset and validation).
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// sqliteStmt is what modernc.org/sqlite statements implement.
type sqliteStmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// stmtCacheConn runs single statements through the prepared statements it
// keeps by query text, the least recently used closed first beyond the
// connector's size. Everything else passes through to the connection.
//
// database/sql never uses a connection from two goroutines at once (it holds
// the connection's lock around every driver call, Rows.Next and Rows.Close
// included), so the cache needs no lock of its own. One connection can still
// have several Rows open, in a transaction: a statement whose Rows are open
// is busy, and a query of the same text then runs on a statement of its own.
type stmtCacheConn struct {
	sqliteConn
	connector *stmtCacheConnector
	lru       list.List                // of *cachedStmt, the most recently used in front
	stmts     map[string]*list.Element // in lru, by query text
}

// cachedStmt is a prepared statement of a connection's cache.
type cachedStmt struct {
	sqliteStmt
	query   string
	elem    *list.Element
	busy    bool // its Rows are open: no other call may run it
	removed bool // out of the cache: closed once no longer busy
}

// Unwrap returns the modernc.org/sqlite connection: sqlite.Limit sees
// through the wrapper with it, and so can code reaching the driver's own
// interfaces (backup, serialize, hooks) through sql.Conn.Raw.
func (c *stmtCacheConn) Unwrap() driver.Conn { return c.sqliteConn }

// QueryContext runs query on its cached statement. The statement is busy
// until the Rows returned are closed.
func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		// The connection prepares a statement that its Rows close.
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.QueryContext(ctx, args)
	if err != nil {
		c.remove(s)
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, conn: c, stmt: s}, nil
}

// ExecContext runs query on its cached statement.
func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		// The connection prepares a statement and closes it after the run.
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	res, err := s.ExecContext(ctx, args)
	if err != nil {
		c.remove(s)
	}
	return res, err
}

// acquire returns the cached statement for query, prepared on first use, or
// nil when query is to run uncached: a statement whose Rows are open, or a
// script of several statements (migrations). A prepared statement runs only
// the first statement of a script with most drivers; modernc.org/sqlite
// compiles the whole script again on every run, so caching one saves nothing.
//
// Preparing fails exactly as the connection's own QueryContext and
// ExecContext would: they prepare the same way.
func (c *stmtCacheConn) acquire(ctx context.Context, query string) (*cachedStmt, error) {
	if !singleStatement(query) {
		return nil, nil
	}
	if e := c.stmts[query]; e != nil {
		s := e.Value.(*cachedStmt)
		if s.busy {
			return nil, nil
		}
		c.lru.MoveToFront(e)
		return s, nil
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(sqliteStmt)
	if !ok {
		ds.Close()
		return nil, nil
	}
	c.trace("prepare", query)
	s := &cachedStmt{sqliteStmt: st, query: query}
	s.elem = c.lru.PushFront(s)
	c.stmts[query] = s.elem
	if c.lru.Len() > c.connector.size {
		c.remove(c.lru.Back().Value.(*cachedStmt))
	}
	return s, nil
}

// remove takes s out of the cache and closes it, or leaves closing it to its
// Rows when they are open. A statement whose run failed (a bad connection, an
// interrupt, a constraint) is removed too: preparing it again costs less than
// any doubt about the state the failure left it in.
func (c *stmtCacheConn) remove(s *cachedStmt) {
	c.lru.Remove(s.elem)
	delete(c.stmts, s.query)
	s.removed = true
	if !s.busy {
		c.closeStmt(s)
	}
}

// closeStmt closes s. Its error is dropped: sqlite3_finalize repeats the
// failure of the statement's last run, which that run returned already.
func (c *stmtCacheConn) closeStmt(s *cachedStmt) {
	s.Close()
	c.trace("close", s.query)
}

// Close closes the cached statements, then the connection. database/sql
// closes a connection only once its Rows are closed, so none is busy.
func (c *stmtCacheConn) Close() error {
	for e := c.lru.Front(); e != nil; e = e.Next() {
		c.closeStmt(e.Value.(*cachedStmt))
	}
	c.lru.Init()
	clear(c.stmts)
	return c.sqliteConn.Close()
}

func (c *stmtCacheConn) trace(event, query string) {
	if f := c.connector.trace; f != nil {
		f(event, query)
	}
}

// singleStatement reports whether query has no ';' but one at its end. A ';'
// in a string literal or a comment counts too: such a query runs uncached.
func singleStatement(query string) bool {
	i := strings.IndexByte(query, ';')
	return i < 0 || strings.TrimSpace(query[i+1:]) == ""
}

// cachedRows are the Rows of a cached statement, which stays busy until they
// are closed. The column type methods are those modernc.org/sqlite's rows
// implement (TestStmtCacheInterfaces); the fallbacks are database/sql's
// defaults for rows without them.
type cachedRows struct {
	driver.Rows
	conn *stmtCacheConn
	stmt *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if s := r.stmt; s != nil {
		r.stmt = nil
		s.busy = false
		switch {
		case s.removed:
			r.conn.closeStmt(s)
		case err != nil:
			r.conn.remove(s)
		}
	}
	return err
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if x, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return x.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return x.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return x.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return x.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if x, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
