package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/dbtest"
)

// Several processes on one PostgreSQL, as in production: `concierge serve`
// replicas and a `concierge worker`, sharing the secrets. Events cross
// processes through LISTEN/NOTIFY.

var (
	replicaSecret = strings.Repeat("s", 48)
	replicaKey    = base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32)))
)

// startProc runs the test binary as `concierge <args...>` on dbURL with its
// own data directory, until it answers /readyz (serve) or for a moment
// (worker). It returns the base URL of a server.
func startProc(t *testing.T, dbURL string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd, base := launchProc(t, dbURL, args...)
	if base == "" {
		time.Sleep(time.Second)
		return cmd, ""
	}
	waitReady(t, base, 90*time.Second)
	return cmd, base
}

// launchProc starts the process of startProc without waiting for it.
func launchProc(t *testing.T, dbURL string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	dir := t.TempDir()
	addr := ""
	if args[0] == "serve" {
		addr = freeAddr(t)
		args = append(args, "--addr", addr)
	}
	args = append(args, "--data", dir)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=run", "DATABASE_URL="+dbURL, "CONCIERGE_ENV=development",
		"JWT_SECRET="+replicaSecret, "ENCRYPTION_KEY="+replicaKey, "SUPERADMIN_USERNAME=", "SUPERADMIN_PASSWORD=",
		"CONCIERGE_DATA_DIR="+dir, "MESSAGE_RATE_VISITOR=100000", "MESSAGE_RATE_COMPANY=100000")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	if addr == "" {
		return cmd, ""
	}
	return cmd, "http://" + addr
}

// Replicas started at the same moment on an empty database take turns to
// migrate and bootstrap: all of them serve, and the demo company is
// created once (the race used to stop all but one with "this company or
// email is already registered").
func TestReplicasStartTogether(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t, "postgres")
	// Migrated beforehand, as a deployment does: the replicas reach the
	// bootstrap together rather than one after the other's migration.
	migrate, _ := launchProc(t, dbURL, "migrate")
	require.NoError(t, migrate.Wait())
	var cmds []*exec.Cmd
	var bases []string
	for range 3 {
		cmd, base := launchProc(t, dbURL, "serve")
		cmds, bases = append(cmds, cmd), append(bases, base)
	}
	for _, base := range bases {
		waitReady(t, base, 30*time.Second)
	}
	var withDemo []string
	for _, cmd := range cmds {
		dir := cmd.Args[len(cmd.Args)-1]
		if _, err := os.Stat(filepath.Join(dir, credentialsFile)); err == nil {
			withDemo = append(withDemo, dir)
		}
	}
	require.Len(t, withDemo, 1, "exactly one replica creates the demo data")
	admin := demoLogin(t, bases[0], withDemo[0], "company admin")
	require.Equal(t, "acme", gqlAt(t, bases[2], admin, `{ company { slug } }`, nil)["company"].(map[string]any)["slug"])
}

// demoLogin logs in a demo account created by the first replica.
func demoLogin(t *testing.T, base, dir, role string) string {
	t.Helper()
	creds, err := os.ReadFile(filepath.Join(dir, credentialsFile))
	require.NoError(t, err)
	m := regexp.MustCompile(role + `:\s+(\S+) / (\S+)`).FindSubmatch(creds)
	require.NotNil(t, m, "credentials: %s", creds)
	login := `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`
	return gqlAt(t, base, "", login, map[string]any{"e": string(m[1]), "p": string(m[2])})["login"].(map[string]any)["token"].(string)
}

// subscribeAt opens a graphql-transport-ws subscription on base.
func subscribeAt(t *testing.T, base, token, query string, vars map[string]any) *apitest.Subscription {
	t.Helper()
	e := &apitest.Env{T: t, URL: base + "/graphql"}
	sub, err := e.Subscribe(token, query, vars)
	require.NoError(t, err)
	return sub
}

// waitFor reads sub until ok holds for an event's data, failing after 20 s.
func waitFor(t *testing.T, sub *apitest.Subscription, what string, ok func(r *apitest.Response) bool) *apitest.Response {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r := sub.Next(time.Until(deadline))
		if r == nil {
			break
		}
		require.Empty(t, r.Errors, what)
		if ok(r) {
			return r
		}
	}
	t.Fatalf("no %s within 20 s", what)
	return nil
}

