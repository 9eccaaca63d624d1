package observe

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"time"
)

// LLMCall measures one call of the assistant's LLM provider. Start it with
// StartLLM right before the call and End it once.
type LLMCall struct {
	provider string
	start    time.Time
	first    atomic.Bool
}

// StartLLM starts measuring a call of provider (its Name, e.g.
// "gemini/gemini-2.5-flash").
func StartLLM(provider string) *LLMCall {
	return &LLMCall{provider: label(provider, "none"), start: time.Now()}
}

// Stream returns onDelta (which may be nil) noting the time of the first
// text streamed: the visitor's time to first token.
func (c *LLMCall) Stream(onDelta func(string)) func(string) {
	return func(s string) {
		if s != "" && c.first.CompareAndSwap(false, true) {
			llmFirstToken.WithLabelValues(c.provider).Observe(time.Since(c.start).Seconds())
		}
		if onDelta != nil {
			onDelta(s)
		}
	}
}

// End records the call's duration, outcome and tokens. err is the
// provider's error (nil: ok); ctx is the caller's context, whose
// cancellation (a human took over) makes the outcome "canceled" rather than
// an error of the provider.
func (c *LLMCall) End(ctx context.Context, err error, promptTokens, outputTokens int) {
	outcome := OutcomeOK
	switch {
	case err == nil:
	case ctx != nil && ctx.Err() != nil:
		outcome = "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		outcome = "timeout"
	default:
		outcome = OutcomeError
	}
	llmDuration.WithLabelValues(c.provider, outcome).Observe(time.Since(c.start).Seconds())
	if promptTokens > 0 {
		llmTokens.WithLabelValues(c.provider, "prompt").Add(float64(promptTokens))
	}
	if outputTokens > 0 {
		llmTokens.WithLabelValues(c.provider, "output").Add(float64(outputTokens))
	}
}

// RetrievalSearch records one knowledge search that started at start and
// ended with err. Use it deferred:
//
//	defer func(start time.Time) { observe.RetrievalSearch(start, err) }(time.Now())
func RetrievalSearch(start time.Time, err error) {
	outcome := OutcomeOK
	if err != nil {
		outcome = OutcomeError
	}
	retrievalSearch.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
}

// AssistantReply counts a stored reply of the assistant by its outcome
// (ANSWERED, DECLINED, FAILED).
func AssistantReply(outcome string) {
	assistantReplies.WithLabelValues(known(outcome, "ANSWERED", "DECLINED", "FAILED")).Inc()
}

// known returns v if it is one of values, else "other": label values stay
// a fixed set whatever callers pass.
func known(v string, values ...string) string {
	if slices.Contains(values, v) {
		return v
	}
	return "other"
}

// Handoff triggers.
const (
	// HandoffAssistant: the assistant could not answer and handed off.
	HandoffAssistant = "assistant"
	// HandoffVisitor: the visitor asked for a human.
	HandoffVisitor = "visitor"
)

// Handoff counts a conversation handed to humans.
func Handoff(trigger string) {
	handoffs.WithLabelValues(known(trigger, HandoffAssistant, HandoffVisitor)).Inc()
}

// Streams resubscribed after lagging.
const (
	StreamConversation = "conversation"
	StreamInbox        = "inbox"
)

// SubscriberResynced counts a subscriber of stream that fell behind the
// broker and was resubscribed (and caught up from the database).
func SubscriberResynced(stream string) {
	resyncs.WithLabelValues(known(stream, StreamConversation, StreamInbox)).Inc()
}
