package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/assistant"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/ent/message"
	"concierge/ent/privacy"
	"concierge/ent/resource"
	"concierge/ingest"
	"concierge/ingest/chunk"
)

// childEnv makes the test binary run `concierge` itself (TestMain): the
// crash test starts it as a child process and kills it.
const childEnv = "CONCIERGE_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "block":
		// Every extraction hangs until the process is killed.
		testExtractors = map[resource.Type]ingest.Extractor{resource.TypeTEXT: ingest.ExtractorFunc(
			func(ctx context.Context, _ *ent.Resource, _ ingest.Progress) (chunk.Document, error) {
				<-ctx.Done()
				return chunk.Document{}, ctx.Err()
			})}
	case "blockreply":
		// Every reply hangs in the model, once it has said so, until the
		// process is killed.
		testLLM = blockingLLM{marker: filepath.Join(dataDirArg(os.Args), "reply-started")}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		os.Stderr.WriteString("concierge: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(0)
}

// startChild runs `concierge serve` in a child process until it answers.
func startChild(t *testing.T, mode, dbURL, dir string) (*exec.Cmd, string) {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(os.Args[0], "serve", "--data", dir, "--addr", addr)
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "DATABASE_URL="+dbURL, "CONCIERGE_ENV=development",
		"JWT_SECRET=", "SUPERADMIN_USERNAME=", "SUPERADMIN_PASSWORD=",
		"INGEST_JOB_TIMEOUT=2s", "INGEST_RESCUE_AFTER=3s", "REPLY_TIMEOUT=2s")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	base := "http://" + addr
	waitReady(t, base, 60*time.Second)
	return cmd, base
}

func gqlAt(t *testing.T, base, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
	require.Nil(t, out["errors"], "%v", out)
	return out["data"].(map[string]any)
}

