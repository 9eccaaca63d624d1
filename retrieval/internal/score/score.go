// Package score is the lexical evidence shared by the stores' scores: how
// much of a query's content a passage holds, each query word weighted by
// its rarity (IDF), with typo corrections and long prefixes counting
// partly. The stores mix it with their own signals (cosine, rank) so that
// one threshold (retrieval.DefaultThreshold) means the same in both.
package score

import (
	"math"
	"strings"

	"concierge/terms"
)

// Credit of a query term matched otherwise than by its stem.
const (
	typoCredit   = 0.75
	prefixCredit = 0.5
)

// Term is one content word of a query.
type Term struct {
	Word string // as typed (lower-cased, folded)
	Stem string // terms.Stem(Word)
	// Alts are indexed words close to a word the index lacks (typos): a
	// passage word beginning with one counts typoCredit.
	Alts []string
	// Prefix (≥ 4 letters), when set, counts prefixCredit for a passage
	// word that begins with it.
	Prefix string
	// Weight is the term's IDF (see IDF); 0 means 1.
	Weight float64
}

// IDF is BM25's inverse document frequency of a word in df of n passages:
// a word in every passage weighs almost nothing, a word in none the most.
func IDF(n, df int) float64 {
	n = max(n, df, 1)
	return math.Log(1 + (float64(n-df)+0.5)/(float64(df)+0.5))
}

// Match is how much of a query a passage holds, each in [0, 1].
type Match struct {
	// Coverage is the weighted share of the query's terms found in the
	// passage (title, heading or text).
	Coverage float64
	// Heading is the weighted share found in the section heading.
	Heading float64
}

// Coverage matches qs against a passage.
func Coverage(qs []Term, title, heading, text string) Match {
	if len(qs) == 0 {
		return Match{}
	}
	found := make([]float64, len(qs))
	head := make([]float64, len(qs))
	scan := func(s string, into []float64, also []float64) {
		terms.Words(s, func(w string) {
			var st string
			for i := range qs {
				q := &qs[i]
				if into[i] == 1 {
					continue
				}
				if st == "" {
					st = terms.Stem(w)
				}
				c := 0.0
				switch {
				case st == q.Stem || w == q.Word:
					c = 1
				case matchAlt(w, q.Alts):
					c = typoCredit
				case q.Prefix != "" && strings.HasPrefix(w, q.Prefix):
					c = prefixCredit
				}
				if c > into[i] {
					into[i] = c
				}
				if also != nil && c > also[i] {
					also[i] = c
				}
			}
		})
	}
	scan(heading, head, found)
	scan(title, found, nil)
	scan(text, found, nil)
	var total, got, gotHead float64
	for i, q := range qs {
		w := q.Weight
		if w <= 0 {
			w = 1
		}
		total += w
		got += w * found[i]
		gotHead += w * head[i]
	}
	return Match{Coverage: got / total, Heading: gotHead / total}
}

// matchAlt: w begins with an alternative (an indexed stem: "polici" is
// matched by "policies" and "policy").
func matchAlt(w string, alts []string) bool {
	for _, a := range alts {
		if strings.HasSuffix(a, "i") && len(a) > 3 {
			a = a[:len(a)-1]
		}
		if len(a) >= 3 && strings.HasPrefix(w, a) {
			return true
		}
	}
	return false
}

// MaxEdits is the edit distance a typo correction of word may be at:
// none under 5 letters ("find" is not "fine"), 1 up to 7 ("reset" is not
// "result"), 2 from 8.
func MaxEdits(word string) int {
	switch {
	case len(word) < 5:
		return 0
	case len(word) <= 7:
		return 1
	}
	return 2
}

// Filler reports whether w (lower-cased, unstemmed) is a word questions
// are phrased with rather than about ("what happens if", "make sure"):
// it is kept, at fillerWeight.
func Filler(w string) bool { _, ok := filler[w]; return ok }

// FillerWeight is the weight factor of a Filler word.
const FillerWeight = 0.25

var filler = map[string]struct{}{}

func init() {
	for _, w := range strings.Fields(`happen happens happened make makes sure one many much even like work works
	find gets getting big want wants way need needs thing things something anything keep give gives know tell
	possible able allowed happen use using used please example exactly really actually`) {
		filler[w] = struct{}{}
	}
}

// Distance is the optimal string alignment distance of a and b (edits,
// with adjacent transpositions), or max+1 when it is over max.
func Distance(a, b string, maxd int) int {
	if d := len(a) - len(b); d > maxd || -d > maxd {
		return maxd + 1
	}
	la, lb := len(a), len(b)
	prev2 := make([]int, lb+1)
	prev := make([]int, lb+1)
	cur := make([]int, lb+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > maxd {
			return maxd + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[lb], maxd+1)
}

// PrefixFallback is the prefix a word without match or correction falls
// back to: at least 4 letters and all but its last 3 ("password" → "passw"),
// "" for a word under 6 letters.
func PrefixFallback(word string) string {
	if len(word) < 6 {
		return ""
	}
	return word[:max(4, len(word)-3)]
}

// Bare strips a common suffix from word, the way a porter stem (the FTS5
// vocabulary's) would lack it: "expresions" → "expres".
func Bare(word string) string {
	for _, suf := range []string{"ations", "ation", "ions", "ion", "ings", "ing", "ers", "er", "ed", "es", "s", "ly"} {
		if strings.HasSuffix(word, suf) && len(word)-len(suf) >= 4 {
			return word[:len(word)-len(suf)]
		}
	}
	return word
}
