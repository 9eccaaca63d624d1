package embed_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/provider/providertest"
	"concierge/retrieval"
	"concierge/retrieval/embed"
)

const openAIKey = "sk-proj-test-secret-abcdef0123456789"

func newOpenAI(t *testing.T, srv *providertest.Server, mod func(*embed.OpenAIConfig)) *embed.OpenAI {
	t.Helper()
	cfg := embed.OpenAIConfig{
		BaseURL:        srv.URL,
		Model:          "nomic-embed-text",
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  5 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	o, err := embed.NewOpenAI(cfg)
	require.NoError(t, err)
	return o
}

func TestOpenAIBatchingAndOrder(t *testing.T) {
	// Reverse: the server lists data backwards; the client sorts by index.
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{Reverse: true, Models: []string{"nomic-embed-text"}})
	o := newOpenAI(t, srv, nil)
	require.Equal(t, "openai/nomic-embed-text", o.Name())
	require.Equal(t, srv.URL+"/v1/embeddings", o.Endpoint())

	in := texts(150)
	vecs, err := o.Embed(context.Background(), in, retrieval.KindDocument)
	require.NoError(t, err)
	require.Len(t, vecs, 150)
	reqs := srv.Requests()
	require.Len(t, reqs, 3, "150 texts in batches of 64")
	var sent []string
	for i, r := range reqs {
		require.Equal(t, "/v1/embeddings", r.Path)
		require.Equal(t, "nomic-embed-text", r.Model)
		require.Equal(t, "float", r.EncodingFormat)
		require.Empty(t, r.Dimensions, "no dimensions parameter unless asked")
		require.Empty(t, r.Key, "no Authorization without a key")
		require.Len(t, r.Texts, []int{64, 64, 22}[i])
		sent = append(sent, r.Texts...)
	}
	require.Equal(t, in, sent)
	for i, text := range in {
		requireUnitClose(t, providertest.Vector(text, 384), vecs[i])
	}
	// Queries and documents are embedded alike.
	q, err := o.Embed(context.Background(), []string{in[3]}, retrieval.KindQuery)
	require.NoError(t, err)
	require.Equal(t, vecs[3], q[0])
}

func TestOpenAIConfig(t *testing.T) {
	_, err := embed.NewOpenAI(embed.OpenAIConfig{Model: "m"})
	require.ErrorContains(t, err, "base URL is required")
	_, err = embed.NewOpenAI(embed.OpenAIConfig{BaseURL: "localhost:11434", Model: "m"})
	require.ErrorContains(t, err, "not an http(s) URL")
	_, err = embed.NewOpenAI(embed.OpenAIConfig{BaseURL: "http://h"})
	require.ErrorContains(t, err, "model is required")
	_, err = embed.NewOpenAI(embed.OpenAIConfig{BaseURL: "http://h", Model: "m", SendDimensions: true})
	require.ErrorContains(t, err, "needs a Dimension")

	for base, want := range map[string]string{
		"http://h:11434":         "http://h:11434/v1/embeddings",
		"http://h:11434/":        "http://h:11434/v1/embeddings",
		"http://h:11434/v1":      "http://h:11434/v1/embeddings",
		"https://proxy/openai/":  "https://proxy/openai/v1/embeddings",
		"https://proxy/x/v1/":    "https://proxy/x/v1/embeddings",
		"https://api.openai.com": "https://api.openai.com/v1/embeddings",
	} {
		o, err := embed.NewOpenAI(embed.OpenAIConfig{BaseURL: base, Model: "m"})
		require.NoError(t, err)
		require.Equal(t, want, o.Endpoint(), base)
	}
}

func TestOpenAIBaseURLWithV1(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{})
	o := newOpenAI(t, srv, func(c *embed.OpenAIConfig) { c.BaseURL = srv.URL + "/v1/" })
	_, err := o.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
	require.NoError(t, err)
	require.Equal(t, "/v1/embeddings", srv.Requests()[0].Path)
}

