// Package chunk splits extracted documents (PDF pages, web pages, posts,
// plain text) into passages of a few hundred tokens for embedding and
// retrieval.
//
// Split works section by section (a section is one PDF page, one web page,
// one post or one text): it normalises whitespace, detects headings inside
// the text (Markdown "#" headings, "Heading\n=====" / "-----" underlines and,
// for plain text, short title-case lines standing alone before a blank line),
// cuts paragraphs into sentences (. ! ? … followed by a space, and the CJK
// 。！？ anywhere) and packs whole sentences into chunks of about
// TargetTokens, never more than MaxTokens, repeating up to OverlapTokens of
// trailing sentences at the start of the next chunk of the same heading.
// A sentence longer than MaxTokens is cut, as a last resort, at its original
// line breaks, then between words, then (a word or CJK run longer than the
// budget) between characters. Chunks never span sections or headings. The
// result is deterministic.
//
// Token counts are estimates (no tokenizer): see EstimateTokens.
package chunk

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Document is the output of an extractor.
type Document struct {
	Title    string
	Sections []Section
}

// Section is one unit of extracted text with its provenance.
type Section struct {
	Heading string // e.g. page title; may be empty
	Page    int    // 1-based PDF page, 0 when not paged
	URL     string // source URL, when any
	Text    string
}

// Options sets the token budgets. Zero values take the defaults; a negative
// OverlapTokens means no overlap.
type Options struct {
	TargetTokens  int // default 300
	MaxTokens     int // default 450 (1.5 × TargetTokens); never below TargetTokens
	OverlapTokens int // default 50; at most TargetTokens/2
}

// Defaults.
const (
	DefaultTargetTokens  = 300
	DefaultMaxTokens     = 450
	DefaultOverlapTokens = 50
)

// Chunk is one passage.
type Chunk struct {
	Ordinal    int    // 0..n-1 over the whole document
	Title      string // the document's title
	Heading    string // heading path: section heading and headings found in the text, joined by " > "
	Page       int
	URL        string
	Text       string
	TokenCount int // EstimateTokens(Text); never above MaxTokens
}

// HeadingSeparator joins the levels of Chunk.Heading.
const HeadingSeparator = " > "

func (o Options) normalized() Options {
	if o.TargetTokens <= 0 {
		o.TargetTokens = DefaultTargetTokens
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = o.TargetTokens + o.TargetTokens/2
	}
	if o.MaxTokens < o.TargetTokens {
		o.MaxTokens = o.TargetTokens
	}
	if o.MaxTokens < 2 {
		o.MaxTokens = 2
	}
	switch {
	case o.OverlapTokens == 0:
		o.OverlapTokens = DefaultOverlapTokens
	case o.OverlapTokens < 0:
		o.OverlapTokens = 0
	}
	if o.OverlapTokens > o.TargetTokens/2 {
		o.OverlapTokens = o.TargetTokens / 2
	}
	return o
}

// unit is the smallest piece packed into chunks: a sentence, or a piece of
// an over-long sentence.
type unit struct {
	text    string
	w       int    // weight in tenths of a token
	sep     string // text between the previous unit of the same paragraph and this one
	newPara bool   // first unit of a paragraph
}

type group struct {
	heading string
	seq     int // heading events seen before this group
	units   []unit
}

// Split cuts doc into chunks. Empty or whitespace-only sections give none.
func Split(doc Document, opts Options) []Chunk {
	o := opts.normalized()
	s := splitter{
		maxW:     o.MaxTokens * 10,
		targetW:  o.TargetTokens * 10,
		overlapW: o.OverlapTokens * 10,
	}
	var out []Chunk
	for _, sec := range doc.Sections {
		for _, g := range s.groups(sec) {
			for _, us := range s.pack(g.units) {
				text := joinUnits(us)
				out = append(out, Chunk{
					Ordinal:    len(out),
					Title:      doc.Title,
					Heading:    g.heading,
					Page:       sec.Page,
					URL:        sec.URL,
					Text:       text,
					TokenCount: EstimateTokens(text),
				})
			}
		}
	}
	return out
}

