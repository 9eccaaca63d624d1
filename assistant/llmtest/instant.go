// Package llmtest has Instant, a Provider that answers at once without
// network, for benchmarks and tests built on the assistant. The fake
// Gemini and OpenAI-compatible servers are in concierge/provider/providertest.
package llmtest

import (
	"context"

	"concierge/assistant"
	"concierge/provider/providertest"
)

// Instant is a Provider that answers at once, without network: it quotes
// the first sentence of passage 1 cited as [1] ("According to our
// documentation, ... [1]"), streamed in a few deltas, or declines
// (assistant.DeclineMarker) without passages. For benchmarks and tests of
// the conversation service.
type Instant struct {
	// Text, if set, is answered instead (it may cite [n] or be the
	// decline marker).
	Text string
}

var _ assistant.Provider = Instant{}

// Name is "instant".
func (Instant) Name() string { return "instant" }

// Generate streams the answer.
func (i Instant) Generate(ctx context.Context, p assistant.Prompt, onDelta func(string) error) (assistant.Generation, error) {
	text := i.Text
	if text == "" {
		if len(p.Passages) == 0 {
			text = assistant.DeclineMarker
		} else {
			text = providertest.EchoText(p.Passages[0].Hit.Text)
		}
	}
	gen := assistant.Generation{Text: text, FinishReason: "STOP", OutputTokens: providertest.EstimateTokens(text)}
	n := len(p.System)
	for _, m := range p.Messages {
		n += len(m.Text)
	}
	gen.PromptTokens = (n + 3) / 4
	for _, c := range providertest.SplitChunks(text, 4) {
		if err := ctx.Err(); err != nil {
			return gen, err
		}
		if onDelta != nil {
			if err := onDelta(c); err != nil {
				return gen, err
			}
		}
	}
	return gen, nil
}
