package embed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/genai"

	"concierge/provider"
	"concierge/retrieval"
)

// Gemini defaults.
const (
	// DefaultGeminiModel is Google's current text embedding model on the
	// Gemini API. Its native vectors have 3072 dimensions (Matryoshka-trained,
	// so shorter prefixes stay meaningful once re-normalised);
	// text-embedding-004, the earlier 768-dimensional model, is retired.
	DefaultGeminiModel = "gemini-embedding-001"
	// DefaultGeminiDimension is the OutputDimensionality asked for: 768
	// keeps indexes small with almost no quality loss (Google's own
	// recommendation lists 768, 1536 and 3072).
	DefaultGeminiDimension = 768
	// MaxGeminiBatchSize is batchEmbedContents' limit of requests per call.
	MaxGeminiBatchSize = 100
	// MaxGeminiDimension is gemini-embedding-001's native dimension.
	MaxGeminiDimension = 3072
)

// Defaults shared by the remote embedders.
const (
	defaultRemoteTimeout    = 30 * time.Second
	defaultRemoteMaxRetries = 4
	defaultRetryBaseDelay   = 500 * time.Millisecond
	defaultRetryMaxDelay    = 20 * time.Second
	// maxRetryAfter bounds how long a server's Retry-After can make us wait.
	maxRetryAfter = 2 * time.Minute
)

// GeminiConfig configures the Gemini embedder.
type GeminiConfig struct {
	// APIKey is the Gemini API key (GEMINI_API_KEY). Required. It is sent
	// in the x-goog-api-key header and never appears in errors.
	APIKey string
	// Model is the embedding model, with or without the "models/" prefix
	// (default DefaultGeminiModel).
	Model string
	// Dimension is the OutputDimensionality asked for (default
	// DefaultGeminiDimension, at most MaxGeminiDimension).
	Dimension int
	// BaseURL overrides the API endpoint (HTTPOptions.BaseURL), for tests
	// and proxies; empty means https://generativelanguage.googleapis.com/.
	// The SDK appends "v1beta/models/{model}:batchEmbedContents".
	BaseURL string
	// BatchSize is how many texts go in one batchEmbedContents call
	// (default and maximum MaxGeminiBatchSize).
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
	// HTTPClient, if set, carries the requests (its transport is wrapped).
	HTTPClient *http.Client
}

// Gemini embeds text with Gemini's embedding model through
// google.golang.org/genai on the Gemini API backend. Texts are sent in
// batches (batchEmbedContents) with task type RETRIEVAL_DOCUMENT or
// RETRIEVAL_QUERY by kind; vectors come back L2-normalised.
type Gemini struct {
	client *genai.Client
	model  string
	dim    int
	batch  int
	retry  retryPolicy
	key    string
}

var _ retrieval.Embedder = (*Gemini)(nil)

// NewGemini returns a Gemini embedder. It does not call the API.
func NewGemini(ctx context.Context, cfg GeminiConfig) (*Gemini, error) {
	key := strings.TrimSpace(cfg.APIKey)
	if key == "" {
		return nil, errors.New("gemini embeddings: an API key is required (set GEMINI_API_KEY)")
	}
	model, err := provider.GeminiModel(cfg.Model, DefaultGeminiModel)
	if err != nil {
		return nil, fmt.Errorf("gemini embeddings: %w", err)
	}
	dim := cfg.Dimension
	if dim == 0 {
		dim = DefaultGeminiDimension
	}
	if dim < 1 || dim > MaxGeminiDimension {
		return nil, fmt.Errorf("gemini embeddings: dimension %d out of range 1..%d", dim, MaxGeminiDimension)
	}
	batch := cfg.BatchSize
	if batch == 0 {
		batch = MaxGeminiBatchSize
	}
	if batch < 1 || batch > MaxGeminiBatchSize {
		return nil, fmt.Errorf("gemini embeddings: batch size %d out of range 1..%d (batchEmbedContents' limit)", batch, MaxGeminiBatchSize)
	}
	if cfg.BaseURL != "" {
		if err := provider.CheckBaseURL(cfg.BaseURL); err != nil {
			return nil, fmt.Errorf("gemini embeddings: %w", err)
		}
	}

	httpClient := &http.Client{}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		httpClient = &c
	}
	base := httpClient.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	httpClient.Transport = &statusRecorder{base: base}

	client, err := genai.NewClient(ctx, &genai.ClientConfig{
		APIKey:      key,
		Backend:     genai.BackendGeminiAPI,
		HTTPClient:  httpClient,
		HTTPOptions: genai.HTTPOptions{BaseURL: cfg.BaseURL},
	})
	if err != nil {
		// The SDK prints its whole config, key included, in some errors.
		return nil, fmt.Errorf("gemini embeddings: creating the client: %s", provider.Redact(err.Error(), key))
	}
	return &Gemini{
		client: client,
		model:  model,
		dim:    dim,
		batch:  batch,
		retry:  newRetryPolicy("gemini", cfg.Timeout, cfg.MaxRetries, cfg.RetryBaseDelay, cfg.RetryMaxDelay),
		key:    key,
	}, nil
}