type splitter struct {
	maxW, targetW, overlapW int
}

// maxHeadingRunes: longer "headings" are treated as text (a heading path is
// repeated on every chunk).
const maxHeadingRunes = 150

type headingEntry struct {
	level int
	text  string
	used  bool
}

// groups parses a section into runs of units sharing one heading path.
func (s *splitter) groups(sec Section) []group {
	text := normalizeText(sec.Text)
	if strings.TrimSpace(text) == "" {
		return nil
	}
	base := collapse(sec.Heading)
	if utf8.RuneCountInString(base) > maxHeadingRunes {
		base = string([]rune(base)[:maxHeadingRunes]) + "…"
	}
	var (
		out   []group
		stack []headingEntry
		seq   int // bumped by every heading, so that a repeated heading starts a new group
	)
	path := func() string {
		parts := make([]string, 0, len(stack)+1)
		if base != "" {
			parts = append(parts, base)
		}
		for _, h := range stack {
			parts = append(parts, h.text)
		}
		return strings.Join(parts, HeadingSeparator)
	}
	addPara := func(lines []string) {
		us := s.paragraphUnits(lines)
		if len(us) == 0 {
			return
		}
		for i := range stack {
			stack[i].used = true
		}
		h := path()
		if n := len(out); n > 0 && out[n-1].seq == seq {
			out[n-1].units = append(out[n-1].units, us...)
			return
		}
		out = append(out, group{heading: h, seq: seq, units: us})
	}
	// pop removes headings of level >= level; a heading that never had
	// content becomes a paragraph of its own so that its text is not lost.
	pop := func(level int) {
		for len(stack) > 0 && stack[len(stack)-1].level >= level {
			top := stack[len(stack)-1]
			if !top.used {
				addPara([]string{top.text}) // marks the whole stack used
			}
			stack = stack[:len(stack)-1]
			seq++
		}
	}
	pushHeading := func(level int, h string) {
		if h == "" {
			return
		}
		pop(level)
		stack = append(stack, headingEntry{level: level, text: h})
		seq++
	}

	lines := strings.Split(text, "\n")
	for i := range lines {
		lines[i] = collapse(lines[i])
	}
	n := len(lines)
	for i := 0; i < n; {
		l := lines[i]
		if l == "" {
			i++
			continue
		}
		if lvl, h, ok := atxHeading(l); ok && utf8.RuneCountInString(h) <= maxHeadingRunes {
			pushHeading(lvl, h)
			i++
			continue
		}
		if isMarkupLine(l) {
			i++
			continue
		}
		if i+1 < n && utf8.RuneCountInString(l) <= maxHeadingRunes {
			if lvl := underlineLevel(lines[i+1]); lvl > 0 {
				pushHeading(lvl, l)
				i += 2
				continue
			}
		}
		start := i
		for i < n && lines[i] != "" {
			if i > start {
				if _, h, ok := atxHeading(lines[i]); (ok && utf8.RuneCountInString(h) <= maxHeadingRunes) || isMarkupLine(lines[i]) {
					break
				}
			}
			i++
		}
		para := lines[start:i]
		if len(para) == 1 && i < n && lines[i] == "" && isPlainHeading(para[0]) && hasContentAfter(lines, i) {
			pushHeading(7, para[0])
			continue
		}
		// A title line right above its text ("Returns" then "You can
		// return…"): the heading of what follows, not its first words.
		if len(para) >= 2 && isPlainHeading(para[0]) && startsSentence(para[1]) {
			pushHeading(7, para[0])
			para = para[1:]
		}
		addPara(para)
	}
	pop(0)
	return out
}

// startsSentence: the line begins with a capital letter or a digit.
func startsSentence(l string) bool {
	r, _ := utf8.DecodeRuneInString(l)
	return unicode.IsUpper(r) || unicode.IsDigit(r)
}

