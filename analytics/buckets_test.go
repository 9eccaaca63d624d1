package analytics

import (
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/stretchr/testify/require"

	"concierge/db"
	"concierge/dbtest"
)

// Times are bucketed by their UTC hour and day whatever zone they were
// written in, on both dialects (SQLite stores the driver's text form).
func TestUTCBuckets(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		cases := []struct{ stored, want string }{ // stored value, its UTC hour
			{"2026-11-28 00:30:00.5 +0100 CET", "2026-11-27 23"},
			{"2026-11-27 23:30:00 +0000 UTC", "2026-11-27 23"},
			{"2026-11-27 18:59:59.999999 -0500 EST", "2026-11-27 23"},
			{"2026-11-28 05:00:00 +0530 IST", "2026-11-27 23"},
			{"2026-11-28 00:30:00.123456789+01:00", "2026-11-27 23"},
			{"2026-11-27T23:30:00Z", "2026-11-27 23"},
			{"2026-11-28 09:05:00.000000001 +0000 UTC", "2026-11-28 09"},
		}
		for _, c := range cases {
			stored, want := c.stored, c.want
			col := "'" + stored + "'"
			if d.Dialect == dialect.Postgres {
				// A timestamptz column; PostgreSQL reads the offset, not Go's zone name.
				if f := strings.Fields(stored); len(f) == 4 {
					stored = strings.Join(f[:3], " ")
				}
				col = "'" + stored + "'::timestamptz"
			}
			var hour, day string
			err := d.SQL.QueryRow("SELECT "+utcBucket(d.Dialect, col, hourFormat)+", "+utcBucket(d.Dialect, col, dayFormat)).Scan(&hour, &day)
			require.NoError(t, err, stored)
			require.Equal(t, want, hour, stored)
			require.Equal(t, want[:10], day, stored)
		}
	})
}

func TestSplitHour(t *testing.T) {
	t.Parallel()
	d, h, ok := splitHour("2026-11-28 07")
	require.True(t, ok)
	require.Equal(t, "2026-11-28", d)
	require.Equal(t, 7, h)
	for _, bad := range []string{"", "2026-11-28", "2026-11-28 24", "2026-11-28 x"} {
		_, _, ok := splitHour(bad)
		require.False(t, ok, bad)
	}
}
