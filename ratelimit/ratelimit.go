// Package ratelimit keeps token buckets in the database, so that every
// replica of the platform counts against the same limits. One atomic
// statement refills a bucket by the time elapsed and takes a token; a
// refused take changes nothing.
package ratelimit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"entgo.io/ent/dialect"
)

// SQL is a bucket store over the platform's database (table rate_buckets,
// created by the migrations).
type SQL struct {
	db      *sql.DB
	dialect string
	now     func() time.Time
}

// New returns a store over db (dialect.SQLite or dialect.Postgres).
func New(db *sql.DB, dialectName string) (*SQL, error) {
	if dialectName != dialect.SQLite && dialectName != dialect.Postgres {
		return nil, fmt.Errorf("ratelimit: unsupported dialect %q", dialectName)
	}
	return &SQL{db: db, dialect: dialectName, now: time.Now}, nil
}

// take refills the bucket by the time since its last update (at one token
// per every, up to burst) and takes a token if one is there. Times are
// Unix seconds as floats, so the arithmetic is the same in both dialects.
const (
	takePostgres = `INSERT INTO rate_buckets (id, tokens, updated_at) VALUES ($1, $2::float8 - 1, $3::float8)
ON CONFLICT (id) DO UPDATE SET
	tokens = LEAST($2::float8, rate_buckets.tokens + GREATEST(0, $3::float8 - rate_buckets.updated_at) * $4::float8) - 1,
	updated_at = $3::float8
WHERE LEAST($2::float8, rate_buckets.tokens + GREATEST(0, $3::float8 - rate_buckets.updated_at) * $4::float8) >= 1
RETURNING tokens`
	takeSQLite = `INSERT INTO rate_buckets (id, tokens, updated_at) VALUES (?1, ?2 - 1, ?3)
ON CONFLICT (id) DO UPDATE SET
	tokens = MIN(?2, rate_buckets.tokens + MAX(0, ?3 - rate_buckets.updated_at) * ?4) - 1,
	updated_at = ?3
WHERE MIN(?2, rate_buckets.tokens + MAX(0, ?3 - rate_buckets.updated_at) * ?4) >= 1
RETURNING tokens`
	peekPostgres = `SELECT tokens, updated_at FROM rate_buckets WHERE id = $1`
	peekSQLite   = `SELECT tokens, updated_at FROM rate_buckets WHERE id = ?1`
)

// Take takes one token of key's bucket (burst tokens, one more every
// every). When none is left it returns false and how long until one is.
func (s *SQL) Take(ctx context.Context, key string, burst int, every time.Duration) (bool, time.Duration, error) {
	if burst < 1 || every <= 0 {
		return false, 0, errors.New("ratelimit: burst must be at least 1 and every positive")
	}
	now := float64(s.now().UnixNano()) / 1e9
	rate := 1 / every.Seconds() // tokens per second
	take, peek := takePostgres, peekPostgres
	if s.dialect == dialect.SQLite {
		take, peek = takeSQLite, peekSQLite
	}
	var left float64
	err := s.db.QueryRowContext(ctx, take, key, float64(burst), now, rate).Scan(&left)
	if err == nil {
		return true, 0, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return false, 0, fmt.Errorf("ratelimit: %w", err)
	}
	// Refused: the bucket is short of a token.
	var tokens, updated float64
	if err := s.db.QueryRowContext(ctx, peek, key).Scan(&tokens, &updated); err != nil {
		return false, every, nil
	}
	have := math.Min(float64(burst), tokens+math.Max(0, now-updated)*rate)
	wait := time.Duration((1 - have) / rate * float64(time.Second))
	return false, max(wait, time.Millisecond), nil
}

// Reset forgets key's bucket (a successful login, for example).
func (s *SQL) Reset(ctx context.Context, key string) error {
	q := `DELETE FROM rate_buckets WHERE id = $1`
	if s.dialect == dialect.SQLite {
		q = `DELETE FROM rate_buckets WHERE id = ?1`
	}
	_, err := s.db.ExecContext(ctx, q, key)
	return err
}

// Prune deletes buckets untouched for longer than idle: they are full
// again (for any limit that refills within idle), so forgetting them
// changes nothing.
func (s *SQL) Prune(ctx context.Context, idle time.Duration) (int64, error) {
	q := `DELETE FROM rate_buckets WHERE updated_at < $1::float8`
	if s.dialect == dialect.SQLite {
		q = `DELETE FROM rate_buckets WHERE updated_at < ?1`
	}
	res, err := s.db.ExecContext(ctx, q, float64(s.now().Add(-idle).UnixNano())/1e9)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
