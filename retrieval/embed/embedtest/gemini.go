package embedtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// GeminiOptions configures NewGeminiServer.
type GeminiOptions struct {
	// APIKey is the only key accepted; empty accepts any non-empty key.
	// A wrong key gets Gemini's 400 INVALID_ARGUMENT / API_KEY_INVALID, a
	// missing one 403 PERMISSION_DENIED.
	APIKey string
	// NativeDimension is the model's full vector length (default 3072, as
	// gemini-embedding-001); outputDimensionality keeps a prefix of it.
	NativeDimension int
	// Models, if set, are the only models served (others get 404).
	Models []string
	// MaxBatch is the most requests one batchEmbedContents accepts
	// (default 100, as the real API).
	MaxBatch int
	// Faults are answered, in order, by the first requests.
	Faults []Fault
	// Delay is waited before every answer.
	Delay time.Duration
	// EchoKey makes error messages quote the presented key, to check that
	// clients redact it.
	EchoKey bool
	// Transform may alter successful answers.
	Transform Transform
}

// NewGeminiServer starts a fake Gemini API on 127.0.0.1, closed when the
// test ends. It serves, under API versions v1beta (the genai SDK's
// default) and v1:
//
//	POST /v1beta/models/{model}:batchEmbedContents
//	  {"requests":[{"model":"models/{model}","content":{"parts":[{"text":...}]},
//	    "taskType":"RETRIEVAL_DOCUMENT","outputDimensionality":768}, ...]}
//	  → {"embeddings":[{"values":[...]}, ...]}
//	POST /v1beta/models/{model}:embedContent
//	  {"content":{...},"taskType":...,"outputDimensionality":...}
//	  → {"embedding":{"values":[...]}}
//
// authenticated by the x-goog-api-key header (or ?key=). Errors have
// Gemini's shape {"error":{"code":429,"message":...,"status":"RESOURCE_EXHAUSTED","details":[...]}}.
// The vector of a text is Vector(text, NativeDimension) cut to
// outputDimensionality (so not unit length when cut).
func NewGeminiServer(t testing.TB, opts GeminiOptions) *Server {
	t.Helper()
	if opts.NativeDimension == 0 {
		opts.NativeDimension = 3072
	}
	if opts.MaxBatch == 0 {
		opts.MaxBatch = 100
	}
	return newServer(t, func(s *Server, w http.ResponseWriter, r *http.Request) {
		serveGemini(s, &opts, w, r)
	}, opts.Faults, opts.Delay)
}

type geminiPart struct {
	Text string `json:"text"`
}

type geminiContent struct {
	Parts []geminiPart `json:"parts"`
	Role  string       `json:"role,omitempty"`
}

type geminiEmbedRequest struct {
	Model                string         `json:"model,omitempty"`
	Content              *geminiContent `json:"content"`
	TaskType             string         `json:"taskType,omitempty"`
	Title                string         `json:"title,omitempty"`
	OutputDimensionality *int           `json:"outputDimensionality,omitempty"`
}

type geminiBatchRequest struct {
	Requests []geminiEmbedRequest `json:"requests"`
}

type geminiEmbedding struct {
	Values []float32 `json:"values"`
}

var geminiTaskTypes = []string{
	"TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY",
	"CLASSIFICATION", "CLUSTERING", "QUESTION_ANSWERING", "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY",
}

func geminiStatus(code int) string {
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
		return "Resource has been exhausted (e.g. check quota)."
	case 500:
		return "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
	case 503:
		return "The model is overloaded. Please try again later."
	case 504:
		return "The request timed out. Please try again."
	}
	return http.StatusText(code)
}

func geminiError(w http.ResponseWriter, code int, status, message string, details ...map[string]any) {
	if status == "" {
		status = geminiStatus(code)
	}
	if message == "" {
		message = geminiMessage(code)
	}
	body := map[string]any{"code": code, "message": message, "status": status}
	if len(details) > 0 {
		body["details"] = details
	}
	writeJSON(w, code, map[string]any{"error": body})
}

