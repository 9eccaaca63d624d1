// Package assistant answers a visitor from the company's knowledge, with
// citations, streaming: it retrieves the company's passages for the
// question (retrieval), declines without calling a model when none is
// relevant enough, otherwise builds a bounded prompt (company, tone, rules,
// trimmed history, passages fenced as data), calls the Provider (Gemini,
// an OpenAI-compatible server, or the offline extractive answerer), streams
// the visible text, and maps the answer's [n] markers to citations. It
// declines when the model says the passages do not answer (DeclineMarker)
// or when its reply repeats the system instruction (leakGuard), and turns
// provider failures into a polite fallback offering a human.
//
// It also holds the short texts the conversation service posts in the
// visitor's language (Text) and the language detection (DetectLanguage).
package assistant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/google/uuid"

	"concierge/ent/schema/schematype"
	"concierge/observe"
	"concierge/retrieval"
)

// Role says who wrote a turn of the conversation.
type Role string

// Roles.
const (
	RoleVisitor   Role = "visitor"
	RoleAssistant Role = "assistant" // the bot's earlier replies
	RoleAgent     Role = "agent"     // a human agent's messages
)

// Turn is one message of the conversation.
type Turn struct {
	Role Role
	Text string
}

// Searcher is what retrieval.Service provides. Search needs ctx to carry
// a viewer bound to the company (viewer.SystemContext).
type Searcher interface {
	Search(ctx context.Context, text string, k int, exclude []uuid.UUID) ([]retrieval.Hit, error)
	Threshold() float64
}

// Request is one question to answer.
type Request struct {
	CompanyName   string
	AssistantName string // e.g. "Assistant"
	Tone          string // company's chosen tone, e.g. "friendly and concise"; may be empty
	// History is the conversation, oldest first; the last turn is the
	// visitor's question (the last visitor turn is taken as the question).
	History []Turn
	// ExcludeResources are never cited (inactive resources).
	ExcludeResources []uuid.UUID
	// Language, if set, is the visitor's language (BCP-47); otherwise it
	// is detected from the visitor's messages.
	Language string
}

// Outcome says how a question was handled.
type Outcome string

// Outcomes.
const (
	OutcomeAnswered Outcome = "ANSWERED"
	// OutcomeDeclined: the knowledge does not answer it (no passage above
	// the threshold, or the model said so), or the message had nothing to
	// search for. Text offers a person.
	OutcomeDeclined Outcome = "DECLINED"
	// OutcomeFailed: the model or the store failed or timed out. Text is a
	// polite fallback in the visitor's language offering a person.
	OutcomeFailed Outcome = "FAILED"
)

// Answer is the reply to a question.
type Answer struct {
	// Text is the final text to store (authoritative; deltas were a
	// preview). In it, [k] refers to Citations[k-1].
	Text string
	// Citations are the passages the answer used, best first, one per
	// source; empty when declined or failed.
	Citations []schematype.Citation
	Outcome   Outcome
	// Confidence is the best passage's score (0 if none).
	Confidence float64
	// Language is the visitor's language, BCP-47 base ("en", "fr", ...).
	Language string
	// Provider is the provider's Name ("" when it was not called).
	Provider                   string
	PromptTokens, OutputTokens int
	// Reason says why it was declined or failed, for logs and analytics:
	// "no_relevant_passage", "model_declined", "empty_query",
	// "prompt_injection", "prompt_leak" (the reply repeated the system
	// instruction: withheld), "timeout", "provider_error",
	// "retrieval_error", "empty_answer".
	Reason string
	// Key names Text when it is one of the canned texts (TextDeclined,
	// TextFailed, TextRephrase), so that the caller can say it otherwise
	// (TextDeclinedHandedOff when it hands the conversation to the team).
	Key TextKey
}

// Defaults of Config.
const (
	DefaultMaxPassages     = 5
	DefaultHistoryTokens   = 1500
	DefaultPassageTokens   = 2500
	DefaultTimeout         = 30 * time.Second
	DefaultMaxOutputTokens = 800
)