func hasContentAfter(lines []string, i int) bool {
	for ; i < len(lines); i++ {
		if lines[i] == "" {
			continue
		}
		_, h, ok := atxHeading(lines[i])
		return !(ok && utf8.RuneCountInString(h) <= maxHeadingRunes) && !isMarkupLine(lines[i])
	}
	return false
}

// atxHeading recognises "# Heading", "## Heading ##" (levels 1-6).
func atxHeading(l string) (int, string, bool) {
	n := 0
	for n < len(l) && l[n] == '#' {
		n++
	}
	if n == 0 || n > 6 || (n < len(l) && l[n] != ' ') {
		return 0, "", false
	}
	h := strings.TrimSpace(l[n:])
	if t := strings.TrimRight(h, "#"); t != h && (t == "" || strings.HasSuffix(t, " ")) {
		h = strings.TrimSpace(t)
	}
	return n, h, true
}

// underlineLevel: "===" is a level-1 setext underline, "---" level 2.
func underlineLevel(l string) int {
	if len(l) < 3 {
		return 0
	}
	c := l[0]
	if c != '=' && c != '-' {
		return 0
	}
	for i := 0; i < len(l); i++ {
		if l[i] != c {
			return 0
		}
	}
	if c == '=' {
		return 1
	}
	return 2
}

// isMarkupLine: rules and underlines ("---", "***", "===", "~~~") carry no text.
func isMarkupLine(l string) bool {
	if len(l) < 2 {
		return false
	}
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case '=', '-', '*', '_', '~', '#', ' ':
		default:
			return false
		}
	}
	return true
}

var minorWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "of": true, "for": true, "to": true,
	"in": true, "on": true, "at": true, "by": true, "with": true, "vs": true, "via": true, "from": true,
	"&": true, "-": true, "–": true, "—": true, "/": true,
}

