// Package embedtest runs fake embedding servers on 127.0.0.1 that speak
// the real wire formats of Gemini's batchEmbedContents / embedContent and
// of OpenAI-compatible /v1/embeddings, for tests of the remote embedders
// and of anything built on them. Vectors are deterministic functions of
// the text (see Vector); failures, delays and hang-ups can be injected;
// every request is recorded.
package embedtest

import (
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// Fault is an injected failure, consumed by one request.
type Fault struct {
	// Status is the HTTP status to answer with (429, 500, 503, 400, ...);
	// 0 answers normally (after Delay).
	Status int
	// Message is the error message (a realistic default otherwise).
	Message string
	// Code is Gemini's status ("RESOURCE_EXHAUSTED"; derived from Status
	// by default) or OpenAI's error code ("rate_limit_exceeded",
	// "insufficient_quota").
	Code string
	// RetryAfter asks the client to wait: Gemini gets a google.rpc.RetryInfo
	// retryDelay, OpenAI a retry-after-ms header; both get Retry-After in
	// whole seconds when it is at least one second.
	RetryAfter time.Duration
	// RetryAfterHeader, if set, is sent verbatim as the Retry-After header
	// (instead of the one derived from RetryAfter).
	RetryAfterHeader string
	// Delay is waited before answering (the client may give up first).
	Delay time.Duration
	// Hangup closes the connection without an answer (a network error).
	Hangup bool
}

// Request is what the server received.
type Request struct {
	// Path is the URL path, e.g. "/v1beta/models/gemini-embedding-001:batchEmbedContents".
	Path string
	// Method is "batchEmbedContents", "embedContent" or "embeddings".
	Method string
	// Model is the model named in the path (Gemini) or body (OpenAI).
	Model string
	// Key is the credential presented: Gemini's x-goog-api-key header (or
	// key= parameter), OpenAI's bearer token.
	Key string
	// Texts are the inputs, in order.
	Texts []string
	// TaskTypes are Gemini's per-text taskType values.
	TaskTypes []string
	// Dimensions are Gemini's per-text outputDimensionality (0 when
	// absent), or OpenAI's "dimensions" once (when sent).
	Dimensions []int
	// EncodingFormat is OpenAI's encoding_format.
	EncodingFormat string
	// Status is the HTTP status answered (0 for a hang-up).
	Status int
}

// Transform may alter the vectors of a successful answer (drop some,
// change their length) to test the client's validation.
type Transform func(r Request, vectors [][]float32) [][]float32

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL ("http://127.0.0.1:port"), to use as the
	// embedder's BaseURL.
	URL string

	srv     *httptest.Server
	closing chan struct{}

	mu       sync.Mutex
	requests []Request
	faults   []Fault
	delay    time.Duration
}

func newServer(t testing.TB, h func(s *Server, w http.ResponseWriter, r *http.Request), faults []Fault, delay time.Duration) *Server {
	t.Helper()
	s := &Server{closing: make(chan struct{}), faults: append([]Fault(nil), faults...), delay: delay}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h(s, w, r) }))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, cutting short any injected delay.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closing:
		s.mu.Unlock()
		return
	default:
		close(s.closing)
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Fail queues faults, answered in order by the next requests.
func (s *Server) Fail(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, faults...)
}

// SetDelay makes every later request wait d before answering.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Count is how many requests arrived.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// Requests returns copies of the requests received, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Reset forgets recorded requests and queued faults.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.faults = nil, nil
}

// begin records a request and returns the fault it gets, if any.
func (s *Server) begin(req Request) (int, Fault, time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var f Fault
	if len(s.faults) > 0 {
		f, s.faults = s.faults[0], s.faults[1:]
	}
	s.requests = append(s.requests, req)
	return len(s.requests) - 1, f, s.delay
}

func (s *Server) setStatus(i, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[i].Status = status
}

// wait sleeps d unless the client or the server goes away first; it
// reports whether to go on answering.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.closing:
	}
	return false
}

// hangup closes the connection without answering.
func hangup(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func retryAfterSeconds(w http.ResponseWriter, f Fault) {
	d := f.RetryAfter
	if f.RetryAfterHeader != "" {
		w.Header().Set("Retry-After", f.RetryAfterHeader)
	} else if d >= time.Second {
		w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	}
}

// Vector is the fake servers' embedding of text: a sum of pseudo-random
// dense vectors, one per lower-cased word (or one for the whole text when
// it has no word), normalised to unit length. Texts sharing words are
// similar and every prefix is meaningful (like Matryoshka embeddings), so
// truncated vectors are not unit length. Deterministic.
func Vector(text string, dim int) []float32 {
	acc := make([]float64, dim)
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) == 0 {
		words = []string{"\x00" + text}
	}
	for _, w := range words {
		h := fnv.New64a()
		h.Write([]byte(w))
		state := h.Sum64()
		for i := range acc {
			state += 0x9e3779b97f4a7c15
			z := state
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
			z = (z ^ (z >> 27)) * 0x94d049bb133111eb
			z ^= z >> 31
			acc[i] += float64(z>>11)/float64(1<<53)*2 - 1
		}
	}
	var sum float64
	for _, x := range acc {
		sum += x * x
	}
	norm := math.Sqrt(sum)
	out := make([]float32, dim)
	for i, x := range acc {
		out[i] = float32(x / norm)
	}
	return out
}

// Normalized returns v scaled to unit length, as the embedders return
// vectors, for comparing with Vector's prefixes.
func Normalized(v []float32) []float32 {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	inv := 1 / math.Sqrt(sum)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}
