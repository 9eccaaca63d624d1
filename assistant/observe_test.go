package assistant_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/assistant"
	"concierge/observe/observetest"
	"concierge/retrieval"
)

// failing is a provider that always fails.
type failing struct{}

func (failing) Name() string { return "failing" }

func (failing) Generate(context.Context, assistant.Prompt, func(string) error) (assistant.Generation, error) {
	return assistant.Generation{}, errors.New("HTTP 503")
}

// TestAnswerMetrics checks that an answer moves the LLM metrics: duration
// by provider and outcome, time to first token, tokens.
func TestAnswerMetrics(t *testing.T) {
	v := func(name string, labels ...string) float64 { return observetest.Value(t, name, labels...) }
	const dur, ttft, tokens = "concierge_llm_duration_seconds", "concierge_llm_time_to_first_token_seconds", "concierge_llm_tokens_total"
	okCalls, firsts := v(dur, "provider", "offline", "outcome", "ok"), v(ttft, "provider", "offline")
	prompt, output := v(tokens, "provider", "offline", "kind", "prompt"), v(tokens, "provider", "offline", "kind", "output")

	a, err := assistant.New(assistant.Config{Search: &fakeSearch{hits: []retrieval.Hit{refundHit, shippingHit}}})
	require.NoError(t, err)
	var d deltas
	ans, err := a.Answer(context.Background(), ask("Can I get a refund on my annual plan?"), d.add)
	require.NoError(t, err)
	require.Equal(t, assistant.OutcomeAnswered, ans.Outcome)
	require.NotEmpty(t, d.list(), "the wrapped onDelta still streams")

	require.Equal(t, okCalls+1, v(dur, "provider", "offline", "outcome", "ok"))
	require.Equal(t, firsts+1, v(ttft, "provider", "offline"))
	require.Equal(t, prompt+float64(ans.PromptTokens), v(tokens, "provider", "offline", "kind", "prompt"))
	require.Equal(t, output+float64(ans.OutputTokens), v(tokens, "provider", "offline", "kind", "output"))

	// No relevant passage: the model is not called, nothing is recorded.
	weak, err := assistant.New(assistant.Config{Search: &fakeSearch{hits: []retrieval.Hit{weakHit}}})
	require.NoError(t, err)
	ans, err = weak.Answer(context.Background(), ask("Do you sell bicycles?"), nil)
	require.NoError(t, err)
	require.Equal(t, assistant.OutcomeDeclined, ans.Outcome)
	require.Equal(t, okCalls+1, v(dur, "provider", "offline"), "declined without a call")

	// A failing provider is an error outcome (the answer is FAILED).
	failed := v(dur, "provider", "failing", "outcome", "error")
	bad, err := assistant.New(assistant.Config{Provider: failing{}, Search: &fakeSearch{hits: []retrieval.Hit{refundHit}}})
	require.NoError(t, err)
	ans, err = bad.Answer(context.Background(), ask("Can I get a refund on my annual plan?"), nil)
	require.NoError(t, err)
	require.Equal(t, assistant.OutcomeFailed, ans.Outcome)
	require.Equal(t, failed+1, v(dur, "provider", "failing", "outcome", "error"))
	require.Zero(t, v(ttft, "provider", "failing"), "no text, no first token")
}