// Config configures an Assistant.
type Config struct {
	// Provider answers (default: the offline provider).
	Provider Provider
	// Search finds the company's passages (required).
	Search        Searcher
	MaxPassages   int           // default 5
	HistoryTokens int           // token budget for history, default 1500 (tokens ~ bytes/4)
	PassageTokens int           // budget for all passages, default 2500
	Timeout       time.Duration // whole LLM call, default 30s
	// MaxOutputTokens bounds the model's answer (default 800).
	MaxOutputTokens int
	Logger          *slog.Logger
}

// Assistant answers visitors. It is safe for concurrent use.
type Assistant struct {
	cfg Config
	log *slog.Logger
}

// New returns an Assistant.
func New(cfg Config) (*Assistant, error) {
	if cfg.Search == nil {
		return nil, errors.New("assistant: Config.Search is required")
	}
	if cfg.Provider == nil {
		cfg.Provider = NewOffline(OfflineOptions{})
	}
	if cfg.MaxPassages <= 0 {
		cfg.MaxPassages = DefaultMaxPassages
	}
	if cfg.HistoryTokens <= 0 {
		cfg.HistoryTokens = DefaultHistoryTokens
	}
	if cfg.PassageTokens <= 0 {
		cfg.PassageTokens = DefaultPassageTokens
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxOutputTokens <= 0 {
		cfg.MaxOutputTokens = DefaultMaxOutputTokens
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Assistant{cfg: cfg, log: log}, nil
}

// Provider returns the assistant's provider.
func (a *Assistant) Provider() Provider { return a.cfg.Provider }

// ErrNoQuestion: the request has no visitor turn with text.
var ErrNoQuestion = errors.New("assistant: no visitor question in the history")

// Answer retrieves passages for the question (the last visitor turn, with
// the previous visitor turn for a short follow-up), decides, prompts the
// provider and returns the final answer. onDelta (may be nil) gets the
// visible text as it streams, from the provider's goroutine (what was held
// back till the end from Answer's), one call at a time, never after Answer
// returns. A reply that repeats the system instruction is withheld: it
// stops streaming where the repetition starts and ends declined (see
// leakGuard).
//
// A cancelled ctx (a human took over) returns ctx.Err() promptly, and
// onDelta is not called any more. Provider errors and timeouts, and store
// errors, are not errors: they return OutcomeFailed with a fallback text
// (and are logged).
func (a *Assistant) Answer(ctx context.Context, req Request, onDelta func(string)) (Answer, error) {
	if err := ctx.Err(); err != nil {
		return Answer{}, err
	}
	question, prior, ok := lastQuestion(req)
	if !ok {
		return Answer{}, ErrNoQuestion
	}
	lang := a.language(req, question, prior)
	ans := Answer{Language: lang}
	decline := func(reason string) (Answer, error) {
		ans.Outcome, ans.Text, ans.Reason, ans.Citations, ans.Key = OutcomeDeclined, Text(lang, TextDeclined), reason, nil, TextDeclined
		return ans, nil
	}
	fail := func(reason string) (Answer, error) {
		ans.Outcome, ans.Text, ans.Reason, ans.Citations, ans.Key = OutcomeFailed, Text(lang, TextFailed), reason, nil, TextFailed
		return ans, nil
	}

	if looksLikeInjection(question) {
		a.log.InfoContext(ctx, "assistant: declined a message that tries to change the rules")
		return decline("prompt_injection")
	}

	query := searchQuery(question, prior)
	hits, err := a.search(ctx, query, a.cfg.MaxPassages, req.ExcludeResources)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return Answer{}, ctx.Err()
	case errors.Is(err, retrieval.ErrEmptyQuery):
		ans.Outcome, ans.Text, ans.Reason, ans.Key = OutcomeDeclined, Text(lang, TextRephrase), "empty_query", TextRephrase
		return ans, nil
	default:
		a.log.ErrorContext(ctx, "assistant: retrieval failed", "err", err)
		return fail("retrieval_error")
	}
	if len(hits) > 0 {
		ans.Confidence = hits[0].Score
		for _, h := range hits {
			ans.Confidence = max(ans.Confidence, h.Score)
		}
	}
	passages := a.selectPassages(hits, req.ExcludeResources)
	if len(passages) == 0 {
		return decline("no_relevant_passage")
	}

	history, q := chatMessages(prior, question, a.cfg.HistoryTokens)
	p := Prompt{
		System:          systemInstruction(req.CompanyName, req.AssistantName, req.Tone, lang),
		Messages:        appendUser(history, lastMessage(req.CompanyName, passages, q, lang)),
		Question:        q,
		Query:           query,
		Passages:        passages,
		Language:        lang,
		MaxOutputTokens: a.cfg.MaxOutputTokens,
	}
	ans.Provider = a.cfg.Provider.Name()

	call := observe.StartLLM(ans.Provider)
	// What would repeat the instruction never reaches the visitor.
	out := &guardedStream{g: newLeakGuard(req.CompanyName, req.AssistantName, req.Tone, lang, passages), emit: call.Stream(onDelta)}
	gen, raw, err := a.generate(ctx, p, len(passages), out.write)
	ans.PromptTokens, ans.OutputTokens = gen.PromptTokens, gen.OutputTokens
	if ans.PromptTokens == 0 {
		n := len(p.System)
		for _, m := range p.Messages {
			n += len(m.Text)
		}
		ans.PromptTokens = (n + 3) / 4
	}
	if ans.OutputTokens == 0 {
		ans.OutputTokens = estimateTokens(raw)
	}
	call.End(ctx, err, ans.PromptTokens, ans.OutputTokens)
	if err != nil {
		if ctx.Err() != nil {
			return Answer{}, ctx.Err()
		}
		reason := "provider_error"
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errTimeout) {
			reason = "timeout"
		}
		a.log.WarnContext(ctx, "assistant: provider failed", "provider", ans.Provider, "reason", reason, "err", err)
		return fail(reason)
	}
	withhold := func(what string) (Answer, error) {
		// What it repeated is not logged: it may be the secret.
		a.log.InfoContext(ctx, "assistant: withheld a reply that repeats its instructions",
			slog.String("provider", ans.Provider), slog.String("repeats", what))
		return decline("prompt_leak")
	}
	if out.leaked != "" {
		return withhold(out.leaked) // seen while streaming
	}
	ft := finalize(raw, len(passages))
	if ft.Declined {
		return decline("model_declined")
	}
	if strings.IndexFunc(ft.Text, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
		a.log.WarnContext(ctx, "assistant: provider returned no text", "provider", ans.Provider, "finish", gen.FinishReason)
		return fail("empty_answer")
	}
	cited := ft.Cited
	if len(cited) == 0 {
		cited = []int{passages[0].N}
	}
	var mapping map[int]int
	ans.Citations, mapping = citationsFor(passages, cited, query+" "+ft.Text)
	ans.Text = renumber(ft.Text, len(passages), mapping)
	// The stream held back what may have been the start of a leak: it is
	// shown only if the whole reply, as streamed and as stored, leaks
	// nothing.
	leaked := out.g.leak(ans.Text)
	if leaked == "" {
		if err := ctx.Err(); err != nil {
			return Answer{}, err
		}
		leaked = out.close()
	}
	if leaked != "" {
		return withhold(leaked)
	}
	ans.Outcome = OutcomeAnswered
	return ans, nil
}

