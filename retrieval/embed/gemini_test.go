package embed_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/provider/providertest"
	"concierge/retrieval"
	"concierge/retrieval/embed"
)

const geminiKey = "AIzaSy-test-secret-key-0123456789"

// newGemini returns an embedder on srv with fast retries.
func newGemini(t *testing.T, srv *providertest.Server, mod func(*embed.GeminiConfig)) *embed.Gemini {
	t.Helper()
	cfg := embed.GeminiConfig{
		APIKey:         geminiKey,
		BaseURL:        srv.URL,
		Dimension:      64,
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  5 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	g, err := embed.NewGemini(context.Background(), cfg)
	require.NoError(t, err)
	return g
}

func requireUnitClose(t *testing.T, want, got []float32) {
	t.Helper()
	require.Len(t, got, len(want))
	var norm float64
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-5, "component %d", i)
		norm += float64(got[i]) * float64(got[i])
	}
	require.InDelta(t, 1, math.Sqrt(norm), 1e-5)
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("passage %d about refunds, shipping and invoices #%d", i, i*7)
	}
	return out
}

func TestGeminiBatchingOrderAndTaskTypes(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{APIKey: geminiKey})
	g := newGemini(t, srv, nil)
	require.Equal(t, "gemini/gemini-embedding-001/64", g.Name())
	require.Equal(t, 64, g.Dimension())

	in := texts(250)
	vecs, err := g.Embed(context.Background(), in, retrieval.KindDocument)
	require.NoError(t, err)
	require.Len(t, vecs, 250)

	reqs := srv.Requests()
	require.Len(t, reqs, 3, "250 texts in batches of 100")
	var sent []string
	for i, r := range reqs {
		require.Equal(t, "/v1beta/models/gemini-embedding-001:batchEmbedContents", r.Path)
		require.Equal(t, "batchEmbedContents", r.Method)
		require.Equal(t, geminiKey, r.Key, "x-goog-api-key header")
		require.Equal(t, 200, r.Status)
		require.Len(t, r.Texts, []int{100, 100, 50}[i])
		for j := range r.Texts {
			require.Equal(t, "RETRIEVAL_DOCUMENT", r.TaskTypes[j])
			require.Equal(t, 64, r.Dimensions[j], "outputDimensionality")
		}
		sent = append(sent, r.Texts...)
	}
	require.Equal(t, in, sent, "texts sent in order")
	for i, text := range in {
		// The fake cuts its 3072-dimension vector; the client re-normalises.
		requireUnitClose(t, providertest.Normalized(providertest.Vector(text, 3072)[:64]), vecs[i])
	}

	q, err := g.Embed(context.Background(), []string{"where is my refund?"}, retrieval.KindQuery)
	require.NoError(t, err)
	require.Len(t, q, 1)
	reqs = srv.Requests()
	require.Len(t, reqs, 4)
	require.Equal(t, []string{"RETRIEVAL_QUERY"}, reqs[3].TaskTypes)
}

func TestGeminiConfig(t *testing.T) {
	ctx := context.Background()
	g, err := embed.NewGemini(ctx, embed.GeminiConfig{APIKey: "k"})
	require.NoError(t, err)
	require.Equal(t, "gemini/gemini-embedding-001/768", g.Name())
	require.Equal(t, 768, g.Dimension())

	g, err = embed.NewGemini(ctx, embed.GeminiConfig{APIKey: "k", Model: "models/text-embedding-004"})
	require.NoError(t, err)
	require.Equal(t, "gemini/text-embedding-004/768", g.Name())

	_, err = embed.NewGemini(ctx, embed.GeminiConfig{})
	require.ErrorContains(t, err, "API key is required")
	_, err = embed.NewGemini(ctx, embed.GeminiConfig{APIKey: "k", Dimension: 4096})
	require.ErrorContains(t, err, "dimension 4096")
	_, err = embed.NewGemini(ctx, embed.GeminiConfig{APIKey: "k", BatchSize: 101})
	require.ErrorContains(t, err, "batch size 101")
	_, err = embed.NewGemini(ctx, embed.GeminiConfig{APIKey: "k", BaseURL: "ftp://x"})
	require.Error(t, err)
	_, err = embed.NewGemini(ctx, embed.GeminiConfig{APIKey: "k", Model: "../x"})
	require.Error(t, err)
}

func TestGeminiSmallBatchAndCustomModel(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{Models: []string{"text-embedding-004"}, NativeDimension: 768})
	g := newGemini(t, srv, func(c *embed.GeminiConfig) {
		c.Model = "text-embedding-004"
		c.Dimension = 768
		c.BatchSize = 2
	})
	vecs, err := g.Embed(context.Background(), texts(5), retrieval.KindDocument)
	require.NoError(t, err)
	require.Len(t, vecs, 5)
	require.Equal(t, 3, srv.Count())
	require.Equal(t, "/v1beta/models/text-embedding-004:batchEmbedContents", srv.Requests()[0].Path)
	requireUnitClose(t, providertest.Vector(texts(5)[4], 768), vecs[4])
}

