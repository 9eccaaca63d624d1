package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/db"
	"concierge/ent/privacy"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func TestMigrateAndSuperadminCreate(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	require.NoError(t, run(ctx, []string{"migrate", "--data", dir}))
	require.NoError(t, run(ctx, []string{"migrate", "--data", dir, "--status"}))
	require.NoError(t, run(ctx, []string{"superadmin", "create", "--data", dir, "--username", "root", "--password", "a long password"}))
	err := run(ctx, []string{"superadmin", "create", "--data", dir, "--username", "root", "--password", "a long password"})
	require.ErrorContains(t, err, "exists")
	require.Error(t, run(ctx, []string{"superadmin", "create", "--data", dir, "--username", "x", "--password", "short"}))
	require.Error(t, run(ctx, []string{"nonsense"}))
	require.Error(t, run(ctx, []string{"serve", "--env", "staging", "--data", dir}))

	d, err := db.Open(ctx, "", dir)
	require.NoError(t, err)
	defer d.Close()
	n, err := d.Client.SuperAdmin.Query().Count(privacy.DecisionContext(ctx, privacy.Allow))
	require.NoError(t, err)
	require.Equal(t, 1, n)
}

func TestProductionNeedsJWTSecret(t *testing.T) {
	t.Setenv("JWT_SECRET", "")
	err := run(context.Background(), []string{"serve", "--env", "production", "--data", t.TempDir(), "--addr", freeAddr(t)})
	require.ErrorContains(t, err, "JWT_SECRET")
}

// TestServeFirstStart runs the README's command as a new user would: the
// first start creates the demo platform and prints working credentials; a
// second start on the same data keeps it and creates nothing new.
func TestServeFirstStart(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{"DATABASE_URL", "JWT_SECRET", "SUPERADMIN_USERNAME", "SUPERADMIN_PASSWORD", "CONCIERGE_ENV"} {
		t.Setenv(k, "")
	}
	start := func() (stop func()) {
		addr := freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"serve", "--data", dir, "--addr", addr}) }()
		base := "http://" + addr
		waitReady(t, base, 20*time.Second)
		t.Setenv("TEST_BASE", base)
		return func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err)
			case <-time.After(20 * time.Second):
				t.Fatal("serve did not shut down")
			}
		}
	}
	stop := start()
	creds, err := os.ReadFile(filepath.Join(dir, credentialsFile))
	require.NoError(t, err)
	info, err := os.Stat(filepath.Join(dir, credentialsFile))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	m := regexp.MustCompile(`company admin: (\S+) / (\S+)`).FindSubmatch(creds)
	require.NotNil(t, m, "credentials file: %s", creds)
	sm := regexp.MustCompile(`Super admin:\s+(\S+) / (\S+)`).FindSubmatch(creds)
	require.NotNil(t, sm)

	gql := func(query string, vars map[string]any) map[string]any {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
		res, err := http.Post(os.Getenv("TEST_BASE")+"/graphql", "application/json", bytes.NewReader(body))
		require.NoError(t, err)
		defer res.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
		require.Nil(t, out["errors"], "%v", out)
		return out["data"].(map[string]any)
	}
	data := gql(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { company { slug } } }`,
		map[string]any{"e": string(m[1]), "p": string(m[2])})
	require.Equal(t, "acme", data["login"].(map[string]any)["company"].(map[string]any)["slug"])
	data = gql(`mutation($u: String!, $p: String!) { superAdminLogin(username: $u, password: $p) { token } }`,
		map[string]any{"u": string(sm[1]), "p": string(sm[2])})
	require.NotEmpty(t, data["superAdminLogin"].(map[string]any)["token"])
	stop()

	stop = start()
	data = gql(`mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": string(m[1]), "p": string(m[2])})
	require.NotEmpty(t, data["login"].(map[string]any)["token"], "the demo survives a restart")
	stop()

	d, err := db.Open(context.Background(), "", dir)
	require.NoError(t, err)
	defer d.Close()
	n, err := d.Client.Company.Query().Count(privacy.DecisionContext(context.Background(), privacy.Allow))
	require.NoError(t, err)
	require.Equal(t, 1, n, "second start must not create another demo company")
}

// waitReady waits until the server at base answers /readyz.
func waitReady(t *testing.T, base string, within time.Duration) {
	t.Helper()
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, within, 50*time.Millisecond, "the server at %s did not become ready", base)
}

// A setting that does not read as its type stops the start with a message
// naming it, rather than silently becoming its default; valid ones are
// taken.
func TestMistypedSettingsAreRefused(t *testing.T) {
	for name, value := range map[string]string{
		"REPLY_TIMEOUT":         "2 minutes",
		"INGEST_JOB_TIMEOUT":    "-1m",
		"INGEST_RESCUE_AFTER":   "15",
		"LLM_TIMEOUT":           "soon",
		"INGEST_WORKERS":        "two",
		"EMBEDDING_DIMENSION":   "0",
		"RETRIEVAL_THRESHOLD":   "40%",
		"CONCIERGE_TRUST_PROXY": "maybe",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			_, _, err := parseConfig("serve", nil)
			require.ErrorContains(t, err, name)
			require.ErrorContains(t, err, value)
		})
	}
	t.Setenv("REPLY_TIMEOUT", "90s")
	t.Setenv("INGEST_WORKERS", "3")
	t.Setenv("RETRIEVAL_THRESHOLD", "0.35")
	c, _, err := parseConfig("serve", nil)
	require.NoError(t, err)
	require.Equal(t, 90*time.Second, c.Chat.ReplyTimeout)
	require.Equal(t, 3, c.Ingest.Workers)
	require.Equal(t, 0.35, c.Retrieval.Threshold)
}