func TestOpenAIDimensionLearnedThenEnforced(t *testing.T) {
	var shrink atomic.Bool
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{
		Dimension: 384,
		Transform: func(_ providertest.Request, v [][]float32) [][]float32 {
			if shrink.Load() {
				for i := range v {
					v[i] = v[i][:128]
				}
			}
			return v
		},
	})
	o := newOpenAI(t, srv, nil)
	require.Zero(t, o.Dimension(), "unknown before the first answer")
	d, err := o.Probe(context.Background())
	require.NoError(t, err)
	require.Equal(t, 384, d)
	require.Equal(t, 384, o.Dimension())
	d, err = o.Probe(context.Background())
	require.NoError(t, err)
	require.Equal(t, 384, d)
	require.Equal(t, 1, srv.Count(), "a known dimension needs no probe")

	shrink.Store(true) // the server's model changed under us
	_, err = o.Embed(context.Background(), []string{"x"}, retrieval.KindDocument)
	require.ErrorIs(t, err, retrieval.ErrDimensionMismatch)
	require.ErrorContains(t, err, "returned 128 dimensions, want 384")
	require.Equal(t, 384, o.Dimension(), "fixed once learned")
	require.Equal(t, 2, srv.Count(), "a mismatch is not retried")

	// A configured dimension is enforced from the first answer.
	srv2 := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{Dimension: 384})
	o2 := newOpenAI(t, srv2, func(c *embed.OpenAIConfig) { c.Dimension = 768 })
	require.Equal(t, 768, o2.Dimension())
	_, err = o2.Embed(context.Background(), []string{"x"}, retrieval.KindDocument)
	require.ErrorIs(t, err, retrieval.ErrDimensionMismatch)
}

func TestOpenAISendDimensions(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{Dimension: 1536})
	o := newOpenAI(t, srv, func(c *embed.OpenAIConfig) { c.Dimension = 256; c.SendDimensions = true })
	vecs, err := o.Embed(context.Background(), []string{"hello"}, retrieval.KindDocument)
	require.NoError(t, err)
	require.Len(t, vecs[0], 256)
	require.Equal(t, []int{256}, srv.Requests()[0].Dimensions)
}

func TestOpenAIValidatesResponses(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{
		Transform: func(r providertest.Request, v [][]float32) [][]float32 {
			switch r.Texts[0] {
			case "missing":
				return v[:1]
			case "mixed":
				v[1] = v[1][:3]
			}
			return v
		},
	})
	o := newOpenAI(t, srv, nil)
	_, err := o.Embed(context.Background(), []string{"missing", "b"}, retrieval.KindDocument)
	require.ErrorContains(t, err, "returned 1 embeddings for 2 texts")
	_, err = o.Embed(context.Background(), []string{"mixed", "b"}, retrieval.KindDocument)
	require.ErrorIs(t, err, retrieval.ErrDimensionMismatch)
	require.Equal(t, 2, srv.Count())
}

func TestOpenAIBase64Answers(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{Base64: true, Dimension: 32})
	o := newOpenAI(t, srv, nil)
	vecs, err := o.Embed(context.Background(), []string{"a b", "c"}, retrieval.KindDocument)
	require.NoError(t, err)
	requireUnitClose(t, providertest.Vector("c", 32), vecs[1])
}

func TestOpenAIBearerKeyAndBadKey(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{APIKey: openAIKey})
	o := newOpenAI(t, srv, func(c *embed.OpenAIConfig) { c.APIKey = openAIKey })
	_, err := o.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
	require.NoError(t, err)
	require.Equal(t, openAIKey, srv.Requests()[0].Key)

	const wrong = "sk-wrong-secret-999999"
	bad := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{APIKey: openAIKey, EchoKey: true})
	o = newOpenAI(t, bad, func(c *embed.OpenAIConfig) { c.APIKey = wrong })
	_, err = o.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
	require.ErrorIs(t, err, embed.ErrUnauthorized)
	require.ErrorContains(t, err, "openai embeddings: the API key was rejected")
	require.ErrorContains(t, err, "Incorrect API key provided: [redacted]")
	require.NotContains(t, err.Error(), wrong)
	require.Equal(t, 1, bad.Count())

	// Without a key at all.
	o = newOpenAI(t, bad, nil)
	_, err = o.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
	require.ErrorIs(t, err, embed.ErrUnauthorized)
	require.ErrorContains(t, err, "didn't provide an API key")
}

