package assistant

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"concierge/provider"
)

// OpenAIConfig configures an OpenAI-compatible chat completions server
// (OpenAI, Ollama, vLLM, llama.cpp's server, LocalAI, ...).
type OpenAIConfig struct {
	// BaseURL is the server's root, e.g. "http://127.0.0.1:11434"; requests
	// go to {BaseURL}/v1/chat/completions (a BaseURL ending in "/v1" is
	// accepted as is). Required (LLM_BASE_URL).
	BaseURL string
	// APIKey, if set, is sent as "Authorization: Bearer <key>"; it never
	// appears in errors.
	APIKey string
	// Model is the model name the server knows. Required (LLM_MODEL).
	Model string
	// Temperature defaults to 0.2.
	Temperature *float32
	// HTTPClient carries the requests (default: a new http.Client).
	HTTPClient *http.Client
}

// OpenAI answers through POST /v1/chat/completions with "stream": true
// (server-sent events), with plain net/http.
type OpenAI struct {
	endpoint string
	key      string
	model    string
	temp     float32
	http     *http.Client
}

var _ Provider = (*OpenAI)(nil)

// NewOpenAI returns the OpenAI-compatible provider. It does not call the
// server.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	base := strings.TrimSpace(cfg.BaseURL)
	if base == "" {
		return nil, errors.New("assistant: the openai provider needs the server's base URL (set LLM_BASE_URL, e.g. http://127.0.0.1:11434 for Ollama)")
	}
	endpoint, err := provider.OpenAIEndpoint(base, "/chat/completions")
	if err != nil {
		return nil, fmt.Errorf("assistant: openai: %w", err)
	}
	model := strings.TrimSpace(cfg.Model)
	if model == "" {
		return nil, errors.New("assistant: the openai provider needs a model name (set LLM_MODEL)")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	temp := float32(0.2)
	if cfg.Temperature != nil {
		temp = *cfg.Temperature
	}
	return &OpenAI{endpoint: endpoint, key: strings.TrimSpace(cfg.APIKey), model: model, temp: temp, http: hc}, nil
}

// Name is "openai/<model>".
func (o *OpenAI) Name() string { return "openai/" + o.model }

type oaiMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type oaiRequest struct {
	Model         string         `json:"model"`
	Messages      []oaiMessage   `json:"messages"`
	Stream        bool           `json:"stream"`
	StreamOptions *oaiStreamOpts `json:"stream_options,omitempty"`
	MaxTokens     int            `json:"max_tokens,omitempty"`
	Temperature   float32        `json:"temperature"`
}

type oaiStreamOpts struct {
	IncludeUsage bool `json:"include_usage"`
}

