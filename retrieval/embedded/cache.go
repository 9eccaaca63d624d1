package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"concierge/retrieval"
)

// CacheFileName is the embedding cache's file in the data directory.
const CacheFileName = "embeddings.db"

// Cache is a retrieval.Cache persisted in its own SQLite file, so that
// re-indexing unchanged text after a restart costs no embedding call.
type Cache struct{ db *sql.DB }

var _ retrieval.Cache = (*Cache)(nil)

// OpenCache opens (creating if needed) the cache in the SQLite file at path.
func OpenCache(ctx context.Context, path string) (*Cache, error) {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("embedded: open cache %s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS embeddings (
		embedder TEXT NOT NULL, company_id BLOB NOT NULL, kind INTEGER NOT NULL, sum BLOB NOT NULL, vector BLOB NOT NULL,
		PRIMARY KEY (company_id, embedder, kind, sum)) WITHOUT ROWID`); err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded: create cache in %s: %w", path, err)
	}
	return &Cache{db: db}, nil
}

// Get implements retrieval.Cache.
func (c *Cache) Get(ctx context.Context, keys []retrieval.CacheKey) ([][]float32, error) {
	out := make([][]float32, len(keys))
	for i, k := range keys {
		var b []byte
		err := c.db.QueryRowContext(ctx, `SELECT vector FROM embeddings WHERE company_id = ? AND embedder = ? AND kind = ? AND sum = ?`,
			k.Company[:], k.Embedder, int(k.Kind), k.Sum[:]).Scan(&b)
		if isNoRows(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("embedded: cache get: %w", err)
		}
		out[i] = appendDecoded(nil, b)
	}
	return out, nil
}

// Put implements retrieval.Cache.
func (c *Cache) Put(ctx context.Context, keys []retrieval.CacheKey, vecs [][]float32) error {
	if len(keys) == 0 {
		return nil
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("embedded: cache put: %w", err)
	}
	defer tx.Rollback()
	var sb strings.Builder
	sb.WriteString(`INSERT OR REPLACE INTO embeddings (embedder, company_id, kind, sum, vector) VALUES (?, ?, ?, ?, ?)`)
	st, err := tx.PrepareContext(ctx, sb.String())
	if err != nil {
		return fmt.Errorf("embedded: cache put: %w", err)
	}
	defer st.Close()
	for i, k := range keys {
		buf := make([]byte, 4*len(vecs[i]))
		if _, err := st.ExecContext(ctx, k.Embedder, k.Company[:], int(k.Kind), k.Sum[:], encode(buf, vecs[i])); err != nil {
			return fmt.Errorf("embedded: cache put: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("embedded: cache put: %w", err)
	}
	return nil
}

// DeleteCompany implements retrieval.Cache.
func (c *Cache) DeleteCompany(ctx context.Context, company uuid.UUID) error {
	if _, err := c.db.ExecContext(ctx, `DELETE FROM embeddings WHERE company_id = ?`, company[:]); err != nil {
		return fmt.Errorf("embedded: cache delete: %w", err)
	}
	return nil
}

// Close closes the cache's database.
func (c *Cache) Close() error { return c.db.Close() }