// Name is "gemini/<model>/<dimension>".
func (g *Gemini) Name() string { return "gemini/" + g.model + "/" + strconv.Itoa(g.dim) }

// Dimension is the configured OutputDimensionality.
func (g *Gemini) Dimension() int { return g.dim }

// Model is the model's name without the "models/" prefix.
func (g *Gemini) Model() string { return g.model }

// Embed returns one unit vector per text, in order, calling
// batchEmbedContents once per BatchSize texts.
func (g *Gemini) Embed(ctx context.Context, texts []string, kind retrieval.Kind) ([][]float32, error) {
	task, err := geminiTaskType(kind)
	if err != nil {
		return nil, err
	}
	if err := checkTexts("gemini", texts); err != nil {
		return nil, err
	}
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += g.batch {
		end := min(start+g.batch, len(texts))
		vecs, err := g.embedBatch(ctx, texts[start:end], task)
		if err != nil {
			return nil, batchError(err, start, end, len(texts))
		}
		out = append(out, vecs...)
	}
	return out, nil
}

func geminiTaskType(kind retrieval.Kind) (string, error) {
	switch kind {
	case retrieval.KindDocument:
		return "RETRIEVAL_DOCUMENT", nil
	case retrieval.KindQuery:
		return "RETRIEVAL_QUERY", nil
	}
	return "", fmt.Errorf("gemini embeddings: unknown kind %d", kind)
}

func (g *Gemini) embedBatch(ctx context.Context, texts []string, task string) ([][]float32, error) {
	contents := make([]*genai.Content, len(texts))
	for i, t := range texts {
		contents[i] = &genai.Content{Parts: []*genai.Part{{Text: t}}}
	}
	var vecs [][]float32
	err := g.retry.do(ctx, func(ctx context.Context) error {
		rec := &recorded{}
		ctx = context.WithValue(ctx, recordKey{}, rec)
		cfg := &genai.EmbedContentConfig{
			TaskType:             task,
			OutputDimensionality: genai.Ptr(int32(g.dim)),
		}
		resp, err := g.client.Models.EmbedContent(ctx, g.model, contents, cfg)
		if err != nil {
			return g.classify(ctx, err, rec)
		}
		vecs, err = g.vectors(resp, len(texts))
		return err
	})
	return vecs, err
}

