// Package terms is the light text analysis shared by retrieval (the
// stores, the local embedder, the reranker) and the assistant (its offline
// answerer, snippets and leak guard): words, accent folding, suffix
// stripping and English stopwords. It is deliberately simple and fast, not
// linguistics.
package terms

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Words splits text into lower-cased, accent-folded words (runs of letters
// and digits), calling fn for each; fn must not keep w after it returns
// unless it copies it.
func Words(text string, fn func(w string)) {
	Spans(text, func(w string, _, _ int) { fn(w) })
}

// Spans is Words with the place of each word: text[start:end] is what w
// was folded from (end is where the next separator, or text, begins).
func Spans(text string, fn func(w string, start, end int)) {
	var buf [64]byte
	b := buf[:0]
	start := 0
	flush := func(end int) {
		if len(b) > 0 {
			fn(string(b), start, end)
			b = b[:0]
		}
	}
	for i := 0; i < len(text); {
		at := i
		c := text[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			default:
				flush(at)
				continue
			}
			if len(b) == 0 {
				start = at
			}
			b = append(b, c)
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		i += n
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
			flush(at)
			continue
		}
		if unicode.Is(unicode.Mn, r) { // combining accent: drop
			continue
		}
		if len(b) == 0 {
			start = at
		}
		r = unicode.ToLower(r)
		if f, ok := fold[r]; ok {
			b = append(b, f...)
			continue
		}
		b = utf8.AppendRune(b, r)
	}
	flush(len(text))
}

// List returns Words of text as a slice.
func List(text string) []string {
	var out []string
	Words(text, func(w string) { out = append(out, w) })
	return out
}

var fold = map[rune]string{}

func init() {
	groups := map[string]string{
		"a": "àáâãäåāăą", "c": "çćĉċč", "d": "ďđ", "e": "èéêëēĕėęě", "g": "ĝğġģ", "h": "ĥħ",
		"i": "ìíîïĩīĭįı", "j": "ĵ", "k": "ķ", "l": "ĺļľŀł", "n": "ñńņňŉ", "o": "òóôõöøōŏő",
		"r": "ŕŗř", "s": "śŝşš", "t": "ţťŧ", "u": "ùúûüũūŭůűų", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
		"ss": "ß", "ae": "æ", "oe": "œ", "th": "þ",
	}
	for to, from := range groups {
		for _, r := range from {
			fold[r] = to
		}
	}
}

// Stem strips common English inflectional and a few derivational suffixes
// ("refunds" → "refund", "policies" → "policy", "shipping" → "ship",
// "charged" → "charg"). Both sides of a comparison must be stemmed: stems
// are keys, not words. The retrieval indexes store these keys (Weaviate's
// textStem, the FTS5 comparison, the local embedder's features): changing
// Stem changes what existing indexes match.
func Stem(w string) string { return stem(w, suffixes) }

// StemWithAtion is Stem that also strips "-ation(s)", so that a noun meets
// its verb ("declarations" and "declared" → "declar"). The assistant's
// answerer compares questions with passages this way; the indexes keep
// Stem.
func StemWithAtion(w string) string { return stem(w, suffixesWithAtion) }

// The derivational and inflectional suffixes stem strips, the first that
// matches; a plural is stripped before them.
var (
	suffixes          = []string{"ments", "ment", "ness", "ingly", "edly", "ing", "ed", "ly"}
	suffixesWithAtion = append([]string{"ations", "ation"}, suffixes...)
)

func stem(w string, suffixes []string) string {
	n := len(w)
	if n <= 3 || !isASCIILetters(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && n > 4:
		w = w[:n-3] + "y"
	case strings.HasSuffix(w, "sses"):
		w = w[:n-2]
	case strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"), strings.HasSuffix(w, "zes"):
		w = w[:n-2]
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:n-1]
	}
	n = len(w)
	for _, suf := range suffixes {
		if strings.HasSuffix(w, suf) && n-len(suf) >= 3 {
			w = w[:n-len(suf)]
			if suf == "ing" || suf == "ed" || suf == "edly" || suf == "ingly" {
				w = undouble(w)
			}
			break
		}
	}
	if strings.HasSuffix(w, "e") && len(w) > 4 { // "charge" and "charged" meet at "charg"
		w = w[:len(w)-1]
	}
	return w
}

func undouble(w string) string {
	n := len(w)
	if n >= 4 && w[n-1] == w[n-2] && !strings.ContainsRune("aeioulsz", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

func isASCIILetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// Stopword reports whether w (lower-cased, unstemmed) is one of
// EnglishStopwords: it carries little meaning.
func Stopword(w string) bool { _, ok := stopwords[w]; return ok }

var stopwords = map[string]struct{}{}

// EnglishStopwords are the words Stopword holds, separated by white space,
// for callers that build a wider set (the assistant adds chat filler and
// other languages' function words). Those with an apostrophe never match a
// word of Words, which splits at it.
const EnglishStopwords = `a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me more most my myself
no nor not now of off on once only or other our ours ourselves out over own same she should so some such than that
the their theirs them themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves can't cannot i'm i've
get got also may might must shall us let`

func init() {
	for _, w := range strings.Fields(EnglishStopwords) {
		stopwords[w] = struct{}{}
	}
}

// Content returns the stemmed non-stopword words of text, deduplicated in
// order of first appearance. If every word is a stopword it returns them
// all (stemmed), so "how do I" still searches for something.
func Content(text string) []string {
	ws := contentWords(text, 0)
	for i, w := range ws {
		ws[i] = Stem(w)
	}
	return ws
}

// QueryWords are the search terms of a query: its words that are not
// stopwords (all of them if every word is one), unstemmed, one word per
// stem (the first), at most max. It looks at no more than 4·max distinct
// stems, however long text is. The stores quote each word as a term of
// their own query language, so no operator can come from the user.
func QueryWords(text string, max int) []string { return contentWords(text, max) }

// contentWords is QueryWords; max 0 means no bound.
func contentWords(text string, max int) []string {
	var all, content []string
	seen := map[string]bool{}
	Words(text, func(w string) {
		st := Stem(w)
		if seen[st] || max > 0 && len(all) >= 4*max {
			return
		}
		seen[st] = true
		all = append(all, w)
		if !Stopword(w) {
			content = append(content, w)
		}
	})
	if len(content) == 0 {
		content = all
	}
	if max > 0 {
		content = content[:min(len(content), max)]
	}
	return content
}
