package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/auth"
	"concierge/dbtest"
)

// The deployment guide's backup and restore, as an operator runs them:
// a production-mode `concierge serve` gets a company with knowledge, a
// logo and a conversation (visitor, assistant and agent messages) through
// the API; scripts/backup.sh backs it up while it runs; the database and
// the data directory are wiped; scripts/restore.sh puts them back; a new
// server answers with all of it, to the same credentials.
func TestBackupAndRestore(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"postgres", "sqlite"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			need(t, "sqlite3", "tar")
			dbURL, wipeDB := "", func() {}
			if mode == "postgres" {
				need(t, "pg_dump", "pg_restore")
				dbURL, wipeDB = scratchDatabase(t)
			}
			data := filepath.Join(t.TempDir(), "data")
			stop, base := startProduction(t, dbURL, data)

			// A company, its knowledge and its logo.
			reg := gqlAt(t, base, "", `mutation($in: RegisterCompanyInput!) { registerCompany(input: $in) { token company { id widgetKey } } }`,
				map[string]any{"in": map[string]any{"name": "Backed Up Ltd", "email": "hello@backedup.example",
					"adminFullName": "Bea Admin", "adminEmail": "bea@backedup.example", "adminPassword": "a long password"}})["registerCompany"].(map[string]any)
			admin, key := reg["token"].(string), reg["company"].(map[string]any)["widgetKey"].(string)
			gqlAt(t, base, admin, `mutation($in: AddTextInput!) { addText(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"title": "Opening hours", "content": "Our shop opens at nine in the morning and closes at six in the evening, Monday to Saturday."}})
			require.Eventually(t, func() bool {
				return strings.Contains(jsonOf(gqlAt(t, base, admin, `{ resources { edges { node { status } } } }`, nil)), `"COMPLETED"`)
			}, 60*time.Second, 100*time.Millisecond, "the text is indexed")
			logo := pngBytes(t)
			logoURL := uploadLogo(t, base, admin, logo)

			// A conversation: the visitor asks, the assistant answers, an
			// agent takes over and replies.
			s := gqlAt(t, base, "", `mutation($k: String!) { startConversation(input: {companyKey: $k, name: "Vic"}) { token conversation { id } } }`,
				map[string]any{"k": key})["startConversation"].(map[string]any)
			visitor, conv := s["token"].(string), s["conversation"].(map[string]any)["id"].(string)
			send := `mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }`
			gqlAt(t, base, visitor, send, map[string]any{"c": conv, "b": "When does the shop open?"})
			const messages = `query($c: ID!) { conversation(id: $c) { status visitor { name } messages { edges { node { seq senderType body } } } } }`
			require.Eventually(t, func() bool {
				return strings.Contains(jsonOf(gqlAt(t, base, admin, messages, map[string]any{"c": conv})), `"senderType":"BOT"`)
			}, 60*time.Second, 100*time.Millisecond, "the assistant answers")
			gqlAt(t, base, admin, `mutation($c: ID!) { takeOverConversation(id: $c) { status } }`, map[string]any{"c": conv})
			gqlAt(t, base, admin, send, map[string]any{"c": conv, "b": "Hello Vic, we open at nine."})

			const company = `{ company { name widgetKey logoURL } resources { edges { node { title type status chunkCount } } } conversations { totalCount } }`
			wantCompany := jsonOf(gqlAt(t, base, admin, company, nil))
			wantConv := jsonOf(gqlAt(t, base, admin, messages, map[string]any{"c": conv}))
			for _, s := range []string{`"VISITOR"`, `"BOT"`, `"AGENT"`, `Hello Vic`} {
				require.Contains(t, wantConv, s)
			}

			// Backed up while the server runs, then the database is wiped.
			backup := filepath.Join(t.TempDir(), "backup")
			runScript(t, "backup.sh", dbURL, data, backup)
			stop()
			wipeDB()
			stray := filepath.Join(data, "files", "uploaded-after-the-backup.pdf")
			if mode == "sqlite" {
				require.NoError(t, os.RemoveAll(data)) // the data directory too
			} else {
				// Restored over the old installation, whose file store
				// holds a file the backup has not, and is a volume of its
				// own (compose.yaml) where root can make it one.
				require.NoError(t, os.WriteFile(stray, []byte("%PDF-1.4"), 0o600))
				mountPoint(t, filepath.Join(data, "files"))
			}

			runScript(t, "restore.sh", dbURL, data, backup)
			_, base = startProduction(t, dbURL, data)
			admin = gqlAt(t, base, "", `mutation { login(email: "bea@backedup.example", password: "a long password") { token } }`, nil)["login"].(map[string]any)["token"].(string)
			require.Equal(t, wantCompany, jsonOf(gqlAt(t, base, admin, company, nil)))
			require.Equal(t, wantConv, jsonOf(gqlAt(t, base, admin, messages, map[string]any{"c": conv})))
			require.Equal(t, wantConv, jsonOf(gqlAt(t, base, visitor, messages, map[string]any{"c": conv})), "the visitor's token still works")
			hits := jsonOf(gqlAt(t, base, admin, `{ testQuestion(question: "When does the shop open?") { passages { relevant title } } }`, nil))
			require.Contains(t, hits, `{"relevant":true,"title":"Opening hours"}`, "the knowledge index is back")
			res, err := http.Get(base + logoURL)
			require.NoError(t, err)
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			require.Equal(t, http.StatusOK, res.StatusCode)
			require.Equal(t, logo, got, "the uploaded logo is back")
			require.NoFileExists(t, stray, "the file store is the backup's")
		})
	}
}

// mountPoint bind-mounts dir onto itself, so that it cannot be removed,
// only emptied, like a volume mounted in a container; as root with mount
// only (CI), and left a plain directory otherwise.
func mountPoint(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		return
	}
	if _, err := exec.LookPath("mount"); err != nil {
		return
	}
	if out, err := exec.Command("mount", "--bind", dir, dir).CombinedOutput(); err != nil {
		t.Logf("bind mount not possible here (%v: %s); the file store stays a plain directory", err, out)
		return
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
}

// need skips the test (fails it in CI) without the tools.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required in CI: %v", tool, err)
			}
			t.Skipf("%s not found: %v", tool, err)
		}
	}
}

// scratchDatabase creates a database of its own on the test server (a
// schema would not do: pg_dump and pg_restore work on databases) and
// returns its URL and a function that drops and recreates it empty.
func scratchDatabase(t *testing.T) (string, func()) {
	t.Helper()
	dbtest.URL(t, "postgres") // skips, or fails in CI, without a server
	admin, err := sql.Open("postgres", dbtest.PostgresURL())
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	name := "concierge_backup_" + strings.ToLower(auth.RandomHex(6))
	ctx := context.Background()
	create := func() {
		_, err := admin.ExecContext(ctx, `CREATE DATABASE "`+name+`"`)
		require.NoError(t, err)
	}
	drop := func() {
		_, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`)
		require.NoError(t, err)
	}
	create()
	t.Cleanup(drop)
	u, err := url.Parse(dbtest.PostgresURL())
	require.NoError(t, err)
	u.Path = "/" + name
	return u.String(), func() { drop(); create() }
}

