package assistant

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Light text analysis for the offline answerer, snippets and language
// detection: words, accent folding, suffix stripping and stopwords of the
// supported languages. Deliberately simple and fast, not linguistics.

// words splits text into lower-cased, accent-folded words (runs of letters
// and digits).
func words(text string) []string {
	var out []string
	var b []byte
	flush := func() {
		if len(b) > 0 {
			out = append(out, string(b))
			b = b[:0]
		}
	}
	for _, r := range text {
		switch {
		case r < utf8.RuneSelf:
			c := byte(r)
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
				b = append(b, c)
			case c >= 'A' && c <= 'Z':
				b = append(b, c+'a'-'A')
			default:
				flush()
			}
		case unicode.Is(unicode.Mn, r): // combining accent
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			r = unicode.ToLower(r)
			if f, ok := fold[r]; ok {
				b = append(b, f...)
			} else {
				b = utf8.AppendRune(b, r)
			}
		default:
			flush()
		}
	}
	flush()
	return out
}

// rawWords splits text into lower-cased words without folding accents
// (language detection needs "é" and "ü").
func rawWords(text string) []string {
	text = strings.NewReplacer("’", "'", "ʼ", "'").Replace(text)
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
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

// stem strips common inflectional suffixes ("refunds" → "refund",
// "policies" → "policy", "charged"/"charge" → "charg"). Both sides of a
// comparison must be stemmed.
func stem(w string) string {
	n := len(w)
	if n <= 3 || !asciiLetters(w) {
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
	for _, suf := range []string{"ations", "ation", "ments", "ment", "ness", "ingly", "edly", "ing", "ed", "ly"} {
		if strings.HasSuffix(w, suf) && n-len(suf) >= 3 {
			w = w[:n-len(suf)]
			if suf == "ing" || suf == "ed" || suf == "edly" || suf == "ingly" {
				w = undouble(w)
			}
			break
		}
	}
	if strings.HasSuffix(w, "e") && len(w) > 4 {
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

func asciiLetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// stopword reports whether w (lower-cased, folded, unstemmed) carries little
// meaning in any supported language, or is chat filler ("please", "tell").
func stopword(w string) bool { _, ok := stopwords[w]; return ok }

var stopwords = map[string]struct{}{}

// filler are words of questions that say nothing about the topic.
const filler = `please hi hello hey thanks thank tell know want need like would could help question
way able possible anyone someone something anything use using used find work works explain
mean means happen happens okay ok yes yeah sure really much many thing things us also one
prend prendre faut dauert gibt demora`

const englishStop = `a about above after again against all am an and any are as at be because been
before being below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me more most my myself
no nor not now of off on once only or other our ours ourselves out over own same she should so some such than that
the their theirs them themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself yourselves cannot
get got also may might must shall let s t don doesn isn aren didn won can't i'm`

// contentToo are function words of some language that are content words
// in another (a SIM card, a war).
var contentToo = map[string]bool{"sim": true, "die": true, "war": true, "son": true, "hay": true, "tem": true}

func init() {
	for _, list := range []string{filler, englishStop} {
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
