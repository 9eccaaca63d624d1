package db

import (
	"database/sql/driver"
	"errors"
	"strings"
)

// IsUnavailable recognises a database that cannot serve for a moment: SQLite's
// single writer busy, PostgreSQL restarting, out of connections or out of
// reach. The request may be tried again (a sendMessage with the same
// clientMessageId is safe to retry).
func IsUnavailable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) {
		return true
	}
	m := err.Error()
	for _, s := range []string{"SQLITE_BUSY", "database is locked", "bad connection", "connection refused",
		"(57P01)", "(57P02)", "(57P03)", "(53300)", "the database system is"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}