func TestReplicasAndWorkerShareEvents(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t, "postgres")
	first, baseA := startProc(t, dbURL, "serve")
	dirA := first.Args[len(first.Args)-1]
	_, baseB := startProc(t, dbURL, "serve")
	startProc(t, dbURL, "worker")

	admin := demoLogin(t, baseA, dirA, "company admin")
	agent := demoLogin(t, baseB, dirA, "agent") // tokens work on every replica
	key := gqlAt(t, baseA, admin, `{ company { widgetKey } }`, nil)["company"].(map[string]any)["widgetKey"].(string)

	// A visitor on replica A, the agent on replica B.
	s := gqlAt(t, baseA, "", `mutation($k: String!) { startConversation(input: {companyKey: $k}) { token conversation { id } } }`,
		map[string]any{"k": key})["startConversation"].(map[string]any)
	visitor, conv := s["token"].(string), s["conversation"].(map[string]any)["id"].(string)
	inbox := subscribeAt(t, baseB, agent, `subscription { inboxEvents { kind conversation { id status } message { body } } }`, nil)
	gqlAt(t, baseB, agent, `mutation($c: ID!) { takeOverConversation(id: $c) { status } }`, map[string]any{"c": conv})
	const events = `subscription($c: ID!) { conversationEvents(conversationId: $c) { kind typing { senderType typing } message { body senderType } } }`
	atA := subscribeAt(t, baseA, visitor, events, map[string]any{"c": conv})
	atB := subscribeAt(t, baseB, agent, events, map[string]any{"c": conv})
	// Both have replayed the agent's "joined" note: they are live.
	for _, sub := range []*apitest.Subscription{atA, atB} {
		waitFor(t, sub, "the replayed note", func(r *apitest.Response) bool { return r.Str("conversationEvents.message.senderType") == "SYSTEM" })
	}

	send := `mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }`
	gqlAt(t, baseA, visitor, send, map[string]any{"c": conv, "b": "hello from replica A"})
	waitFor(t, atB, "the visitor's message on B", func(r *apitest.Response) bool {
		return r.Str("conversationEvents.message.body") == "hello from replica A"
	})
	waitFor(t, inbox, "the visitor's message in B's inbox", func(r *apitest.Response) bool {
		return r.Str("inboxEvents.message.body") == "hello from replica A"
	})
	gqlAt(t, baseB, agent, `mutation($c: ID!) { setTyping(conversationId: $c, typing: true) }`, map[string]any{"c": conv})
	waitFor(t, atA, "the agent typing, on A", func(r *apitest.Response) bool {
		return r.Str("conversationEvents.kind") == "TYPING" && r.Str("conversationEvents.typing.senderType") == "AGENT"
	})
	gqlAt(t, baseB, agent, send, map[string]any{"c": conv, "b": "hello from replica B"})
	waitFor(t, atA, "the agent's message on A", func(r *apitest.Response) bool {
		return r.Str("conversationEvents.message.body") == "hello from replica B"
	})

	// A resource added on A, processed by any process's workers, followed on B.
	res := subscribeAt(t, baseB, admin, `subscription { resourceEvents { id status } }`, nil)
	id := gqlAt(t, baseA, admin, `mutation { addText(input: {title: "Hours", content: "We open at nine."}) { id } }`, nil)["addText"].(map[string]any)["id"].(string)
	waitFor(t, res, "the resource completing, seen on B", func(r *apitest.Response) bool {
		return r.Str("resourceEvents.id") == id && r.Str("resourceEvents.status") == "COMPLETED"
	})
}

// ownPostgres starts a PostgreSQL server of the machine's installation in a
// directory of the test, on its own port, so restarting it leaves other
// tests alone. It returns its URL and a restart function.
func ownPostgres(t *testing.T) (string, func()) {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin)")
		}
		t.Skip("PostgreSQL server binaries not found")
	}
	bin := filepath.Dir(bins[len(bins)-1])
	dir, err := os.MkdirTemp("", "concierge-pg-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	require.NoError(t, os.MkdirAll(sock, 0o777))
	// PostgreSQL refuses to run as root: run it as the postgres user then.
	as := func(name string, args ...string) *exec.Cmd {
		if os.Geteuid() == 0 {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--", filepath.Join(bin, name)}, args...)...)
		}
		return exec.Command(filepath.Join(bin, name), args...)
	}
	if os.Geteuid() == 0 {
		require.NoError(t, exec.Command("chown", "-R", "postgres", dir).Run())
		require.NoError(t, os.Chmod(dir, 0o755))
	}
	out, err := as("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8").CombinedOutput()
	require.NoError(t, err, "initdb: %s", out)
	port := strings.TrimPrefix(freeAddr(t), "127.0.0.1:")
	opts := fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, sock)
	start := func() {
		out, err := as("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "start").CombinedOutput()
		require.NoError(t, err, "pg_ctl start: %s", out)
	}
	stop := func() {
		out, err := as("pg_ctl", "-D", data, "-m", "fast", "-w", "stop").CombinedOutput()
		require.NoError(t, err, "pg_ctl stop: %s", out)
	}
	start()
	t.Cleanup(func() { _ = as("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").Run() })
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%s/postgres?sslmode=disable", port), func() { stop(); start() }
}

