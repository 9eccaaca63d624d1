package pdf

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Repair fixes what text extraction gets wrong in typeset PDFs, on every
// extraction path (pdftotext, the pure-Go reader, OCR), in place:
//
//   - ligature glyphs are spelled out ("ﬁ" → "fi", "ﬄ" → "ffl");
//
//   - a spacing accent next to a letter (pdfTeX draws "ä" as "¨" over
//     "a", which comes out as "¨a" or "a¨") is combined with it, and the
//     text is put in NFC ("Wirtschaftsuniversit¨at" →
//     "Wirtschaftsuniversität");
//
//   - words hyphenated at a line end are joined ("informa-\ntion" →
//     "information", see joinHyphenation), the whole document's words
//     deciding when the hyphen was a real one ("self-\nservice" →
//     "self-service"); in pdftotext's text, a compound it joined
//     ("selfservice") gets its hyphen back when the document spells it
//     so as often.
func Repair(doc *Document) {
	if doc == nil {
		return
	}
	doc.Title = repairGlyphs(doc.Title)
	texts := make([]string, len(doc.Pages))
	for i, p := range doc.Pages {
		texts[i] = repairGlyphs(p.Text)
	}
	vocab := vocabulary(texts)
	for i := range texts {
		texts[i] = joinHyphenation(texts[i], vocab)
	}
	if doc.Extractor == "pdftotext" {
		restoreCompounds(texts)
	}
	for i := range doc.Pages {
		doc.Pages[i].Text = texts[i]
	}
}

var wordRE = regexp.MustCompile(`[\pL\pM]+(?:[-\x{2010}][\pL\pM]+)*`)

// restoreCompounds puts back the hyphen of a compound that pdftotext
// joined at a line end (it drops every line-end hyphen: "self-\nservice"
// comes out as "selfservice"): a word the document spells with a hyphen
// at least as often as without it takes the hyphenated spelling (a tie
// goes to the hyphen: the joined spelling may be pdftotext's own).
func restoreCompounds(texts []string) {
	hyphenated := map[string]string{} // joined (lower case) → hyphenated spelling
	count := map[string]int{}
	for _, t := range texts {
		for _, w := range wordRE.FindAllString(t, -1) {
			lw := strings.ToLower(w)
			count[lw]++
			if strings.IndexFunc(w, isHyphen) >= 0 {
				hyphenated[strings.Map(func(r rune) rune {
					if isHyphen(r) {
						return -1
					}
					return r
				}, lw)] = lw
			}
		}
	}
	if len(hyphenated) == 0 {
		return
	}
	for i, t := range texts {
		texts[i] = wordRE.ReplaceAllStringFunc(t, func(w string) string {
			lw := strings.ToLower(w)
			h, ok := hyphenated[lw]
			if !ok || count[h] < count[lw] {
				return w
			}
			// Same letters, same case: put the hyphens where h has them.
			rs := []rune(w)
			if utf8.RuneCountInString(lw) != len(rs) {
				return w
			}
			var b strings.Builder
			k := 0
			for _, r := range h {
				if isHyphen(r) {
					b.WriteRune(r)
					continue
				}
				b.WriteRune(rs[k])
				k++
			}
			return b.String()
		})
	}
}

var ligatures = strings.NewReplacer(
	"\uFB00", "ff", "\uFB01", "fi", "\uFB02", "fl", "\uFB03", "ffi", "\uFB04", "ffl", "\uFB05", "st", "\uFB06", "st",
	"\u0132", "IJ", "\u0133", "ij",
)

// spacingAccents maps spacing (stand-alone) accents to their combining
// marks.
var spacingAccents = map[rune]rune{
	'\u00A8': '\u0308', // ¨ diaeresis
	'\u00B4': '\u0301', // ´ acute
	'\u02CA': '\u0301', // ˊ modifier acute
	'\u02CB': '\u0300', // ˋ modifier grave
	'\u02C6': '\u0302', // ˆ circumflex
	'\u02DC': '\u0303', // ˜ small tilde
	'\u02C7': '\u030C', // ˇ caron
	'\u02DA': '\u030A', // ˚ ring
	'\u00B8': '\u0327', // ¸ cedilla
	'\u02D8': '\u0306', // ˘ breve
	'\u02DD': '\u030B', // ˝ double acute
	'\u02D9': '\u0307', // ˙ dot above
	'\u02DB': '\u0328', // ˛ ogonek
	'\u00AF': '\u0304', // ¯ macron
	// ASCII stand-ins, repaired only between two letters ("tr`es").
	'`': '\u0300',
	'^': '\u0302',
	'~': '\u0303',
}

