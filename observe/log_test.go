package observe_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/observe"
	"concierge/viewer"
)

func TestRequestID(t *testing.T) {
	var seen string
	h := observe.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = observe.RequestIDFrom(r.Context())
	}))
	serve := func(id string) (header string) {
		req := httptest.NewRequest(http.MethodGet, "/graphql", nil)
		if id != "" {
			req.Header.Set(observe.RequestIDHeader, id)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Header().Get(observe.RequestIDHeader)
	}

	// A sane id from the caller is kept.
	for _, id := range []string{"abc-123", "req_1.2", strings.Repeat("a", 64), "0"} {
		require.Equal(t, id, serve(id))
		require.Equal(t, id, seen)
	}
	// Anything else is replaced by a fresh one.
	ids := map[string]bool{}
	for _, id := range []string{"", strings.Repeat("a", 65), "a b", "a\nlevel=ERROR", "é", "<script>", "a/b", "id=1;x"} {
		got := serve(id)
		require.NotEqual(t, id, got)
		require.True(t, observe.ValidRequestID(got), got)
		require.Equal(t, got, seen, "the context has the response's id")
		require.False(t, ids[got], "ids are unique")
		ids[got] = true
	}
}

func decodeLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		out = append(out, m)
	}
	return out
}

func TestLogHandlerAddsRequestAndViewer(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(observe.NewLogHandler(slog.NewJSONHandler(&buf, nil)))
	company := uuid.New()
	ctx := observe.WithRequestID(context.Background(), "req-1")
	ctx = viewer.NewContext(ctx, &viewer.Viewer{Kind: viewer.KindUser, ID: uuid.New(), CompanyID: company, Role: viewer.RoleAgent, Session: uuid.New()})

	log.InfoContext(ctx, "hello", slog.Int("n", 1))
	log.Info("no context")
	log.With(slog.String("component", "x")).WarnContext(observe.WithRequestID(context.Background(), "req-2"), "anonymous")
	log.InfoContext(viewer.SystemContext(context.Background(), company), "worker")

	lines := decodeLines(t, &buf)
	require.Len(t, lines, 4)
	require.Equal(t, "req-1", lines[0]["request_id"])
	require.Equal(t, "user", lines[0]["viewer"])
	require.Equal(t, company.String(), lines[0]["company_id"])
	require.EqualValues(t, 1, lines[0]["n"])
	require.Len(t, lines[0], 7, "time, level, msg, request_id, viewer, company_id, n: no viewer id, role or session: %v", lines[0])

	require.NotContains(t, lines[1], "request_id")
	require.NotContains(t, lines[1], "viewer")

	require.Equal(t, "req-2", lines[2]["request_id"])
	require.Equal(t, "x", lines[2]["component"])
	require.NotContains(t, lines[2], "viewer")

	require.Equal(t, "system", lines[3]["viewer"])
	require.Equal(t, company.String(), lines[3]["company_id"])
	require.NotContains(t, lines[3], "request_id")

	// Levels are the inner handler's.
	buf.Reset()
	quiet := slog.New(observe.NewLogHandler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	quiet.InfoContext(ctx, "dropped")
	require.Empty(t, buf.String())
}

// TestNoSecretsInLogs logs requests carrying credentials through the
// handler chain (request id, a middleware authenticating like the server's,
// code logging carelessly) and checks that no credential reaches the
// output, in either format.
func TestNoSecretsInLogs(t *testing.T) {
	const (
		jwt    = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJjb21wYW55IjoiYWNtZSJ9.c2lnbmF0dXJlLXNlY3JldC12YWx1ZQ"
		apiKey = "ck_0123456789ab_S3cr3tP4rtOfTheK3yXXXXXXXXXXXXXXXXXXXXXXXXXXX"
		rt     = "rt_R3fr3shT0k3nS3cr3tV4lu3XXXXXXXXXXXXXXXXX"
		pass   = "hunter2-correct-horse"
	)
	secrets := []string{jwt, apiKey, rt, pass,
		"c2lnbmF0dXJlLXNlY3JldC12YWx1ZQ", "S3cr3tP4rtOfTheK3y", "R3fr3shT0k3nS3cr3tV4lu3"}

	for name, mk := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			log := slog.New(observe.NewLogHandler(mk(&buf)))
			app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				log.InfoContext(ctx, "request", slog.Any("request", r), slog.Any("headers", r.Header),
					slog.Any("url", r.URL))
				log.WarnContext(ctx, "authenticating", slog.String("authorization", r.Header.Get("Authorization")),
					slog.String("X-Api-Key", r.Header.Get("X-Api-Key")),
					slog.Any("err", fmt.Errorf("invalid credential %q", r.Header.Get("X-Api-Key"))))
				log.ErrorContext(ctx, "login failed for "+r.Header.Get("Authorization"),
					slog.Group("input", slog.String("email", "a@example.com"), slog.String("password", pass)),
					slog.Any("variables", map[string]any{"token": rt, "refreshToken": rt, "note": "key " + apiKey}),
					slog.String("raw", "Authorization: Bearer "+jwt))
				log.With(slog.String("api_key", apiKey)).InfoContext(ctx, "with attrs")
				w.WriteHeader(http.StatusNoContent)
			})
			// Like the server's authenticate: the viewer in the context.
			withViewer := func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					v := &viewer.Viewer{Kind: viewer.KindAPIKey, ID: uuid.New(), CompanyID: uuid.New(), Scopes: viewer.AllScopes}
					next.ServeHTTP(w, r.WithContext(viewer.NewContext(r.Context(), v)))
				})
			}
			h := observe.RequestID(withViewer(app))

			req := httptest.NewRequest(http.MethodPost, "/graphql?token="+url.QueryEscape(rt)+"&q=1", strings.NewReader(`{}`))
			req.Header.Set("Authorization", "Bearer "+jwt)
			req.Header.Set("X-Api-Key", apiKey)
			req.Header.Set("Cookie", "session="+rt)
			req.Header.Set(observe.RequestIDHeader, "req-secret-test")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			require.Equal(t, http.StatusNoContent, rec.Code)

			out := buf.String()
			for _, s := range secrets {
				require.NotContains(t, out, s, "a credential was logged:\n%s", out)
			}
			require.Contains(t, out, "req-secret-test", "the records carry the request id")
			require.Contains(t, out, "api_key", "the viewer kind is logged")
			require.Contains(t, out, "[REDACTED]")
			require.Contains(t, out, "/graphql", "the request's path is logged")
			require.Contains(t, out, "a@example.com", "other values are untouched")
		})
	}
}
