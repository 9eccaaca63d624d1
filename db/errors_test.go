package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	_ "github.com/lib/pq"

	"concierge/db"
	"concierge/dbtest"
)

func TestIsUnavailable(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("chat: sending a message: %w", fmt.Errorf("ent: starting a transaction: %w", reset)), true},
		{&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}, true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, true},
		{fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), true},
		{errors.New("pq: the database system is shutting down (57P03)"), true},
		{errors.New("sqlite: step: SQLITE_BUSY"), true},
		{nil, false},
		{errors.New(`pq: duplicate key value violates unique constraint "x" (23505)`), false},
		{context.Canceled, false},
		{errors.New("boom"), false},
	} {
		if got := db.IsUnavailable(c.err); got != c.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// A PostgreSQL connection reset while a statement waits for its answer
// (the server went away after the statement was sent) is reported as
// unavailable, so the client is told to try again.
func TestConnectionResetIsUnavailable(t *testing.T) {
	u, err := url.Parse(dbtest.PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	// The proxy forwards both ways; once armed, the next bytes from the
	// client are dropped and its connection reset.
	var armed atomic.Bool
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(c, up); c.Close() }()
			go func() {
				defer wg.Done()
				defer up.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if armed.Load() {
						c.(*net.TCPConn).SetLinger(0)
						c.Close() // RST
						return
					}
					if _, err := up.Write(buf[:n]); err != nil {
						return
					}
				}
			}()
		}
	}()
	u.Host = ln.Addr().String()
	sdb, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sdb.Close() })
	sdb.SetMaxOpenConns(1)
	ctx := context.Background()
	if err := sdb.PingContext(ctx); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL through the proxy: %v", err)
		}
		t.Skipf("PostgreSQL unreachable: %v", err)
	}
	armed.Store(true)
	_, err = sdb.BeginTx(ctx, nil)
	if err == nil {
		t.Fatal("BEGIN passed over a reset connection")
	}
	if !db.IsUnavailable(err) {
		t.Fatalf("IsUnavailable(%v) = false, want true", err)
	}
}