// contraction follows an acute used as an apostrophe ("don´t", "it´s").
var contractions = []string{"s", "t", "d", "m", "ll", "re", "ve"}

// repairGlyphs spells out ligatures, combines spacing accents with the
// letter they belong to and returns the text in NFC.
func repairGlyphs(s string) string {
	s = ligatures.Replace(s)
	if strings.IndexFunc(s, func(r rune) bool { _, ok := spacingAccents[r]; return ok || unicode.Is(unicode.Mn, r) }) < 0 {
		return norm.NFC.String(s)
	}
	rs := []rune(s)
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		var prev, next rune
		if len(out) > 0 {
			prev = out[len(out)-1]
		}
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		// A combining mark before its letter (not after one): move it.
		if unicode.Is(unicode.Mn, r) && !unicode.IsLetter(prev) && !unicode.Is(unicode.Mn, prev) && unicode.IsLetter(next) {
			if c, ok := compose(next, r); ok {
				out = append(out, c)
				i++
				continue
			}
		}
		mark, ok := spacingAccents[r]
		if !ok {
			out = append(out, r)
			continue
		}
		pl, nl := unicode.IsLetter(prev), unicode.IsLetter(next)
		if r < utf8.RuneSelf && !(pl && nl) {
			out = append(out, r)
			continue
		}
		if mark == '\u0301' && pl && contraction(rs[i+1:]) {
			out = append(out, r)
			continue
		}
		cn, okN := rune(0), false
		if nl {
			cn, okN = compose(next, mark)
		}
		cp, okP := rune(0), false
		if pl {
			cp, okP = compose(prev, mark)
		}
		// TeX puts the accent before its letter; a common letter (Latin-1,
		// Latin Extended-A) wins over a rare one ("a¨t" is "ät", not "aẗ").
		switch {
		case okN && (common(cn) || !okP || !common(cp)):
			out = append(out, cn)
			i++
		case okP:
			out[len(out)-1] = cp
		default:
			out = append(out, r)
		}
	}
	return norm.NFC.String(string(out))
}

// compose returns base+mark as one precomposed rune.
func compose(base, mark rune) (rune, bool) {
	c := norm.NFC.String(string([]rune{base, mark}))
	r, size := utf8.DecodeRuneInString(c)
	if size != len(c) || r == base {
		return 0, false
	}
	return r, true
}

func common(r rune) bool { return r >= 0xC0 && r <= 0x17F }

// contraction reports whether rs starts with an English contraction's
// ending followed by a non-letter ("t " of "don´t ").
func contraction(rs []rune) bool {
	for _, c := range contractions {
		n := utf8.RuneCountInString(c)
		if len(rs) >= n && strings.EqualFold(string(rs[:n]), c) && (len(rs) == n || !unicode.IsLetter(rs[n])) {
			return true
		}
	}
	return false
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) }

func isHyphen(r rune) bool { return r == '-' || r == '\u2010' || r == '\u00AD' }

// lineBreak is a line ending in a letter and a hyphen followed by a line
// starting with a lower-case letter.
type lineBreak struct {
	left  string // the word before the hyphen
	soft  bool   // a soft hyphen: always a hyphenation point
	right string // the word starting the next line (letters only)
	// option: the word starts with a hyphen ("--with-\nblas", a
	// command-line option) or is part of a path, address or identifier
	// ("/usr/lib/r-\nbase"): its hyphens are real.
	option bool
}

