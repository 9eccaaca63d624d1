package assistant

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"concierge/terms"
)

// Light text analysis for the offline answerer, snippets and language
// detection: the words, accent folding, suffix stripping and English
// stopwords of concierge/terms, and the stopwords of the other supported
// languages. Deliberately simple and fast, not linguistics.

// words splits text into lower-cased, accent-folded words (runs of letters
// and digits), as terms.List does.
func words(text string) []string { return terms.List(text) }

// rawWords splits text into lower-cased words without folding accents
// (language detection needs "é" and "ü").
func rawWords(text string) []string {
	text = strings.NewReplacer("’", "'", "ʼ", "'").Replace(text)
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
}

// stem is terms.StemWithAtion: the answerer lets "-ation" nouns meet their
// verbs ("declarations", "declared" → "declar"), which the retrieval
// indexes' terms.Stem does not. Both sides of a comparison must be stemmed.
func stem(w string) string { return terms.StemWithAtion(w) }

// stopword reports whether w (lower-cased, folded, unstemmed) carries little
// meaning in any supported language, or is chat filler ("please", "tell").
func stopword(w string) bool { _, ok := stopwords[w]; return ok }

var stopwords = map[string]struct{}{}

// filler are words of questions that say nothing about the topic.
const filler = `please hi hello hey thanks thank tell know want need like would could help question
way able possible anyone someone something anything use using used find work works explain
mean means happen happens okay ok yes yeah sure really much many thing things us also one
prend prendre faut dauert gibt demora`

// contractions are what Words leaves of "don't", "isn't", "it's": the
// stopwords of questions, which retrieval does not drop.
const contractions = `s t don doesn isn aren didn won`

// contentToo are function words of some language that are content words
// in another (a SIM card, a war).
var contentToo = map[string]bool{"sim": true, "die": true, "war": true, "son": true, "hay": true, "tem": true}

func init() {
	for _, list := range []string{filler, terms.EnglishStopwords, contractions} {
		for _, w := range strings.Fields(list) {
			stopwords[w] = struct{}{}
		}
	}
	for _, l := range languages {
		for _, w := range strings.Fields(l.stop) {
			for _, f := range words(w) {
				if !contentToo[f] {
					stopwords[f] = struct{}{}
				}
			}
		}
	}
}

// contentTerms returns the stemmed non-stopword words of text, in order,
// with duplicates.
func contentTerms(text string) []string {
	var out []string
	for _, w := range words(text) {
		if stopword(w) || (len(w) < 2 && !isDigits(w)) {
			continue
		}
		out = append(out, stem(w))
	}
	return out
}

func isDigits(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return true
}

// estimateTokens estimates the tokens of s (about four bytes a token).
func estimateTokens(s string) int { return (len(s) + 3) / 4 }

// truncate cuts s to at most n bytes at a word boundary, adding "…" when
// it cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if i := strings.LastIndexAny(s[:cut], " \n\t"); i > n/2 {
		cut = i
	}
	return strings.TrimRight(s[:cut], " \n\t,;:") + "…"
}

// oneLine collapses whitespace, for values put in a single prompt line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
