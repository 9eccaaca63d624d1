package weaviate_test

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The server the tests use: WEAVIATE_URL (and optionally WEAVIATE_GRPC)
// when set, otherwise a private one started from the cached binary.
var (
	serverURL  string
	serverGRPC string
	skipReason string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if u := os.Getenv("WEAVIATE_URL"); u != "" {
		serverURL, serverGRPC = u, os.Getenv("WEAVIATE_GRPC")
		return m.Run()
	}
	cache := os.Getenv("CONCIERGE_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "concierge")
	}
	bin := filepath.Join(cache, "bin", "weaviate-server")
	if _, err := os.Stat(bin); err != nil {
		msg := fmt.Sprintf("no Weaviate: WEAVIATE_URL is not set and %s is missing (run scripts/weaviate.sh install)", bin)
		if os.Getenv("CI") != "" {
			fmt.Fprintln(os.Stderr, "FAIL:", msg)
			return 1
		}
		skipReason = msg
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "weaviate-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Consecutive ports, as scripts/weaviate.sh lays them out: Weaviate's
	// single-node Raft bootstrap fails with unrelated random ports.
	ports, err := freeRange(6)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env := append(os.Environ(),
		"CONCIERGE_CACHE="+cache,
		"WEAVIATE_PORT="+strconv.Itoa(ports[0]),
		"WEAVIATE_GRPC_PORT="+strconv.Itoa(ports[1]),
		"WEAVIATE_GOSSIP_PORT="+strconv.Itoa(ports[2]),
		"WEAVIATE_DATA_PORT="+strconv.Itoa(ports[3]),
		"WEAVIATE_RAFT_PORT="+strconv.Itoa(ports[4]),
		"WEAVIATE_RAFT_RPC_PORT="+strconv.Itoa(ports[5]),
		"WEAVIATE_RUN_DIR="+dir,
		"WEAVIATE_DATA_DIR="+filepath.Join(dir, "data"),
	)
	script := filepath.Join("..", "..", "scripts", "weaviate.sh")
	script, _ = filepath.Abs(script)
	sh := func(ctx context.Context, arg string) (string, error) {
		cmd := exec.CommandContext(ctx, script, arg)
		cmd.Env = env
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		return strings.TrimSpace(string(out)), err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	url, err := sh(ctx, "start")
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := sh(ctx, "stop"); err != nil {
			fmt.Fprintln(os.Stderr, "stopping weaviate:", err)
		}
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: starting weaviate:", err)
		if b, err := os.ReadFile(filepath.Join(dir, "weaviate.log")); err == nil {
			os.Stderr.Write(b)
		}
		return 1
	}
	serverURL, serverGRPC = url, "127.0.0.1:"+strconv.Itoa(ports[1])
	return m.Run()
}

// freePorts returns n distinct ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func need(tb testing.TB) {
	tb.Helper()
	if skipReason != "" {
		tb.Skip(skipReason)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// listenSilently accepts connections and never answers; it returns the
// address.
func listenSilently(t *testing.T) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String(), nil
}

// freeRange returns n consecutive ports that were free a moment ago.
func freeRange(n int) ([]int, error) {
	for range 100 {
		base := 20000 + mrand.IntN(40000)
		var ls []net.Listener
		ok := true
		for p := base; p < base+n; p++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			ports := make([]int, n)
			for i := range ports {
				ports[i] = base + i
			}
			return ports, nil
		}
	}
	return nil, fmt.Errorf("no %d consecutive free ports", n)
}
