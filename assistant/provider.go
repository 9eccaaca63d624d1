package assistant

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"concierge/retrieval"
)

// Provider is a language model the Assistant prompts: Gemini, an
// OpenAI-compatible server, or the offline extractive answerer.
type Provider interface {
	// Name identifies the provider and model ("gemini/gemini-2.5-flash",
	// "openai/llama3.1", "offline").
	Name() string
	// Generate answers p, calling onDelta with each piece of text as it
	// arrives, in order (onDelta may be nil). An error from onDelta stops
	// the generation and is returned. A cancelled ctx returns promptly with
	// an error.
	Generate(ctx context.Context, p Prompt, onDelta func(string) error) (Generation, error)
}

// Prompt is what a Provider answers: the assembled chat (System and
// Messages, for the model providers) and its structured parts (for the
// offline provider, which reads passages rather than prompts).
type Prompt struct {
	// System is the system instruction: identity, tone and rules.
	System string
	// Messages is the conversation, oldest first, alternating "user" and
	// "model"; the last one is the user's and carries the fenced passages
	// and the question.
	Messages []PromptMessage
	// Question is the visitor's last message.
	Question string
	// Query is what was searched: Question, or the previous visitor
	// message and Question for a short follow-up.
	Query string
	// Passages are numbered 1..n as in the prompt, best first.
	Passages []Passage
	// Language is the visitor's language (BCP-47 base).
	Language string
	// MaxOutputTokens bounds the answer (0: the provider's default).
	MaxOutputTokens int
}

// Chat roles of PromptMessage.
const (
	RoleUser  = "user"
	RoleModel = "model"
)

// PromptMessage is one chat message: Role is RoleUser or RoleModel.
type PromptMessage struct {
	Role string
	Text string
}

// Passage is a retrieved passage as numbered in the prompt.
type Passage struct {
	N   int
	Hit retrieval.Hit
}

// Generation is a provider's complete answer.
type Generation struct {
	Text                       string
	PromptTokens, OutputTokens int
	// FinishReason is the provider's ("STOP", "MAX_TOKENS", "stop", ...).
	FinishReason string
}

// DeclineMarker is what a provider answers, alone, when the passages do not
// contain the answer. The Assistant never shows it to the visitor.
const DeclineMarker = "NO_ANSWER"

// ProviderError is a failed call to a model provider. Message never
// contains the API key.
type ProviderError struct {
	Provider string
	// StatusCode is the HTTP status (0 for a network error or a failure
	// inside a stream).
	StatusCode int
	// Status is the provider's error status or code ("RESOURCE_EXHAUSTED",
	// "rate_limit_exceeded"), when given.
	Status  string
	Message string
	// Temporary: retrying later may succeed (429, 5xx, network).
	Temporary bool
	cause     error
}

func (e *ProviderError) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	b.WriteString(": ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "HTTP %d ", e.StatusCode)
	}
	if e.Status != "" {
		b.WriteString(e.Status)
		b.WriteString(" ")
	}
	b.WriteString(e.Message)
	return strings.TrimSpace(b.String())
}

// Unwrap returns the underlying error, if any (never one holding the key).
func (e *ProviderError) Unwrap() error { return e.cause }

// ProviderConfig selects and configures a Provider (see NewProvider).
type ProviderConfig struct {
	// Name is "offline" (the default), "gemini" or "openai".
	Name string
	// APIKey: Gemini's key (required for gemini), or the bearer token of
	// an OpenAI-compatible server (optional).
	APIKey string
	// BaseURL: the Gemini API's root (optional, for proxies and tests), or
	// the OpenAI-compatible server's root, e.g. "http://127.0.0.1:11434"
	// (Ollama; requests go to {BaseURL}/v1/chat/completions, a BaseURL
	// ending in /v1 is accepted as is). Required for openai.
	BaseURL string
	// Model: default "gemini-2.5-flash" for gemini; required for openai.
	Model string
	// HTTPClient carries the requests of the network providers (default:
	// a new http.Client without timeout; the Assistant bounds each call).
	HTTPClient *http.Client
}

// Provider names.
const (
	ProviderOffline = "offline"
	ProviderGemini  = "gemini"
	ProviderOpenAI  = "openai"
)

// NewProvider returns the provider cfg names. It does not call the network.
func NewProvider(cfg ProviderConfig) (Provider, error) {
	switch strings.ToLower(strings.TrimSpace(cfg.Name)) {
	case "", ProviderOffline:
		return NewOffline(OfflineOptions{}), nil
	case ProviderGemini:
		return NewGemini(GeminiConfig{APIKey: cfg.APIKey, BaseURL: cfg.BaseURL, Model: cfg.Model, HTTPClient: cfg.HTTPClient})
	case ProviderOpenAI:
		return NewOpenAI(OpenAIConfig{APIKey: cfg.APIKey, BaseURL: cfg.BaseURL, Model: cfg.Model, HTTPClient: cfg.HTTPClient})
	}
	return nil, fmt.Errorf("assistant: unknown LLM provider %q (want offline, gemini or openai)", cfg.Name)
}

func temporaryStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
}
