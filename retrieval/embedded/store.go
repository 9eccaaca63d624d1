// Package embedded is the default retrieval.Store: no server, one SQLite
// file in the data directory. Keyword search is BM25 over an FTS5 table per
// company (porter stemming, title and heading weighted above the text);
// vector search is an exact cosine scan over the company's vectors, kept in
// memory (loaded lazily, updated on every write). The two rankings are fused
// with reciprocal rank fusion; see score.go for how hits are scored.
//
// Isolation: every passage row carries its company id and is read by it,
// each company has its own FTS5 table and its own in-memory vectors, so no
// query can reach another company's passages (and BM25 statistics are per
// company too).
package embedded

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"sync"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // "sqlite" driver (pure Go, with FTS5)

	"concierge/retrieval"
	"concierge/retrieval/internal/score"
)

// FileName is the store's file in the data directory.
const FileName = "index.db"

// Store is the embedded store. It is safe for concurrent use.
type Store struct {
	db *sql.DB
	// writeMu serialises writers (SQLite has one writer anyway), so a
	// company's in-memory state and its rows change in the same order.
	writeMu sync.Mutex

	mu        sync.Mutex
	companies map[uuid.UUID]*company
}

// company is one company's in-memory index state.
type company struct {
	id uuid.UUID
	// mu is held for reading by a whole search (FTS5 and vectors) and for
	// writing only while a write commits and swaps the vectors: a search
	// sees the rows and vectors of one generation.
	mu     sync.RWMutex
	loaded bool
	has    bool
	info   retrieval.IndexInfo
	// segs holds the rows of each resource in vecs (nil until the company
	// has an index).
	segs map[uuid.UUID]*segment
	vecs *vecIndex
	// df caches the document frequency of FTS5 query terms (see docFreq):
	// filled by searches under dfMu, cleared by every write under mu.
	dfMu sync.Mutex
	df   map[string]int
	// typo caches typo corrections (see corrections) like df.
	typo map[string]correction
}

// Open opens (creating if needed) the store in the SQLite file at path.
func Open(ctx context.Context, path string) (*Store, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "cache_size(-65536)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded: create schema in %s: %w", path, err)
	}
	return &Store{db: db, companies: map[uuid.UUID]*company{}}, nil
}

const schema = `
CREATE TABLE IF NOT EXISTS companies (
	company_id BLOB PRIMARY KEY,
	embedder   TEXT NOT NULL,
	dimension  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
	rowid       INTEGER PRIMARY KEY,
	company_id  BLOB NOT NULL,
	resource_id BLOB NOT NULL,
	chunk_id    BLOB NOT NULL,
	ordinal     INTEGER NOT NULL,
	title       TEXT NOT NULL,
	heading     TEXT NOT NULL,
	url         TEXT NOT NULL,
	page        INTEGER NOT NULL,
	text        TEXT NOT NULL,
	vector      BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_company_resource ON passages (company_id, resource_id);
`

// ftsTable names a company's FTS5 table; the name is built from the uuid
// only, so it is safe to splice into SQL.
func ftsTable(companyID uuid.UUID) string {
	return "fts_" + strings.ReplaceAll(companyID.String(), "-", "")
}

// Column weights of bm25(): a word in the title or heading says more about
// a passage than one in its text.
const (
	titleWeight   = 3.0
	headingWeight = 2.0
	textWeight    = 1.0
)

func createFTS(ctx context.Context, tx *sql.Tx, companyID uuid.UUID) error {
	t := ftsTable(companyID)
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`
CREATE VIRTUAL TABLE IF NOT EXISTS %[1]s USING fts5(title, heading, text,
	content='passages', content_rowid='rowid',
	tokenize='porter unicode61 remove_diacritics 2', prefix='3');
INSERT INTO %[1]s(%[1]s, rank) VALUES('rank', 'bm25(%[2]g, %[3]g, %[4]g)');
CREATE VIRTUAL TABLE IF NOT EXISTS %[5]s USING fts5vocab(%[1]s, 'row');`,
		t, titleWeight, headingWeight, textWeight, vocabTable(companyID)))
	return err
}

