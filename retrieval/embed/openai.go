package embed

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"concierge/provider"
	"concierge/retrieval"
)

// DefaultOpenAIBatchSize is how many inputs go in one request by default.
const DefaultOpenAIBatchSize = 64

// maxOpenAIResponse bounds a response body (64 inputs × 4096 floats is
// about 6 MB of JSON).
const maxOpenAIResponse = 256 << 20

// OpenAIConfig configures an OpenAI-compatible embeddings endpoint
// (OpenAI, Ollama, vLLM, llama.cpp's server, LocalAI, ...).
type OpenAIConfig struct {
	// BaseURL is the server's root, e.g. "http://127.0.0.1:11434" (Ollama)
	// or "https://api.openai.com"; requests go to {BaseURL}/v1/embeddings.
	// A BaseURL already ending in "/v1" is accepted as is. Required.
	BaseURL string
	// APIKey, if set, is sent as "Authorization: Bearer <key>". It never
	// appears in errors.
	APIKey string
	// Model is the model name the server knows. Required.
	Model string
	// Dimension is the expected vector length; 0 learns it from the first
	// response, after which it is fixed.
	Dimension int
	// SendDimensions sends Dimension as the "dimensions" parameter, asking
	// the server to shorten vectors (OpenAI's text-embedding-3 models and
	// other Matryoshka models; servers for other models reject it).
	SendDimensions bool
	// BatchSize is how many texts go in one request (default 64).
	BatchSize int
	// Timeout bounds each HTTP attempt (default 30s); the caller's context
	// bounds the whole call, retries included.
	Timeout time.Duration
	// MaxRetries is how many times a transient failure (429, 5xx, network)
	// is retried (0 means the default, 4; negative means never).
	MaxRetries int
	// RetryBaseDelay and RetryMaxDelay shape the exponential backoff
	// (defaults 500ms and 20s). A server's Retry-After wins when longer.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// HTTPClient carries the requests (default: a new http.Client).
	HTTPClient *http.Client
}

// OpenAI embeds text through an OpenAI-compatible POST /v1/embeddings.
// Vectors come back L2-normalised, in input order.
type OpenAI struct {
	endpoint string
	key      string
	model    string
	sendDim  bool
	batch    int
	retry    retryPolicy
	http     *http.Client

	mu  sync.RWMutex
	dim int // 0 until learned
}

var _ retrieval.Embedder = (*OpenAI)(nil)

// NewOpenAI returns an embedder for an OpenAI-compatible server. It does
// not call the server.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	base := strings.TrimSpace(cfg.BaseURL)
	if base == "" {
		return nil, errors.New("openai embeddings: a base URL is required")
	}
	endpoint, err := provider.OpenAIEndpoint(base, "/embeddings")
	if err != nil {
		return nil, fmt.Errorf("openai embeddings: %w", err)
	}

	model := strings.TrimSpace(cfg.Model)
	if model == "" {
		return nil, errors.New("openai embeddings: a model is required")
	}
	if cfg.Dimension < 0 {
		return nil, fmt.Errorf("openai embeddings: negative dimension %d", cfg.Dimension)
	}
	if cfg.SendDimensions && cfg.Dimension == 0 {
		return nil, errors.New("openai embeddings: SendDimensions needs a Dimension")
	}
	batch := cfg.BatchSize
	if batch == 0 {
		batch = DefaultOpenAIBatchSize
	}
	if batch < 1 || batch > 2048 {
		return nil, fmt.Errorf("openai embeddings: batch size %d out of range 1..2048", batch)
	}
	client := cfg.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	return &OpenAI{
		endpoint: endpoint,
		key:      strings.TrimSpace(cfg.APIKey),
		model:    model,
		sendDim:  cfg.SendDimensions,
		batch:    batch,
		retry:    newRetryPolicy("openai", cfg.Timeout, cfg.MaxRetries, cfg.RetryBaseDelay, cfg.RetryMaxDelay),
		http:     client,
		dim:      cfg.Dimension,
	}, nil
}

// Name is "openai/<model>".
func (o *OpenAI) Name() string { return "openai/" + o.model }

// Dimension is the configured or learned dimension, 0 before the first
// response when none was configured (see Probe).
func (o *OpenAI) Dimension() int {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.dim
}

// Endpoint is the URL requests go to.
func (o *OpenAI) Endpoint() string { return o.endpoint }

// Probe makes sure the dimension is known, embedding a short text if it
// was neither configured nor learned yet, and returns it.
func (o *OpenAI) Probe(ctx context.Context) (int, error) {
	if d := o.Dimension(); d > 0 {
		return d, nil
	}
	if _, err := o.Embed(ctx, []string{"dimension probe"}, retrieval.KindQuery); err != nil {
		return 0, err
	}
	return o.Dimension(), nil
}

// Embed returns one unit vector per text, in order, sending BatchSize
// texts per request. The kind is ignored: the OpenAI API has no task type.
func (o *OpenAI) Embed(ctx context.Context, texts []string, kind retrieval.Kind) ([][]float32, error) {
	if kind != retrieval.KindDocument && kind != retrieval.KindQuery {
		return nil, fmt.Errorf("openai embeddings: unknown kind %d", kind)
	}
	if err := checkTexts("openai", texts); err != nil {
		return nil, err
	}
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += o.batch {
		end := min(start+o.batch, len(texts))
		vecs, err := o.embedBatch(ctx, texts[start:end])
		if err != nil {
			return nil, batchError(err, start, end, len(texts))
		}
		out = append(out, vecs...)
	}
	return out, nil
}

type openAIRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     int      `json:"dimensions,omitempty"`
}

type openAIResponse struct {
	Data []struct {
		Index     *int            `json:"index"`
		Embedding json.RawMessage `json:"embedding"`
	} `json:"data"`
}

func (o *OpenAI) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	req := openAIRequest{Model: o.model, Input: texts, EncodingFormat: "float"}
	if o.sendDim {
		req.Dimensions = o.Dimension()
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("openai embeddings: encoding the request: %w", err)
	}
	var vecs [][]float32
	err = o.retry.do(ctx, func(ctx context.Context) error {
		var err error
		vecs, err = o.post(ctx, body, len(texts))
		return err
	})
	return vecs, err
}

// post makes one attempt.
func (o *OpenAI) post(ctx context.Context, body []byte, n int) ([][]float32, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("openai embeddings: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if o.key != "" {
		req.Header.Set("Authorization", "Bearer "+o.key)
	}
	resp, err := o.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &RemoteError{Provider: "openai", Temporary: true, Message: provider.Redact(err.Error(), o.key), cause: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, o.httpError(resp)
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxOpenAIResponse+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &RemoteError{Provider: "openai", Temporary: true, Message: "reading the response: " + err.Error(), cause: err}
	}
	if len(raw) > maxOpenAIResponse {
		return nil, fmt.Errorf("openai embeddings: response over %d bytes", maxOpenAIResponse)
	}
	var parsed openAIResponse
	if err := json.Unmarshal(raw, &parsed); err != nil {
		return nil, fmt.Errorf("openai embeddings: the server's answer is not an embeddings response: %v", err)
	}
	return o.vectors(parsed, n)
}

// vectors validates a response, orders it by index, learns or checks the
// dimension and normalises.
func (o *OpenAI) vectors(resp openAIResponse, n int) ([][]float32, error) {
	if len(resp.Data) != n {
		return nil, fmt.Errorf("openai embeddings: the server returned %d embeddings for %d texts", len(resp.Data), n)
	}
	out := make([][]float32, n)
	dim := 0
	for pos, d := range resp.Data {
		i := pos
		if d.Index != nil {
			i = *d.Index
		}
		if i < 0 || i >= n || out[i] != nil {
			return nil, fmt.Errorf("openai embeddings: the server returned a bad or repeated index %d", i)
		}
		v, err := decodeEmbedding(d.Embedding)
		if err != nil {
			return nil, fmt.Errorf("openai embeddings: embedding %d: %w", i, err)
		}
		if dim == 0 {
			dim = len(v)
		} else if len(v) != dim {
			return nil, fmt.Errorf("openai embeddings: %w: embeddings of %d and %d dimensions in one response", retrieval.ErrDimensionMismatch, dim, len(v))
		}
		if v, err = normalized(v); err != nil {
			return nil, fmt.Errorf("openai embeddings: embedding %d: %w", i, err)
		}
		out[i] = v
	}
	if err := o.fixDimension(dim); err != nil {
		return nil, err
	}
	return out, nil
}

// fixDimension learns the dimension from the first response and enforces
// it afterwards.
func (o *OpenAI) fixDimension(dim int) error {
	if dim == 0 {
		return nil
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.dim == 0 {
		o.dim = dim
		return nil
	}
	if o.dim != dim {
		return fmt.Errorf("openai embeddings: %w: model %q returned %d dimensions, want %d", retrieval.ErrDimensionMismatch, o.model, dim, o.dim)
	}
	return nil
}

// decodeEmbedding reads a float array or, from servers that ignore
// encoding_format, base64 little-endian float32s.
func decodeEmbedding(raw json.RawMessage) ([]float32, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("missing embedding")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b)%4 != 0 {
			return nil, errors.New("embedding is neither a float array nor base64 float32s")
		}
		v := make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return v, nil
	}
	var v []float32
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("embedding is not a float array: %v", err)
	}
	return v, nil
}

// openAIErrorBody covers OpenAI's {"error":{"message","type","code"}},
// llama.cpp's (same, numeric code) and Ollama's {"error":"..."}.
type openAIErrorBody struct {
	Error json.RawMessage `json:"error"`
}

type openAIErrorDetail struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    any    `json:"code"`
}

func (o *OpenAI) httpError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	re := &RemoteError{
		Provider:   "openai",
		StatusCode: resp.StatusCode,
		RetryAfter: retryAfter(resp.Header, time.Now()),
	}
	var code string
	var body openAIErrorBody
	if json.Unmarshal(raw, &body) == nil && len(body.Error) > 0 {
		var detail openAIErrorDetail
		var s string
		switch {
		case json.Unmarshal(body.Error, &s) == nil:
			re.Message = s
		case json.Unmarshal(body.Error, &detail) == nil:
			re.Message = detail.Message
			if detail.Code != nil {
				code = fmt.Sprint(detail.Code)
			}
			re.Status = detail.Type
			if code != "" && code != re.Status && code != fmt.Sprint(resp.StatusCode) {
				re.Status = strings.TrimSpace(re.Status + " " + code)
			}
		}
	}
	if re.Message == "" {
		re.Message = strings.TrimSpace(string(raw))
		if len(re.Message) > 300 {
			re.Message = re.Message[:300] + "…"
		}
	}
	re.Message = provider.Redact(re.Message, o.key)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden ||
		code == "invalid_api_key":
		re.Auth = true
	case code == "insufficient_quota":
		// A 429 that waiting does not fix.
	default:
		re.Temporary = isTransientStatus(resp.StatusCode)
	}
	return re
}