// A server killed with SIGKILL in the middle of an ingestion job: after a
// restart, River rescues the job and the resource completes; none stays
// PROCESSING.
func TestCrashMidJobCompletesAfterRestart(t *testing.T) {
	t.Parallel()
	for _, dl := range dbtest.Dialects {
		t.Run(dl, func(t *testing.T) {
			t.Parallel()
			dbURL, dir := dbtest.URL(t, dl), t.TempDir()
			child, base := startChild(t, "block", dbURL, dir)

			creds, err := os.ReadFile(filepath.Join(dir, credentialsFile))
			require.NoError(t, err)
			m := regexp.MustCompile(`company admin: (\S+) / (\S+)`).FindSubmatch(creds)
			require.NotNil(t, m, "credentials: %s", creds)
			login := `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`
			token := gqlAt(t, base, "", login, map[string]any{"e": string(m[1]), "p": string(m[2])})["login"].(map[string]any)["token"].(string)
			data := gqlAt(t, base, token, `mutation($in: AddTextInput!) { addText(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"title": "Survives a crash", "content": "Opening hours are nine to five on weekdays."}})
			id := uuid.MustParse(data["addText"].(map[string]any)["id"].(string))
			status := func(base string) string {
				q := `query($id: ID!) { resource(id: $id) { status } }`
				return gqlAt(t, base, token, q, map[string]any{"id": id.String()})["resource"].(map[string]any)["status"].(string)
			}
			require.Eventually(t, func() bool { return status(base) == "PROCESSING" }, 30*time.Second, 20*time.Millisecond)

			require.NoError(t, child.Process.Signal(syscall.SIGKILL))
			_, _ = child.Process.Wait()

			d, err := db.Open(context.Background(), dbURL, dir)
			require.NoError(t, err)
			defer d.Close()
			sys := privacy.DecisionContext(context.Background(), privacy.Allow)
			r, err := d.Client.Resource.Get(sys, id)
			require.NoError(t, err)
			require.Equal(t, resource.StatusPROCESSING, r.Status, "killed mid-job")

			start := time.Now()
			_, base = startChild(t, "run", dbURL, dir)
			require.Eventually(t, func() bool { return status(base) == "COMPLETED" }, 150*time.Second, 200*time.Millisecond,
				"the rescued job completes after the restart")
			t.Logf("%s: completed %s after the restart", dl, time.Since(start).Round(time.Second))
			// The demo company's starter knowledge was caught by the crash
			// too: it completes as well.
			require.Eventually(t, func() bool {
				n, err := d.Client.Resource.Query().Where(resource.StatusIn(resource.StatusPROCESSING, resource.StatusPENDING)).Count(sys)
				return err == nil && n == 0
			}, 150*time.Second, 200*time.Millisecond, "no resource stays PROCESSING")
			r, err = d.Client.Resource.Get(sys, id)
			require.NoError(t, err)
			require.Positive(t, r.ChunkCount)
		})
	}
}

// blockingLLM writes marker, then hangs until its context ends.
type blockingLLM struct{ marker string }

func (blockingLLM) Name() string { return "blocking" }

func (b blockingLLM) Generate(ctx context.Context, _ assistant.Prompt, _ func(string) error) (assistant.Generation, error) {
	_ = os.WriteFile(b.marker, nil, 0o600)
	<-ctx.Done()
	return assistant.Generation{}, ctx.Err()
}

// dataDirArg is the --data argument of a child's command line.
func dataDirArg(args []string) string {
	for i, a := range args {
		if a == "--data" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return "."
}

// A server killed with SIGKILL while the assistant writes a reply: after
// a restart, River rescues the reply job and the visitor's message is
// answered, once.
func TestCrashMidReplyIsAnsweredAfterRestart(t *testing.T) {
	t.Parallel()
	for _, dl := range dbtest.Dialects {
		t.Run(dl, func(t *testing.T) {
			t.Parallel()
			dbURL, dir := dbtest.URL(t, dl), t.TempDir()
			child, base := startChild(t, "blockreply", dbURL, dir)

			creds, err := os.ReadFile(filepath.Join(dir, credentialsFile))
			require.NoError(t, err)
			m := regexp.MustCompile(`company admin: (\S+) / (\S+)`).FindSubmatch(creds)
			require.NotNil(t, m, "credentials: %s", creds)
			key := regexp.MustCompile(`widget key (\S+)\)`).FindSubmatch(creds)
			require.NotNil(t, key, "credentials: %s", creds)
			login := `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`
			token := gqlAt(t, base, "", login, map[string]any{"e": string(m[1]), "p": string(m[2])})["login"].(map[string]any)["token"].(string)
			// The demo knowledge is indexed: the question reaches the model.
			require.Eventually(t, func() bool {
				rs := gqlAt(t, base, token, `{ resources(first: 10) { edges { node { status } } } }`, nil)["resources"].(map[string]any)["edges"].([]any)
				for _, e := range rs {
					if e.(map[string]any)["node"].(map[string]any)["status"] != "COMPLETED" {
						return false
					}
				}
				return len(rs) > 0
			}, 60*time.Second, 50*time.Millisecond)
			start := `mutation($k: String!) { startConversation(input: {companyKey: $k}) { token conversation { id } } }`
			sess := gqlAt(t, base, "", start, map[string]any{"k": string(key[1])})["startConversation"].(map[string]any)
			vtoken := sess["token"].(string)
			conv := uuid.MustParse(sess["conversation"].(map[string]any)["id"].(string))
			send := `mutation($c: ID!) { sendMessage(conversationId: $c, body: "How long does standard delivery take in the European Union?") { id } }`
			q := uuid.MustParse(gqlAt(t, base, vtoken, send, map[string]any{"c": conv})["sendMessage"].(map[string]any)["id"].(string))
			marker := filepath.Join(dir, "reply-started")
			require.Eventually(t, func() bool { _, err := os.Stat(marker); return err == nil }, 30*time.Second, 10*time.Millisecond,
				"the reply never reached the model")
			started := time.Now()

			require.NoError(t, child.Process.Signal(syscall.SIGKILL))
			_, _ = child.Process.Wait()
			// The job has been running longer than REPLY_TIMEOUT plus
			// INGEST_RESCUE_AFTER (its rescue horizon) when
			// the next process looks at it.
			time.Sleep(time.Until(started.Add(5500 * time.Millisecond)))

			d, err := db.Open(context.Background(), dbURL, dir)
			require.NoError(t, err)
			defer d.Close()
			sys := privacy.DecisionContext(context.Background(), privacy.Allow)
			bots := func() []*ent.Message {
				ms, err := d.Client.Message.Query().Where(message.ConversationID(conv), message.SenderTypeEQ(message.SenderTypeBOT)).All(sys)
				require.NoError(t, err)
				return ms
			}
			require.Empty(t, bots(), "killed mid-reply")

			restart := time.Now()
			startChild(t, "run", dbURL, dir)
			require.Eventually(t, func() bool { return len(bots()) > 0 }, 150*time.Second, 100*time.Millisecond,
				"the rescued reply is written after the restart")
			t.Logf("%s: answered %s after the restart", dl, time.Since(restart).Round(time.Second))
			time.Sleep(time.Second) // a second answer, if one were (wrongly) written, would be stored by now
			replies := bots()
			require.Len(t, replies, 1)
			require.Equal(t, q, *replies[0].ReplyToID)
			cv, err := d.Client.Conversation.Get(sys, conv)
			require.NoError(t, err)
			require.Nil(t, cv.PendingMessageID)
		})
	}
}

// `concierge worker` migrates, runs the workers until stopped and exits
// cleanly.
func TestWorkerCommand(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"worker", "--data", dir}) }()
	require.Eventually(t, func() bool {
		_, err := os.Stat(filepath.Join(dir, db.SQLiteFileName))
		return err == nil
	}, 20*time.Second, 20*time.Millisecond)
	time.Sleep(500 * time.Millisecond) // let it reach the running state
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not stop")
	}
}
