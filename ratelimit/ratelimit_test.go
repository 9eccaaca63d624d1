package ratelimit_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/db"
	"concierge/dbtest"
	"concierge/ratelimit"
)

// store returns a bucket store over d (a replica's).
func store(t *testing.T, d *db.DB) *ratelimit.SQL {
	t.Helper()
	s, err := ratelimit.New(d.SQL, d.Dialect)
	require.NoError(t, err)
	return s
}

// concurrently runs take(0..n-1) at once and counts the takes allowed.
func concurrently(n int, take func(i int) bool) int64 {
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if take(i) {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	return allowed.Load()
}

func TestBucketsAreSharedAndExact(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// Two replicas' stores over one database.
		a, b := store(t, d), store(t, d)
		allowed := concurrently(40, func(i int) bool {
			s := a
			if i%2 == 1 {
				s = b
			}
			ok, wait, err := s.Take(ctx, "visitor:1", 10, time.Hour)
			require.NoError(t, err)
			if !ok {
				require.Greater(t, wait, 50*time.Minute, "the next token is an hour away (less the elapsed time)")
			}
			return ok
		})
		require.EqualValues(t, 10, allowed, "exactly the burst passes, whichever replica asks")

		// Keys are independent.
		ok, _, err := a.Take(ctx, "visitor:2", 10, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
	})
}

func TestBucketRefills(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := store(t, d)
		for i := range 3 {
			ok, _, err := s.Take(ctx, "k", 3, 50*time.Millisecond)
			require.NoError(t, err)
			require.True(t, ok, "take %d", i)
		}
		ok, wait, err := s.Take(ctx, "k", 3, 50*time.Millisecond)
		require.NoError(t, err)
		require.False(t, ok)
		require.LessOrEqual(t, wait, 50*time.Millisecond)
		// Refused takes do not push the refill away.
		time.Sleep(wait + 10*time.Millisecond)
		ok, _, err = s.Take(ctx, "k", 3, 50*time.Millisecond)
		require.NoError(t, err)
		require.True(t, ok, "a token came back")

		require.NoError(t, s.Reset(ctx, "k"))
		for range 3 {
			ok, _, err = s.Take(ctx, "k", 3, time.Hour)
			require.NoError(t, err)
			require.True(t, ok, "a reset bucket is full")
		}
		n, err := s.Prune(ctx, -time.Second) // everything is older than "a second from now"
		require.NoError(t, err)
		require.GreaterOrEqual(t, n, int64(1))
	})
}

func TestBadLimits(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		s := store(t, d)
		for _, c := range []struct {
			burst int
			every time.Duration
		}{{0, time.Second}, {1, 0}} {
			_, _, err := s.Take(context.Background(), "k", c.burst, c.every)
			require.Error(t, err, fmt.Sprint(c))
		}
	})
}

// TakeEach takes a token of every bucket or of none, and holds exactly
// across replicas when many visitors share their company's bucket.
func TestTakeEachIsAllOrNothing(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := store(t, d)
		visitor := ratelimit.Bucket{Key: "v:1", Burst: 3, Every: time.Hour}
		company := ratelimit.Bucket{Key: "c:1", Burst: 2, Every: time.Minute}
		for i := range 2 {
			ok, _, err := s.TakeEach(ctx, visitor, company)
			require.NoError(t, err)
			require.True(t, ok, "take %d", i)
		}
		ok, wait, err := s.TakeEach(ctx, visitor, company)
		require.NoError(t, err)
		require.False(t, ok, "the company's bucket is empty")
		require.Greater(t, wait, 20*time.Second, "its next token is up to a minute away")
		require.LessOrEqual(t, wait, time.Minute)
		// The refusal took nothing from the visitor's bucket: one is left.
		ok, _, err = s.Take(ctx, visitor.Key, visitor.Burst, visitor.Every)
		require.NoError(t, err)
		require.True(t, ok)
		ok, wait, err = s.Take(ctx, visitor.Key, visitor.Burst, visitor.Every)
		require.NoError(t, err)
		require.False(t, ok)
		require.Greater(t, wait, 50*time.Minute)

		_, _, err = s.TakeEach(ctx, visitor, ratelimit.Bucket{Key: "c:2", Burst: 0, Every: time.Second})
		require.Error(t, err, "a bad bucket")

		// Forty visitors of one company on two replicas, naming the buckets
		// in either order: exactly the company's burst passes, and no take
		// deadlocks with another.
		other := store(t, d)
		shared := ratelimit.Bucket{Key: "c:3", Burst: 15, Every: time.Hour}
		allowed := concurrently(40, func(i int) bool {
			st, bs := s, []ratelimit.Bucket{{Key: fmt.Sprint("v3:", i), Burst: 5, Every: time.Hour}, shared}
			if i%2 == 1 {
				st, bs = other, []ratelimit.Bucket{shared, bs[0]}
			}
			ok, _, err := st.TakeEach(ctx, bs...)
			require.NoError(t, err)
			return ok
		})
		require.EqualValues(t, shared.Burst, allowed)
	})
}