var errTimeout = errors.New("assistant: the model did not answer in time")

// lastQuestion returns req's question, its last visitor turn with text,
// and the turns before it; ok is false when there is none.
func lastQuestion(req Request) (question string, prior []Turn, ok bool) {
	for i := len(req.History) - 1; i >= 0; i-- {
		if req.History[i].Role == RoleVisitor && strings.TrimSpace(req.History[i].Text) != "" {
			return strings.TrimSpace(req.History[i].Text), req.History[:i], true
		}
	}
	return "", nil, false
}

// search runs the retrieval for query.
func (a *Assistant) search(ctx context.Context, query string, k int, exclude []uuid.UUID) ([]retrieval.Hit, error) {
	return a.cfg.Search.Search(ctx, truncate(query, retrieval.MaxQueryBytes-8), k, exclude)
}

// Search runs the retrieval Answer runs for req (the same query, the same
// exclusions) and returns up to k hits, best first, relevant or not: what
// the assistant picks its passages from (those scoring at least
// Threshold). A question with nothing to search for has no hits. ctx
// carries the company's viewer, as for Answer.
func (a *Assistant) Search(ctx context.Context, req Request, k int) ([]retrieval.Hit, error) {
	question, prior, ok := lastQuestion(req)
	if !ok {
		return nil, ErrNoQuestion
	}
	hits, err := a.search(ctx, searchQuery(question, prior), k, req.ExcludeResources)
	if errors.Is(err, retrieval.ErrEmptyQuery) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return sortedHits(hits), nil
}

