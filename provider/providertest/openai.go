package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// OpenAIOptions configures NewOpenAIServer.
type OpenAIOptions struct {
	// APIKey, if set, is the only bearer token accepted (others get 401
	// invalid_api_key); empty accepts requests without one, as Ollama does.
	APIKey string
	// Models, if set, are the only models served (others get 404
	// model_not_found).
	Models []string
	// Faults are answered, in order, by the first requests.
	Faults []Fault
	// Delay is waited before every answer.
	Delay time.Duration
	// EchoKey makes error messages quote the presented key, as OpenAI's
	// "Incorrect API key provided: ..." does, to check that clients redact it.
	EchoKey bool

	// Reply scripts the chat answers (default EchoReply).
	Reply Reply
	// FinishReason ends every chat answer (default "stop").
	FinishReason string
	// ChunkDelay is waited between chunks; FirstChunkDelay before the first.
	ChunkDelay      time.Duration
	FirstChunkDelay time.Duration
	// IgnoreStream answers with one chat.completion even when asked to
	// stream, as some servers do.
	IgnoreStream bool

	// Dimension is the embedding model's vector length (default 384).
	Dimension int
	// RejectDimensions answers a "dimensions" parameter with a 400, as
	// servers of models without Matryoshka training do; otherwise vectors
	// are cut to it and re-normalised, as OpenAI does.
	RejectDimensions bool
	// Reverse returns the embeddings in reverse order (clients must sort
	// by index).
	Reverse bool
	// Base64 answers with base64 float32s whatever encoding_format says.
	Base64 bool
	// Transform may alter successful embedding answers.
	Transform Transform
}

// NewOpenAIServer starts a fake OpenAI-compatible server on 127.0.0.1,
// closed when the test ends:
//
//	POST /v1/chat/completions {"model":...,"messages":[{"role":"system"|"user"|"assistant","content":...}],
//	  "stream":true,"stream_options":{"include_usage":true},"max_tokens":...}
//	  → "data: {chat.completion.chunk}\n\n" events (choices[0].delta.content,
//	    finish_reason on the last), a usage chunk when asked, "data: [DONE]";
//	    without "stream", one chat.completion object.
//	POST /v1/embeddings  {"model":...,"input":[...] or "...","encoding_format":"float"}
//	  → {"object":"list","data":[{"object":"embedding","index":0,"embedding":[...]}],
//	     "model":...,"usage":{"prompt_tokens":n,"total_tokens":n}}
//
// Errors have OpenAI's shape {"error":{"message":...,"type":...,"param":null,"code":...}}.
// The vector of a text is Vector(text, Dimension).
func NewOpenAIServer(t testing.TB, opts OpenAIOptions) *Server {
	t.Helper()
	if opts.FinishReason == "" {
		opts.FinishReason = "stop"
	}
	if opts.Dimension == 0 {
		opts.Dimension = 384
	}
	return newServer(t, func(s *Server, w http.ResponseWriter, r *http.Request) {
		serveOpenAI(s, &opts, w, r)
	}, opts.Reply, opts.Faults, timing{delay: opts.Delay, chunkDelay: opts.ChunkDelay, firstDelay: opts.FirstChunkDelay})
}

type openAIChatRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role    string          `json:"role"`
		Content json.RawMessage `json:"content"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           int      `json:"max_tokens"`
	MaxCompletionTokens int      `json:"max_completion_tokens"`
	Temperature         *float64 `json:"temperature"`
}

func openAIErrorBody(message, typ string, code any) map[string]any {
	return map[string]any{"error": map[string]any{"message": message, "type": typ, "param": nil, "code": code}}
}

// openAIDefault is the message, type and code of an error status.
func openAIDefault(status int) (msg, typ, code string) {
	switch status {
	case 401:
		return "Incorrect API key provided.", "invalid_request_error", "invalid_api_key"
	case 429:
		return "Rate limit reached for requests. Please try again later.", "requests", "rate_limit_exceeded"
	case 500:
		return "The server had an error while processing your request. Sorry about that!", "server_error", "server_error"
	case 503:
		return "The engine is currently overloaded, please try again later.", "server_error", "server_error"
	}
	if status >= 500 {
		return http.StatusText(status), "server_error", ""
	}
	return http.StatusText(status), "invalid_request_error", ""
}

// errorCode is an error's code field: null when empty.
func errorCode(c string) any {
	if c == "" {
		return nil
	}
	return c
}

// content reads a message's content: a string or an array of text parts.
func content(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}

func serveOpenAI(s *Server, opts *OpenAIOptions, w http.ResponseWriter, r *http.Request) {
	req := Request{Path: r.URL.Path, Method: "chat.completions"}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		req.Key = tok
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	req.Body = body
	var chat openAIChatRequest
	var emb openAIEmbedRequest
	var parseErr error
	embeds := r.URL.Path == "/v1/embeddings"
	if embeds {
		req.Method = "embeddings"
		emb, parseErr = parseOpenAIEmbed(&req, body)
	} else {
		chat, parseErr = parseOpenAIChat(&req, body)
	}

	s.answer(w, r, req, func(p plan) int {
		fault := p.fault
		fail := func(code int, message, typ string, ecode any) int {
			writeJSON(w, code, openAIErrorBody(message, typ, ecode))
			return code
		}
		if fault.Status != 0 && fault.AfterChunks == 0 {
			msg, typ, c := openAIDefault(fault.Status)
			if fault.Message != "" {
				msg = fault.Message
			}
			if fault.Code != "" {
				c = fault.Code
			}
			if fault.RetryAfter > 0 {
				w.Header().Set("retry-after-ms", strconv.FormatInt(fault.RetryAfter.Milliseconds(), 10))
			}
			retryAfter(w, fault)
			if opts.EchoKey {
				msg += fmt.Sprintf(" (key %s)", req.Key)
			}
			return fail(fault.Status, msg, typ, errorCode(c))
		}
		if opts.APIKey != "" && req.Key != opts.APIKey {
			msg := "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
			switch {
			case req.Key != "" && opts.EchoKey:
				msg = fmt.Sprintf("Incorrect API key provided: %s. You can find your API key at https://platform.openai.com/account/api-keys.", req.Key)
			case req.Key != "":
				msg = "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."
			}
			return fail(401, msg, "invalid_request_error", "invalid_api_key")
		}
		if r.Method != http.MethodPost || (r.URL.Path != "/v1/chat/completions" && !embeds) {
			return fail(404, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "invalid_request_error", nil)
		}
		if parseErr != nil {
			return fail(400, "We could not parse the JSON body of your request: "+parseErr.Error(), "invalid_request_error", nil)
		}
		if embeds {
			return serveOpenAIEmbed(opts, req, emb, w)
		}
		return serveOpenAIChat(s, opts, req, chat, p, w, r)
	})
}

// parseOpenAIChat reads a chat completions request into req.
func parseOpenAIChat(req *Request, body []byte) (openAIChatRequest, error) {
	var or openAIChatRequest
	err := json.NewDecoder(bytes.NewReader(body)).Decode(&or)
	req.Model, req.Stream = or.Model, or.Stream
	req.MaxOutputTokens = max(or.MaxTokens, or.MaxCompletionTokens)
	req.Temperature = or.Temperature
	var system []string
	for _, m := range or.Messages {
		text := content(m.Content)
		if m.Role == "system" || m.Role == "developer" {
			system = append(system, text)
			continue
		}
		req.Messages = append(req.Messages, Message{Role: m.Role, Text: text})
	}
	req.System = strings.Join(system, "\n\n")
	return or, err
}

// serveOpenAIChat answers a well-formed chat completions request and
// returns the status answered (0 for a hang-up).
func serveOpenAIChat(s *Server, opts *OpenAIOptions, req Request, or openAIChatRequest, p plan, w http.ResponseWriter, r *http.Request) int {
	fault := p.fault
	fail := func(status int, message, typ string, ecode any) int {
		writeJSON(w, status, openAIErrorBody(message, typ, ecode))
		return status
	}
	if or.Model == "" {
		return fail(400, "you must provide a model parameter", "invalid_request_error", nil)
	}
	if len(opts.Models) > 0 && !slices.Contains(opts.Models, or.Model) {
		return fail(404, fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", or.Model), "invalid_request_error", "model_not_found")
	}
	if len(or.Messages) == 0 {
		return fail(400, "[] is too short - 'messages'", "invalid_request_error", nil)
	}

	chunks := p.reply(req)
	promptTokens := req.promptTokens()
	created := time.Now().Unix()
	if !s.wait(r, p.firstDelay) {
		return 0
	}
	if !or.Stream || opts.IgnoreStream {
		text := strings.Join(chunks, "")
		writeJSON(w, http.StatusOK, map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion", "created": created, "model": or.Model,
			"choices": []map[string]any{{"index": 0, "message": map[string]any{"role": "assistant", "content": text}, "finish_reason": opts.FinishReason}},
			"usage":   map[string]any{"prompt_tokens": promptTokens, "completion_tokens": EstimateTokens(text), "total_tokens": promptTokens + EstimateTokens(text)},
		})
		return http.StatusOK
	}
	send := startEvents(w, "\n\n")
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": or.Model,
			"choices": []map[string]any{{"index": 0, "delta": delta, "finish_reason": finish}}}
	}
	send(chunk(map[string]any{"role": "assistant", "content": ""}, nil))
	var sent strings.Builder
	for i, c := range chunks {
		if i > 0 && !s.wait(r, p.chunkDelay) {
			return http.StatusOK
		}
		if fault.AfterChunks > 0 && i == fault.AfterChunks {
			if fault.Hangup {
				hangup(w)
				return 0
			}
			msg, typ, ecode := openAIDefault(fault.Status)
			if fault.Message != "" {
				msg = fault.Message
			}
			send(openAIErrorBody(msg, typ, ecode))
			return http.StatusOK
		}
		sent.WriteString(c)
		send(chunk(map[string]any{"content": c}, nil))
	}
	send(chunk(map[string]any{}, opts.FinishReason))
	if or.StreamOptions != nil && or.StreamOptions.IncludeUsage {
		out := EstimateTokens(sent.String())
		send(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": or.Model,
			"choices": []any{}, "usage": map[string]any{"prompt_tokens": promptTokens, "completion_tokens": out, "total_tokens": promptTokens + out}})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	return http.StatusOK
}
