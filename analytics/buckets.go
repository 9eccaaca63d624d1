package analytics

import (
	"fmt"
	"strconv"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"concierge/ent"
)

// timeFormat is how a time column is bucketed: by UTC day or hour.
type timeFormat int

const (
	dayFormat  timeFormat = iota // "2006-01-02"
	hourFormat                   // "2006-01-02 15"
)

// groupByTime is an aggregation that groups the query's rows by the UTC day
// or hour of a time column and selects that bucket as "bucket" (a string, or
// NULL for a value the database cannot read as a time).
//
// ent's GroupBy only takes columns; an aggregation function receives the
// query's selector, so it adds the GROUP BY expression itself.
func groupByTime(column string, f timeFormat) ent.AggregateFunc {
	return func(s *sql.Selector) string {
		expr := utcBucket(s.Dialect(), s.C(column), f)
		s.GroupBy(expr)
		return sql.As(expr, "bucket")
	}
}

// utcBucket returns the SQL expression of col's UTC day or hour.
func utcBucket(dl, col string, f timeFormat) string {
	if dl == dialect.Postgres {
		pattern := "YYYY-MM-DD"
		if f == hourFormat {
			pattern = "YYYY-MM-DD HH24"
		}
		return fmt.Sprintf("to_char(%s AT TIME ZONE 'UTC', '%s')", col, pattern)
	}
	pattern := "%Y-%m-%d"
	if f == hourFormat {
		pattern = "%Y-%m-%d %H"
	}
	return fmt.Sprintf("strftime('%s', %s)", pattern, sqliteTime(col))
}

// sqliteTime returns an expression turning a time stored by the SQLite
// driver into one SQLite's date functions read. The driver (modernc.org/sqlite
// without _time_format) writes Go's time.String form,
// "2026-11-28 15:02:37.311329115 +0100 CET", which they do not: this keeps
// the date and time to the second and rewrites the offset as "+01:00".
// A value already in SQLite's form ("...15:02:37.311+01:00", no space after
// the time) is left as it is.
func sqliteTime(col string) string {
	// sp is the position of the space after the time, counted from the
	// 20th character (just after the seconds); 0 when there is none.
	sp := fmt.Sprintf("instr(substr(%s, 20), ' ')", col)
	return fmt.Sprintf(
		"(CASE WHEN %[2]s > 0 THEN substr(%[1]s, 1, 19) || substr(%[1]s, 20 + %[2]s, 3) || ':' || substr(%[1]s, 23 + %[2]s, 2) ELSE %[1]s END)",
		col, sp)
}

// splitHour splits an hour bucket ("2026-11-28 15") into its day and hour.
func splitHour(b string) (day string, hour int, ok bool) {
	d, h, found := strings.Cut(strings.TrimSpace(b), " ")
	if !found {
		return "", 0, false
	}
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 || n > 23 {
		return "", 0, false
	}
	return d, n, true
}