// company returns the loaded in-memory state of a company.
func (s *Store) company(ctx context.Context, id uuid.UUID) (*company, error) {
	s.mu.Lock()
	c := s.companies[id]
	if c == nil {
		c = &company{id: id}
		s.companies[id] = c
	}
	s.mu.Unlock()
	c.mu.RLock()
	loaded := c.loaded
	c.mu.RUnlock()
	if loaded {
		return c, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loaded {
		return c, nil
	}
	if err := s.load(ctx, c); err != nil {
		return nil, err
	}
	c.loaded = true
	return c, nil
}

// load reads a company's info and vectors; c.mu is held.
func (s *Store) load(ctx context.Context, c *company) error {
	c.segs, c.vecs = map[uuid.UUID]*segment{}, nil
	err := s.db.QueryRowContext(ctx, `SELECT embedder, dimension FROM companies WHERE company_id = ?`, c.id[:]).
		Scan(&c.info.Embedder, &c.info.Dimension)
	if errors.Is(err, sql.ErrNoRows) {
		c.has, c.info = false, retrieval.IndexInfo{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("embedded: load company: %w", err)
	}
	c.has = true
	c.vecs = newVecIndex(c.info.Dimension)
	rows, err := s.db.QueryContext(ctx, `SELECT rowid, resource_id, vector FROM passages WHERE company_id = ? ORDER BY resource_id`, c.id[:])
	if err != nil {
		return fmt.Errorf("embedded: load vectors: %w", err)
	}
	defer rows.Close()
	var (
		seg    *segment
		rowids []int64
		vecs   []float32
	)
	flush := func() {
		if seg != nil {
			c.vecs.add(seg, rowids, vecs)
		}
		rowids, vecs = rowids[:0], vecs[:0]
	}
	for rows.Next() {
		var rowid int64
		var rid, vec []byte
		if err := rows.Scan(&rowid, &rid, &vec); err != nil {
			return fmt.Errorf("embedded: load vectors: %w", err)
		}
		r, err := uuid.FromBytes(rid)
		if err != nil {
			return fmt.Errorf("embedded: load vectors: %w", err)
		}
		if len(vec) != 4*c.info.Dimension {
			return fmt.Errorf("embedded: load vectors: row %d: %w", rowid, retrieval.ErrDimensionMismatch)
		}
		if seg == nil || seg.resource != r {
			flush()
			seg = &segment{resource: r}
			c.segs[r] = seg
		}
		rowids = append(rowids, rowid)
		vecs = appendDecoded(vecs, vec)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("embedded: load vectors: %w", err)
	}
	flush()
	return nil
}

// ReplaceResource implements retrieval.Store: the rows change in one SQLite
// transaction, and its commit and the swap of the in-memory vectors happen
// under the company's lock, which every search holds for reading.
func (s *Store) ReplaceResource(ctx context.Context, companyID, resourceID uuid.UUID, info retrieval.IndexInfo, passages []retrieval.Passage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if info.Dimension <= 0 || info.Embedder == "" {
		return fmt.Errorf("embedded: index info %+v: %w", info, retrieval.ErrDimensionMismatch)
	}
	for i, p := range passages {
		if len(p.Vector) != info.Dimension {
			return fmt.Errorf("embedded: passage %d has %d dimensions, the index %d: %w", i, len(p.Vector), info.Dimension, retrieval.ErrDimensionMismatch)
		}
	}
	c, err := s.company(ctx, companyID)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	c.mu.RLock()
	has, cur := c.has, c.info
	c.mu.RUnlock()
	if has && cur.Dimension != info.Dimension {
		return fmt.Errorf("embedded: index has %d dimensions, got %d: %w", cur.Dimension, info.Dimension, retrieval.ErrDimensionMismatch)
	}
	if has && cur.Embedder != info.Embedder {
		return fmt.Errorf("embedded: index built with %q, got %q: %w", cur.Embedder, info.Embedder, retrieval.ErrEmbedderChanged)
	}
	if !has && len(passages) == 0 {
		return nil
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrapErr(ctx, "begin", err)
	}
	defer tx.Rollback()
	if !has {
		if _, err := tx.ExecContext(ctx, `INSERT INTO companies (company_id, embedder, dimension) VALUES (?, ?, ?)`,
			companyID[:], info.Embedder, info.Dimension); err != nil {
			return wrapErr(ctx, "create index", err)
		}
		if err := createFTS(ctx, tx, companyID); err != nil {
			return wrapErr(ctx, "create index", err)
		}
	}
	if err := deleteRows(ctx, tx, companyID, "resource_id = ?", resourceID[:]); err != nil {
		return err
	}
	rowids := make([]int64, 0, len(passages))
	vecs := make([]float32, 0, len(passages)*info.Dimension)
	ins, err := tx.PrepareContext(ctx, `INSERT INTO passages (company_id, resource_id, chunk_id, ordinal, title, heading, url, page, text, vector)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return wrapErr(ctx, "insert", err)
	}
	defer ins.Close()
	t := ftsTable(companyID)
	insFTS, err := tx.PrepareContext(ctx, fmt.Sprintf(`INSERT INTO %s (rowid, title, heading, text) VALUES (?, ?, ?, ?)`, t))
	if err != nil {
		return wrapErr(ctx, "insert", err)
	}
	defer insFTS.Close()
	buf := make([]byte, 4*info.Dimension)
	for _, p := range passages {
		unit := score.Normalized(p.Vector)
		res, err := ins.ExecContext(ctx, companyID[:], resourceID[:], p.ChunkID[:], p.Ordinal, p.Title, p.Heading, p.URL, p.Page, p.Text, encode(buf, unit))
		if err != nil {
			return wrapErr(ctx, "insert", err)
		}
		rowid, err := res.LastInsertId()
		if err != nil {
			return wrapErr(ctx, "insert", err)
		}
		if _, err := insFTS.ExecContext(ctx, rowid, p.Title, p.Heading, p.Text); err != nil {
			return wrapErr(ctx, "insert", err)
		}
		rowids = append(rowids, rowid)
		vecs = append(vecs, unit...)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := tx.Commit(); err != nil {
		return wrapErr(ctx, "commit", err)
	}
	c.df, c.typo = nil, nil
	if !c.has {
		c.has, c.info = true, info
		c.segs, c.vecs = map[uuid.UUID]*segment{}, newVecIndex(info.Dimension)
	}
	c.removeSegment(resourceID)
	if len(rowids) > 0 {
		seg := &segment{resource: resourceID}
		c.vecs.add(seg, rowids, vecs)
		c.segs[resourceID] = seg
	}
	return nil
}

// deleteRows removes a company's passages matching where (and their FTS5
// entries) inside tx.
func deleteRows(ctx context.Context, tx *sql.Tx, companyID uuid.UUID, where string, args ...any) error {
	t := ftsTable(companyID)
	args = append([]any{companyID[:]}, args...)
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %[1]s (%[1]s, rowid, title, heading, text)
		SELECT 'delete', rowid, title, heading, text FROM passages WHERE company_id = ? AND %[2]s`, t, where), args...); err != nil {
		return wrapErr(ctx, "delete", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM passages WHERE company_id = ? AND `+where, args...); err != nil {
		return wrapErr(ctx, "delete", err)
	}
	return nil
}

// DeleteResource implements retrieval.Store.
func (s *Store) DeleteResource(ctx context.Context, companyID, resourceID uuid.UUID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := s.company(ctx, companyID)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	c.mu.RLock()
	has := c.has
	c.mu.RUnlock()
	if !has {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrapErr(ctx, "begin", err)
	}
	defer tx.Rollback()
	if err := deleteRows(ctx, tx, companyID, "resource_id = ?", resourceID[:]); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := tx.Commit(); err != nil {
		return wrapErr(ctx, "commit", err)
	}
	c.df, c.typo = nil, nil
	c.removeSegment(resourceID)
	return nil
}

// removeSegment drops a resource's vectors; c.mu is held.
func (c *company) removeSegment(resourceID uuid.UUID) {
	if seg := c.segs[resourceID]; seg != nil {
		c.vecs.remove(seg)
		delete(c.segs, resourceID)
	}
}

// DeleteCompany implements retrieval.Store.
func (s *Store) DeleteCompany(ctx context.Context, companyID uuid.UUID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := s.company(ctx, companyID)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return wrapErr(ctx, "begin", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM passages WHERE company_id = ?`, companyID[:]); err != nil {
		return wrapErr(ctx, "delete company", err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+vocabTable(companyID)); err != nil {
		return wrapErr(ctx, "delete company", err)
	}
	if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS `+ftsTable(companyID)); err != nil {
		return wrapErr(ctx, "delete company", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM companies WHERE company_id = ?`, companyID[:]); err != nil {
		return wrapErr(ctx, "delete company", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := tx.Commit(); err != nil {
		return wrapErr(ctx, "commit", err)
	}
	c.df, c.typo = nil, nil
	c.has, c.info, c.segs, c.vecs = false, retrieval.IndexInfo{}, map[uuid.UUID]*segment{}, nil
	return nil
}

// Info implements retrieval.Store.
func (s *Store) Info(ctx context.Context, companyID uuid.UUID) (retrieval.IndexInfo, bool, error) {
	if err := ctx.Err(); err != nil {
		return retrieval.IndexInfo{}, false, err
	}
	c, err := s.company(ctx, companyID)
	if err != nil {
		return retrieval.IndexInfo{}, false, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.info, c.has, nil
}

// Ping implements retrieval.Store.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("embedded: %w: %w", retrieval.ErrUnavailable, err)
	}
	return nil
}

// Close implements retrieval.Store.
func (s *Store) Close() error { return s.db.Close() }

func wrapErr(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("embedded: %s: %w", op, cerr)
	}
	return fmt.Errorf("embedded: %s: %w", op, err)
}

func encode(buf []byte, v []float32) []byte {
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return buf[:4*len(v)]
}

func appendDecoded(dst []float32, b []byte) []float32 {
	for i := 0; i+4 <= len(b); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(b[i:])))
	}
	return dst
}