type oaiChunk struct {
	Choices []struct {
		Delta struct {
			Content *string `json:"content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// Generate streams the answer to p.
func (o *OpenAI) Generate(ctx context.Context, p Prompt, onDelta func(string) error) (Generation, error) {
	req := oaiRequest{Model: o.model, Stream: true, StreamOptions: &oaiStreamOpts{IncludeUsage: true},
		MaxTokens: p.MaxOutputTokens, Temperature: o.temp}
	if p.System != "" {
		req.Messages = append(req.Messages, oaiMessage{Role: "system", Content: p.System})
	}
	for _, m := range p.Messages {
		role := "user"
		if m.Role == RoleModel {
			role = "assistant"
		}
		req.Messages = append(req.Messages, oaiMessage{Role: role, Content: m.Text})
	}
	body, err := json.Marshal(req)
	if err != nil {
		return Generation{}, err
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, o.endpoint, bytes.NewReader(body))
	if err != nil {
		return Generation{}, err
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "text/event-stream")
	if o.key != "" {
		hreq.Header.Set("Authorization", "Bearer "+o.key)
	}
	resp, err := o.http.Do(hreq)
	if err != nil {
		return Generation{}, o.transportError(ctx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return Generation{}, o.httpError(resp.StatusCode, b)
	}

	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
		return o.whole(resp.Body, onDelta) // a server that does not stream
	}
	var gen Generation
	var text strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	done := false
	for !done && sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue // blank separators, ": keep-alive" comments, "event:" lines
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			done = true
			break
		}
		var c oaiChunk
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return gen, &ProviderError{Provider: o.Name(), Message: "invalid stream chunk: " + provider.Redact(truncate(data, 200), o.key)}
		}
		if len(c.Error) > 0 && string(c.Error) != "null" {
			e := o.httpError(0, []byte(`{"error":`+string(c.Error)+`}`)).(*ProviderError)
			return gen, e
		}
		if c.Usage != nil {
			gen.PromptTokens, gen.OutputTokens = c.Usage.PromptTokens, c.Usage.CompletionTokens
		}
		if len(c.Choices) == 0 {
			continue
		}
		ch := c.Choices[0]
		if ch.FinishReason != nil && *ch.FinishReason != "" {
			gen.FinishReason = *ch.FinishReason
		}
		if ch.Delta.Content == nil || *ch.Delta.Content == "" {
			continue
		}
		piece := *ch.Delta.Content
		text.WriteString(piece)
		if onDelta != nil {
			if err := onDelta(piece); err != nil {
				gen.Text = text.String()
				return gen, err
			}
		}
	}
	gen.Text = text.String()
	if err := sc.Err(); err != nil {
		return gen, o.transportError(ctx, err)
	}
	if err := ctx.Err(); err != nil {
		return gen, err
	}
	if !done && gen.FinishReason == "" {
		return gen, &ProviderError{Provider: o.Name(), Message: "the stream ended early", Temporary: true}
	}
	return gen, nil
}

// whole reads a non-streamed chat.completion.
func (o *OpenAI) whole(body io.Reader, onDelta func(string) error) (Generation, error) {
	var c struct {
		Choices []struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	if err := json.NewDecoder(io.LimitReader(body, 16<<20)).Decode(&c); err != nil {
		return Generation{}, &ProviderError{Provider: o.Name(), Message: "invalid response: " + provider.Redact(err.Error(), o.key)}
	}
	if len(c.Choices) == 0 {
		return Generation{}, &ProviderError{Provider: o.Name(), Message: "no choice in the response"}
	}
	gen := Generation{Text: c.Choices[0].Message.Content, FinishReason: c.Choices[0].FinishReason,
		PromptTokens: c.Usage.PromptTokens, OutputTokens: c.Usage.CompletionTokens}
	if onDelta != nil && gen.Text != "" {
		if err := onDelta(gen.Text); err != nil {
			return gen, err
		}
	}
	return gen, nil
}

func (o *OpenAI) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ne net.Error
	return &ProviderError{Provider: o.Name(), Message: provider.Redact(err.Error(), o.key), Temporary: errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF)}
}

// httpError reads OpenAI's {"error":{"message","type","code"}} or Ollama's
// {"error":"..."}.
func (o *OpenAI) httpError(status int, body []byte) error {
	e := &ProviderError{Provider: o.Name(), StatusCode: status, Temporary: temporaryStatus(status)}
	var shaped struct {
		Error json.RawMessage `json:"error"`
	}
	msg := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &shaped) == nil && len(shaped.Error) > 0 {
		var obj struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    any    `json:"code"`
		}
		var s string
		switch {
		case json.Unmarshal(shaped.Error, &s) == nil:
			msg = s
		case json.Unmarshal(shaped.Error, &obj) == nil:
			msg = obj.Message
			switch c := obj.Code.(type) {
			case string:
				e.Status = c
			default:
				e.Status = obj.Type
			}
		}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	e.Message = provider.Redact(truncate(msg, 500), o.key)
	if e.Status == "rate_limit_exceeded" || e.Status == "server_error" {
		e.Temporary = true
	}
	return e
}