func TestGeminiEmptyInput(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{})
	g := newGemini(t, srv, nil)
	vecs, err := g.Embed(context.Background(), nil, retrieval.KindDocument)
	require.NoError(t, err)
	require.Empty(t, vecs)
	_, err = g.Embed(context.Background(), []string{"a", "  "}, retrieval.KindDocument)
	require.ErrorContains(t, err, "text 1 is empty")
	_, err = g.Embed(context.Background(), []string{"a"}, retrieval.Kind(7))
	require.ErrorContains(t, err, "unknown kind")
	require.Zero(t, srv.Count())
}

func TestGeminiRetriesTransientFailures(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{
		APIKey: geminiKey,
		Faults: []providertest.Fault{
			{Status: 429, RetryAfter: 40 * time.Millisecond},
			{Status: 503},
			{Hangup: true},
			{Status: 500},
		},
	})
	g := newGemini(t, srv, nil)
	start := time.Now()
	vecs, err := g.Embed(context.Background(), []string{"hello", "world"}, retrieval.KindDocument)
	require.NoError(t, err)
	require.Len(t, vecs, 2)
	require.Equal(t, 5, srv.Count())
	require.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond, "RetryInfo's retryDelay honoured")
	statuses := []int{}
	for _, r := range srv.Requests() {
		statuses = append(statuses, r.Status)
	}
	require.Equal(t, []int{429, 503, 0, 500, 200}, statuses)
}

func TestGeminiGivesUpAfterMaxRetries(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{})
	srv.Fail(providertest.Fault{Status: 503}, providertest.Fault{Status: 503}, providertest.Fault{Status: 503})
	g := newGemini(t, srv, func(c *embed.GeminiConfig) { c.MaxRetries = 2 })
	_, err := g.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
	require.Error(t, err)
	require.Equal(t, 3, srv.Count())
	require.ErrorContains(t, err, "HTTP 503 UNAVAILABLE")
	require.ErrorContains(t, err, "gave up after 3 attempts")
	var re *embed.RemoteError
	require.ErrorAs(t, err, &re)
	require.True(t, re.Temporary)

	// Negative MaxRetries: a single attempt.
	srv.Reset()
	srv.Fail(providertest.Fault{Status: 429})
	g = newGemini(t, srv, func(c *embed.GeminiConfig) { c.MaxRetries = -1 })
	_, err = g.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
	require.ErrorContains(t, err, "rate limited")
	require.Equal(t, 1, srv.Count())
}

func TestGeminiInvalidArgumentFailsAtOnce(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{
		Faults: []providertest.Fault{{Status: 400, Message: "Request payload size exceeds the limit: 10000 bytes."}},
	})
	g := newGemini(t, srv, nil)
	_, err := g.Embed(context.Background(), texts(3), retrieval.KindDocument)
	require.Error(t, err)
	require.Equal(t, 1, srv.Count(), "no retry of a 400")
	require.ErrorContains(t, err, "Request payload size exceeds the limit")
	require.ErrorContains(t, err, "HTTP 400 INVALID_ARGUMENT")
	require.NotErrorIs(t, err, embed.ErrUnauthorized)
}

func TestGeminiBadKey(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{APIKey: "the-right-key", EchoKey: true})
	g := newGemini(t, srv, nil)
	_, err := g.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
	require.Error(t, err)
	require.ErrorIs(t, err, embed.ErrUnauthorized)
	require.ErrorContains(t, err, "API key was rejected (check GEMINI_API_KEY)")
	require.ErrorContains(t, err, "API key not valid")
	require.NotContains(t, err.Error(), geminiKey)
	require.Equal(t, 1, srv.Count())

	// 403 PERMISSION_DENIED is a bad key too.
	srv.Reset()
	srv.Fail(providertest.Fault{Status: 403, Message: "Permission denied"})
	_, err = g.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
	require.ErrorIs(t, err, embed.ErrUnauthorized)
	require.Equal(t, 1, srv.Count())
}

func TestGeminiKeyNeverInErrors(t *testing.T) {
	for _, f := range []providertest.Fault{{Status: 400}, {Status: 401}, {Status: 404}, {Status: 429}, {Status: 500}, {Status: 503}} {
		srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{EchoKey: true})
		srv.Fail(f, f, f)
		g := newGemini(t, srv, func(c *embed.GeminiConfig) { c.MaxRetries = 2 })
		_, err := g.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
		require.Error(t, err)
		require.NotContains(t, err.Error(), geminiKey, "status %d", f.Status)
		require.Contains(t, err.Error(), "[redacted]", "the fake echoed the key")
		require.Contains(t, err.Error(), fmt.Sprint(f.Status))
	}
	// An invalid base URL or transport failure does not leak it either.
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{})
	srv.Close()
	g := newGemini(t, srv, func(c *embed.GeminiConfig) { c.MaxRetries = 1 })
	_, err := g.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
	require.Error(t, err)
	require.NotContains(t, err.Error(), geminiKey)
}

func TestGeminiHonoursContextDeadline(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{Delay: 10 * time.Second})
	g := newGemini(t, srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := g.Embed(ctx, []string{"x"}, retrieval.KindQuery)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)
	require.Equal(t, 1, srv.Count())
}

