package db

import (
	"container/list"
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// stmtCacheSize bounds the prepared statements one connection keeps.
const stmtCacheSize = 256

// stmtCacheConnector opens connections that keep their prepared statements,
// while ent, River and goose send the same few hundred statements over and
// over:
//   - modernc.org/sqlite compiles the SQL of every query it is given
//     (sqlite3_prepare was ~18% of the server's CPU under load);
//   - lib/pq has PostgreSQL parse and plan every query with arguments, in
//     two round trips (Parse and Describe, then Bind and Execute): at 300
//     messages a second over two replicas the server spent as much CPU as
//     the replicas together, and a prepared statement runs in one.
//
// A PostgreSQL statement keeps the generic plan it settles on after its
// first runs, and only ANALYZE (or a change of the tables) makes the
// server plan it again. A plan made while a table was nearly empty can
// scan a whole index for what is now one row by its key (under load, a
// conversation looked up by id and company walked every conversation of
// the company): with autovacuum off, nothing ever analyzes the tables. So
// with replan set, a statement is prepared again once it is older than its
// replanning age, which starts at replan and doubles each time (up to
// maxReplan): young databases, whose tables grow fastest, get fresh plans
// soon, and an old connection rarely prepares anything again.
type stmtCacheConnector struct {
	driver.Connector
	size   int                       // statements per connection, at least 1
	replan time.Duration             // first replanning age; 0: never
	now    func() time.Time          // the clock of replanning
	trace  func(event, query string) // test hook: "prepare" and "close" of cached statements
	gate   *writeGate                // SQLite: one writer at a time (nil: none)
}

// maxReplan is the longest a PostgreSQL statement keeps its plan (with
// autovacuum on, ANALYZE makes the server replan it sooner).
const maxReplan = 10 * time.Minute

// Connect opens a connection of the driver and wraps it.
func (c *stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(innerConn)
	if !ok {
		dc.Close()
		return nil, fmt.Errorf("db: connection %T lacks a driver interface", dc)
	}
	conn := &stmtCacheConn{innerConn: sc, connector: c, stmts: map[string]*list.Element{}}
	if nvc, ok := dc.(driver.NamedValueChecker); ok {
		return &stmtCacheConnChecker{conn, nvc}, nil
	}
	return conn, nil
}

// innerConn is what modernc.org/sqlite and lib/pq connections implement of
// database/sql/driver, but for the deprecated Execer and Queryer, which
// database/sql ignores when ExecerContext and QueryerContext are there,
// and lib/pq's NamedValueChecker, which stmtCacheConnChecker adds
// (TestStmtCacheInterfaces). stmtCacheConn embeds it to offer database/sql
// the same: a wrapper that hid one would change how database/sql uses the
// connection (BeginTx options, lock waits that end with the context, session
// reset and validation, argument conversion).
type innerConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// innerStmt is what the drivers' statements implement.
type innerStmt interface {
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
	innerConn
	connector *stmtCacheConnector
	lru       list.List                // of *cachedStmt, the most recently used in front
	stmts     map[string]*list.Element // in lru, by query text
	// failed are statements taken out of the cache after failing, closed
	// when the connection is next reset: the failure may have aborted a
	// PostgreSQL transaction, and lib/pq marks its connection bad when
	// the server refuses a Close.
	failed []*cachedStmt
	inTx   bool // a transaction holds the connector's gate
}

// stmtCacheConnChecker is a stmtCacheConn whose driver converts arguments
// itself (lib/pq).
type stmtCacheConnChecker struct {
	*stmtCacheConn
	driver.NamedValueChecker
}

// cachedStmt is a prepared statement of a connection's cache.
type cachedStmt struct {
	innerStmt
	query   string
	elem    *list.Element
	expires time.Time     // replanned on first use after this (replanning on)
	age     time.Duration // how long it was kept (0: not replanned)
	busy    bool          // its Rows are open: no other call may run it
	removed bool          // out of the cache: closed once no longer busy
}

// Unwrap returns the driver's connection: sqlite.Limit sees through the
// wrapper with it, and so can code reaching the driver's own interfaces
// (backup, serialize, hooks) through sql.Conn.Raw.
func (c *stmtCacheConn) Unwrap() driver.Conn { return c.innerConn }

// QueryContext runs query on its cached statement. The statement is busy
// until the Rows returned are closed.
func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	leave, err := c.enterFor(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, s, err := c.query(ctx, query, args)
	if err != nil {
		if leave != nil {
			leave()
		}
		return nil, err
	}
	if s == nil && leave == nil {
		return rows, nil
	}
	if s != nil {
		s.busy = true
	}
	r := &cachedRows{Rows: rows, conn: c, stmt: s, leave: leave}
	if nrs, ok := rows.(driver.RowsNextResultSet); ok {
		return &cachedRowsSets{r, nrs}, nil
	}
	return r, nil
}

// query runs query on its cached statement s, or uncached (s nil).
func (c *stmtCacheConn) query(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, *cachedStmt, error) {
	s, err := c.acquire(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if s == nil {
		// The connection prepares a statement that its Rows close.
		rows, err := c.innerConn.QueryContext(ctx, query, args)
		return rows, nil, err
	}
	rows, err := s.QueryContext(ctx, args)
	if err != nil {
		c.fail(s)
		return nil, nil, err
	}
	return rows, s, nil
}

// ExecContext runs query on its cached statement.
func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	leave, err := c.enterFor(ctx, query)
	if err != nil {
		return nil, err
	}
	if leave != nil {
		defer leave()
	}
	s, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		// The connection prepares a statement and closes it after the run.
		return c.innerConn.ExecContext(ctx, query, args)
	}
	res, err := s.ExecContext(ctx, args)
	if err != nil {
		c.fail(s)
	}
	return res, err
}