// breakAt returns the hyphenation candidate between line and next.
func breakAt(line, next string) (lineBreak, bool) {
	h, hs := utf8.DecodeLastRuneInString(line)
	if !isHyphen(h) {
		return lineBreak{}, false
	}
	body := line[:len(line)-hs]
	last, _ := utf8.DecodeLastRuneInString(body)
	first, _ := utf8.DecodeRuneInString(strings.TrimLeft(next, " \t"))
	if !unicode.IsLower(last) || !unicode.IsLower(first) {
		return lineBreak{}, false
	}
	start := 0
	if j := strings.LastIndexFunc(body, func(r rune) bool { return !isWordRune(r) && !isHyphen(r) }); j >= 0 {
		_, size := utf8.DecodeRuneInString(body[j:])
		start = j + size
	}
	left := strings.TrimLeftFunc(body[start:], isHyphen)
	rest := strings.TrimLeft(next, " \t")
	end := strings.IndexFunc(rest, func(r rune) bool { return !isWordRune(r) })
	if end < 0 {
		end = len(rest)
	}
	token := body[strings.LastIndexFunc(body, unicode.IsSpace)+1:]
	if j := strings.IndexFunc(rest, unicode.IsSpace); j >= 0 {
		token += rest[:j]
	} else {
		token += rest
	}
	return lineBreak{left: left, soft: h == '\u00AD', right: rest[:end],
		option: len(left) < len(body[start:]) || strings.ContainsAny(token, "/@_")}, true
}

// vocabulary counts the words of texts (lower case, hyphenated compounds
// as one word and as their parts), leaving out the words cut at line ends.
func vocabulary(texts []string) map[string]bool {
	vocab := map[string]bool{}
	for _, t := range texts {
		lines := strings.Split(t, "\n")
		for i, l := range lines {
			if i+1 < len(lines) {
				if _, ok := breakAt(l, lines[i+1]); ok {
					// drop the cut word
					j := strings.LastIndexFunc(l, unicode.IsSpace)
					l = l[:j+1]
				}
			}
			if i > 0 {
				if _, ok := breakAt(lines[i-1], l); ok {
					l = strings.TrimLeft(l, " \t")
					if j := strings.IndexFunc(l, unicode.IsSpace); j >= 0 {
						l = l[j:]
					} else {
						l = ""
					}
				}
			}
			for _, w := range strings.FieldsFunc(strings.ToLower(l), func(r rune) bool { return !isWordRune(r) && !isHyphen(r) }) {
				w = strings.TrimFunc(w, isHyphen)
				if w == "" {
					continue
				}
				vocab[w] = true
				if strings.IndexFunc(w, isHyphen) >= 0 {
					for _, p := range strings.FieldsFunc(w, isHyphen) {
						vocab[p] = true
					}
				}
			}
		}
	}
	return vocab
}

// joinHyphenation joins the words cut by a hyphen at a line end: a
// lower-case letter, a hyphen, a line break, a lower-case letter. The
// hyphen stays (and the line break goes) when it looks like a real
// compound's: the hyphenated spelling is used elsewhere in the document
// and the joined one is not, or the word before the hyphen already has a
// hyphen ("state-of-the-\nart", "--with-\nblas"), or both halves are
// words of the document and the joined word is not ("self-\nservice"). A
// soft hyphen always joins. The rest of the next line stays on its own
// line.
func joinHyphenation(text string, vocab map[string]bool) string {
	if !strings.Contains(text, "-\n") && !strings.Contains(text, "\u2010\n") && !strings.Contains(text, "\u00AD\n") {
		return text
	}
	lines := strings.Split(text, "\n")
	out := make([]string, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		for i+1 < len(lines) {
			b, ok := breakAt(l, lines[i+1])
			if !ok {
				break
			}
			_, hs := utf8.DecodeLastRuneInString(l)
			body := l[:len(l)-hs]
			rest := strings.TrimLeft(lines[i+1], " \t")
			token, after := rest, ""
			if j := strings.IndexFunc(rest, unicode.IsSpace); j >= 0 {
				token, after = rest[:j], strings.TrimLeft(rest[j:], " \t")
			}
			if keepHyphen(b, vocab) {
				l = body + "-" + token
			} else {
				l = body + token
			}
			if after == "" {
				i++ // the next line was only the word's end: continue with the one after
				continue
			}
			lines[i+1] = after
			break
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func keepHyphen(b lineBreak, vocab map[string]bool) bool {
	if b.soft {
		return false
	}
	left, right := strings.ToLower(b.left), strings.ToLower(b.right)
	joined := left + right
	if vocab[joined] {
		return false
	}
	if vocab[left+"-"+right] || strings.IndexFunc(left, isHyphen) >= 0 || b.option {
		return true
	}
	return utf8.RuneCountInString(left) >= 2 && utf8.RuneCountInString(right) >= 2 && vocab[left] && vocab[right]
}
