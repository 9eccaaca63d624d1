package assistant

import (
	"context"
	"maps"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// OfflineOptions configures the offline provider.
type OfflineOptions struct {
	// WordDelay is waited between streamed words (0: none), to make the
	// stream look like a model's in demos.
	WordDelay time.Duration
	// MaxUnits is the most sentences, list blocks or code lines an answer
	// quotes (default 4).
	MaxUnits int
	// MaxChars bounds the answer's length (default 700).
	MaxChars int
	// MinCoverage is the share of the question's weight (IDF) that the
	// best sentence must match for an answer (default 0.3); below it the
	// provider declines.
	MinCoverage float64
}

// Offline is the default provider: an extractive answerer without network
// or model. It reads the numbered passages, scores their sentences, list
// items and code lines by the question's terms (stemmed, stopwords
// dropped, weighted by IDF over the passages' sentences, with bonuses for
// top passages, matching section headings and what the question asks for:
// an amount, a duration, steps, a number, a version, names, a place, a
// condition; an English question's term is also matched, for less, by a
// word of like meaning: see softMatcher), quotes the best one to four with
// citation markers [n], and streams them word by word. It quotes clean prose: no FAQ labels or
// questions, no table of contents, no stray list marks, no fragments of a
// layout table joined by "|". It declines (DeclineMarker) when no sentence
// matches enough of the question, and starts with TextUnsure when the best
// one only just does.
type Offline struct {
	opts OfflineOptions
}

var _ Provider = (*Offline)(nil)

// NewOffline returns the offline provider.
func NewOffline(opts OfflineOptions) *Offline {
	if opts.MaxUnits <= 0 {
		opts.MaxUnits = 4
	}
	if opts.MaxChars <= 0 {
		opts.MaxChars = 700
	}
	if opts.MinCoverage <= 0 {
		opts.MinCoverage = 0.3
	}
	return &Offline{opts: opts}
}

// Name is "offline".
func (o *Offline) Name() string { return ProviderOffline }

// Generate composes and streams the extractive answer.
func (o *Offline) Generate(ctx context.Context, p Prompt, onDelta func(string) error) (Generation, error) {
	if err := ctx.Err(); err != nil {
		return Generation{}, err
	}
	query := p.Query
	if strings.TrimSpace(query) == "" {
		query = p.Question
	}
	text := o.answer(query, p.Language, p.Passages)
	gen := Generation{Text: text, FinishReason: "STOP", OutputTokens: estimateTokens(text)}
	in := len(p.Question)
	for _, ps := range p.Passages {
		in += len(ps.Hit.Text)
	}
	gen.PromptTokens = (in + 3) / 4
	for i, w := range streamWords(text) {
		if i > 0 && o.opts.WordDelay > 0 {
			t := time.NewTimer(o.opts.WordDelay)
			select {
			case <-ctx.Done():
				t.Stop()
				return gen, ctx.Err()
			case <-t.C:
			}
		}
		if err := ctx.Err(); err != nil {
			return gen, err
		}
		if onDelta != nil {
			if err := onDelta(w); err != nil {
				return gen, err
			}
		}
	}
	return gen, nil
}

// streamWords splits text into words, each with the spaces after it.
func streamWords(text string) []string {
	var out []string
	start := 0
	inSpace := false
	for i, r := range text {
		sp := unicode.IsSpace(r)
		if inSpace && !sp {
			out = append(out, text[start:i])
			start = i
		}
		inSpace = sp
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// unit kinds.
const (
	kindProse = iota
	kindItem  // a list item
	kindCode  // a code block or code-like line
	kindTable // a table row
)

type unit struct {
	text    string
	kind    int
	passage int // index in the passages
	pos     int // position in the passage
	block   int // list/paragraph block id within the passage
	intro   bool
	first   bool // the passage's first unit
	terms   map[string]bool
	nwords  int
	score   float64
	cover   float64            // share of the question's weight the unit matches
	rel     float64            // cover, helped by the section's heading
	lexRel  float64            // rel without the soft matches
	soft    map[string]softHit // question terms matched by a word of like meaning
	section float64            // how much the section's heading and title match
	viaHead []string           // question terms the heading matches
	matched map[string]bool
	// question: an FAQ's question ("Q: ...", a sentence ending in "?"),
	// never quoted; its terms count for the units answering it (asked).
	question bool
	asked    map[string]bool
	afterQ   int // units since the question (0: the first answer unit)
}

// idfPrior is how many term-less units are added to the IDF statistics.
const idfPrior = 10

// ranking is the scored units of the passages for a question.
type ranking struct {
	units  []*unit // in passage order, then document order
	ranked []*unit // best first
	idf    map[string]float64
	total  float64 // the question's weight: the sum of its terms' IDF
	terms  []string
}

// questionWords are phrasings that ask for a kind of answer rather than
// name the topic ("how long" asks for a duration: "long" is not a topic).
var questionWords = regexp.MustCompile(`(?i)\b(how (long|often|soon|quickly|fast|far|much|many)|combien de temps|combien|cu[aá]nto tiempo|cu[aá]nto|wie lange|wie viel|quanto tempo|hoe lang)\b`)

// rank scores the units of passages for query; nil when nothing can be
// scored. With soft, a question term is also matched by a word of like
// meaning (see softMatcher).
func rank(query string, passages []Passage, soft bool) *ranking {
	qTerms := uniq(contentTerms(questionWords.ReplaceAllString(query, " ")))
	if len(qTerms) == 0 || len(passages) == 0 {
		return nil
	}
	r := &ranking{idf: map[string]float64{}, terms: qTerms}
	headTerms := make([]map[string]bool, len(passages))
	titleTerms := make([]map[string]bool, len(passages))
	for pi, p := range passages {
		headTerms[pi] = termSet(p.Hit.Heading)
		titleTerms[pi] = termSet(p.Hit.Title)
		for i, u := range segment(p.Hit.Text) {
			u.first = i == 0
			u.passage = pi
			u.pos = len(r.units)
			u.terms = termSet(u.text)
			u.nwords = len(words(u.text))
			r.units = append(r.units, u)
		}
	}
	if len(r.units) == 0 {
		return nil
	}
	// IDF over the units; terms found nowhere weigh the most. The
	// passages are few and already about the question: pseudo-units
	// (idfPrior) keep a term found in most of them from weighing nothing.
	n := float64(len(r.units)) + idfPrior
	for _, t := range qTerms {
		df := 0.0
		for _, u := range r.units {
			if match(t, u.terms) > 0 {
				df++
			}
		}
		r.idf[t] = math.Log(1 + (n-df+0.5)/(df+0.5))
		r.total += r.idf[t]
	}
	cues := questionCues(query)
	var sm *softMatcher
	if soft {
		sm = newSoftMatcher(query, qTerms)
	}
	// A heading too can say in other words what its section is about.
	headSoft := make([]map[string]softHit, len(passages))
	if sm != nil {
		for pi, p := range passages {
			ht := headTerms[pi]
			headSoft[pi] = sm.match(p.Hit.Heading, qTerms, func(t string) bool { return match(t, ht) > 0 })
		}
	}
	for _, u := range r.units {
		u.matched = map[string]bool{}
		if sm != nil && !u.question {
			u.soft = sm.match(u.text, qTerms, u.lexical)
		}
		// A section's heading (and less, the document's title) says what
		// all its sentences are about: a question term it matches counts
		// for every sentence of the section (for its first sentence most),
		// so that in a section on webhooks, "How are webhooks signed?" is
		// told apart by "signed".
		headShare, titleShare := 0.85, 0.3
		if u.first {
			headShare, titleShare = 1, 0.4
		}
		got, rel, lexRel, head, title := 0.0, 0.0, 0.0, 0.0, 0.0
		for _, t := range qTerms {
			wu := match(t, u.terms)
			// "Which versions?" is answered by "Android 10", "what
			// price?" by "$6": the fact stands for the word.
			if wu == 0 && factTerm(t, u.text) {
				wu = 0.8
			}
			wl := wu
			// "Do charities ...?" is answered by "nonprofits".
			if h, ok := u.soft[t]; ok && wu == 0 {
				wu = h.credit
			}
			if wu > 0 {
				got += r.idf[t] * wu
				u.matched[t] = true
			}
			wh := headShare * match(t, headTerms[u.passage])
			whl := wh
			if h, ok := headSoft[u.passage][t]; ok && wh == 0 {
				wh = headShare * h.credit
			}
			wt := titleShare * match(t, titleTerms[u.passage])
			// An FAQ's question says what its answer is about, as a
			// heading does.
			wq := 0.0
			if u.asked != nil {
				wq = match(t, u.asked)
				if u.afterQ > 0 {
					wq *= 0.85
				}
			}
			if whl > 0 || wt > 0 || wq > 0 || headSoft[u.passage][t].strong() {
				u.viaHead = append(u.viaHead, t)
			}
			head += r.idf[t] * match(t, headTerms[u.passage])
			title += r.idf[t] * match(t, titleTerms[u.passage])
			rel += r.idf[t] * max(wu, wh, wt, wq)
			lexRel += r.idf[t] * max(wl, whl, wt, wq)
		}
		u.cover = got / r.total
		u.rel = rel / r.total
		u.lexRel = lexRel / r.total
		if u.question {
			// Never quoted: the question is not its answer.
			u.cover, u.rel, u.lexRel, u.score = 0, 0, 0, -1
			continue
		}
		u.section = 0.1*head/r.total + 0.05*title/r.total
		s := u.rel
		// Very long sentences say many things; fragments say too little.
		if u.nwords > 40 && u.kind == kindProse {
			s *= 1 / (1 + 0.01*float64(u.nwords-40))
		}
		if u.nwords < 4 && u.kind != kindCode {
			s *= 0.7
		}
		s += 0.08*passages[u.passage].Hit.Score - 0.03*float64(u.passage)
		s += cues.bonus(u)
		if u.first && u.cover > 0 {
			s += 0.05 // sections start with what they are about
		}
		if definition(u.text, qTerms) {
			s += 0.08
		}
		s += u.section // ties go to the section about the question
		s += cues.facts(u)
		if u.cover > 0 && subjectMatch(u.text, u.matched) {
			s += 0.03 // the sentence is about the question's subject
		}
		if pointer.MatchString(u.text) {
			s -= 0.1 // "(see "Integrations")" says where the answer is, not what
		}
		u.score = s
	}
	r.ranked = append([]*unit(nil), r.units...)
	sort.SliceStable(r.ranked, func(i, j int) bool { return r.ranked[i].score > r.ranked[j].score })
	return r
}

var definitionRE = regexp.MustCompile(`^(?:[-*•]\s+)?[*_\s]*(?:(?i:the|a|an|le|la|les|el|los|der|die|das)\s+)?([\pL\pN-]+(?:\s+[\pL\pN-]+){0,2})[*_\s]*(?::|\s+(?:is|are|means|est|sont|es|son|ist|sind)\b)`)

// definition reports whether text defines a question term ("**Manager**:
// builds schedules", "The blank identifier is ...").
func definition(text string, qTerms []string) bool {
	m := definitionRE.FindStringSubmatch(text)
	if m == nil {
		return false
	}
	defined := termSet(m[1])
	for _, t := range qTerms {
		if match(t, defined) > 0 {
			return true
		}
	}
	return false
}

// Answer returns the extractive answer of query from passages (with
// citation markers), or DeclineMarker; in the query's language (see
// DetectLanguage) when it is unsure.
func (o *Offline) Answer(query string, passages []Passage) string {
	return o.answer(query, "", passages)
}

// answer is Answer for a visitor writing in lang ("": detected).
func (o *Offline) answer(query, lang string, passages []Passage) string {
	if looksLikeInjection(query) {
		return DeclineMarker
	}
	// The word vectors are English's.
	if lang == "" {
		lang = DetectLanguage(query)
	}
	r := rank(query, passages, lang == "en")
	if r == nil {
		return DeclineMarker
	}
	units, ranked, idf, total := r.units, r.ranked, r.idf, r.total
	best := ranked[0]
	// A cross-reference to another of the passages ("Connect your payroll
	// provider (see "Integrations")") is answered by that passage.
	if target := pointedPassage(best, passages); target >= 0 {
		for _, u := range ranked {
			if u.passage == target && u.cover > 0 {
				best = u
				break
			}
		}
	}
	// The answer must cover enough of the question, with one of its rarer
	// terms (not only the most common word of the passages).
	if best.rel < o.opts.MinCoverage || !hasStrongTerm(best, idf, total, len(r.terms)) {
		return DeclineMarker
	}
	// A sentence chosen mostly for its section's heading needs a heading
	// that matches well.
	if best.cover < 0.2 && best.rel < 0.5 {
		return DeclineMarker
	}

	chosen := map[*unit]bool{}
	used := 0
	length := 0
	add := func(u *unit) bool {
		if chosen[u] || u.question || length+len(u.text) > o.opts.MaxChars && used > 0 {
			return false
		}
		chosen[u] = true
		length += len(u.text) + 1
		return true
	}
	addBlock := func(u *unit) {
		// A list item comes with its list and its introduction, an
		// introduction ("To do so:") with what it introduces, code with
		// the sentence presenting it.
		var group []*unit
		switch {
		case u.kind == kindItem:
			if in := introOf(units, u); in != nil {
				group = append(group, in)
			}
			group = append(group, blockOf(units, u.passage, u.block)...)
		case u.intro:
			group = append(group, u)
			group = append(group, blockOf(units, u.passage, u.block+1)...)
		case u.kind == kindCode:
			if in := introOf(units, u); in != nil {
				group = append(group, in)
			}
			group = append(group, u)
		case u.kind == kindTable:
			// A row comes after its table's header row.
			if rows := blockOf(units, u.passage, u.block); len(rows) > 0 && rows[0] != u && rows[0].kind == kindTable {
				group = append(group, rows[0])
			}
			group = append(group, u)
		default:
			group = append(group, u)
		}
		for _, v := range group {
			add(v)
		}
		used++
	}
	addBlock(best)
	// An FAQ's answer too short to stand alone ("Yes.", "Two years.")
	// comes after its question.
	if best.asked != nil && best.afterQ == 0 && best.nwords < 5 {
		for i, v := range units {
			if v == best && i > 0 && units[i-1].question && units[i-1].passage == best.passage {
				chosen[units[i-1]] = true
				length += len(units[i-1].text) + 1
			}
		}
	}
	covered := map[string]bool{}
	for t := range best.matched {
		covered[t] = true
	}
	// A best sentence that refers back ("Set it up under ...") needs the
	// one before it.
	if prev := unitBefore(units, best); prev != nil && prev.kind == kindProse && best.kind == kindProse && refersBack(best.text) {
		add(prev)
	}
	// The sentence after the best one often completes it ("It ...",
	// "For example ..."), and a short best sentence needs company.
	if next := unitAfter(units, best); next != nil && next.kind == kindProse && best.kind == kindProse &&
		(next.block == best.block || endsSentence(best.text)) &&
		(len(best.text) < 80 || continues(next.text) || next.score >= 0.5*best.score) {
		addBlock(next)
	}
	for _, u := range ranked[1:] {
		if used >= o.opts.MaxUnits || length >= o.opts.MaxChars {
			break
		}
		// More sentences must add something: a question term not yet
		// covered, from the best passage or (a higher bar, prose only)
		// another one.
		bar := 0.6
		if u.passage != best.passage {
			bar = 0.75
			if u.kind == kindCode || u.kind == kindTable {
				continue
			}
		}
		if chosen[u] || u.score < bar*best.score || u.rel < o.opts.MinCoverage {
			continue
		}
		novel := false
		for t := range u.matched {
			if !covered[t] {
				novel = true
			}
		}
		if !novel {
			continue
		}
		if nearDuplicate(u, chosen) {
			continue
		}
		// "It adds ..." means nothing without the sentence before.
		if u.kind == kindProse && refersBack(u.text) {
			if prev := unitBefore(units, u); prev == nil || !chosen[prev] {
				continue
			}
		}
		for t := range u.matched {
			covered[t] = true
		}
		addBlock(u)
	}
	// A short answer takes the rest of its paragraph when it stays on
	// the question ("Return shipping is free: we email you a prepaid
	// label.").
	for _, u := range units {
		if length >= 200 || used >= o.opts.MaxUnits {
			break
		}
		if u.passage == best.passage && u.block == best.block && u.kind == kindProse && !chosen[u] && !u.question &&
			u.cover > 0 && u.score >= 0.5*best.score && !nearDuplicate(u, chosen) && length+len(u.text) <= 400 {
			add(u)
			used++
		}
	}
	text := compose(units, chosen, best, passages)
	// Just above the bar, or above it only by words of like meaning: say
	// so.
	if best.lexRel < o.opts.MinCoverage+unsureMargin {
		sep := " "
		if strings.HasPrefix(text, "- ") || strings.HasPrefix(text, "`") || listMarker.MatchString(text) || best.kind != kindProse {
			sep = "\n"
		}
		text = Text(lang, TextUnsure) + sep + text
	}
	return text
}

// unsureMargin: an answer whose best sentence matches less than
// MinCoverage+unsureMargin of the question starts with TextUnsure ("I'm
// not certain, but our documentation says:").
const unsureMargin = 0.15

// compose writes the chosen units: the best unit's passage first, then
// the others by rank; within a passage in document order; a citation
// marker after each passage's part.
func compose(units []*unit, chosen map[*unit]bool, best *unit, passages []Passage) string {
	order := []int{best.passage}
	for pi := range passages {
		if pi != best.passage {
			order = append(order, pi)
		}
	}
	var parts []string
	for _, pi := range order {
		var b strings.Builder
		prevKind, prevText := -1, ""
		for _, u := range units {
			if u.passage != pi || !chosen[u] {
				continue
			}
			t := u.text
			switch {
			case b.Len() == 0:
			case u.kind != kindProse || prevKind != kindProse || !endsSentence(prevText):
				b.WriteString("\n") // a fragment does not run into the next one
			default:
				b.WriteString(" ")
			}
			if u.kind == kindItem {
				if !listMarker.MatchString(t) {
					t = "- " + t
				}
				t = bulletGlyph.ReplaceAllString(t, "- ")
			}
			b.WriteString(t)
			prevKind, prevText = u.kind, t
		}
		if b.Len() == 0 {
			continue
		}
		s := b.String()
		if prevKind == kindCode {
			s += "\n[" + strconv.Itoa(passages[pi].N) + "]"
		} else {
			s += " [" + strconv.Itoa(passages[pi].N) + "]"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "\n\n")
}

// introOf returns the sentence introducing u's block ("To do so:").
func introOf(units []*unit, u *unit) *unit {
	for i, v := range units {
		if v.passage == u.passage && v.block == u.block {
			if i > 0 && units[i-1].passage == u.passage && units[i-1].intro {
				return units[i-1]
			}
			return nil
		}
	}
	return nil
}

// blockOf returns the list items and code of a block (at most 6).
func blockOf(units []*unit, passage, block int) []*unit {
	var out []*unit
	for _, v := range units {
		if v.passage == passage && v.block == block && (v.kind == kindItem || v.kind == kindCode || v.kind == kindTable) {
			out = append(out, v)
			if len(out) == 6 {
				break
			}
		}
	}
	return out
}

func unitBefore(units []*unit, u *unit) *unit {
	for i, v := range units {
		if v == u && i > 0 && units[i-1].passage == u.passage && units[i-1].block == u.block {
			return units[i-1]
		}
	}
	return nil
}

var refersBackRE = regexp.MustCompile(`^(?i)(?:\S+\s+){0,2}(it|this|that|they|them|these|those|there|such|il|elle|cela|ceci|lo|la|esto|eso|es|dies|das)\b`)

// refersBack reports whether a sentence starts by referring to the one
// before ("Set it up ...", "This means ...").
func refersBack(s string) bool {
	if definitionRE.MatchString(s) && !continuation.MatchString(s) {
		return false
	}
	return refersBackRE.MatchString(s)
}

func unitAfter(units []*unit, u *unit) *unit {
	for i, v := range units {
		if v == u && i+1 < len(units) && units[i+1].passage == u.passage {
			return units[i+1]
		}
	}
	return nil
}

var continuation = regexp.MustCompile(`^(?i)(it|this|that|these|they|such|for example|for instance|otherwise|however|in that case|if so|then|also|note|e\.g\.|il|elle|cela|ce|ceci|esto|eso|es|dies|das|es)\b`)

func continues(s string) bool { return continuation.MatchString(s) }

// endsSentence reports whether s ends like a sentence (or an
// introduction).
func endsSentence(s string) bool {
	s = strings.TrimRight(s, "*_\"'”’)»` ")
	return s != "" && strings.ContainsAny(s[len(s)-1:], ".!?:;…")
}

// hasStrongTerm: the unit matches a question term that is rarer than the
// average (by its word, or by a word near it in meaning: softHit.strong),
// or the question has at most two terms.
func hasStrongTerm(u *unit, idf map[string]float64, total float64, nterms int) bool {
	matched := maps.Clone(u.matched)
	for t, h := range u.soft {
		if !h.strong() && !u.lexical(t) {
			delete(matched, t) // a loose likeness does not name the question's subject
		}
	}
	for _, t := range u.viaHead {
		matched[t] = true
	}
	if nterms <= 2 {
		return len(matched) > 0
	}
	avg := total / float64(nterms)
	for t := range matched {
		if idf[t] >= 0.8*avg {
			return true
		}
	}
	return false
}

// lexical reports whether u matches question term t by a word (its stem,
// a prefix) or the fact it asks for, not only by meaning.
func (u *unit) lexical(t string) bool { return match(t, u.terms) > 0 || factTerm(t, u.text) }

func nearDuplicate(u *unit, chosen map[*unit]bool) bool {
	for v := range chosen {
		common := 0
		for t := range u.terms {
			if v.terms[t] {
				common++
			}
		}
		if smaller := min(len(u.terms), len(v.terms)); smaller > 0 && float64(common) >= 0.8*float64(smaller) {
			return true
		}
	}
	return false
}

// match is how well question term t matches a set of terms: 1 for the
// same stem, 0.8 when one is a prefix of the other (declar/declaration).
func match(t string, terms map[string]bool) float64 {
	if terms[t] {
		return 1
	}
	if len(t) < 4 {
		return 0
	}
	for w := range terms {
		short, long := min(len(w), len(t)), max(len(w), len(t))
		if short >= 4 && (strings.HasPrefix(w, t) || strings.HasPrefix(t, w)) &&
			(short >= 5 || float64(short) >= 0.6*float64(long)) {
			return 0.8
		}
	}
	return 0
}

func termSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, t := range contentTerms(s) {
		out[t] = true
	}
	return out
}

func uniq(ts []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// cues are what the question asks for.
type cues struct {
	amount, duration, steps, yesno bool
	// count: a number ("how many", "limit"); version: a version number;
	// names: which ones ("which providers"); place: where (a menu path,
	// an address); condition: whether (a yes/no question), best answered
	// with its conditions.
	count, version, names, place bool
}

var (
	countQ   = regexp.MustCompile(`(?i)\b(how many|number of|limits?|maximum|minimum|at most|at least|up to|combien d[e']|cu[aá]nt[oa]s|wie viele|quant[oi]s?|hoeveel)\b`)
	versionQ = regexp.MustCompile(`(?i)\b(versions?|releases?|compatib\w*|supported|requirements?|ios|android|windows|macos|linux|browsers?)\b`)
	// namesQ asks which ones: "which providers", "what payment methods",
	// "what are the ..." (not "what is", "what does": notWhichQ).
	namesQ    = regexp.MustCompile(`(?i)^\s*(which|what)\s+(\w+\s+)?\w+s\b|^\s*(which|what)\s+(are|were)\b|\b(which|quels?|quelles?|cu[aá]les|welche|quali|welke)\b`)
	notWhichQ = regexp.MustCompile(`(?i)^\s*what\s+(is|does|was|has)\b`)
	placeQ    = regexp.MustCompile(`(?i)^\s*(where|o[uù]|d[oó]nde|wo|onde|dove|waar)\b`)

	countU     = regexp.MustCompile(`\b\d+([.,]\d+)?\b`)
	versionU   = regexp.MustCompile(`(?i)\b(v?\d+(\.\d+)+|(version|ios|android|windows|macos|chrome|firefox|safari|edge|v)\s?\d+)\b`)
	placeU     = regexp.MustCompile(`›|\s>\s|https?://|\b[\w.+-]+@[\w-]+\.[\w.]+|\b(under|from|in) \*\*`)
	conditionU = regexp.MustCompile(`(?i)\b(if|unless|only|except|within|as long as|provided|until|after|before|at least|up to|or more|otherwise|si|sauf|seulement|dans les|solo|excepto|nur|wenn|au[sß]er|se|tranne|alleen|tenzij)\b`)
	// properNames are capitalized words after a sentence's first word.
	properName = regexp.MustCompile(`\s[A-Z][\pL\d]*[a-z\d][\pL\d]*|\s[A-Z]{2,}[\d]*\b`)
	// pointer is a cross-reference.
	pointer = regexp.MustCompile(`(?i)\((?:see|voir|ver|siehe|vedi|zie)\s[^)]*\)|^(?:see|for more(?: details| information)?, see)\b`)
)

// facts is the bonus of a sentence carrying the kind of fact the question
// asks for: a number, a version, names, a place, a condition.
func (c cues) facts(u *unit) float64 {
	b := 0.0
	if c.count && countU.MatchString(u.text) {
		b += 0.06
	}
	if c.version && versionU.MatchString(u.text) {
		b += 0.08
	}
	if c.names && len(properName.FindAllString(u.text, 3)) >= 2 {
		b += 0.05
	}
	if c.place && placeU.MatchString(u.text) {
		b += 0.05
	}
	if c.yesno && conditionU.MatchString(u.text) {
		b += 0.05
	}
	return b
}

// factTerms are the stems of words that ask for a kind of fact, with what
// carries it.
var factTerms = func() map[string]*regexp.Regexp {
	m := map[string]*regexp.Regexp{}
	for words, re := range map[string]*regexp.Regexp{
		"version versions release releases":                          versionU,
		"price prices cost costs fee fees prix precio preis kosten":  amountU,
		"number limit limits maximum minimum quantity nombre límite": countU,
		// "How long does it take / last?": a duration answers it.
		"take takes last lasts tarda dure dauert": durationU,
	} {
		for _, t := range contentTerms(words) {
			m[t] = re
		}
	}
	return m
}()

// factTerm reports whether text carries the fact question term t asks
// for.
func factTerm(t, text string) bool {
	re, ok := factTerms[t]
	return ok && re.MatchString(text)
}

var pointerTarget = regexp.MustCompile(`(?i)\((?:see|voir|ver|siehe|vedi|zie)\s+(?:the\s+)?["“«]?([^)"”»]+)["”»]?\)`)

// pointedPassage returns the passage u's cross-reference names by its
// title or section, -1 if none.
func pointedPassage(u *unit, passages []Passage) int {
	m := pointerTarget.FindStringSubmatch(u.text)
	if m == nil {
		return -1
	}
	target := strings.ToLower(strings.TrimSpace(m[1]))
	for i, p := range passages {
		if i == u.passage {
			continue
		}
		head := p.Hit.Heading // the last part of a heading path ("Billing > Refunds")
		if k := strings.LastIndex(head, " > "); k >= 0 {
			head = head[k+len(" > "):]
		}
		if strings.ToLower(strings.TrimSpace(p.Hit.Title)) == target || strings.ToLower(strings.TrimSpace(head)) == target {
			return i
		}
	}
	return -1
}

// subjectMatch reports whether a matched question term is among the first
// three words of text: what the sentence is about ("**Manager**: builds
// schedules", not "adds a dedicated account manager").
func subjectMatch(text string, matched map[string]bool) bool {
	ws := words(strings.TrimLeft(text, "-*•#0123456789.) "))
	n := 0
	for _, w := range ws {
		ts := contentTerms(w)
		if len(ts) == 0 {
			continue
		}
		for _, t := range ts {
			if match(t, matched) > 0 {
				return true
			}
		}
		if n++; n == 3 {
			break
		}
	}
	return false
}

var (
	amountQ   = regexp.MustCompile(`(?i)\b(how much|price|prices|cost|costs|fee|fees|pricing|charge|combien|prix|co[uû]te?|cu[aá]nto|precio|wie viel|kosten|preis|quanto|pre[çc]o|prezzo|hoeveel|prijs)\b`)
	durationQ = regexp.MustCompile(`(?i)\b(how long|when|how soon|how quickly|how many days|how fast|deadline|arrive|quand|combien de temps|d[ée]lai|cu[aá]ndo|plazo|wann|wie lange|quando|quanto tempo|wanneer|hoe lang)\b`)
	stepsQ    = regexp.MustCompile(`(?i)\b(how (do|can|should) (i|we|you)|how to|steps?|comment (puis-je|faire|je)|c[oó]mo (puedo|hago)|wie kann ich|como (posso|fa[çc]o)|come (posso|faccio)|hoe kan ik)\b`)
	yesnoQ    = regexp.MustCompile(`(?i)^\s*(can|do|does|is|are|will|should|may)\b`)
	amountU   = regexp.MustCompile(`[$€£¥]\s?\d|\d\s?[$€£¥]|\b\d+([.,]\d+)?\s?(%|usd|eur|gbp|dollars?|euros?)\b|\bfree\b|\bgratuit`)
	durationU = regexp.MustCompile(`(?i)\b\d+\s*(-\s*\d+\s*)?(business |working )?(seconds?|minutes?|hours?|days?|weeks?|months?|years?|jours?|semaines?|mois|d[ií]as?|semanas?|tage?n?|wochen|giorni|dagen)\b|\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|daily|weekly|monthly|annually|immediately|instantly)\b`)
	stepsU    = regexp.MustCompile(`(?i)^(\d{1,2}[.)]\s|[-*•]\s)|^(go to|open|click|select|choose|enter|tap|sign in|log in|navigate)\b|\b(settings|›|>)\b`)
)

func questionCues(q string) cues {
	return cues{
		amount:   amountQ.MatchString(q),
		duration: durationQ.MatchString(q),
		steps:    stepsQ.MatchString(q),
		yesno:    yesnoQ.MatchString(q),
		count:    countQ.MatchString(q),
		version:  versionQ.MatchString(q),
		names:    namesQ.MatchString(q) && !notWhichQ.MatchString(q),
		place:    placeQ.MatchString(q),
	}
}

func (c cues) bonus(u *unit) float64 {
	b := 0.0
	if c.amount && amountU.MatchString(u.text) {
		b += 0.12
	}
	if c.duration && durationU.MatchString(u.text) {
		b += 0.12
	}
	if c.steps && (u.kind == kindItem || u.intro || stepsU.MatchString(u.text)) {
		b += 0.08
	}
	return b
}

// injection matches messages that try to change the rules, get the
// prompt or reach other tenants.
var injection = regexp.MustCompile(`(?i)(ignore|disregard|forget|override|bypass)\s+(all\s+|any\s+|the\s+|your\s+|previous\s+|prior\s+|above\s+|earlier\s+|these\s+|those\s+)*(instructions|rules|guidelines|prompts?|directives)|system\s*prompt|(reveal|print|show|repeat|output|display|leak)\s+(me\s+)?(your|the)\s+(\w+\s+)?(prompt|instructions|rules|configuration)|(other|another|different)\s+(compan(y|ies)|tenants?|customers?'?\s+data|organi[sz]ations?)('s?|’s?)?(\s+(data|documents|files|knowledge|conversations|customers))?|\byour\s+other\s+(customers|clients|users|tenants)\b|developer\s+mode|jailbreak|\bDAN\b|you\s+are\s+now\s+(a|an|in)\b|pretend\s+(to\s+be|you\s+are)|act\s+as\s+(a|an|if)\b|ignore\s+(tes|vos)\s+instructions|ignora\s+(tus|las)\s+instrucciones|ignoriere\s+(deine|alle)\s+anweisungen`)

// looksLikeInjection reports whether a visitor's message tries to change
// the assistant's rules, read its prompt or reach other companies' data.
func looksLikeInjection(s string) bool { return injection.MatchString(s) }

// listMarker starts a list item.
var listMarker = regexp.MustCompile(`^(\d{1,2}[.)]|[-*•●▪◦‣∙–])\s+`)

// bulletGlyph is a list mark that is no ASCII: written "- " in answers.
var bulletGlyph = regexp.MustCompile(`^[*•●▪◦‣∙–]\s+`)

// strayMarks are list marks with nothing to mark: a line of marks, marks
// glued to the start of a line ("•Item") or left at the end of a sentence.
var (
	onlyMarks     = regexp.MustCompile(`^[-*•●▪◦‣∙–·|\s]*$|^\d{1,2}[.)]$`)
	gluedMark     = regexp.MustCompile(`^[•●▪◦‣∙]\s*`)
	trailingMarks = regexp.MustCompile(`(?:\s+[-*•●▪◦‣∙–·|])+$`)
	inlineBullets = regexp.MustCompile(`\s+[•●▪◦‣∙]\s+`)
)

// numberedTitle is a numbered section's title ("2.5.3 How can R be
// installed (Mac)") before the first word of a sentence ("The").
var numberedTitle = regexp.MustCompile(`^\d{1,2}(?:\.\d{1,2})+\.?\s+((?:\S+\s+){0,9}?\S+)\s+((?:The|A|An|To|If|In|It|Its|This|These|There|You|Your|We|Our|Use|For|On|When|As|By|Since|Some|Most|Many|All|Each|Every|Note|See|Here)\s.*)$`)

// sectionTitle splits a sentence starting with a numbered section's
// title into the title and the sentence.
func sectionTitle(s string) (title, rest string, ok bool) {
	m := numberedTitle.FindStringSubmatch(s)
	if m == nil || strings.ContainsAny(m[1], ".!?:;") {
		return "", s, false
	}
	return m[1], m[2], true
}

// footnoteRef is a footnote's number ("[7]"), which an answer would show
// as a citation marker.
var footnoteRef = regexp.MustCompile(`(^|[\s.,;:!?)”"'])\[\d{1,3}\]`)

// tocLine is a table of contents' entry: dot leaders ("Refunds . . . . 12"),
// or a chapter's title and page number ("Chapter 4: Relational databases
// 18").
var tocLine = regexp.MustCompile(`(?:\s?\.){5,}|…{2,}|^(?i:chapter|section|appendix|part|chapitre|cap[ií]tulo|kapitel)\s+[\dIVXLC]+[.:]?\s+[^.!?]*\s\d{1,4}$`)

// faqQuestion and faqAnswer are the labels of an FAQ's question and answer
// ("Q:", "**A:**", "Question :", "Réponse :").
var (
	faqQuestion = regexp.MustCompile(`^(?i:[*_]*(?:Q\d*|Question|Frage|Pregunta|Pergunta|Domanda|Vraag)\s*[:：][*_]*\s*)`)
	faqAnswer   = regexp.MustCompile(`^(?i:[*_]*(?:A\d*|Answer|Réponse|Respuesta|Resposta|Antwort|Risposta|Antwoord)\s*[:：][*_]*\s*)`)
)

// cleanProse removes what must not be quoted from a sentence: an FAQ
// label and stray list marks.
func cleanProse(s string) string {
	s = faqAnswer.ReplaceAllString(s, "")
	// A sentence in parentheses: "(The five functions are ...)".
	if len(s) > 2 && strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") && balanced(s[1:len(s)-1]) {
		s = s[1 : len(s)-1]
	}
	s = gluedMark.ReplaceAllString(s, "")
	s = trailingMarks.ReplaceAllString(s, "")
	return strings.TrimSpace(s)
}

// segment cuts a passage into units: sentences of prose, list items, code
// blocks and table rows. Paragraphs are separated by blank lines or line
// breaks; a paragraph starting with a list marker is a list whose items may
// be inline ("1. Open Billing. 2. Click Refund."). A line of cells joined
// by " | " is a table row when its cells are short, else prose fragments
// (a layout table) quoted each on its own. FAQ labels ("Q:", "A:") and
// stray list marks are dropped; an FAQ's question is kept as context (its
// terms count for its answer) but never quoted.
func segment(text string) []*unit {
	var out []*unit
	block := 0
	prev := ""   // the previous paragraph's kind: "list", "table" or ""
	inQ := false // in an FAQ question that has not ended yet ("Q: ... ?")
	var asked map[string]bool
	afterQ := 0
	emit := func(u *unit) {
		if u.text = strings.TrimSpace(u.text); u.text == "" || onlyMarks.MatchString(u.text) || tocLine.MatchString(u.text) {
			return
		}
		if u.question {
			asked = termSet(u.text)
			afterQ = 0
		} else if asked != nil {
			u.asked, u.afterQ = asked, afterQ
			afterQ++
		}
		out = append(out, u)
	}
	prose := func(para string) {
		inQ = false // a question without its "?" ends with its line
		sents := splitSentences(para)
		for i, s := range sents {
			// A numbered section's title run into its first sentence (a
			// PDF's lines joined): context, as a heading is.
			if title, rest, ok := sectionTitle(s); ok {
				emit(&unit{text: title, kind: kindProse, block: block, question: true})
				s = rest
			}
			q := false
			if m := faqQuestion.FindString(s); m != "" {
				s, q, inQ = s[len(m):], true, true
			} else if faqAnswer.MatchString(s) {
				inQ = false
			}
			s = cleanProse(s)
			if inQ || strings.HasSuffix(strings.TrimRight(s, "*_\"”’)»"), "?") {
				q = true
				if strings.HasSuffix(strings.TrimRight(s, "*_\"”’)»"), "?") {
					inQ = false
				}
			}
			u := &unit{text: truncate(s, 400), kind: kindProse, block: block, question: q}
			if i == len(sents)-1 && strings.HasSuffix(s, ":") {
				u.intro = true
			}
			emit(u)
		}
	}
	pendingMark := "" // a list mark alone on its line marks the next line
	for _, para := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		para = strings.TrimSpace(footnoteRef.ReplaceAllString(para, "$1"))
		if para == "" {
			continue
		}
		if onlyMarks.MatchString(para) {
			if m := strings.TrimSpace(para); listMarker.MatchString(m + " ") {
				pendingMark = m
			}
			continue
		}
		if pendingMark != "" && !listMarker.MatchString(para) && !strings.HasPrefix(para, "#") {
			para = pendingMark + " " + para
		}
		pendingMark = ""
		para = gluedMark.ReplaceAllString(para, "• ")
		kind := ""
		cells := tableCells(para)
		switch {
		case strings.HasPrefix(para, "|") || cells != nil:
			kind = "table"
		case listMarker.MatchString(para):
			kind = "list"
		}
		// Consecutive list paragraphs ("- a", "- b") are one list, and
		// consecutive rows one table.
		if kind == "" || kind != prev {
			block++
		}
		prev = kind
		switch {
		case strings.HasPrefix(para, "#"):
			asked = nil
			continue // a heading: context, not an answer
		case strings.HasPrefix(para, "```") || strings.HasPrefix(para, "~~~"):
			code := strings.TrimSpace(strings.Trim(para, "`~"))
			if code != "" {
				emit(&unit{text: "`" + truncate(code, 300) + "`", kind: kindCode, block: block})
			}
		case strings.HasPrefix(para, "|"):
			if strings.Trim(para, "|-: ") == "" {
				continue
			}
			for _, row := range splitTableRows(para) {
				if cells := strings.Split(row, " | "); !shortCells(cells) {
					// Prose in cells is quoted as prose, each cell its own.
					for _, c := range cells {
						if c != "" {
							block++
							prose(c)
						}
					}
					block++
					continue
				}
				emit(&unit{text: row, kind: kindTable, block: block})
			}
		case cells != nil:
			emit(&unit{text: strings.Join(cells, " | "), kind: kindTable, block: block})
		case strings.Contains(para, " | "):
			// Prose fragments that a layout table put side by side.
			for _, frag := range strings.Split(para, " | ") {
				if frag = strings.TrimSpace(frag); frag != "" {
					block++
					prose(frag)
				}
			}
		case listMarker.MatchString(para):
			for _, item := range splitItems(para) {
				emit(&unit{text: truncate(cleanItem(item), 350), kind: kindItem, block: block})
			}
		case codeLike(para):
			emit(&unit{text: "`" + truncate(para, 300) + "`", kind: kindCode, block: block})
		default:
			// Bullets inside a line of prose (from a PDF) part it into
			// fragments.
			for i, part := range inlineBullets.Split(para, -1) {
				if i > 0 {
					block++
				}
				prose(part)
			}
		}
	}
	return out
}

// cleanItem drops an FAQ label after the item's marker and marks left at
// its end.
func cleanItem(item string) string {
	m := listMarker.FindString(item)
	return m + cleanProse(faqQuestion.ReplaceAllString(item[len(m):], ""))
}

// balanced reports whether s closes every parenthesis it opens, in order.
func balanced(s string) bool {
	depth := 0
	for _, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			if depth--; depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// tableCells returns the cells of a line that is a table row written with
// " | " between cells ("Business | $6 | Unlimited"): at least two cells,
// each short (at most 8 words) and none a sentence. nil otherwise.
func tableCells(line string) []string {
	if !strings.Contains(line, " | ") || strings.HasPrefix(line, "|") {
		return nil
	}
	cells := strings.Split(line, " | ")
	for i, c := range cells {
		cells[i] = strings.TrimSpace(c)
		if cells[i] == "" {
			return nil
		}
	}
	if !shortCells(cells) {
		return nil
	}
	return cells
}

// shortCells reports whether cells are a table's, not prose: at most 8
// words each, none a sentence (empty cells are fine).
func shortCells(cells []string) bool {
	for _, c := range cells {
		n := len(strings.Fields(c))
		if n > 8 || n > 3 && strings.ContainsAny(c[len(c)-1:], ".!?:") || strings.Contains(c, ". ") {
			return false
		}
	}
	return true
}

// splitTableRows splits "| a | b | | c | d |" (rows joined on one line)
// into rows.
func splitTableRows(s string) []string {
	var out []string
	for _, r := range strings.Split(s, "| |") {
		r = strings.Trim(strings.TrimSpace(r), "|")
		if strings.Trim(r, "-: |") == "" {
			continue
		}
		cells := strings.Split(r, "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		out = append(out, strings.Join(cells, " | "))
	}
	return out
}

var numberedItem = regexp.MustCompile(`(?:^|\s)(\d{1,2})[.)]\s+`)

// splitItems splits an inline list at its markers: numbered items in
// sequence (1., 2., 3.) or the bullet the list starts with.
func splitItems(s string) []string {
	m := listMarker.FindString(s)
	bullet := strings.TrimSpace(m)
	if bullet == "-" || bullet == "*" || bullet == "•" {
		var out []string
		for _, it := range strings.Split(" "+s, " "+bullet+" ") {
			if it = strings.TrimSpace(it); it != "" {
				out = append(out, bullet+" "+it)
			}
		}
		return out
	}
	// Numbered: cut before " 2. ", " 3. ", ... in order.
	var out []string
	next := 2
	start := 0
	for _, loc := range numberedItem.FindAllStringSubmatchIndex(s, -1) {
		if loc[0] == 0 {
			continue
		}
		k, _ := strconv.Atoi(s[loc[2]:loc[3]])
		if k != next {
			continue
		}
		out = append(out, strings.TrimSpace(s[start:loc[0]]))
		start = loc[0]
		next++
	}
	out = append(out, strings.TrimSpace(s[start:]))
	return out
}

// codeLike reports whether a line looks like code rather than prose.
func codeLike(s string) bool {
	if len(s) < 3 {
		return false
	}
	sym, letters := 0, 0
	for _, r := range s {
		switch {
		case strings.ContainsRune("{}();=<>[]:&|*", r):
			sym++
		case unicode.IsLetter(r):
			letters++
		}
	}
	endsLikeProse := strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "!")
	return !endsLikeProse && sym*6 > letters && sym >= 3
}

// abbreviations do not end sentences.
var abbreviations = map[string]bool{"e.g": true, "i.e": true, "etc": true, "vs": true, "mr": true, "mrs": true,
	"dr": true, "inc": true, "ltd": true, "approx": true, "no": true, "fig": true, "cf": true, "st": true, "p": true,
	"ex": true, "env": true, "min": true, "max": true, "resp": true, "z.b": true, "bzw": true, "ca": true}

// splitSentences cuts prose after . ! ? … when a space and a capital,
// digit, quote or bracket follow, except after abbreviations, initials and
// list numbers.
func splitSentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		end := i + size
		if r == '.' || r == '!' || r == '?' || r == '…' || r == '。' {
			// Closing quotes and brackets belong to the sentence.
			for end < len(text) && strings.ContainsRune(`"'”’)»*`, rune(text[end])) {
				end++
			}
			if end < len(text) && text[end] == ' ' {
				next, _ := utf8.DecodeRuneInString(strings.TrimLeft(text[end:], " "))
				if (unicode.IsUpper(next) || unicode.IsDigit(next) || strings.ContainsRune("\"'“‘([`*¿¡", next)) && !abbreviationBefore(text[start:i], r) {
					if s := strings.TrimSpace(text[start:end]); s != "" {
						out = append(out, s)
					}
					start = end
				}
			}
		}
		i += size
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

// initialism is "u.s" (of "U.S."), "e.u".
var initialism = regexp.MustCompile(`^(\pL\.)+\pL$`)

// abbreviationBefore reports whether the text before a period ends with an
// abbreviation, an initial or a bare list number.
func abbreviationBefore(before string, punct rune) bool {
	if punct != '.' {
		return false
	}
	i := strings.LastIndexAny(before, " \t\n(")
	last := strings.ToLower(strings.Trim(before[i+1:], "*_`"))
	if last == "" {
		return false
	}
	if abbreviations[last] || (utf8.RuneCountInString(last) == 1 && unicode.IsLetter([]rune(last)[0])) || initialism.MatchString(last) {
		return true
	}
	// "1." at the start of an item.
	return isDigits(last) && strings.TrimSpace(before[:i+1]) == ""
}
