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

// GeminiOptions configures NewGeminiServer.
type GeminiOptions struct {
	// APIKey is the only key accepted; empty accepts any non-empty key. A
	// wrong key gets Gemini's 400 INVALID_ARGUMENT / API_KEY_INVALID, a
	// missing one 403 PERMISSION_DENIED.
	APIKey string
	// Models, if set, are the only models served (others get 404).
	Models []string
	// Faults are answered, in order, by the first requests.
	Faults []Fault
	// Delay is waited before every answer.
	Delay time.Duration
	// EchoKey makes error messages quote the presented key, to check that
	// clients redact it.
	EchoKey bool

	// Reply scripts the chat answers (default EchoReply).
	Reply Reply
	// FinishReason ends every chat answer (default "STOP").
	FinishReason string
	// ChunkDelay is waited between chunks; FirstChunkDelay before the first.
	ChunkDelay      time.Duration
	FirstChunkDelay time.Duration

	// NativeDimension is the embedding model's full vector length (default
	// 3072, as gemini-embedding-001); outputDimensionality keeps a prefix
	// of it.
	NativeDimension int
	// MaxBatch is the most requests one batchEmbedContents accepts
	// (default 100, as the real API).
	MaxBatch int
	// Transform may alter successful embedding answers.
	Transform Transform
}

// NewGeminiServer starts a fake Gemini API on 127.0.0.1, closed when the
// test ends. It serves, under API versions v1beta (the genai SDK's
// default) and v1:
//
//	POST /v1beta/models/{model}:generateContent
//	POST /v1beta/models/{model}:streamGenerateContent?alt=sse
//	  {"contents":[{"role":"user","parts":[{"text":...}]}, ...],
//	   "systemInstruction":{"parts":[{"text":...}]},
//	   "generationConfig":{"maxOutputTokens":800,"temperature":0.2,...}}
//	  → GenerateContentResponse JSON, or for the stream "data: {...}\r\n\r\n"
//	    events, each with candidates[0].content.parts[].text; the last one
//	    with finishReason and usageMetadata.
//	POST /v1beta/models/{model}:batchEmbedContents
//	  {"requests":[{"model":"models/{model}","content":{"parts":[{"text":...}]},
//	    "taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":768}, ...]}
//	  → {"embeddings":[{"values":[...]}, ...]}
//	POST /v1beta/models/{model}:embedContent
//	  {"content":{...},"taskType":...,"outputDimensionality":...}
//	  → {"embedding":{"values":[...]}}
//
// authenticated by the x-goog-api-key header (or ?key=). Errors have
// Google's shape {"error":{"code":429,"message":...,"status":"RESOURCE_EXHAUSTED","details":[...]}}.
// The vector of a text is Vector(text, NativeDimension) cut to
// outputDimensionality (so not unit length when cut).
func NewGeminiServer(t testing.TB, opts GeminiOptions) *Server {
	t.Helper()
	if opts.FinishReason == "" {
		opts.FinishReason = "STOP"
	}
	if opts.NativeDimension == 0 {
		opts.NativeDimension = 3072
	}
	if opts.MaxBatch == 0 {
		opts.MaxBatch = 100
	}
	return newServer(t, func(s *Server, w http.ResponseWriter, r *http.Request) {
		serveGemini(s, &opts, w, r)
	}, opts.Reply, opts.Faults, timing{delay: opts.Delay, chunkDelay: opts.ChunkDelay, firstDelay: opts.FirstChunkDelay})
}

type geminiPart struct {
	Text    string `json:"text,omitempty"`
	Thought bool   `json:"thought,omitempty"`
}

type geminiContent struct {
	Role  string       `json:"role,omitempty"`
	Parts []geminiPart `json:"parts"`
}

type geminiRequest struct {
	Contents          []geminiContent `json:"contents"`
	SystemInstruction *geminiContent  `json:"systemInstruction,omitempty"`
	GenerationConfig  *struct {
		MaxOutputTokens int      `json:"maxOutputTokens,omitempty"`
		Temperature     *float64 `json:"temperature,omitempty"`
	} `json:"generationConfig,omitempty"`
}

