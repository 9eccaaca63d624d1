package embedtest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
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
	// Dimension is the model's vector length (default 384).
	Dimension int
	// Models, if set, are the only models served (others get 404
	// model_not_found).
	Models []string
	// RejectDimensions answers a "dimensions" parameter with a 400, as
	// servers of models without Matryoshka training do; otherwise vectors
	// are cut to it and re-normalised, as OpenAI does.
	RejectDimensions bool
	// Reverse returns the data in reverse order (clients must sort by
	// index).
	Reverse bool
	// Base64 answers with base64 float32s whatever encoding_format says.
	Base64 bool
	// Faults are answered, in order, by the first requests.
	Faults []Fault
	// Delay is waited before every answer.
	Delay time.Duration
	// EchoKey makes error messages quote the presented key, as OpenAI's
	// "Incorrect API key provided: ..." does, to check that clients redact it.
	EchoKey bool
	// Transform may alter successful answers.
	Transform Transform
}

// NewOpenAIServer starts a fake OpenAI-compatible server on 127.0.0.1,
// closed when the test ends:
//
//	POST /v1/embeddings  {"model":...,"input":[...] or "...","encoding_format":"float"}
//	  → {"object":"list","data":[{"object":"embedding","index":0,"embedding":[...]}],
//	     "model":...,"usage":{"prompt_tokens":n,"total_tokens":n}}
//
// Errors have OpenAI's shape {"error":{"message":...,"type":...,"param":null,"code":...}}.
// The vector of a text is Vector(text, Dimension).
func NewOpenAIServer(t testing.TB, opts OpenAIOptions) *Server {
	t.Helper()
	if opts.Dimension == 0 {
		opts.Dimension = 384
	}
	return newServer(t, func(s *Server, w http.ResponseWriter, r *http.Request) {
		serveOpenAI(s, &opts, w, r)
	}, opts.Faults, opts.Delay)
}

type openAIRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
	User           string          `json:"user"`
}

type openAIDatum struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

func openAIError(w http.ResponseWriter, code int, typ, errCode, message string) {
	if typ == "" {
		switch {
		case code == 429:
			typ = "requests"
		case code >= 500:
			typ = "server_error"
		default:
			typ = "invalid_request_error"
		}
	}
	var c any
	if errCode != "" {
		c = errCode
	}
	writeJSON(w, code, map[string]any{"error": map[string]any{
		"message": message, "type": typ, "param": nil, "code": c,
	}})
}

func serveOpenAI(s *Server, opts *OpenAIOptions, w http.ResponseWriter, r *http.Request) {
	req := Request{Path: r.URL.Path, Method: "embeddings"}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		req.Key = tok
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	var in openAIRequest
	parseErr := json.Unmarshal(body, &in)
	if parseErr == nil {
		req.Model, req.EncodingFormat = in.Model, in.EncodingFormat
		if in.Dimensions != nil {
			req.Dimensions = []int{*in.Dimensions}
		}
		var one string
		if json.Unmarshal(in.Input, &one) == nil {
			req.Texts = []string{one}
		} else if err := json.Unmarshal(in.Input, &req.Texts); err != nil {
			parseErr = fmt.Errorf("'input' must be a string or an array of strings")
		}
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
	fail := func(code int, typ, errCode, msg string) {
		status = code
		openAIError(w, code, typ, errCode, msg)
	}
	echo := ""
	if opts.EchoKey {
		echo = " " + req.Key
	}

	if fault.Status != 0 {
		if fault.RetryAfter > 0 {
			w.Header().Set("retry-after-ms", strconv.FormatInt(fault.RetryAfter.Milliseconds(), 10))
		}
		retryAfterSeconds(w, fault)
		msg := fault.Message
		if msg == "" {
			switch fault.Status {
			case 429:
				msg = "Rate limit reached for requests. Please try again later."
			case 500:
				msg = "The server had an error while processing your request. Sorry about that!"
			case 503:
				msg = "The engine is currently overloaded, please try again later."
			default:
				msg = http.StatusText(fault.Status)
			}
		}
		fail(fault.Status, "", fault.Code, msg+echo)
		return
	}
	if opts.APIKey != "" && req.Key != opts.APIKey {
		msg := "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
		if req.Key != "" {
			msg = "Incorrect API key provided:" + echo + ". You can find your API key at https://platform.openai.com/account/api-keys."
		}
		fail(401, "invalid_request_error", "invalid_api_key", msg)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		fail(404, "invalid_request_error", "", fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path))
		return
	}
	if parseErr != nil {
		fail(400, "invalid_request_error", "", "We could not parse the JSON body of your request: "+parseErr.Error())
		return
	}
	if in.Model == "" || (len(opts.Models) > 0 && !slices.Contains(opts.Models, in.Model)) {
		fail(404, "invalid_request_error", "model_not_found", fmt.Sprintf("The model `%s` does not exist or you do not have access to it.", in.Model))
		return
	}
	if len(req.Texts) == 0 || len(req.Texts) > 2048 {
		fail(400, "invalid_request_error", "", "'input' must have between 1 and 2048 items")
		return
	}
	for i, t := range req.Texts {
		if t == "" {
			fail(400, "invalid_request_error", "", fmt.Sprintf("'$.input[%d]' is invalid: empty string", i))
			return
		}
	}
	if in.EncodingFormat != "" && in.EncodingFormat != "float" && in.EncodingFormat != "base64" {
		fail(400, "invalid_request_error", "", fmt.Sprintf("%q is not one of ['float', 'base64'] - 'encoding_format'", in.EncodingFormat))
		return
	}
	dim := opts.Dimension
	if in.Dimensions != nil {
		if opts.RejectDimensions {
			fail(400, "invalid_request_error", "", fmt.Sprintf("Model %s does not support matryoshka representation, changing output dimensions will lead to poor results.", in.Model))
			return
		}
		if *in.Dimensions < 1 || *in.Dimensions > opts.Dimension {
			fail(400, "invalid_request_error", "", fmt.Sprintf("'dimensions' must be between 1 and %d", opts.Dimension))
			return
		}
		dim = *in.Dimensions
	}

	vecs := make([][]float32, len(req.Texts))
	for i, t := range req.Texts {
		v := Vector(t, opts.Dimension)
		if dim < len(v) {
			v = Normalized(v[:dim])
		}
		vecs[i] = v
	}
	if opts.Transform != nil {
		vecs = opts.Transform(req, vecs)
	}
	data := make([]openAIDatum, len(vecs))
	tokens := 0
	for i, v := range vecs {
		var emb any = v
		if opts.Base64 || in.EncodingFormat == "base64" {
			b := make([]byte, 4*len(v))
			for j, x := range v {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(x))
			}
			emb = base64.StdEncoding.EncodeToString(b)
		}
		data[i] = openAIDatum{Object: "embedding", Index: i, Embedding: emb}
	}
	for _, t := range req.Texts {
		tokens += len(strings.Fields(t))
	}
	if opts.Reverse {
		slices.Reverse(data)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list",
		"data":   data,
		"model":  in.Model,
		"usage":  map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}