// acquire returns the cached statement for query, prepared on first use, or
// nil when query is to run uncached: a statement whose Rows are open, or a
// script of several statements (migrations). A prepared statement runs only
// the first statement of a script with most drivers (PostgreSQL refuses to
// prepare one); modernc.org/sqlite compiles the whole script again on every
// run, so caching one saves nothing.
//
// Preparing fails as the connection's own QueryContext and ExecContext
// would: modernc.org/sqlite prepares every query, and lib/pq every query
// with arguments (an unnamed statement); those without, which lib/pq would
// send as a simple query, are prepared too and then run the same way.
func (c *stmtCacheConn) acquire(ctx context.Context, query string) (*cachedStmt, error) {
	if !singleStatement(query) {
		return nil, nil
	}
	age := c.connector.replan // the replanning age of a new statement
	if e := c.stmts[query]; e != nil {
		s := e.Value.(*cachedStmt)
		if s.busy {
			return nil, nil
		}
		if s.age == 0 || c.connector.now().Before(s.expires) {
			c.lru.MoveToFront(e)
			return s, nil
		}
		// To be planned again. The old one is closed at the next reset,
		// outside any transaction, as a failed one is: this may run in a
		// transaction that has failed, where the server refuses a Close.
		c.fail(s)
		age = min(2*s.age, maxReplan)
	}
	ds, err := c.innerConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(innerStmt)
	if !ok {
		ds.Close()
		return nil, nil
	}
	c.trace("prepare", query)
	s := &cachedStmt{innerStmt: st, query: query, age: age}
	if age > 0 {
		s.expires = c.connector.now().Add(age)
	}
	s.elem = c.lru.PushFront(s)
	c.stmts[query] = s.elem
	if c.lru.Len() > c.connector.size {
		c.remove(c.lru.Back().Value.(*cachedStmt))
	}
	return s, nil
}

// remove takes s out of the cache and closes it, or leaves closing it to its
// Rows when they are open.
func (c *stmtCacheConn) remove(s *cachedStmt) {
	c.lru.Remove(s.elem)
	delete(c.stmts, s.query)
	s.removed = true
	if !s.busy {
		c.closeStmt(s)
	}
}

// fail takes s out of the cache after its run failed (a bad connection, an
// interrupt, a constraint, a table changed under a PostgreSQL plan):
// preparing it again costs less than any doubt about the state the failure
// left it in. It is closed when the connection is next reset. (acquire
// retires a statement due to be planned again the same way.)
func (c *stmtCacheConn) fail(s *cachedStmt) {
	if !s.removed {
		c.lru.Remove(s.elem)
		delete(c.stmts, s.query)
	}
	s.removed = true
	if !s.busy {
		c.failed = append(c.failed, s)
	}
}

// ResetSession closes the statements that failed since the connection was
// last reset, then resets the driver's connection. database/sql resets a
// connection before it reuses it, outside any transaction.
func (c *stmtCacheConn) ResetSession(ctx context.Context) error {
	c.closeFailed()
	return c.innerConn.ResetSession(ctx)
}

func (c *stmtCacheConn) closeFailed() {
	for _, s := range c.failed {
		c.closeStmt(s)
	}
	clear(c.failed)
	c.failed = c.failed[:0]
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
	c.endTx() // closed in a transaction (the driver's connection broke)
	c.closeFailed()
	for e := c.lru.Front(); e != nil; e = e.Next() {
		c.closeStmt(e.Value.(*cachedStmt))
	}
	c.lru.Init()
	clear(c.stmts)
	return c.innerConn.Close()
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
// are closed, or of a statement holding the write gate until then. The
// column type methods are those modernc.org/sqlite's and lib/pq's rows
// implement (TestStmtCacheInterfaces); the fallbacks are database/sql's
// defaults for rows without them. cachedRowsSets adds the result sets of
// lib/pq's.
type cachedRows struct {
	driver.Rows
	conn  *stmtCacheConn
	stmt  *cachedStmt // nil: an uncached statement's
	leave func()      // leaves the gate the statement passed (nil: none)
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	if r.leave != nil {
		r.leave()
		r.leave = nil
	}
	if s := r.stmt; s != nil {
		r.stmt = nil
		s.busy = false
		switch {
		case err != nil:
			r.conn.fail(s)
		case s.removed:
			r.conn.closeStmt(s)
		}
	}
	return err
}

type cachedRowsSets struct {
	*cachedRows
	sets driver.RowsNextResultSet
}

func (r *cachedRowsSets) HasNextResultSet() bool { return r.sets.HasNextResultSet() }
func (r *cachedRowsSets) NextResultSet() error   { return r.sets.NextResultSet() }

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
