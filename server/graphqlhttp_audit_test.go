package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"concierge/apitest"
	"concierge/dbtest"
)

// auditDir holds the GraphQL-over-HTTP audit: graphql-http's auditServer,
// pinned by its lockfile.
var auditDir = filepath.Join("testdata", "graphql-http-audit")

// needTool returns the path of a command the test needs: without it the
// test is skipped locally and fails under CI, where it must run.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is needed for this test under CI: %v", name, err)
		}
		t.Skipf("%s not found: install Node 20 (with npm) to run the GraphQL-over-HTTP audit", name)
	}
	return p
}

// auditDeps installs the audit's npm packages from its lockfile when they
// are missing or older than it.
func auditDeps(t *testing.T) {
	t.Helper()
	lock, err := os.Stat(filepath.Join(auditDir, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	if inst, err := os.Stat(filepath.Join(auditDir, "node_modules", ".package-lock.json")); err == nil && !inst.ModTime().Before(lock.ModTime()) {
		return
	}
	npm := needTool(t, "npm")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = auditDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", auditDir, err, out)
	}
}

// The GraphQL endpoint passes graphql-http's GraphQL-over-HTTP audit with
// no error and no warning: among others, a request that does not parse,
// validate or whose variables do not coerce is answered 200 with errors
// under application/json, and 400 with errors and no data under
// application/graphql-response+json.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	t.Parallel()
	node := needTool(t, "node")
	auditDeps(t)
	e := apitest.New(t, dbtest.Open(t, "sqlite3"))

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "audit.mjs", e.URL)
	cmd.Dir = auditDir
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("the GraphQL-over-HTTP audit failed (%v): see the WARN and ERROR lines above", err)
	}
}
