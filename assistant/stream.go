package assistant

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"concierge/ent/schema/schematype"
)

// Streaming and the final text of a model's answer: the decline marker is
// never shown (the start of the stream is held until it cannot be the
// marker), citation markers [n] pass only when n is a passage, and the
// final text renumbers them to the answer's citations.

// citeGroup matches one citation marker: [1], [2, 3], [1][2] is two,
// [passage 4], [Source 2].
var citeGroup = regexp.MustCompile(`(?i)\[\s*(?:(?:passages?|sources?)\s*)?\d{1,3}(?:\s*(?:,|;|and|&)\s*(?:(?:passages?|sources?)\s*)?\d{1,3})*\s*\]`)

var citeNumber = regexp.MustCompile(`\d{1,3}`)

// replaceCitations replaces each citation marker of s with repl of its
// numbers that are passages (1..n). A bracket right after a word ("a[0]"
// in code) naming no passage is no citation and is left alone.
func replaceCitations(s string, n int, repl func(nums []int) string) string {
	var b strings.Builder
	last := 0
	for _, loc := range citeGroup.FindAllStringIndex(s, -1) {
		var valid []int
		for _, d := range citeNumber.FindAllString(s[loc[0]:loc[1]], -1) {
			if k, _ := strconv.Atoi(d); k >= 1 && k <= n {
				valid = append(valid, k)
			}
		}
		if len(valid) == 0 && loc[0] > 0 && wordByte(s[loc[0]-1]) {
			continue
		}
		b.WriteString(s[last:loc[0]])
		b.WriteString(repl(valid))
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

func wordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// leadTrim is what may precede the marker ("**NO_ANSWER**", "`NO_ANSWER`").
const leadTrim = " \t\r\n*`\"'#>_"

// maxHeldBracket is how far an unclosed "[" is held back in case it is a
// citation.
const maxHeldBracket = 24

// streamFilter turns the provider's deltas into the visitor's deltas.
type streamFilter struct {
	n    int          // passages 1..n exist
	emit func(string) // receives visible text
	raw  strings.Builder
	// pending is text received but not yet shown.
	pending  string
	started  bool // the start is known not to be the marker
	declined bool // the marker was seen: nothing more is shown
}

func (f *streamFilter) write(s string) {
	f.raw.WriteString(s)
	if f.declined {
		return
	}
	f.pending += s
	if !f.started {
		lead := strings.TrimLeft(f.pending, leadTrim)
		switch {
		case lead == "":
			return
		case strings.HasPrefix(lead, DeclineMarker):
			f.declined, f.pending = true, ""
			return
		case strings.HasPrefix(DeclineMarker, lead):
			return // could still become the marker
		}
		f.started = true
		f.pending = strings.TrimLeft(f.pending, " \t\r\n")
	}
	f.drain(false)
}

// drain shows what of pending can be shown; at the end (final) it shows
// everything but a partial marker.
func (f *streamFilter) drain(final bool) {
	if i := strings.Index(f.pending, DeclineMarker); i >= 0 {
		f.show(f.pending[:i])
		f.declined, f.pending = true, ""
		return
	}
	hold := len(f.pending)
	if !final {
		hold = heldFrom(f.pending)
	} else {
		for k := min(len(DeclineMarker)-1, len(f.pending)); k > 0; k-- {
			if strings.HasSuffix(f.pending, DeclineMarker[:k]) {
				hold = len(f.pending) - k
				break
			}
		}
	}
	f.show(f.pending[:hold])
	f.pending = f.pending[hold:]
}

// heldFrom returns where the part of s that must wait starts: an unclosed
// "[" that may become a citation, or a tail that may become the marker.
func heldFrom(s string) int {
	hold := len(s)
	if i := strings.LastIndexByte(s, '['); i >= 0 && len(s)-i <= maxHeldBracket && !strings.ContainsRune(s[i:], ']') {
		ok := true
		for _, r := range s[i+1:] {
			if !(r == ' ' || r == ',' || r == ';' || r == '&' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
				ok = false
				break
			}
		}
		if ok {
			hold = i
		}
	}
	for k := min(len(DeclineMarker)-1, len(s)); k > 0; k-- {
		if strings.HasSuffix(s, DeclineMarker[:k]) {
			hold = min(hold, len(s)-k)
			break
		}
	}
	return hold
}

func (f *streamFilter) show(s string) {
	if s == "" {
		return
	}
	s = replaceCitations(s, f.n, func(nums []int) string {
		var b strings.Builder
		for _, k := range nums {
			b.WriteString("[" + strconv.Itoa(k) + "]")
		}
		return b.String()
	})
	if s != "" && f.emit != nil {
		f.emit(s)
	}
}

// finish shows what is left once the provider is done.
func (f *streamFilter) finish() {
	if f.declined {
		return
	}
	if !f.started {
		lead := strings.TrimSpace(strings.Trim(strings.TrimSpace(f.pending), leadTrim))
		if lead != "" && strings.HasPrefix(DeclineMarker, lead) {
			f.declined, f.pending = true, "" // a cut marker
			return
		}
		f.pending = strings.TrimLeft(f.pending, " \t\r\n")
	}
	f.drain(true)
	f.pending = ""
}

// finalText is the answer's text with the marker checked and the
// citations mapped: declined reports the marker; cited are the passage
// numbers cited (valid ones, in order of first citation).
type finalText struct {
	Text     string
	Declined bool
	Cited    []int
}

// finalize reads a complete answer for n passages.
func finalize(raw string, n int) finalText {
	text := strings.TrimSpace(raw)
	lead := strings.TrimLeft(text, leadTrim)
	if strings.HasPrefix(lead, DeclineMarker) || strings.Contains(text, DeclineMarker) {
		return finalText{Declined: true}
	}
	if lead != "" && len(lead) < len(DeclineMarker) && strings.HasPrefix(DeclineMarker, strings.TrimRight(lead, leadTrim)) {
		return finalText{Declined: true}
	}
	var cited []int
	seen := map[int]bool{}
	replaceCitations(text, n, func(nums []int) string {
		for _, k := range nums {
			if !seen[k] {
				seen[k] = true
				cited = append(cited, k)
			}
		}
		return ""
	})
	return finalText{Text: text, Cited: cited}
}

// renumber rewrites the citation markers of text for n passages with
// mapping (passage number → citation number), dropping the others, and tidies the spaces
// a dropped marker leaves.
func renumber(text string, n int, mapping map[int]int) string {
	out := replaceCitations(text, n, func(nums []int) string {
		var keep []string
		seen := map[int]bool{}
		for _, k := range nums {
			if c, ok := mapping[k]; ok && !seen[c] {
				seen[c] = true
				keep = append(keep, "["+strconv.Itoa(c)+"]")
			}
		}
		if len(keep) == 0 {
			return "\x00" // dropped: the spaces before it go too
		}
		return strings.Join(keep, "")
	})
	// Adjacent identical markers ([1][1], from two passages of one source).
	for _, k := range mapping {
		m := "[" + strconv.Itoa(k) + "]"
		for strings.Contains(out, m+m) {
			out = strings.ReplaceAll(out, m+m, m)
		}
	}
	out = droppedMarker.ReplaceAllString(out, "")
	return strings.TrimSpace(out)
}

// droppedMarker is a dropped citation with the spaces before it.
var droppedMarker = regexp.MustCompile("[ \t]*\x00+")

// citationsFor builds the citations of the cited passages, best first
// (passages are numbered best first), one per source (resource, URL and
// page): mapping gives each passage number its citation number.
func citationsFor(ps []Passage, cited []int, query string) ([]schematype.Citation, map[int]int) {
	nums := append([]int(nil), cited...)
	sort.Ints(nums)
	byN := map[int]Passage{}
	for _, p := range ps {
		byN[p.N] = p
	}
	type source struct {
		res  uuid.UUID
		url  string
		page int
	}
	index := map[source]int{}
	mapping := map[int]int{}
	var out []schematype.Citation
	for _, n := range nums {
		p, ok := byN[n]
		if !ok {
			continue
		}
		h := p.Hit
		key := source{h.ResourceID, h.URL, h.Page}
		if i, ok := index[key]; ok {
			mapping[n] = i + 1
			continue
		}
		index[key] = len(out)
		mapping[n] = len(out) + 1
		out = append(out, schematype.Citation{
			ResourceID: h.ResourceID,
			Title:      citationTitle(h.Title, h.Heading),
			URL:        h.URL,
			Page:       h.Page,
			Snippet:    snippet(h.Text, query, snippetLen),
			Score:      h.Score,
		})
	}
	return out, mapping
}

func citationTitle(title, heading string) string {
	title = strings.TrimSpace(title)
	if title == "" {
		return strings.TrimSpace(heading)
	}
	return title
}

// snippetLen is the target length of a citation's snippet.
const snippetLen = 200

// snippet returns about n bytes of text around its sentences most related
// to query: the best sentence, extended with its neighbours.
func snippet(text, query string, n int) string {
	text = oneLine(text)
	if len(text) <= n {
		return text
	}
	q := map[string]bool{}
	for _, t := range contentTerms(query) {
		q[t] = true
	}
	sents := splitSentences(text)
	best, bestScore := 0, -1.0
	for i, s := range sents {
		score := 0.0
		seen := map[string]bool{}
		for _, t := range contentTerms(s) {
			if q[t] && !seen[t] {
				seen[t] = true
				score++
			}
		}
		score -= float64(i) * 0.01 // earlier wins ties
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	lo, hi := best, best+1
	length := len(sents[best])
	for length < n && (lo > 0 || hi < len(sents)) {
		if hi < len(sents) {
			length += len(sents[hi]) + 1
			hi++
		} else {
			lo--
			length += len(sents[lo]) + 1
		}
	}
	s := strings.Join(sents[lo:hi], " ")
	prefix := ""
	if lo > 0 {
		prefix = "…"
	}
	return prefix + truncate(s, n)
}