// isPlainHeading: a short title-case (or upper-case) line without sentence
// punctuation at its end.
func isPlainHeading(l string) bool {
	if utf8.RuneCountInString(l) > 80 {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(l)
	if strings.ContainsRune(".,;:!。，；：、", last) {
		return false
	}
	words := strings.Fields(l)
	if len(words) == 0 || len(words) > 10 {
		return false
	}
	letters := false
	for i, w := range words {
		first, _ := utf8.DecodeRuneInString(w)
		for !unicode.IsLetter(first) && !unicode.IsDigit(first) && len(w) > 0 {
			_, sz := utf8.DecodeRuneInString(w)
			w = w[sz:]
			first, _ = utf8.DecodeRuneInString(w)
		}
		if w == "" {
			continue
		}
		if isCJK(first) {
			return false
		}
		if unicode.IsLetter(first) {
			letters = true
			if unicode.IsUpper(first) || (i > 0 && minorWords[strings.ToLower(w)]) {
				continue
			}
			return false
		}
	}
	return letters
}

// paragraphUnits joins a paragraph's lines and cuts it into units.
func (s *splitter) paragraphUnits(lines []string) []unit {
	var b strings.Builder
	breaks := make([]int, 0, len(lines))
	for i, l := range lines {
		if i > 0 {
			prev, _ := utf8.DecodeLastRuneInString(lines[i-1])
			next, _ := utf8.DecodeRuneInString(l)
			if !(isCJK(prev) && isCJK(next)) {
				b.WriteByte(' ')
			}
			breaks = append(breaks, b.Len())
		}
		b.WriteString(l)
	}
	p := b.String()
	var us []unit
	prevEnd := 0
	for _, sp := range sentences(p) {
		sep := p[prevEnd:sp.start]
		prevEnd = sp.end
		us = s.sentenceUnits(us, p, sp, sep, breaks)
	}
	if len(us) > 0 {
		us[0].newPara = true
		us[0].sep = ""
	}
	return us
}

type span struct{ start, end int }

// sentenceUnits appends the sentence p[sp.start:sp.end] as one unit, or,
// when it is longer than the budget, as pieces cut at line breaks, then
// words, then characters.
func (s *splitter) sentenceUnits(us []unit, p string, sp span, sep string, breaks []int) []unit {
	text := p[sp.start:sp.end]
	if w := weight(text); w <= s.maxW {
		return append(us, unit{text: text, w: w, sep: sep})
	}
	// pieces at original line breaks
	cuts := []int{sp.start}
	for _, br := range breaks {
		if br > sp.start && br < sp.end {
			cuts = append(cuts, br)
		}
	}
	cuts = append(cuts, sp.end)
	psep := sep
	for k := 0; k+1 < len(cuts); k++ {
		piece := p[cuts[k]:cuts[k+1]]
		trimmed := strings.TrimRight(piece, " ")
		nextSep := piece[len(trimmed):] // the line joiner: " " or ""
		piece = trimmed
		if piece == "" {
			continue
		}
		if w := weight(piece); w <= s.maxW {
			us = append(us, unit{text: piece, w: w, sep: psep})
		} else {
			us = s.wordUnits(us, piece, psep)
		}
		psep = nextSep
	}
	return us
}

// wordUnits cuts an over-long piece between words, and over-long words
// between characters.
func (s *splitter) wordUnits(us []unit, piece, sep string) []unit {
	first := true
	for _, word := range strings.Split(piece, " ") {
		if word == "" {
			continue
		}
		wsep := " "
		if first {
			wsep = sep
			first = false
		}
		if w := weight(word); w <= s.maxW {
			us = append(us, unit{text: word, w: w, sep: wsep})
			continue
		}
		// a rune costs at most 1.3 tokens (13 tenths), so this many runes fit
		per := max(1, s.maxW/13)
		n := 0
		start := 0
		for i := range word {
			if n == per {
				seg := word[start:i]
				us = append(us, unit{text: seg, w: weight(seg), sep: wsep})
				wsep = ""
				start, n = i, 0
			}
			n++
		}
		seg := word[start:]
		us = append(us, unit{text: seg, w: weight(seg), sep: wsep})
	}
	return us
}

// pack groups the units of one heading group into chunks.
func (s *splitter) pack(us []unit) [][]unit {
	var out [][]unit
	var prev []unit
	for i := 0; i < len(us); {
		cur := s.overlap(prev)
		w := 0
		for _, u := range cur {
			w += u.w
		}
		for len(cur) > 0 && w+us[i].w > s.maxW {
			w -= cur[0].w
			cur = cur[1:]
		}
		added := 0
		for i < len(us) {
			u := us[i]
			if added > 0 {
				if w+u.w > s.maxW {
					break
				}
				// a last unit may go over the target (up to max) rather than
				// make a tiny chunk of its own
				if w+u.w > s.targetW && i != len(us)-1 {
					break
				}
			}
			cur = append(cur, u)
			w += u.w
			i++
			added++
		}
		out = append(out, cur)
		prev = cur
	}
	return out
}

// overlap returns a copy of the trailing units of prev that fit the overlap
// budget.
func (s *splitter) overlap(prev []unit) []unit {
	if s.overlapW <= 0 || len(prev) < 2 {
		return nil
	}
	w, k := 0, len(prev)
	for k > 1 && w+prev[k-1].w <= s.overlapW {
		w += prev[k-1].w
		k--
	}
	if k == len(prev) {
		return nil
	}
	out := make([]unit, len(prev)-k, len(prev)-k+8)
	copy(out, prev[k:])
	return out
}

func joinUnits(us []unit) string {
	n := 0
	for _, u := range us {
		n += len(u.text) + 2
	}
	var b strings.Builder
	b.Grow(n)
	for i, u := range us {
		if i > 0 {
			if u.newPara {
				b.WriteString("\n\n")
			} else {
				b.WriteString(u.sep)
			}
		}
		b.WriteString(u.text)
	}
	return b.String()
}
