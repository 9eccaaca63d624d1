package main

import (
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This is the eval's own small chunker for the two Go documents in
// testdata (a proper ingestion chunker is another issue's work). It splits
// an HTML document into sections at its <h2> and <h3> headings (an <h4>
// stays inside its <h3> section, its title kept as a paragraph), and each
// section into passages of about minWords to maxWords words, cutting only
// between sentences, list items and code blocks, preferring paragraph
// boundaries once a passage has targetWords words.

// Passage sizes, in words (runs of non-space characters).
const (
	minWords    = 100
	targetWords = 120
	maxWords    = 220
	// tailWords: a last passage shorter than this is merged into the one
	// before it when the two fit in maxWords+tailWords.
	tailWords = 50
)

// Document is one HTML file of the corpus.
type Document struct {
	// Key is the short name questions use ("spec", "mem").
	Key string
	// Title is the document's title (from its metadata comment).
	Title string
	// URL is the document's address; passages add #anchor.
	URL string
	// Sections in document order.
	Sections []Section
}

// Section is the text under one <h2> or <h3> heading.
type Section struct {
	// Top is the enclosing <h2> heading (the section's own for an <h2>).
	Top string
	// Heading is the section's own heading.
	Heading string
	// Anchor is the heading's id attribute.
	Anchor string
	// Passages of the section, in order.
	Passages []string

	blocks []block
}

// block is a paragraph-level piece of a section: prose or code.
type block struct {
	text string
	code bool
}

var (
	metaRe    = regexp.MustCompile(`(?s)^\s*<!--(\{.*?\})-->`)
	styleRe   = regexp.MustCompile(`(?is)<(style|script)\b.*?</(style|script)>`)
	commentRe = regexp.MustCompile(`(?s)<!--.*?-->`)
	headingRe = regexp.MustCompile(`(?is)<h([234])\b([^>]*)>(.*?)</h[234]>`)
	idRe      = regexp.MustCompile(`(?i)\bid="([^"]*)"`)
	preRe     = regexp.MustCompile(`(?is)<pre\b[^>]*>(.*?)</pre>`)
	blockRe   = regexp.MustCompile(`(?i)</?(p|li|ul|ol|dl|dt|dd|div|table|tr|td|th|blockquote|br)\b[^>]*>`)
	tagRe     = regexp.MustCompile(`(?s)<[^>]*>`)
	spaceRe   = regexp.MustCompile(`\s+`)
)

// ParseDocument splits the HTML of one document into sections and passages.
func ParseDocument(key, url string, src []byte) (Document, error) {
	s := string(src)
	doc := Document{Key: key, URL: url}
	if m := metaRe.FindStringSubmatch(s); m != nil {
		var meta struct{ Title string }
		if err := json.Unmarshal([]byte(m[1]), &meta); err != nil {
			return doc, fmt.Errorf("%s: metadata: %w", key, err)
		}
		doc.Title = meta.Title
		s = s[len(m[0]):]
	}
	if doc.Title == "" {
		return doc, fmt.Errorf("%s: no title", key)
	}
	s = styleRe.ReplaceAllString(s, "")
	s = commentRe.ReplaceAllString(s, "")

	heads := headingRe.FindAllStringSubmatchIndex(s, -1)
	var cur *Section
	var blocks []block
	flush := func() {
		if cur != nil {
			cur.blocks = blocks
			cur.Passages = pack(blocks)
			if len(cur.Passages) > 0 {
				doc.Sections = append(doc.Sections, *cur)
			}
		}
		blocks = nil
	}
	top := ""
	for i, h := range heads {
		level, attrs, title := s[h[2]:h[3]], s[h[4]:h[5]], inlineText(s[h[6]:h[7]])
		end := len(s)
		if i+1 < len(heads) {
			end = heads[i+1][0]
		}
		body := s[h[1]:end]
		if level == "4" {
			blocks = append(blocks, block{text: title + "."})
			blocks = append(blocks, htmlBlocks(body)...)
			continue
		}
		flush()
		if level == "2" {
			top = title
		}
		anchor := ""
		if m := idRe.FindStringSubmatch(attrs); m != nil {
			anchor = m[1]
		}
		cur = &Section{Top: top, Heading: title, Anchor: anchor}
		blocks = htmlBlocks(body)
	}
	flush()
	if len(doc.Sections) == 0 {
		return doc, fmt.Errorf("%s: no sections", key)
	}
	return doc, nil
}

// inlineText is the plain text of an HTML fragment on one line.
func inlineText(s string) string {
	s = html.UnescapeString(tagRe.ReplaceAllString(s, ""))
	return strings.TrimSpace(spaceRe.ReplaceAllString(s, " "))
}

// htmlBlocks splits an HTML fragment into prose paragraphs and code blocks.
func htmlBlocks(s string) []block {
	var out []block
	prose := func(frag string) {
		frag = blockRe.ReplaceAllString(frag, "\x00")
		for _, p := range strings.Split(frag, "\x00") {
			if t := inlineText(p); t != "" {
				out = append(out, block{text: t})
			}
		}
	}
	last := 0
	for _, m := range preRe.FindAllStringSubmatchIndex(s, -1) {
		prose(s[last:m[0]])
		code := html.UnescapeString(tagRe.ReplaceAllString(s[m[2]:m[3]], ""))
		code = strings.Trim(code, "\n")
		if strings.TrimSpace(code) != "" {
			out = append(out, block{text: dedent(code), code: true})
		}
		last = m[1]
	}
	prose(s[last:])
	return out
}

// dedent removes the indentation common to all non-blank lines and
// trailing spaces.
func dedent(code string) string {
	lines := strings.Split(code, "\n")
	common := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if common < 0 || n < common {
			common = n
		}
	}
	for i, l := range lines {
		l = strings.TrimRight(l, " \t")
		if len(l) >= common && common > 0 {
			l = l[common:]
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

// unit is what pack never cuts: a sentence, or a piece of code.
type unit struct {
	text      string
	words     int
	paraStart bool
	code      bool
}

// pack turns a section's blocks into passages.
func pack(blocks []block) []string {
	groups := packUnits(blocks)
	passages := make([]string, 0, len(groups))
	for _, us := range groups {
		passages = append(passages, join(us))
	}
	return passages
}

// packUnits groups a section's units into passages: a passage is cut
// before a unit when it would grow over maxWords, or when it has
// targetWords and a paragraph starts; never where a sentence continues
// (see glued) unless the passage would then exceed maxWords+tailWords.
func packUnits(blocks []block) [][]unit {
	var units []unit
	for _, b := range blocks {
		var parts []string
		if b.code {
			parts = codePieces(b.text)
		} else {
			parts = Sentences(b.text)
		}
		for i, p := range parts {
			units = append(units, unit{text: p, words: wordCount(p), paraStart: i == 0, code: b.code})
		}
	}
	var out [][]unit
	var cur []unit
	words := 0
	for i, u := range units {
		if words > 0 {
			cut := words+u.words > maxWords || (words >= targetWords && u.paraStart)
			if glued(units[i-1], u) && words+u.words <= maxWords+tailWords {
				cut = false
			}
			if cut {
				out = append(out, cur)
				cur, words = nil, 0
			}
		}
		cur = append(cur, u)
		words += u.words
	}
	if len(cur) > 0 {
		if n := len(out); n > 0 && words < tailWords && count(out[n-1])+words <= maxWords+tailWords {
			out[n-1] = append(out[n-1], cur...)
		} else {
			out = append(out, cur)
		}
	}
	return out
}

// glued reports whether a sentence runs on from prev into u: prose that
// does not end like a sentence (it introduces code or a list), or prose
// starting in lower case right after code (the sentence goes on after the
// code).
func glued(prev, u unit) bool {
	if !prev.code && !endsSentence(prev.text) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(u.text)
	return prev.code && !u.code && unicode.IsLower(r)
}

// endsSentence reports whether prose ends with sentence punctuation.
func endsSentence(s string) bool {
	s = strings.TrimRight(s, `"')]”’ `)
	return s != "" && strings.ContainsAny(s[len(s)-1:], ".!?:")
}

func count(us []unit) int {
	n := 0
	for _, u := range us {
		n += u.words
	}
	return n
}

// join writes units back as text: sentences of a paragraph separated by a
// space, paragraphs and code blocks by a blank line, lines of one code
// block by a newline.
func join(us []unit) string {
	var b strings.Builder
	for i, u := range us {
		if i > 0 {
			switch {
			case u.paraStart || u.code != us[i-1].code:
				b.WriteString("\n\n")
			case u.code:
				b.WriteString("\n")
			default:
				b.WriteString(" ")
			}
		}
		b.WriteString(u.text)
	}
	return b.String()
}

// codePieces returns a code block whole, or, when it is longer than
// maxWords/2, split at blank lines (and, for a still longer stretch, at
// line ends) into pieces of at most maxWords/2 words.
func codePieces(code string) []string {
	if wordCount(code) <= maxWords/2 {
		return []string{code}
	}
	var out []string
	var cur []string
	words := 0
	flush := func() {
		if t := strings.Trim(strings.Join(cur, "\n"), "\n"); t != "" {
			out = append(out, t)
		}
		cur, words = nil, 0
	}
	for _, l := range strings.Split(code, "\n") {
		w := wordCount(l)
		if words > 0 && (words+w > maxWords/2 || (strings.TrimSpace(l) == "" && words >= maxWords/4)) {
			flush()
		}
		cur = append(cur, l)
		words += w
	}
	flush()
	return out
}

func wordCount(s string) int { return len(strings.Fields(s)) }

// abbreviations end with a period that does not end a sentence.
var abbreviations = map[string]bool{"e.g.": true, "i.e.": true, "etc.": true, "vs.": true, "cf.": true, "resp.": true}

// Sentences splits prose at sentence ends: '.', '!' or '?' (and any
// closing quotes or brackets) followed by a space and a capital letter,
// digit, quote or bracket, unless the period ends a known abbreviation.
func Sentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		j := i + 1
		for j < len(text) && strings.IndexByte(`"')]`, text[j]) >= 0 {
			j++
		}
		if j >= len(text) || text[j] != ' ' {
			continue
		}
		r, _ := utf8.DecodeRuneInString(text[j+1:])
		if !(unicode.IsUpper(r) || unicode.IsDigit(r) || strings.ContainsRune(`"'(“`, r)) {
			continue
		}
		if c == '.' {
			w := text[strings.LastIndexByte(text[:i], ' ')+1 : i+1]
			if abbreviations[strings.ToLower(w)] {
				continue
			}
		}
		out = append(out, strings.TrimSpace(text[start:j]))
		start = j + 1
	}
	if rest := strings.TrimSpace(text[start:]); rest != "" {
		out = append(out, rest)
	}
	return out
}