// Threshold is the score under which a passage is not relevant enough to
// answer from.
func (a *Assistant) Threshold() float64 { return a.cfg.Search.Threshold() }

// generate runs the provider under the timeout, filtering its stream into
// onDelta. It returns the raw text. The provider runs in its own goroutine
// so that a provider ignoring ctx cannot hold Answer; onDelta is guarded so
// that it is never called once generate has returned.
func (a *Assistant) generate(ctx context.Context, p Prompt, n int, onDelta func(string)) (Generation, string, error) {
	gctx, cancel := context.WithTimeoutCause(ctx, a.cfg.Timeout, errTimeout)
	defer cancel()

	var mu sync.Mutex
	closed := false
	filter := &streamFilter{n: n, emit: func(s string) {
		if onDelta != nil {
			onDelta(s)
		}
	}}
	sink := func(s string) error {
		mu.Lock()
		defer mu.Unlock()
		if closed {
			return context.Canceled
		}
		if err := gctx.Err(); err != nil {
			return err
		}
		filter.write(s)
		return nil
	}
	type result struct {
		gen Generation
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("provider %s panicked: %v", a.cfg.Provider.Name(), r)}
			}
		}()
		g, err := a.cfg.Provider.Generate(gctx, p, sink)
		done <- result{g, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-gctx.Done():
		// Give a provider that honours ctx a moment to hand back its
		// usage; never wait long for one that does not.
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case res = <-done:
		case <-t.C:
			res.err = gctx.Err()
		}
		t.Stop()
	}
	mu.Lock()
	defer mu.Unlock()
	closed = true
	if res.err == nil && gctx.Err() != nil {
		res.err = gctx.Err()
	}
	if res.err != nil {
		if context.Cause(gctx) == errTimeout && ctx.Err() == nil {
			res.err = fmt.Errorf("%w: %w", errTimeout, res.err)
		}
		return res.gen, filter.raw.String(), res.err
	}
	raw := filter.raw.String()
	if raw == "" && res.gen.Text != "" {
		// A provider that did not stream: show its text now.
		filter.write(res.gen.Text)
		raw = res.gen.Text
	}
	filter.finish()
	return res.gen, raw, nil
}