func TestOpenAIRetriesTransientFailures(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{
		Faults: []providertest.Fault{
			{Status: 429, Code: "rate_limit_exceeded", RetryAfter: 40 * time.Millisecond},
			{Status: 503},
			{Hangup: true},
			{Status: 502},
		},
	})
	o := newOpenAI(t, srv, nil)
	start := time.Now()
	vecs, err := o.Embed(context.Background(), []string{"a", "b"}, retrieval.KindDocument)
	require.NoError(t, err)
	require.Len(t, vecs, 2)
	require.Equal(t, 5, srv.Count())
	require.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond, "retry-after-ms honoured")
}

func TestOpenAIPermanentFailuresFailAtOnce(t *testing.T) {
	for name, f := range map[string]providertest.Fault{
		"bad request":        {Status: 400, Message: "This model's maximum context length is 8192 tokens"},
		"insufficient quota": {Status: 429, Code: "insufficient_quota", Message: "You exceeded your current quota"},
		"not found":          {Status: 404, Code: "model_not_found", Message: "The model `x` does not exist"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{EchoKey: true, Faults: []providertest.Fault{f, f}})
			o := newOpenAI(t, srv, func(c *embed.OpenAIConfig) { c.APIKey = openAIKey })
			_, err := o.Embed(context.Background(), []string{"x"}, retrieval.KindDocument)
			require.ErrorContains(t, err, f.Message)
			require.NotContains(t, err.Error(), openAIKey)
			require.NotErrorIs(t, err, embed.ErrUnauthorized)
			require.Equal(t, 1, srv.Count())
		})
	}
}

func TestOpenAIGivesUpAndKeepsKeySecret(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{EchoKey: true,
		Faults: []providertest.Fault{{Status: 500}, {Status: 500}, {Status: 500}}})
	o := newOpenAI(t, srv, func(c *embed.OpenAIConfig) { c.APIKey = openAIKey; c.MaxRetries = 2 })
	_, err := o.Embed(context.Background(), []string{"x"}, retrieval.KindDocument)
	require.ErrorContains(t, err, "server error")
	require.ErrorContains(t, err, "gave up after 3 attempts")
	require.NotContains(t, err.Error(), openAIKey)
	require.Equal(t, 3, srv.Count())

	// Connection refused: retried, then a clear error.
	srv.Close()
	o = newOpenAI(t, srv, func(c *embed.OpenAIConfig) { c.APIKey = openAIKey; c.MaxRetries = 1 })
	_, err = o.Embed(context.Background(), []string{"x"}, retrieval.KindDocument)
	require.ErrorContains(t, err, "openai embeddings: request failed")
	require.NotContains(t, err.Error(), openAIKey)
}

func TestOpenAITimeouts(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{Delay: 10 * time.Second})
	o := newOpenAI(t, srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := o.Embed(ctx, []string{"x"}, retrieval.KindQuery)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)

	srv2 := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{Faults: []providertest.Fault{{Delay: 10 * time.Second}}})
	o = newOpenAI(t, srv2, func(c *embed.OpenAIConfig) { c.Timeout = 100 * time.Millisecond })
	vecs, err := o.Embed(context.Background(), []string{"x"}, retrieval.KindQuery)
	require.NoError(t, err, "a slow attempt is cut short and retried")
	require.Len(t, vecs, 1)
	require.Equal(t, 2, srv2.Count())
}

func TestOpenAIEmptyText(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{})
	o := newOpenAI(t, srv, nil)
	_, err := o.Embed(context.Background(), []string{""}, retrieval.KindQuery)
	require.ErrorContains(t, err, "text 0 is empty")
	vecs, err := o.Embed(context.Background(), nil, retrieval.KindQuery)
	require.NoError(t, err)
	require.Empty(t, vecs)
	require.Zero(t, srv.Count())
}

func TestOpenAIRetryAfterHeader(t *testing.T) {
	srv := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{
		Faults: []providertest.Fault{{Status: 429, RetryAfterHeader: "30"}, {Status: 429, RetryAfterHeader: "0"}},
	})
	o := newOpenAI(t, srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := o.Embed(ctx, []string{"x"}, retrieval.KindQuery)
	require.ErrorContains(t, err, "next attempt, in 30s, would pass the deadline")
	require.ErrorContains(t, err, "rate limited")
	require.Equal(t, 1, srv.Count())
	// "Retry-After: 0" retries at once.
	_, err = o.Embed(ctx, []string{"x"}, retrieval.KindQuery)
	require.NoError(t, err)
	require.Equal(t, 3, srv.Count())
}
