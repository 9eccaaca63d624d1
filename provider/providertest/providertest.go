// Package providertest runs fake model provider servers on 127.0.0.1
// that speak the real wire formats of Gemini's API (generateContent,
// streamGenerateContent with server-sent events, batchEmbedContents,
// embedContent) and of OpenAI-compatible servers (/v1/chat/completions,
// streaming or not, and /v1/embeddings), for tests of the assistant's
// providers, of the remote embedders and of anything built on them.
// Answers are scripted (Reply); vectors are deterministic functions of the
// text (Vector); failures, delays and hang-ups can be injected, and every
// request is recorded.
package providertest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
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
	// 0 answers normally (after Delay). With AfterChunks, it is the code of
	// the error event sent in the stream instead.
	Status int
	// Message is the error message (a realistic default otherwise).
	Message string
	// Code is Gemini's status ("RESOURCE_EXHAUSTED"; derived from Status by
	// default) or OpenAI's error code ("rate_limit_exceeded",
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
	// Hangup closes the connection without an answer (or, with
	// AfterChunks, in the middle of the stream): a network error.
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
	// Path is the URL path, e.g.
	// "/v1beta/models/gemini-embedding-001:batchEmbedContents".
	Path string
	// Method is "generateContent", "streamGenerateContent",
	// "batchEmbedContents", "embedContent" (Gemini), "chat.completions" or
	// "embeddings" (OpenAI).
	Method string
	// Model is the model named in the path (Gemini) or body (OpenAI).
	Model string
	// Key is the credential presented: Gemini's x-goog-api-key header (or
	// key= parameter), OpenAI's bearer token.
	Key string
	// Body is the raw request body.
	Body []byte
	// Status is the HTTP status answered (0 for a hang-up).
	Status int

	// Chat requests.

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

	// Embedding requests.

	// Texts are the inputs, in order.
	Texts []string
	// TaskTypes are Gemini's per-text taskType values.
	TaskTypes []string
	// Dimensions are Gemini's per-text outputDimensionality (0 when
	// absent), or OpenAI's "dimensions" once (when sent).
	Dimensions []int
	// EncodingFormat is OpenAI's encoding_format.
	EncodingFormat string
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
// 1 of the last user message, cited as [1] (EchoText), in a few chunks;
// without passages it declines ("NO_ANSWER").
func EchoReply(r Request) []string {
	ps := Passages(r.LastUser())
	first, ok := ps[1]
	if !ok {
		return []string{"NO_ANSWER"}
	}
	return SplitChunks(EchoText(first), 4)
}

// EchoText is EchoReply's answer from a passage: "According to our
// documentation, " its first sentence " [1]".
func EchoText(passage string) string {
	return "According to our documentation, " + firstSentence(passage) + " [1]"
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

// SplitChunks cuts s into about n chunks at spaces, as the fakes stream
// their answers.
func SplitChunks(s string, n int) []string {
	ws := strings.SplitAfter(s, " ")
	per := max(1, (len(ws)+n-1)/n)
	var out []string
	for i := 0; i < len(ws); i += per {
		out = append(out, strings.Join(ws[i:min(i+per, len(ws))], ""))
	}
	return out
}

// Transform may alter the vectors of a successful embedding answer (drop
// some, change their length) to test the client's validation.
type Transform func(r Request, vectors [][]float32) [][]float32

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL ("http://127.0.0.1:port"), to use as the
	// provider's or embedder's BaseURL.
	URL string

	srv     *httptest.Server
	closing chan struct{}

	mu         sync.Mutex
	requests   []Request
	faults     []Fault
	reply      Reply
	delay      time.Duration
	chunkDelay time.Duration
	firstDelay time.Duration
}

// timing is the delays of a Server's answers.
type timing struct {
	delay      time.Duration // before every answer
	firstDelay time.Duration // before the first chunk of a chat answer
	chunkDelay time.Duration // between chunks
}

func newServer(t testing.TB, h func(s *Server, w http.ResponseWriter, r *http.Request), reply Reply, faults []Fault, tm timing) *Server {
	t.Helper()
	if reply == nil {
		reply = EchoReply
	}
	s := &Server{closing: make(chan struct{}), faults: append([]Fault(nil), faults...), reply: reply,
		delay: tm.delay, chunkDelay: tm.chunkDelay, firstDelay: tm.firstDelay}
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

// SetDelay makes every later request wait d before answering.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetDelays sets the wait before the first chunk and between chunks of
// chat answers.
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
	idx   int
	fault Fault
	reply Reply
	timing
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
	return plan{idx: len(s.requests) - 1, fault: f, reply: s.reply,
		timing: timing{delay: s.delay, chunkDelay: s.chunkDelay, firstDelay: s.firstDelay}}
}

func (s *Server) setStatus(i, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[i].Status = status
}

// answer records req, waits out the delays before its answer and hangs up
// if its fault says so, then lets serve answer and records the status
// serve returns (0 for a hang-up).
func (s *Server) answer(w http.ResponseWriter, r *http.Request, req Request, serve func(p plan) int) {
	p := s.begin(req)
	status := 0
	defer func() { s.setStatus(p.idx, status) }()
	if !s.wait(r, p.delay+p.fault.Delay) {
		return
	}
	if p.fault.Hangup && p.fault.AfterChunks == 0 {
		hangup(w)
		return
	}
	status = serve(p)
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

// retryAfter sets the Retry-After header a fault asks for.
func retryAfter(w http.ResponseWriter, f Fault) {
	if f.RetryAfterHeader != "" {
		w.Header().Set("Retry-After", f.RetryAfterHeader)
	} else if f.RetryAfter >= time.Second {
		w.Header().Set("Retry-After", strconv.Itoa(int((f.RetryAfter+time.Second-1)/time.Second)))
	}
}

// startEvents starts a stream of server-sent events; send writes one
// event, "data: " and v in JSON, ended by end ("\n\n"; Gemini's "\r\n\r\n").
func startEvents(w http.ResponseWriter, end string) (send func(v any)) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	return func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s%s", b, end)
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// promptTokens is the tokens of a chat request's system instruction and
// messages.
func (r Request) promptTokens() int {
	n := EstimateTokens(r.System)
	for _, m := range r.Messages {
		n += EstimateTokens(m.Text)
	}
	return n
}

// EstimateTokens is the fakes' token count (about four bytes a token).
func EstimateTokens(s string) int { return (len(s) + 3) / 4 }

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