// selectPassages keeps the hits at or above the threshold, best first, at
// most MaxPassages, within the passage budget, numbered from 1.
func (a *Assistant) selectPassages(hits []retrieval.Hit, exclude []uuid.UUID) []Passage {
	threshold := a.cfg.Search.Threshold()
	excluded := map[uuid.UUID]bool{}
	for _, id := range exclude {
		excluded[id] = true
	}
	budget := a.cfg.PassageTokens
	seen := map[uuid.UUID]bool{}
	var out []Passage
	for _, h := range sortedHits(hits) {
		if len(out) >= a.cfg.MaxPassages {
			break
		}
		if h.Score < threshold || excluded[h.ResourceID] || strings.TrimSpace(h.Text) == "" {
			continue
		}
		// What reads as instructions to the assistant is not knowledge.
		if clean, n := stripInstructions(h.Text); n > 0 {
			a.log.Info("assistant: left out instructions found in a passage",
				slog.Int("sentences", n), slog.String("resource", h.ResourceID.String()))
			if strings.TrimSpace(clean) == "" {
				continue
			}
			h.Text = clean
		}
		if h.ChunkID != uuid.Nil {
			if seen[h.ChunkID] {
				continue
			}
			seen[h.ChunkID] = true
		}
		overhead := estimateTokens(h.Title+h.Heading+h.URL) + 12
		cost := estimateTokens(h.Text) + overhead
		if cost > budget {
			if len(out) > 0 {
				continue // a smaller passage may still fit
			}
			// An oversize best passage is cut to half the budget, leaving
			// room for the others.
			h.Text = truncate(h.Text, max(0, budget/2-overhead)*4)
			cost = estimateTokens(h.Text) + overhead
		}
		budget -= cost
		out = append(out, Passage{N: len(out) + 1, Hit: h})
	}
	return out
}

func sortedHits(hits []retrieval.Hit) []retrieval.Hit {
	out := append([]retrieval.Hit(nil), hits...)
	for i := 1; i < len(out); i++ { // insertion sort: stable, tiny input
		for j := i; j > 0 && out[j].Score > out[j-1].Score; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// language is the request's language, or the question's, or (when the
// question is too short to tell) the visitor's earlier messages'.
func (a *Assistant) language(req Request, question string, prior []Turn) string {
	if req.Language != "" {
		return BaseLanguage(req.Language)
	}
	if lang, score := detectLanguage(question); score >= 1 {
		return lang
	}
	var b strings.Builder
	b.WriteString(question)
	for i := len(prior) - 1; i >= 0 && b.Len() < 2000; i-- {
		if prior[i].Role == RoleVisitor {
			b.WriteString("\n")
			b.WriteString(prior[i].Text)
		}
	}
	return DetectLanguage(b.String())
}

// followUp matches the openings of messages that continue the previous
// question ("and for annual plans?", "what about Germany?").
var followUpStart = []string{"and ", "what about", "how about", "and what", "also", "same for", "what if", "et ", "et pour",
	"y ", "y si", "und ", "e ", "en ", "or ", "but ", "then "}

var anaphora = map[string]bool{"it": true, "its": true, "that": true, "this": true, "they": true, "them": true,
	"those": true, "these": true, "there": true, "one": true, "ones": true, "le": true, "la": true, "ça": true, "ca": true,
	"cela": true, "lo": true, "eso": true, "es": true, "das": true, "dies": true}

// searchQuery is the text searched: the question, with the previous
// visitor message when the question is a short follow-up.
func searchQuery(question string, prior []Turn) string {
	var prev string
	for i := len(prior) - 1; i >= 0; i-- {
		if prior[i].Role == RoleVisitor && strings.TrimSpace(prior[i].Text) != "" {
			prev = strings.TrimSpace(prior[i].Text)
			break
		}
	}
	if prev == "" {
		return question
	}
	terms := uniq(contentTerms(question))
	if len(terms) > 4 {
		return question
	}
	lower := strings.ToLower(question)
	follow := len(terms) <= 1
	for _, s := range followUpStart {
		if strings.HasPrefix(lower, s) {
			follow = true
		}
	}
	for _, w := range rawWords(lower) {
		if anaphora[w] {
			follow = true
		}
	}
	if !follow {
		return question
	}
	return truncate(prev, 1000) + "\n" + question
}