func TestGeminiAttemptTimeoutIsRetried(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{
		Faults: []providertest.Fault{{Delay: 10 * time.Second}},
	})
	g := newGemini(t, srv, func(c *embed.GeminiConfig) { c.Timeout = 100 * time.Millisecond })
	start := time.Now()
	vecs, err := g.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
	require.NoError(t, err)
	require.Len(t, vecs, 1)
	require.Equal(t, 2, srv.Count())
	require.Less(t, time.Since(start), 2*time.Second)

	srv.SetDelay(10 * time.Second)
	g = newGemini(t, srv, func(c *embed.GeminiConfig) { c.Timeout = 50 * time.Millisecond; c.MaxRetries = 1 })
	_, err = g.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
	require.ErrorContains(t, err, "no answer within 50ms")
	require.Equal(t, 4, srv.Count())
}

func TestGeminiRetryAfterBeyondDeadline(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{
		Faults: []providertest.Fault{{Status: 429, RetryAfter: 30 * time.Second}},
	})
	g := newGemini(t, srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := g.Embed(ctx, []string{"x"}, retrieval.KindQuery)
	require.ErrorContains(t, err, "would pass the deadline")
	require.ErrorContains(t, err, "RESOURCE_EXHAUSTED")
	require.Less(t, time.Since(start), time.Second, "fails at once instead of sleeping into the deadline")
	require.Equal(t, 1, srv.Count())
}

func TestGeminiValidatesResponses(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{
		Transform: func(r providertest.Request, v [][]float32) [][]float32 {
			switch r.Texts[0] {
			case "short":
				v[len(v)-1] = v[len(v)-1][:10]
			case "missing":
				v = v[:len(v)-1]
			case "zero":
				v[0] = make([]float32, len(v[0]))
			}
			return v
		},
	})
	g := newGemini(t, srv, nil)
	ctx := context.Background()

	_, err := g.Embed(ctx, []string{"short", "b"}, retrieval.KindDocument)
	require.ErrorIs(t, err, retrieval.ErrDimensionMismatch)
	require.ErrorContains(t, err, "embedding 1 has 10 dimensions, want 64")
	require.Equal(t, 1, srv.Count(), "a malformed answer is not retried")

	_, err = g.Embed(ctx, []string{"missing", "b", "c"}, retrieval.KindDocument)
	require.ErrorContains(t, err, "returned 2 embeddings for 3 texts")

	_, err = g.Embed(ctx, []string{"zero"}, retrieval.KindDocument)
	require.ErrorContains(t, err, "all zeros")
}

func TestGeminiBatchErrorNamesTheTexts(t *testing.T) {
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{})
	srv.Fail(providertest.Fault{}, providertest.Fault{Status: 400, Message: "bad second batch"})
	g := newGemini(t, srv, func(c *embed.GeminiConfig) { c.BatchSize = 10 })
	_, err := g.Embed(context.Background(), texts(25), retrieval.KindDocument)
	require.ErrorContains(t, err, "texts 10-19 of 25")
	require.ErrorContains(t, err, "bad second batch")
	require.Equal(t, 2, srv.Count())
	var re *embed.RemoteError
	require.True(t, errors.As(err, &re))
	require.Equal(t, 400, re.StatusCode)
	require.False(t, strings.Contains(err.Error(), geminiKey))
}

func TestGeminiRetryAfterHeader(t *testing.T) {
	// Only the HTTP header (no RetryInfo): read through the SDK's transport.
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{
		Faults: []providertest.Fault{{Status: 503, RetryAfterHeader: "30"}},
	})
	g := newGemini(t, srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := g.Embed(ctx, []string{"x"}, retrieval.KindQuery)
	require.ErrorContains(t, err, "next attempt, in 30s, would pass the deadline")
	require.Equal(t, 1, srv.Count())
}

func TestGeminiFakeEmbedContent(t *testing.T) {
	// The fake also answers the single-text endpoint in Gemini's shape.
	srv := providertest.NewGeminiServer(t, providertest.GeminiOptions{APIKey: geminiKey})
	body := `{"model":"models/gemini-embedding-001","content":{"parts":[{"text":"hello"}]},"taskType":"RETRIEVAL_QUERY","outputDimensionality":8}`
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1beta/models/gemini-embedding-001:embedContent", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("x-goog-api-key", geminiKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct {
		Embedding struct {
			Values []float32 `json:"values"`
		} `json:"embedding"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.Equal(t, providertest.Vector("hello", 3072)[:8], out.Embedding.Values)
	require.Equal(t, []string{"RETRIEVAL_QUERY"}, srv.Requests()[0].TaskTypes)

	// Gemini's error shape for a missing key.
	resp2, err := http.Post(srv.URL+"/v1beta/models/gemini-embedding-001:embedContent", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp2.Body.Close()
	require.Equal(t, http.StatusForbidden, resp2.StatusCode)
	var e struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	require.NoError(t, json.NewDecoder(resp2.Body).Decode(&e))
	require.Equal(t, 403, e.Error.Code)
	require.Equal(t, "PERMISSION_DENIED", e.Error.Status)
}