// PostgreSQL restarts while a visitor writes and an agent on another
// replica follows: every acknowledged message arrives once, in order.
func TestPostgresRestartLosesNothing(t *testing.T) {
	t.Parallel()
	dbURL, restart := ownPostgres(t)
	first, baseA := startProc(t, dbURL, "serve")
	dirA := first.Args[len(first.Args)-1]
	_, baseB := startProc(t, dbURL, "serve")
	agent := demoLogin(t, baseB, dirA, "agent")
	admin := demoLogin(t, baseA, dirA, "company admin")
	key := gqlAt(t, baseA, admin, `{ company { widgetKey } }`, nil)["company"].(map[string]any)["widgetKey"].(string)
	s := gqlAt(t, baseA, "", `mutation($k: String!) { startConversation(input: {companyKey: $k}) { token conversation { id } } }`,
		map[string]any{"k": key})["startConversation"].(map[string]any)
	visitor, conv := s["token"].(string), s["conversation"].(map[string]any)["id"].(string)
	gqlAt(t, baseB, agent, `mutation($c: ID!) { takeOverConversation(id: $c) { status } }`, map[string]any{"c": conv})

	// The agent follows on B, resubscribing with after if its stream ends.
	const events = `subscription($c: ID!, $after: ID) { conversationEvents(conversationId: $c, after: $after) { kind message { id seq body senderType } } }`
	var (
		mu       sync.Mutex
		received []string
		seqs     []float64
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		after := ""
		for ctx.Err() == nil {
			vars := map[string]any{"c": conv}
			if after != "" {
				vars["after"] = after
			}
			e := &apitest.Env{T: t, URL: baseB + "/graphql"}
			sub, err := e.Subscribe(agent, events, vars)
			if err != nil {
				time.Sleep(200 * time.Millisecond)
				continue
			}
			for ctx.Err() == nil {
				r := sub.Next(time.Second)
				if r == nil {
					if sub.Closed() {
						break // completed (a replay the restart failed): resubscribe
					}
					continue
				}
				if len(r.Errors) > 0 {
					break // ended: resubscribe
				}
				if r.Str("conversationEvents.kind") == "" {
					break
				}
				if r.Str("conversationEvents.message.senderType") != "VISITOR" {
					continue
				}
				mu.Lock()
				received = append(received, r.Str("conversationEvents.message.body"))
				seqs = append(seqs, r.Get("conversationEvents.message.seq").(float64))
				after = r.Str("conversationEvents.message.id")
				mu.Unlock()
			}
			sub.Close()
		}
	}()

	// The visitor sends 120 messages, retrying each (same clientMessageId)
	// until it is acknowledged; PostgreSQL restarts after the 40th.
	var acked []string
	for i := range 120 {
		body := fmt.Sprintf("message %03d", i)
		vars := map[string]any{"c": conv, "b": body, "k": fmt.Sprint("client-", i)}
		deadline := time.Now().Add(60 * time.Second)
		for {
			ok := tryGQL(baseA, visitor, `mutation($c: ID!, $b: String!, $k: String) { sendMessage(conversationId: $c, body: $b, clientMessageId: $k) { id } }`, vars)
			if ok {
				break
			}
			require.True(t, time.Now().Before(deadline), "message %d never acknowledged", i)
			time.Sleep(100 * time.Millisecond)
		}
		acked = append(acked, body)
		if i == 40 {
			restart()
		}
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(received) >= len(acked)
	}, 60*time.Second, 50*time.Millisecond, "every acknowledged message reaches the agent")
	time.Sleep(300 * time.Millisecond) // a duplicate, if one were (wrongly) sent, would have arrived
	cancel()
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, acked, received, "each once, in order")
	for i := 1; i < len(seqs); i++ {
		require.Greater(t, seqs[i], seqs[i-1])
	}
}

// tryGQL posts a request and reports whether it succeeded without errors.
func tryGQL(base, token, query string, vars map[string]any) bool {
	raw, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return false
	}
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(raw))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	c := &http.Client{Timeout: 10 * time.Second}
	res, err := c.Do(req)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	var out struct {
		Errors []any `json:"errors"`
		Data   any   `json:"data"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return false
	}
	return len(out.Errors) == 0 && out.Data != nil
}
