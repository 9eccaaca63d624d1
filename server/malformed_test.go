package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/dbtest"
)

// lockedBuffer is a log destination several goroutines write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A request body that is not a GraphQL request in JSON (broken JSON,
// variables or extensions that are no objects) is answered 400 with
// BAD_REQUEST and what is wrong, never INTERNAL_SERVER_ERROR, and the body
// (a password in it) is in no answer and no log line. Not parallel: it
// takes over the default logger.
func TestMalformedRequestBodyIsNotLogged(t *testing.T) {
	logs := &lockedBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	e := apitest.New(t, dbtest.Open(t, "sqlite3"))
	const secret = "hunter2-Secret-Pw"
	login := `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`
	for _, c := range []struct{ name, body, want string }{
		{"cut short", `{"query": "mutation { login(email: \"a@b.c\", password: \"` + secret + `\") { token } }"`, "must be a JSON object"},
		{"not JSON", `query=mutation{login(password:"` + secret + `")}`, "must be a JSON object"},
		{"variables a string", `{"query": ` + quote(login) + `, "variables": "` + secret + `"}`, "variables must be a JSON object"},
		{"variables an array", `{"query": ` + quote(login) + `, "variables": ["a@b.c", "` + secret + `"]}`, "variables must be a JSON object"},
		{"extensions a string", `{"query": ` + quote(login) + `, "variables": {"e": "a@b.c", "p": "` + secret + `"}, "extensions": "x"}`, "extensions must be a JSON object"},
		{"query a number", `{"query": 1, "variables": {"p": "` + secret + `"}}`, "must be strings"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, e.URL, strings.NewReader(c.body))
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			res, err := e.Server.Client().Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			require.Equal(t, http.StatusBadRequest, res.StatusCode, "%s", body)
			var out struct {
				Errors []struct {
					Message    string         `json:"message"`
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			require.NoError(t, json.Unmarshal(body, &out), "%s", body)
			require.Len(t, out.Errors, 1)
			require.Equal(t, "BAD_REQUEST", out.Errors[0].Extensions["code"])
			require.Contains(t, out.Errors[0].Message, c.want)
			require.NotContains(t, string(body), secret)
		})
	}
	require.NotContains(t, logs.String(), secret, "no log line quotes the body")
	require.NotContains(t, logs.String(), `"level":"ERROR"`)
	require.Contains(t, logs.String(), "malformed request", "the refusal itself is logged")
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
