package assistant

import (
	"slices"

	"concierge/retrieval/embed/wordvec"
)

// Soft matching. The offline answerer matches a question's terms to a
// sentence's by stem; a paraphrase ("Do charities pay less?" answered by
// "Registered nonprofits ... get 50% off") shares no stem with its answer.
// The word vectors that retrieval's embedder and reranker use (package
// wordvec, English) tell which other word of the sentence, or of its
// section's heading, means what a question word means: it matches the
// question's term for less than the word itself would, so that the
// sentence can rank and answer; an answer that clears the bar only so says
// it is not certain (TextUnsure). The match stays word by word, as the
// lexical one: the cosine of whole sentences ranks topics rather than
// answers, and does not tell an out-of-scope question from a paraphrase
// (measured on `make eval-answers`: README, "Answer quality").

// Tuning of the soft match (measured on `make eval-answers`): a word
// cosine of softFloor or less counts nothing, softSaturation or more
// softCredit of the word's own match; a soft match names the sentence's
// subject (hasStrongTerm) only from softStrong on.
const (
	softFloor      = 0.45
	softSaturation = 0.8
	softCredit     = 0.8
	softStrong     = 0.6
)

// softMatcher soft-matches one question's terms.
type softMatcher struct {
	t     *wordvec.Table
	terms []string          // the question's terms (stems) that have a vector
	qword map[string]string // a term → the question's word for it
}

// newSoftMatcher returns the soft matcher of query's terms qTerms (as
// contentTerms stems them), nil when the binary has no word vectors or
// they know none of the terms' words. A term asking for a kind of fact
// ("which versions?", "what price?": factTerms) is not soft-matched: the
// fact answers it, not a word near it ("features").
func newSoftMatcher(query string, qTerms []string) *softMatcher {
	t, _ := wordvec.Default()
	if t == nil {
		return nil
	}
	want := map[string]bool{}
	for _, q := range qTerms {
		want[q] = factTerms[q] == nil
	}
	m := &softMatcher{t: t, qword: map[string]string{}}
	for _, w := range words(query) {
		st := stem(w)
		if _, ok := m.qword[st]; !want[st] || ok || stopword(w) || !t.Has(w) {
			continue
		}
		m.qword[st] = w
		m.terms = append(m.terms, st)
	}
	if len(m.terms) == 0 {
		return nil
	}
	return m
}

// softHit is a question term's soft match in a sentence.
type softHit struct {
	credit float64 // in (0, softCredit]
	cos    float64 // the words' cosine
}

// strong reports whether the soft match is near enough to name what the
// sentence is about.
func (h softHit) strong() bool { return h.cos >= softStrong }

// match returns the soft matches in text of the question terms that it
// does not match lexically (lexical), each by the nearest word of text that
// matches no question term lexically: in "Prices are shown without tax",
// "prices" answers "price" and so cannot answer "stock" (its neighbour)
// too. One word may answer two question words ("pay" for "owe money").
func (m *softMatcher) match(text string, qTerms []string, lexical func(t string) bool) map[string]softHit {
	var open []string
	for _, t := range m.terms {
		if !lexical(t) {
			open = append(open, t)
		}
	}
	if len(open) == 0 {
		return nil
	}
	var out map[string]softHit
	seen := map[string]bool{}
	for _, w := range words(text) {
		if seen[w] || stopword(w) || len(w) < 2 || isDigits(w) {
			continue
		}
		seen[w] = true
		own := map[string]bool{stem(w): true}
		if slices.ContainsFunc(qTerms, func(t string) bool { return match(t, own) > 0 }) {
			continue // the word answers a question word of its own
		}
		if !m.t.Has(w) {
			continue
		}
		for _, t := range open {
			c, _ := m.t.Cosine(m.qword[t], w)
			if h, ok := out[t]; c <= softFloor || ok && h.cos >= c {
				continue
			}
			if out == nil {
				out = map[string]softHit{}
			}
			out[t] = softHit{credit: softCredit * min((c-softFloor)/(softSaturation-softFloor), 1), cos: c}
		}
	}
	return out
}