// vectors validates a response and normalises its vectors.
func (g *Gemini) vectors(resp *genai.EmbedContentResponse, n int) ([][]float32, error) {
	if resp == nil || len(resp.Embeddings) != n {
		got := 0
		if resp != nil {
			got = len(resp.Embeddings)
		}
		return nil, fmt.Errorf("gemini embeddings: the API returned %d embeddings for %d texts", got, n)
	}
	out := make([][]float32, n)
	for i, e := range resp.Embeddings {
		if e == nil || len(e.Values) != g.dim {
			got := 0
			if e != nil {
				got = len(e.Values)
			}
			return nil, fmt.Errorf("gemini embeddings: %w: embedding %d has %d dimensions, want %d", retrieval.ErrDimensionMismatch, i, got, g.dim)
		}
		v, err := normalized(e.Values)
		if err != nil {
			return nil, fmt.Errorf("gemini embeddings: embedding %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

// classify turns an SDK error into a RemoteError (retryable or not) or a
// plain error.
func (g *Gemini) classify(ctx context.Context, err error, rec *recorded) error {
	var apiErr genai.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.Code
		if c := int(rec.status.Load()); c != 0 {
			code = c
		}
		re := &RemoteError{
			Provider:   "gemini",
			StatusCode: code,
			Status:     apiErr.Status,
			Message:    provider.Redact(apiErr.Message, g.key),
			RetryAfter: max(time.Duration(rec.retryAfter.Load()), geminiRetryDelay(apiErr.Details)),
		}
		switch {
		case code == http.StatusUnauthorized || code == http.StatusForbidden ||
			apiErr.Status == "UNAUTHENTICATED" || apiErr.Status == "PERMISSION_DENIED" ||
			geminiReason(apiErr.Details) == "API_KEY_INVALID" ||
			strings.Contains(apiErr.Message, "API key not valid"):
			re.Auth = true
		case isTransientStatus(code) || apiErr.Status == "RESOURCE_EXHAUSTED" ||
			apiErr.Status == "UNAVAILABLE" || apiErr.Status == "INTERNAL" ||
			apiErr.Status == "DEADLINE_EXCEEDED":
			re.Temporary = true
		}
		return re
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if isNetworkError(err) {
		return &RemoteError{Provider: "gemini", Temporary: true, Message: provider.Redact(err.Error(), g.key), cause: err}
	}
	return fmt.Errorf("gemini embeddings: %s", provider.Redact(err.Error(), g.key))
}

// geminiRetryDelay reads google.rpc.RetryInfo's retryDelay ("37s") from an
// error's details.
func geminiRetryDelay(details []map[string]any) time.Duration {
	for _, d := range details {
		if t, _ := d["@type"].(string); !strings.HasSuffix(t, "google.rpc.RetryInfo") {
			continue
		}
		if s, ok := d["retryDelay"].(string); ok {
			if v, err := time.ParseDuration(s); err == nil && v > 0 {
				return v
			}
		}
	}
	return 0
}

// geminiReason reads google.rpc.ErrorInfo's reason ("API_KEY_INVALID").
func geminiReason(details []map[string]any) string {
	for _, d := range details {
		if t, _ := d["@type"].(string); strings.HasSuffix(t, "google.rpc.ErrorInfo") {
			if r, ok := d["reason"].(string); ok {
				return r
			}
		}
	}
	return ""
}

// recorded is what statusRecorder saw of the last response of a request
// made with recordKey in its context: the SDK's APIError has no headers.
type recorded struct {
	status     atomic.Int64
	retryAfter atomic.Int64 // time.Duration
}

type recordKey struct{}

// statusRecorder is an http.RoundTripper noting the status and Retry-After
// of error responses for the request's recorded.
type statusRecorder struct{ base http.RoundTripper }

func (s *statusRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(req)
	if err == nil && resp.StatusCode >= 400 {
		if rec, ok := req.Context().Value(recordKey{}).(*recorded); ok {
			rec.status.Store(int64(resp.StatusCode))
			rec.retryAfter.Store(int64(retryAfter(resp.Header, time.Now())))
		}
	}
	return resp, err
}

// ---- shared by the remote embedders ----

// ErrUnauthorized: the embedding service rejected the credentials. Test
// with errors.Is.
var ErrUnauthorized = errors.New("embed: credentials rejected")

// RemoteError is a failure reported by (or on the way to) a remote
// embedding service. Messages never contain the API key.
type RemoteError struct {
	// Provider is "gemini" or "openai".
	Provider string
	// StatusCode is the HTTP status (0 for network errors).
	StatusCode int
	// Status is the API's status ("RESOURCE_EXHAUSTED") or error type/code.
	Status string
	// Message is the server's message.
	Message string
	// Temporary failures (429, 5xx, network, timeouts) are retried.
	Temporary bool
	// Auth is true when the credentials were rejected.
	Auth bool
	// RetryAfter is the server's requested delay, if any.
	RetryAfter time.Duration
	// Attempts made before giving up (set by the retry loop).
	Attempts int

	cause error
}

func (e *RemoteError) Error() string {
	var b strings.Builder
	b.WriteString(e.Provider)
	b.WriteString(" embeddings: ")
	switch {
	case e.Auth:
		b.WriteString("the API key was rejected")
		if e.Provider == "gemini" {
			b.WriteString(" (check GEMINI_API_KEY)")
		}
		b.WriteString(": ")
	case e.StatusCode == http.StatusTooManyRequests:
		b.WriteString("rate limited: ")
	case e.StatusCode == 0:
		b.WriteString("request failed: ")
	case e.StatusCode >= 500:
		b.WriteString("server error: ")
	default:
		b.WriteString("request rejected: ")
	}
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	b.WriteString(msg)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.StatusCode)
		if e.Status != "" {
			b.WriteString(" " + e.Status)
		}
		b.WriteString(")")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, "; gave up after %d attempts", e.Attempts)
	}
	return b.String()
}

// Unwrap returns the underlying network error, if any.
func (e *RemoteError) Unwrap() error { return e.cause }

// Is makes errors.Is(err, ErrUnauthorized) true for rejected credentials.
func (e *RemoteError) Is(target error) bool { return target == ErrUnauthorized && e.Auth }

// retryPolicy retries transient failures with exponential backoff and
// jitter, bounded by a number of retries and the caller's context.
type retryPolicy struct {
	provider   string
	timeout    time.Duration
	maxRetries int
	base, max  time.Duration
}

func newRetryPolicy(provider string, timeout time.Duration, maxRetries int, base, maxDelay time.Duration) retryPolicy {
	if timeout <= 0 {
		timeout = defaultRemoteTimeout
	}
	switch {
	case maxRetries == 0:
		maxRetries = defaultRemoteMaxRetries
	case maxRetries < 0:
		maxRetries = 0
	}
	if base <= 0 {
		base = defaultRetryBaseDelay
	}
	if maxDelay <= 0 {
		maxDelay = defaultRetryMaxDelay
	}
	maxDelay = max(maxDelay, base)
	return retryPolicy{provider: provider, timeout: timeout, maxRetries: maxRetries, base: base, max: maxDelay}
}

// backoff is the delay before retry n (0-based): base·2ⁿ capped at max,
// with "equal jitter" (a random point in its upper half).
func (p retryPolicy) backoff(n int) time.Duration {
	d := p.max
	if n < 30 {
		d = min(p.base<<n, p.max)
	}
	half := d / 2
	return half + rand.N(half+1)
}

// do runs attempt until it succeeds, fails for good, the retries are
// spent or ctx ends. Each attempt gets its own timeout.
func (p retryPolicy) do(ctx context.Context, attempt func(ctx context.Context) error) error {
	for n := 0; ; n++ {
		actx, cancel := context.WithTimeout(ctx, p.timeout)
		err := attempt(actx)
		attemptTimedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return p.ctxError(ctx, err, n+1)
		}
		if attemptTimedOut {
			err = &RemoteError{Provider: p.provider, Temporary: true,
				Message: fmt.Sprintf("no answer within %s", p.timeout), cause: context.DeadlineExceeded}
		}
		var re *RemoteError
		if !errors.As(err, &re) || !re.Temporary {
			return err
		}
		if n >= p.maxRetries {
			re.Attempts = n + 1
			return err
		}
		delay := p.backoff(n)
		if re.RetryAfter > delay {
			delay = min(re.RetryAfter, maxRetryAfter)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < delay {
			re.Attempts = n + 1
			return fmt.Errorf("%w (not retrying: the next attempt, in %s, would pass the deadline)", err, delay.Round(time.Millisecond))
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return p.ctxError(ctx, err, n+1)
		case <-t.C:
		}
	}
}

// ctxError reports the caller's context ending, with the last failure.
func (p retryPolicy) ctxError(ctx context.Context, last error, attempts int) error {
	cause := context.Cause(ctx)
	if last == nil || errors.Is(last, context.Canceled) || errors.Is(last, context.DeadlineExceeded) {
		return fmt.Errorf("%s embeddings: %w (after %d attempts)", p.provider, cause, attempts)
	}
	return fmt.Errorf("%s embeddings: %w (after %d attempts; last error: %v)", p.provider, cause, attempts, last)
}

// isTransientStatus reports whether an HTTP status is worth retrying.
func isTransientStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// isNetworkError reports transport failures: refused or reset
// connections, broken responses.
func isNetworkError(err error) bool {
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// retryAfter parses Retry-After (seconds or an HTTP date) and OpenAI's
// retry-after-ms; 0 when absent.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if ms := h.Get("Retry-After-Ms"); ms != "" {
		if v, err := strconv.ParseFloat(ms, 64); err == nil && v > 0 {
			return time.Duration(v * float64(time.Millisecond))
		}
	}
	s := strings.TrimSpace(h.Get("Retry-After"))
	if s == "" {
		return 0
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		if v <= 0 {
			return 0
		}
		return time.Duration(v * float64(time.Second))
	}
	if t, err := http.ParseTime(s); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// checkTexts rejects empty texts: both APIs answer them with a 400 that
// would fail a whole batch.
func checkTexts(provider string, texts []string) error {
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			return fmt.Errorf("%s embeddings: text %d is empty", provider, i)
		}
	}
	return nil
}

// batchError says which texts a failure concerns, keeping the chain.
func batchError(err error, start, end, total int) error {
	if start == 0 && end == total {
		return err
	}
	return fmt.Errorf("texts %d-%d of %d: %w", start, end-1, total, err)
}

// normalized returns v scaled to unit length; it rejects zero, NaN and
// infinite vectors.
func normalized(v []float32) ([]float32, error) {
	var sum float64
	for _, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errors.New("vector has a non-finite component")
		}
		sum += f * f
	}
	if sum == 0 {
		return nil, errors.New("vector is all zeros")
	}
	inv := 1 / math.Sqrt(sum)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out, nil
}
