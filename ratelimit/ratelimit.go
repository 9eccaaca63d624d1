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
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
)

// SQL is a bucket store over the platform's database (table rate_buckets,
// created by the migrations).
type SQL struct {
	db      *sql.DB
	dialect string
	now     func() time.Time

	mu         sync.Mutex
	statements map[int]string
}

// New returns a store over db (dialect.SQLite or dialect.Postgres).
func New(db *sql.DB, dialectName string) (*SQL, error) {
	if dialectName != dialect.SQLite && dialectName != dialect.Postgres {
		return nil, fmt.Errorf("ratelimit: unsupported dialect %q", dialectName)
	}
	return &SQL{db: db, dialect: dialectName, now: time.Now, statements: map[int]string{}}, nil
}

// Bucket names a bucket and its limit: burst tokens, one more every
// Every.
type Bucket struct {
	Key   string
	Burst int
	Every time.Duration
}

// takeStatement takes a token from each of n buckets in one statement, or
// from none: every bucket is refilled by the time since its last update
// (at its rate, up to its burst) and the tokens are taken only if each has
// one. Times are Unix seconds as floats, so the arithmetic is the same in
// both dialects. A bucket's rate in the conflict clause comes from a CASE
// on its id (the proposed row has no column for it). Rows are written in
// the order of their ids, so that takes of overlapping buckets lock them in
// the same order and cannot deadlock.
func takeStatement(d string, n int) string {
	least, greatest, p := "LEAST", "GREATEST", func(i int) string { return fmt.Sprintf("$%d", i) }
	f := func(i int) string { return p(i) + "::float8" }
	if d == dialect.SQLite {
		least, greatest, p = "MIN", "MAX", func(i int) string { return fmt.Sprintf("?%d", i) }
		f = p
	}
	now := f(1)
	var values, rates strings.Builder
	for i := range n {
		k, b, r := 2+3*i, 3+3*i, 4+3*i
		if i > 0 {
			values.WriteString(", ")
		}
		fmt.Fprintf(&values, "(%s, %s, %s)", p(k), f(b), f(r))
		fmt.Fprintf(&rates, " WHEN %s THEN %s", p(k), f(r))
	}
	refill := func(tokens, updated, rate, burst string) string {
		return fmt.Sprintf("%s(%s, %s + %s(0, %s - %s) * %s)", least, burst, tokens, greatest, now, updated, rate)
	}
	// The bucket as the conflict clause sees it, refilled: its latest row
	// (another take may have just updated it).
	current := refill("rate_buckets.tokens", "rate_buckets.updated_at", "(CASE rate_buckets.id"+rates.String()+" END)", "excluded.tokens + 1")
	return fmt.Sprintf(`WITH want (id, burst, rate) AS (VALUES %s),
have AS (
	SELECT w.id, w.burst, COALESCE(%s, w.burst) AS tokens
	FROM want w LEFT JOIN rate_buckets b ON b.id = w.id
)
INSERT INTO rate_buckets (id, tokens, updated_at)
SELECT id, burst - 1, %s FROM have WHERE NOT EXISTS (SELECT 1 FROM have WHERE tokens < 1) ORDER BY id
ON CONFLICT (id) DO UPDATE SET
	tokens = %s - 1,
	updated_at = %s
WHERE %s >= 1
RETURNING id`,
		values.String(),
		refill("b.tokens", "b.updated_at", "w.rate", "w.burst"),
		now, current, now, current)
}

// Take takes one token of key's bucket (burst tokens, one more every
// every). When none is left it returns false and how long until one is.
func (s *SQL) Take(ctx context.Context, key string, burst int, every time.Duration) (bool, time.Duration, error) {
	return s.TakeEach(ctx, Bucket{Key: key, Burst: burst, Every: every})
}

// TakeEach takes one token of each bucket, in one statement, or none when
// one of them is empty: then it returns false and how long until each has
// a token. (Two takes racing for the last tokens of two shared buckets may
// each get one of them and be refused: a refusal never lets more through.)
func (s *SQL) TakeEach(ctx context.Context, buckets ...Bucket) (bool, time.Duration, error) {
	if len(buckets) == 0 {
		return true, 0, nil
	}
	now := float64(s.now().UnixNano()) / 1e9
	args := make([]any, 0, 1+3*len(buckets))
	args = append(args, now)
	for _, b := range buckets {
		if b.Burst < 1 || b.Every <= 0 {
			return false, 0, errors.New("ratelimit: burst must be at least 1 and every positive")
		}
		args = append(args, b.Key, float64(b.Burst), 1/b.Every.Seconds())
	}
	rows, err := s.db.QueryContext(ctx, s.statement(len(buckets)), args...)
	if err != nil {
		return false, 0, fmt.Errorf("ratelimit: %w", err)
	}
	taken := 0
	for rows.Next() {
		taken++
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return false, 0, fmt.Errorf("ratelimit: %w", err)
	}
	if taken == len(buckets) {
		return true, 0, nil
	}
	// Refused: some bucket is short of a token.
	peek := `SELECT tokens, updated_at FROM rate_buckets WHERE id = $1`
	if s.dialect == dialect.SQLite {
		peek = `SELECT tokens, updated_at FROM rate_buckets WHERE id = ?1`
	}
	var wait time.Duration
	for _, b := range buckets {
		var tokens, updated float64
		if err := s.db.QueryRowContext(ctx, peek, b.Key).Scan(&tokens, &updated); err != nil {
			wait = max(wait, b.Every)
			continue
		}
		rate := 1 / b.Every.Seconds()
		have := math.Min(float64(b.Burst), tokens+math.Max(0, now-updated)*rate)
		wait = max(wait, time.Duration((1-have)/rate*float64(time.Second)))
	}
	return false, max(wait, time.Millisecond), nil
}

// statement is takeStatement for n buckets in s's dialect, built once.
func (s *SQL) statement(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.statements[n]
	if !ok {
		q = takeStatement(s.dialect, n)
		s.statements[n] = q
	}
	return q
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
