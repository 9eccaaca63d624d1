package chunk

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// EstimateTokens is a cheap, deterministic token estimate (no tokenizer):
// every run of non-space, non-CJK characters (a word) counts 1.3 tokens, or
// one token per 4 characters when longer (URLs, code, long compounds); every
// CJK character (Han, kana, Hangul, CJK punctuation, full-width forms) counts
// 1 token; whitespace is free. The estimate is rounded up. It is additive
// over pieces cut at whitespace, so a chunk's estimate never exceeds the sum
// of its sentences'.
func EstimateTokens(s string) int { return (weight(s) + 9) / 10 }

// weight is the estimate in tenths of a token.
func weight(s string) int {
	w, run := 0, 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f' {
				w += runWeight(run)
				run = 0
			} else {
				run++
			}
			continue
		}
		r, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
		switch {
		case unicode.IsSpace(r):
			w += runWeight(run)
			run = 0
		case isCJK(r):
			w += runWeight(run) + 10
			run = 0
		default:
			run++
		}
	}
	return w + runWeight(run)
}

func runWeight(n int) int {
	if n == 0 {
		return 0
	}
	return max(13, (10*n+3)/4)
}

func isCJK(r rune) bool {
	if r < 0x1100 {
		return false
	}
	switch {
	case r >= 0x3000 && r <= 0x303F, // CJK symbols and punctuation
		r >= 0xFF00 && r <= 0xFFEF: // full-width forms
		return true
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// normalizeText makes text valid UTF-8, turns every line ending into "\n",
// page and paragraph separators into blank lines, other spaces and control
// characters into spaces, and drops zero-width spaces, BOMs and soft hyphens.
func normalizeText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '\r':
				if i < len(s) && s[i] == '\n' {
					i++
				}
				b.WriteByte('\n')
			case c == '\n':
				b.WriteByte('\n')
			case c == '\f':
				b.WriteString("\n\n")
			case c < 0x20 || c == 0x7f:
				b.WriteByte(' ')
			default:
				b.WriteByte(c)
			}
			continue
		}
		r, sz := utf8.DecodeRuneInString(s[i:])
		i += sz
		switch {
		case r == '\u2028' || r == 0x85:
			b.WriteByte('\n')
		case r == '\u2029':
			b.WriteString("\n\n")
		case r == '\u200B' || r == '\uFEFF' || r == '\u00AD':
		case unicode.IsSpace(r) || unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// collapse trims a line and squeezes runs of spaces (the input has no other
// whitespace than ' ' and '\n' after normalizeText).
func collapse(l string) string {
	l = strings.TrimSpace(l)
	if !strings.Contains(l, "  ") && !strings.ContainsAny(l, "\n\t\r") {
		return l
	}
	return strings.Join(strings.Fields(l), " ")
}

const closers = "\"'”’)]}»」』）】〉》"

// sentences cuts a collapsed paragraph into sentence spans. A sentence ends
// after . ! ? … (and closing quotes or brackets) followed by a space — except
// after common abbreviations, initials, or when the next word starts in lower
// case — or after 。！？｡ wherever they are.
func sentences(p string) []span {
	var out []span
	start := 0
	for i := 0; i < len(p); {
		r, sz := utf8.DecodeRuneInString(p[i:])
		j := i + sz
		switch r {
		case '。', '！', '？', '｡':
			j = skipAny(p, j, "。！？｡!?")
			j = skipAny(p, j, closers)
			out = append(out, span{start, j})
			for j < len(p) && p[j] == ' ' {
				j++
			}
			start = j
		case '.', '!', '?', '…':
			j = skipAny(p, j, ".!?…")
			j = skipAny(p, j, closers)
			if j < len(p) && p[j] == ' ' && !(r == '.' && j == i+1 && isAbbreviation(p[start:i])) && !startsLower(p[j+1:]) {
				out = append(out, span{start, j})
				start = j + 1
				j = start
			}
		}
		i = j
	}
	if start < len(p) {
		out = append(out, span{start, len(p)})
	}
	return out
}

func skipAny(p string, j int, set string) int {
	for j < len(p) {
		r, sz := utf8.DecodeRuneInString(p[j:])
		if !strings.ContainsRune(set, r) {
			break
		}
		j += sz
	}
	return j
}

func startsLower(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLower(r)
}

var abbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true, "st": true,
	"vs": true, "inc": true, "ltd": true, "co": true, "corp": true, "fig": true, "no": true, "nr": true,
	"approx": true, "dept": true, "e.g": true, "i.e": true, "cf": true, "mt": true, "p": true, "pp": true,
	"vol": true, "ca": true, "z.b": true, "bzw": true, "usw": true,
}

// isAbbreviation looks at the word before a '.'.
func isAbbreviation(before string) bool {
	k := strings.LastIndexByte(before, ' ')
	w := before[k+1:]
	w = strings.TrimLeft(w, "\"'(“‘[")
	if w == "" {
		return false
	}
	if utf8.RuneCountInString(w) == 1 { // initials: "J. Smith"
		r, _ := utf8.DecodeRuneInString(w)
		return unicode.IsUpper(r)
	}
	if strings.Contains(w, ".") && utf8.RuneCountInString(w) <= 5 { // "U.S", "e.g"
		return true
	}
	return abbreviations[strings.ToLower(w)]
}