func serveGemini(s *Server, opts *GeminiOptions, w http.ResponseWriter, r *http.Request) {
	req := Request{Path: r.URL.Path, Key: r.Header.Get("x-goog-api-key")}
	if req.Key == "" {
		req.Key = r.URL.Query().Get("key")
	}
	// /{version}/models/{model}:{method}
	var version, rest string
	path := strings.TrimPrefix(r.URL.Path, "/")
	version, rest, _ = strings.Cut(path, "/")
	rest, okModels := strings.CutPrefix(rest, "models/")
	model, method, okMethod := strings.Cut(rest, ":")
	req.Model, req.Method = model, method

	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	var batch geminiBatchRequest
	var parseErr error
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	switch method {
	case "batchEmbedContents":
		parseErr = dec.Decode(&batch)
	case "embedContent":
		var one geminiEmbedRequest
		parseErr = dec.Decode(&one)
		batch.Requests = []geminiEmbedRequest{one}
	}
	for _, e := range batch.Requests {
		var text []string
		if e.Content != nil {
			for _, p := range e.Content.Parts {
				text = append(text, p.Text)
			}
		}
		req.Texts = append(req.Texts, strings.Join(text, " "))
		req.TaskTypes = append(req.TaskTypes, e.TaskType)
		d := 0
		if e.OutputDimensionality != nil {
			d = *e.OutputDimensionality
		}
		req.Dimensions = append(req.Dimensions, d)
	}

	idx, fault, delay := s.begin(req)
	if !s.wait(r, delay+fault.Delay) {
		return
	}
	if fault.Hangup {
		hangup(w)
		return
	}
	status := http.StatusOK
	defer func() { s.setStatus(idx, status) }()
	fail := func(code int, st, msg string, details ...map[string]any) {
		status = code
		geminiError(w, code, st, msg, details...)
	}
	echo := ""
	if opts.EchoKey {
		echo = fmt.Sprintf(" (key %q)", req.Key)
	}

	if fault.Status != 0 {
		var details []map[string]any
		if fault.RetryAfter > 0 {
			details = append(details, map[string]any{
				"@type":      "type.googleapis.com/google.rpc.RetryInfo",
				"retryDelay": fmt.Sprintf("%.3fs", fault.RetryAfter.Seconds()),
			})
		}
		retryAfterSeconds(w, fault)
		msg := fault.Message
		if msg == "" {
			msg = geminiMessage(fault.Status)
		}
		fail(fault.Status, fault.Code, msg+echo, details...)
		return
	}

	switch {
	case req.Key == "":
		fail(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
		return
	case opts.APIKey != "" && req.Key != opts.APIKey:
		fail(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key."+echo, map[string]any{
			"@type":    "type.googleapis.com/google.rpc.ErrorInfo",
			"reason":   "API_KEY_INVALID",
			"domain":   "googleapis.com",
			"metadata": map[string]any{"service": "generativelanguage.googleapis.com"},
		})
		return
	}

	if r.Method != http.MethodPost || (version != "v1beta" && version != "v1") || !okModels || !okMethod ||
		(method != "batchEmbedContents" && method != "embedContent") {
		fail(404, "NOT_FOUND", fmt.Sprintf("%s %s is not served.", r.Method, r.URL.Path))
		return
	}
	if len(opts.Models) > 0 && !slices.Contains(opts.Models, model) {
		fail(404, "NOT_FOUND", fmt.Sprintf("models/%s is not found for API version %s, or is not supported for %s. Call ListModels to see the list of available models and their supported methods.", model, version, method))
		return
	}
	if parseErr != nil {
		fail(400, "INVALID_ARGUMENT", "Invalid JSON payload received. "+parseErr.Error())
		return
	}
	if method == "batchEmbedContents" && len(batch.Requests) == 0 {
		fail(400, "INVALID_ARGUMENT", "* BatchEmbedContentsRequest.requests: contents is not specified")
		return
	}
	if len(batch.Requests) > opts.MaxBatch {
		fail(400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests: at most %d requests can be in one batch", opts.MaxBatch))
		return
	}
	for i, e := range batch.Requests {
		if method == "batchEmbedContents" && e.Model != "models/"+model {
			fail(400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].model: the model in the request (%q) must match the model in the URL (%q)", i, e.Model, "models/"+model))
			return
		}
		if strings.TrimSpace(req.Texts[i]) == "" {
			fail(400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].content.parts[0].data: required oneof field 'data' must have one initialized field", i))
			return
		}
		if e.TaskType != "" && !slices.Contains(geminiTaskTypes, e.TaskType) {
			fail(400, "INVALID_ARGUMENT", fmt.Sprintf("Invalid value at 'requests[%d].task_type' (type.googleapis.com/google.ai.generativelanguage.v1beta.TaskType), %q", i, e.TaskType))
			return
		}
		if d := req.Dimensions[i]; d < 0 || d > opts.NativeDimension {
			fail(400, "INVALID_ARGUMENT", fmt.Sprintf("* BatchEmbedContentsRequest.requests[%d].output_dimensionality: must be between 1 and %d", i, opts.NativeDimension))
			return
		}
	}

	vecs := make([][]float32, len(req.Texts))
	for i, text := range req.Texts {
		v := Vector(text, opts.NativeDimension)
		if d := req.Dimensions[i]; d > 0 {
			v = v[:d]
		}
		vecs[i] = v
	}
	if opts.Transform != nil {
		vecs = opts.Transform(req, vecs)
	}
	if method == "embedContent" {
		var v []float32
		if len(vecs) > 0 {
			v = vecs[0]
		}
		writeJSON(w, http.StatusOK, map[string]any{"embedding": geminiEmbedding{Values: v}})
		return
	}
	out := make([]geminiEmbedding, len(vecs))
	for i, v := range vecs {
		out[i] = geminiEmbedding{Values: v}
	}
	writeJSON(w, http.StatusOK, map[string]any{"embeddings": out})
}