// GeminiStatus is Google's status name of an HTTP code.
func GeminiStatus(code int) string {
	switch code {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case 500:
		return "INTERNAL"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	return "UNKNOWN"
}

func geminiMessage(code int) string {
	switch code {
	case 400:
		return "Request contains an invalid argument."
	case 429:
		return "You exceeded your current quota, please check your plan and billing details."
	case 500:
		return "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
	case 503:
		return "The model is overloaded. Please try again later."
	case 504:
		return "The request timed out. Please try again."
	}
	return http.StatusText(code)
}

func geminiErrorBody(code int, status, message string, details ...map[string]any) map[string]any {
	if status == "" {
		status = GeminiStatus(code)
	}
	if message == "" {
		message = geminiMessage(code)
	}
	body := map[string]any{"code": code, "message": message, "status": status}
	if len(details) > 0 {
		body["details"] = details
	}
	return map[string]any{"error": body}
}

// geminiMethods are the methods served, by whether they embed.
var geminiMethods = map[string]bool{
	"generateContent": false, "streamGenerateContent": false,
	"batchEmbedContents": true, "embedContent": true,
}

func serveGemini(s *Server, opts *GeminiOptions, w http.ResponseWriter, r *http.Request) {
	req := Request{Path: r.URL.Path, Key: r.Header.Get("x-goog-api-key")}
	if req.Key == "" {
		req.Key = r.URL.Query().Get("key")
	}
	// /{version}/models/{model}:{method}
	path := strings.TrimPrefix(r.URL.Path, "/")
	version, rest, _ := strings.Cut(path, "/")
	rest, okModels := strings.CutPrefix(rest, "models/")
	model, method, okMethod := strings.Cut(rest, ":")
	req.Model, req.Method = model, method

	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	req.Body = body
	embeds, served := geminiMethods[method]
	var batch geminiBatchRequest
	var parseErr error
	if embeds {
		batch, parseErr = parseGeminiEmbed(&req, body)
	} else {
		parseErr = parseGeminiGenerate(&req, body)
	}

	s.answer(w, r, req, func(p plan) int {
		fault := p.fault
		fail := func(code int, st, msg string, details ...map[string]any) int {
			writeJSON(w, code, geminiErrorBody(code, st, msg, details...))
			return code
		}
		echo := ""
		if opts.EchoKey {
			echo = fmt.Sprintf(" (key %q)", req.Key)
		}
		if fault.Status != 0 && fault.AfterChunks == 0 {
			var details []map[string]any
			if fault.RetryAfter > 0 {
				details = append(details, map[string]any{
					"@type":      "type.googleapis.com/google.rpc.RetryInfo",
					"retryDelay": strconv.FormatFloat(fault.RetryAfter.Seconds(), 'f', -1, 64) + "s",
				})
			}
			retryAfter(w, fault)
			msg := fault.Message
			if msg == "" {
				msg = geminiMessage(fault.Status)
			}
			return fail(fault.Status, fault.Code, msg+echo, details...)
		}
		switch {
		case req.Key == "":
			return fail(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
		case opts.APIKey != "" && req.Key != opts.APIKey:
			return fail(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."+echo, map[string]any{
				"@type":    "type.googleapis.com/google.rpc.ErrorInfo",
				"reason":   "API_KEY_INVALID",
				"domain":   "googleapis.com",
				"metadata": map[string]any{"service": "generativelanguage.googleapis.com"},
			})
		}
		if r.Method != http.MethodPost || (version != "v1beta" && version != "v1") || !okModels || !okMethod || !served {
			return fail(404, "NOT_FOUND", fmt.Sprintf("%s %s is not served.", r.Method, r.URL.Path))
		}
		if method == "streamGenerateContent" && r.URL.Query().Get("alt") != "sse" {
			return fail(400, "INVALID_ARGUMENT", "this fake streams server-sent events only: add alt=sse")
		}
		if len(opts.Models) > 0 && !slices.Contains(opts.Models, model) {
			return fail(404, "NOT_FOUND", fmt.Sprintf("models/%s is not found for API version %s, or is not supported for %s. Call ListModels to see the list of available models and their supported methods.", model, version, method))
		}
		if parseErr != nil {
			return fail(400, "INVALID_ARGUMENT", "Invalid JSON payload received. "+parseErr.Error())
		}
		if embeds {
			return serveGeminiEmbed(opts, req, batch, w)
		}
		return serveGeminiGenerate(s, opts, req, p, w, r)
	})
}

// parseGeminiGenerate reads a generateContent request into req.
func parseGeminiGenerate(req *Request, body []byte) error {
	req.Stream = req.Method == "streamGenerateContent"
	var gr geminiRequest
	err := json.NewDecoder(bytes.NewReader(body)).Decode(&gr)
	if gr.SystemInstruction != nil {
		req.System = joinParts(gr.SystemInstruction.Parts)
	}
	for _, c := range gr.Contents {
		req.Messages = append(req.Messages, Message{Role: c.Role, Text: joinParts(c.Parts)})
	}
	if gc := gr.GenerationConfig; gc != nil {
		req.MaxOutputTokens = gc.MaxOutputTokens
		req.Temperature = gc.Temperature
	}
	return err
}

// serveGeminiGenerate answers a valid generateContent request and returns
// the status answered (0 for a hang-up).
func serveGeminiGenerate(s *Server, opts *GeminiOptions, req Request, p plan, w http.ResponseWriter, r *http.Request) int {
	fault := p.fault
	fail := func(code int, st, msg string) int {
		writeJSON(w, code, geminiErrorBody(code, st, msg))
		return code
	}
	if len(req.Messages) == 0 {
		return fail(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified")
	}
	for i, m := range req.Messages {
		if m.Role != "" && m.Role != "user" && m.Role != "model" {
			return fail(400, "INVALID_ARGUMENT", fmt.Sprintf("* GenerateContentRequest.contents[%d].role: Please use a valid role: user, model.", i))
		}
	}

	chunks := p.reply(req)
	promptTokens := req.promptTokens()
	usage := func(out string) map[string]any {
		o := EstimateTokens(out)
		return map[string]any{"promptTokenCount": promptTokens, "candidatesTokenCount": o, "totalTokenCount": promptTokens + o}
	}
	candidate := func(text string, finish bool) map[string]any {
		c := map[string]any{"content": map[string]any{"role": "model", "parts": []map[string]any{{"text": text}}}, "index": 0}
		if finish {
			c["finishReason"] = opts.FinishReason
		}
		return c
	}

	if !s.wait(r, p.firstDelay) {
		return 0
	}
	if !req.Stream {
		text := strings.Join(chunks, "")
		writeJSON(w, http.StatusOK, map[string]any{
			"candidates":    []map[string]any{candidate(text, true)},
			"usageMetadata": usage(text),
			"modelVersion":  req.Model,
			"responseId":    "fake-response",
		})
		return http.StatusOK
	}

	send := startEvents(w, "\r\n\r\n")
	var sent strings.Builder
	if len(chunks) == 0 {
		chunks = []string{""}
	}
	for i, c := range chunks {
		if i > 0 && !s.wait(r, p.chunkDelay) {
			return http.StatusOK
		}
		if fault.AfterChunks > 0 && i == fault.AfterChunks {
			if fault.Hangup {
				hangup(w)
				return 0
			}
			send(geminiErrorBody(fault.Status, fault.Code, fault.Message))
			return http.StatusOK
		}
		sent.WriteString(c)
		last := i == len(chunks)-1
		ev := map[string]any{"candidates": []map[string]any{candidate(c, last)}, "modelVersion": req.Model, "responseId": "fake-response"}
		if last {
			ev["usageMetadata"] = usage(sent.String())
		}
		send(ev)
	}
	return http.StatusOK
}

func joinParts(ps []geminiPart) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Text)
	}
	return b.String()
}
