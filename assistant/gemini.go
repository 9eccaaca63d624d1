package assistant

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"google.golang.org/genai"

	"concierge/provider"
)

// DefaultGeminiModel is the model used when GeminiConfig.Model is empty.
const DefaultGeminiModel = "gemini-2.5-flash"

// GeminiConfig configures the Gemini provider.
type GeminiConfig struct {
	// APIKey is required (GEMINI_API_KEY). It is sent in the
	// x-goog-api-key header and never appears in errors or logs.
	APIKey string
	// BaseURL overrides the API root (default
	// https://generativelanguage.googleapis.com/), for proxies and tests.
	BaseURL string
	// Model defaults to DefaultGeminiModel; a "models/" prefix is dropped.
	Model string
	// Temperature defaults to 0.2 (grounded answers, little invention).
	Temperature *float32
	// HTTPClient carries the requests (default: a new http.Client).
	HTTPClient *http.Client
}

// Gemini answers through google.golang.org/genai on the Gemini API
// backend, streaming with Models.GenerateContentStream.
type Gemini struct {
	client *genai.Client
	model  string
	key    string
	temp   float32
}

var _ Provider = (*Gemini)(nil)

// NewGemini returns the Gemini provider. It does not call the API.
func NewGemini(cfg GeminiConfig) (*Gemini, error) {
	key := strings.TrimSpace(cfg.APIKey)
	if key == "" {
		return nil, errors.New("assistant: the gemini provider needs an API key (set GEMINI_API_KEY)")
	}
	model, err := provider.GeminiModel(cfg.Model, DefaultGeminiModel)
	if err != nil {
		return nil, fmt.Errorf("assistant: gemini: %w", err)
	}
	if cfg.BaseURL != "" {
		if err := provider.CheckBaseURL(cfg.BaseURL); err != nil {
			return nil, fmt.Errorf("assistant: gemini: %w", err)
		}
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	client, err := genai.NewClient(context.Background(), &genai.ClientConfig{
		APIKey:      key,
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  hc,
		HTTPOptions: genai.HTTPOptions{BaseURL: cfg.BaseURL},
	})
	if err != nil {
		// The SDK may print its config, key included, in errors.
		return nil, fmt.Errorf("assistant: gemini: creating the client: %s", provider.Redact(err.Error(), key))
	}
	temp := float32(0.2)
	if cfg.Temperature != nil {
		temp = *cfg.Temperature
	}
	return &Gemini{client: client, model: model, key: key, temp: temp}, nil
}

// Name is "gemini/<model>".
func (g *Gemini) Name() string { return "gemini/" + g.model }

// Generate streams the answer to p.
func (g *Gemini) Generate(ctx context.Context, p Prompt, onDelta func(string) error) (Generation, error) {
	var contents []*genai.Content
	for _, m := range p.Messages {
		role := genai.RoleUser
		if m.Role == RoleModel {
			role = genai.RoleModel
		}
		contents = append(contents, &genai.Content{Role: role, Parts: []*genai.Part{{Text: m.Text}}})
	}
	if len(contents) == 0 {
		return Generation{}, errors.New("gemini: empty prompt")
	}
	cfg := &genai.GenerateContentConfig{
		Temperature: genai.Ptr(g.temp),
		// One request per call: the Assistant bounds and, if need be,
		// abandons it; resuming behind its back would blur that.
		AutomaticContinuation: genai.Ptr(false),
	}
	if p.System != "" {
		cfg.SystemInstruction = &genai.Content{Parts: []*genai.Part{{Text: p.System}}}
	}
	if p.MaxOutputTokens > 0 {
		cfg.MaxOutputTokens = int32(p.MaxOutputTokens)
	}
	// Thinking would spend the output budget and the latency of a chat
	// reply on a task that is reading, not reasoning; the 2.5 Flash models
	// accept a zero budget (Pro does not, and keeps its default).
	if strings.HasPrefix(g.model, "gemini-2.5-flash") {
		cfg.ThinkingConfig = &genai.ThinkingConfig{ThinkingBudget: genai.Ptr(int32(0))}
	}

	var gen Generation
	var text strings.Builder
	for resp, err := range g.client.Models.GenerateContentStream(ctx, g.model, contents, cfg) {
		if err != nil {
			return gen, g.classify(ctx, err)
		}
		if resp == nil {
			continue
		}
		if u := resp.UsageMetadata; u != nil {
			gen.PromptTokens = int(u.PromptTokenCount)
			gen.OutputTokens = int(u.CandidatesTokenCount)
		}
		if pf := resp.PromptFeedback; pf != nil && pf.BlockReason != "" {
			return gen, &ProviderError{Provider: g.Name(), Status: "BLOCKED", Message: "prompt blocked: " + string(pf.BlockReason)}
		}
		if len(resp.Candidates) == 0 || resp.Candidates[0] == nil {
			continue
		}
		c := resp.Candidates[0]
		if c.FinishReason != "" {
			gen.FinishReason = string(c.FinishReason)
		}
		if c.Content == nil {
			continue
		}
		for _, part := range c.Content.Parts {
			if part == nil || part.Thought || part.Text == "" {
				continue
			}
			text.WriteString(part.Text)
			if onDelta != nil {
				if err := onDelta(part.Text); err != nil {
					gen.Text = text.String()
					return gen, err
				}
			}
		}
	}
	gen.Text = text.String()
	if err := ctx.Err(); err != nil {
		return gen, err
	}
	return gen, nil
}

// classify turns an SDK error into a ProviderError without the key, or
// the context's error.
func (g *Gemini) classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var apiErr genai.APIError
	if errors.As(err, &apiErr) {
		return &ProviderError{
			Provider:   g.Name(),
			StatusCode: apiErr.Code,
			Status:     apiErr.Status,
			Message:    provider.Redact(apiErr.Message, g.key),
			Temporary: temporaryStatus(apiErr.Code) || apiErr.Status == "RESOURCE_EXHAUSTED" ||
				apiErr.Status == "UNAVAILABLE" || apiErr.Status == "INTERNAL" || apiErr.Status == "DEADLINE_EXCEEDED",
		}
	}
	var ne net.Error
	temporary := errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded)
	return &ProviderError{Provider: g.Name(), Message: provider.Redact(err.Error(), g.key), Temporary: temporary}
}
