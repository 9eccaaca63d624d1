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

func TestBucketsAreSharedAndExact(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		// Two replicas' stores over one database.
		a, err := ratelimit.New(d.SQL, d.Dialect)
		require.NoError(t, err)
		b, err := ratelimit.New(d.SQL, d.Dialect)
		require.NoError(t, err)
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := a
				if i%2 == 1 {
					s = b
				}
				ok, wait, err := s.Take(ctx, "visitor:1", 10, time.Hour)
				require.NoError(t, err)
				if ok {
					allowed.Add(1)
				} else {
					require.Greater(t, wait, 50*time.Minute, "the next token is an hour away (less the elapsed time)")
				}
			}()
		}
		wg.Wait()
		require.EqualValues(t, 10, allowed.Load(), "exactly the burst passes, whichever replica asks")

		// Keys are independent.
		ok, _, err := a.Take(ctx, "visitor:2", 10, time.Hour)
		require.NoError(t, err)
		require.True(t, ok)
	})
}

func TestBucketRefills(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s, err := ratelimit.New(d.SQL, d.Dialect)
		require.NoError(t, err)
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
		s, err := ratelimit.New(d.SQL, d.Dialect)
		require.NoError(t, err)
		for _, c := range []struct {
			burst int
			every time.Duration
		}{{0, time.Second}, {1, 0}} {
			_, _, err := s.Take(context.Background(), "k", c.burst, c.every)
			require.Error(t, err, fmt.Sprint(c))
		}
	})
}
