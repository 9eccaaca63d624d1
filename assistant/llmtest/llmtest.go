// Package llmtest runs fake language-model servers on 127.0.0.1 that speak
// the real wire formats of Gemini's generateContent /
// streamGenerateContent (server-sent events) and of OpenAI-compatible
// /v1/chat/completions (streaming or not), for tests of the assistant's
// providers and of anything built on them. Replies are scripted (Reply),
// failures, delays and hang-ups can be injected, and every request is
// recorded with its system instruction and messages. Instant is a Provider
// that answers at once, for benchmarks.
package llmtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault is an injected failure, consumed by one request.
type Fault struct {
	// Status is the HTTP status to answer with (429, 500, 503, 400, ...).
	// With AfterChunks, it is the code of the error event sent in the
	// stream instead.
	Status int
	// Message is the error message (a realistic default otherwise).
	Message string
	// Code is Gemini's status ("RESOURCE_EXHAUSTED"; derived from Status by
	// default) or OpenAI's error code ("rate_limit_exceeded").
	Code string
	// RetryAfter is sent as Retry-After (whole seconds) and, for Gemini, as
	// a google.rpc.RetryInfo detail.
	RetryAfter time.Duration
	// Delay is waited before answering (the client may give up first).
	Delay time.Duration
	// Hangup closes the connection without an answer (or, with
	// AfterChunks, in the middle of the stream).
	Hangup bool
	// AfterChunks > 0 fails in the middle of a stream: that many chunks
	// are sent first, then an error event (Status) or a hang-up.
	AfterChunks int
}

// Message is one chat message of a request.
type Message struct {
	// Role is "user" or "model" (Gemini), "system", "user" or "assistant"
	// (OpenAI).
	Role string
	Text string
}

// Request is what the server received.
type Request struct {
	// Path is the URL path.
	Path string
	// Method is "generateContent", "streamGenerateContent" or
	// "chat.completions".
	Method string
	// Model is the model named in the path (Gemini) or body (OpenAI).
	Model string
	// Key is the credential presented: Gemini's x-goog-api-key header (or
	// key= parameter), OpenAI's bearer token.
	Key string
	// Stream: the answer was asked for as server-sent events.
	Stream bool
	// System is the system instruction (Gemini's systemInstruction, or
	// OpenAI's system messages joined).
	System string
	// Messages are the conversation's other messages, in order.
	Messages []Message
	// MaxOutputTokens is maxOutputTokens / max_tokens (0 when absent).
	MaxOutputTokens int
	// Temperature, when sent.
	Temperature *float64
	// Body is the raw request body.
	Body []byte
	// Status is the HTTP status answered (0 for a hang-up).
	Status int
}

// LastUser is the text of the last user message ("" without one).
func (r Request) LastUser() string {
	for i := len(r.Messages) - 1; i >= 0; i-- {
		if r.Messages[i].Role == "user" {
			return r.Messages[i].Text
		}
	}
	return ""
}

// Reply scripts the model: the chunks of text it streams for a request
// (one chunk for a non-streaming call: they are joined).
type Reply func(r Request) []string

// Chunks returns a Reply that always streams chunks.
func Chunks(chunks ...string) Reply {
	return func(Request) []string { return append([]string(nil), chunks...) }
}

var passageRE = regexp.MustCompile(`(?s)<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>`)

// Passages returns the fenced passages of a prompt's text, by number.
func Passages(text string) map[int]string {
	out := map[int]string{}
	for _, m := range passageRE.FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(m[1])
		out[n] = m[2]
	}
	return out
}

// EchoReply is the default Reply: it quotes the first sentence of passage
// 1 of the last user message, cited as [1], in a few chunks; without
// passages it declines ("NO_ANSWER").
func EchoReply(r Request) []string {
	ps := Passages(r.LastUser())
	first, ok := ps[1]
	if !ok {
		return []string{"NO_ANSWER"}
	}
	return splitChunks("According to our documentation, "+firstSentence(first)+" [1]", 4)
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for i := 0; i+1 < len(s); i++ {
		if (s[i] == '.' || s[i] == '!' || s[i] == '?') && s[i+1] == ' ' && i > 20 {
			return s[:i+1]
		}
	}
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// splitChunks cuts s into about n chunks at spaces.
func splitChunks(s string, n int) []string {
	ws := strings.SplitAfter(s, " ")
	per := max(1, (len(ws)+n-1)/n)
	var out []string
	for i := 0; i < len(ws); i += per {
		out = append(out, strings.Join(ws[i:min(i+per, len(ws))], ""))
	}
	return out
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL ("http://127.0.0.1:port"), to use as the
	// provider's BaseURL.
	URL string

	srv     *httptest.Server
	closing chan struct{}

	mu         sync.Mutex
	requests   []Request
	faults     []Fault
	reply      Reply
	chunkDelay time.Duration
	firstDelay time.Duration
}

func newServer(t testing.TB, h func(s *Server, w http.ResponseWriter, r *http.Request), reply Reply, faults []Fault, chunkDelay, firstDelay time.Duration) *Server {
	t.Helper()
	if reply == nil {
		reply = EchoReply
	}
	s := &Server{closing: make(chan struct{}), faults: append([]Fault(nil), faults...), reply: reply,
		chunkDelay: chunkDelay, firstDelay: firstDelay}
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

// SetReply replaces the script.
func (s *Server) SetReply(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r == nil {
		r = EchoReply
	}
	s.reply = r
}

// SetDelays sets the wait before the first chunk and between chunks.
func (s *Server) SetDelays(first, chunk time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.firstDelay, s.chunkDelay = first, chunk
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

// Last returns the last request received (zero without one).
func (s *Server) Last() Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return Request{}
	}
	return s.requests[len(s.requests)-1]
}

// Reset forgets recorded requests and queued faults.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.faults = nil, nil
}

type plan struct {
	idx        int
	fault      Fault
	reply      Reply
	chunkDelay time.Duration
	firstDelay time.Duration
}

// begin records a request and returns what it gets.
func (s *Server) begin(req Request) plan {
	s.mu.Lock()
	defer s.mu.Unlock()
	var f Fault
	if len(s.faults) > 0 {
		f, s.faults = s.faults[0], s.faults[1:]
	}
	s.requests = append(s.requests, req)
	return plan{idx: len(s.requests) - 1, fault: f, reply: s.reply, chunkDelay: s.chunkDelay, firstDelay: s.firstDelay}
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
		return r.Context().Err() == nil
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

// hangup closes the connection without (more of) an answer.
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

func retryAfter(w http.ResponseWriter, f Fault) {
	if f.RetryAfter >= time.Second {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
}

// estimateTokens is the fakes' token count (about four bytes a token).
func estimateTokens(s string) int { return (len(s) + 3) / 4 }
