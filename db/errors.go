package db

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
)

// IsUnavailable recognises a database that cannot serve for a moment: SQLite's
// single writer busy, PostgreSQL restarting, out of connections or out of
// reach, or its connection broken (reset, closed mid-answer, timed out). The
// request may be tried again (a sendMessage with the same clientMessageId is
// safe to retry).
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ne net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) {
		return true
	}
	m := err.Error()
	for _, s := range []string{"SQLITE_BUSY", "database is locked", "bad connection", "connection refused",
		"connection reset by peer", "broken pipe",
		"(57P01)", "(57P02)", "(57P03)", "(53300)", "the database system is"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}