// startProduction runs `concierge serve --env production` on dbURL (empty:
// SQLite in data) with the embedded index, until it is ready.
func startProduction(t *testing.T, dbURL, data string) (stop func(), base string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "serve", "--env", "production", "--data", data, "--addr", addr)
	cmd.Env = append(os.Environ(), childEnv+"=run", "DATABASE_URL="+dbURL,
		"JWT_SECRET="+replicaSecret, "ENCRYPTION_KEY="+replicaKey, "SUPERADMIN_USERNAME=", "SUPERADMIN_PASSWORD=",
		"WEAVIATE_URL=", "EMBEDDING_PROVIDER=local", "LLM_PROVIDER=offline")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	done := false
	stop = func() {
		if done {
			return
		}
		done = true
		_ = cmd.Process.Signal(os.Interrupt)
		exited := make(chan struct{})
		go func() { _, _ = cmd.Process.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(stop)
	base = "http://" + addr
	waitReady(t, base, 90*time.Second)
	return stop, base
}

// runScript runs scripts/<name> dir with the binary's settings.
func runScript(t *testing.T, name, dbURL, data, dir string) {
	t.Helper()
	cmd := exec.Command(filepath.Join("..", "..", "scripts", name), dir)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "CONCIERGE_DATA_DIR="+data)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s: %s", name, out)
	t.Logf("%s: %s", name, out)
}

// uploadLogo sets the company's logo by a GraphQL multipart request and
// returns its URL.
func uploadLogo(t *testing.T, base, token string, logo []byte) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	require.NoError(t, mw.WriteField("operations", `{"query":"mutation($f: Upload!) { updateCompany(input: {logo: $f}) { logoURL } }","variables":{"f":null}}`))
	require.NoError(t, mw.WriteField("map", `{"0":["variables.f"]}`))
	w, err := mw.CreateFormFile("0", "logo.png")
	require.NoError(t, err)
	_, _ = w.Write(logo)
	require.NoError(t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out struct {
		Data struct {
			UpdateCompany struct{ LogoURL string } `json:"updateCompany"`
		}
		Errors []any
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	require.Empty(t, out.Errors)
	require.NotEmpty(t, out.Data.UpdateCompany.LogoURL)
	return out.Data.UpdateCompany.LogoURL
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for i := range 16 {
		img.Set(i%4, i/4, color.RGBA{R: 200, G: uint8(i * 10), B: 40, A: 255})
	}
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, img))
	return buf.Bytes()
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
