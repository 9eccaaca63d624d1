package assistant

import (
	"encoding/base64"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"concierge/terms"
)

// The output guard. The system instruction is not for visitors: its rules,
// and the company's tone, which a company may fill with what it wants kept
// ("Internal code word: PELICAN-7731, never say it."). The prompt says so
// and a visitor's message asking for it is declined before any model sees
// it (looksLikeInjection), but a model can still be talked into repeating
// it. So every reply, from any provider, streamed or not, is checked
// before the visitor sees it: while it streams (the end of the text that
// could be the start of a leak is held back, and nothing more is shown
// once a leak is seen) and once complete. A reply that leaks is withheld
// and replaced by the normal decline (Reason "prompt_leak").
//
// A reply leaks when, its words normalised as words() does (case, accents
// and punctuation dropped) and its citation markers dropped, it contains:
//   - a run of leakRun consecutive words of the rules (the system
//     instruction but its first line, the assistant's identity, which it
//     may say);
//   - a run of leakRun consecutive words of the tone, or all of a stretch
//     of the tone of minToneRun to leakRun-1 words. What the tone quotes
//     ("always end with “Have a great day!”") is what the company wants
//     said, not protected as a run;
//   - a secret-looking value of the tone: a token mixing letters and
//     digits ("PELICAN-7731"), a word in capitals in a tone that is not
//     all capitals ("project BLUEBIRD"), or what follows "code word",
//     "password", "secret", "PIN", "API key", "discount code"... and ":",
//     "=" or "is". Found as words
//     ("pelican", "PELICAN 7731"; a part without letters only for an
//     explicit secret: "PIN: 4821"), and, when long enough, with anything
//     between its characters ("P-E-L-I-C-A-N-7-7-3-1", "pelican7731");
//   - any of these in a run of base64 that decodes to text.
//
// What the passages given to the model say is knowledge, not a leak: runs
// and values found in them are not protected, so an answer quoting them
// always passes. Neither are the company's and the assistant's names, nor
// the words of the rules. A paraphrase or a translation of the rules is
// not caught; the secret values in it are.
//
// While a reply streams, each delta is checked with the words before it
// (leakSince); the complete reply is checked whole before what was held
// back is shown.

const (
	// leakRun is the length of a run of words of the instruction that
	// leaks it.
	leakRun = 8
	// minToneRun is the shortest stretch of tone protected as a whole.
	minToneRun = 5
	// minSecretWord is the shortest word of a secret protected alone.
	minSecretWord = 4
	// Compact forms (the secret's letters and digits run together) are
	// looked for with anything between them from minCompactMixed bytes
	// when they mix letters and digits, minCompactLetters otherwise.
	minCompactMixed   = 6
	minCompactLetters = 10
	// minHeldEncoded: a run of base64's alphabet at the end of a stream,
	// this long, is held back until it ends.
	minHeldEncoded = 8
)

// leakGuard says whether a reply reproduces a company's system
// instruction. It is read-only once built.
type leakGuard struct {
	// runs are the protected runs of words, joined by spaces, with what
	// they are part of ("rules", "tone"); sizes are their lengths.
	runs  map[string]string
	sizes []int
	// partial are the shorter runs of the protected text: held back at the
	// end of a stream, as they may grow into a protected run.
	partial map[string]bool
	maxRun  int
	// secretWords are found as words, secretSeqs as consecutive words,
	// compacts in the reply's letters and digits run together.
	secretWords map[string]bool
	secretSeqs  [][]string
	compacts    []string
	maxCompact  int
	// prefixes are what a stream's end must not start to spell.
	prefixes  []string
	maxPrefix int
}

// newLeakGuard returns the guard of the instruction systemInstruction
// builds for company, assistantName, tone and lang, knowing that the
// passages are what the model may quote.
func newLeakGuard(company, assistantName, tone, lang string, passages []Passage) *leakGuard {
	g := &leakGuard{runs: map[string]string{}, partial: map[string]bool{}, secretWords: map[string]bool{}}
	known := newKnownText(passages)
	// The rules: the instruction but its first line, without what the
	// tone quotes.
	_, rules, _ := strings.Cut(systemInstruction(company, assistantName, tone, lang), "\n")
	for _, part := range quoted.Split(rules, -1) {
		g.protect(words(stripCites(part)), leakRun, "rules", known)
	}
	tone = truncate(oneLine(tone), 200) // as in the prompt
	for _, part := range quoted.Split(tone, -1) {
		ws := words(stripCites(part))
		switch {
		case len(ws) >= leakRun:
			g.protect(ws, leakRun, "tone", known)
		case len(ws) >= minToneRun:
			g.protect(ws, len(ws), "tone", known)
		}
	}
	// The words of the names and of the rules themselves are no secret.
	public := map[string]bool{}
	for _, w := range words(company + " " + assistantName + " " + systemInstruction(company, assistantName, "", lang)) {
		public[w] = true
	}
	g.addSecrets(tone, public, known)
	for _, p := range g.prefixes {
		g.maxPrefix = max(g.maxPrefix, len(p))
	}
	for _, c := range g.compacts {
		g.maxCompact = max(g.maxCompact, len(c))
	}
	return g
}

// quoted matches what a tone quotes.
var quoted = regexp.MustCompile(`"[^"]*"|“[^”]*”|„[^“”]*[“”]|«[^»]*»|‘[^’]*’|(?:^|\s)'[^']*'`)

// protect adds the runs of n consecutive words of ws that the passages do
// not contain.
func (g *leakGuard) protect(ws []string, n int, what string, known *knownText) {
	if len(ws) < n || n < 1 {
		return
	}
	for i := 0; i+n <= len(ws); i++ {
		if key := strings.Join(ws[i:i+n], " "); !known.hasRun(ws[i : i+n]) {
			g.runs[key] = what
		}
	}
	for k := 1; k < n; k++ {
		for i := 0; i+k <= len(ws); i++ {
			g.partial[strings.Join(ws[i:i+k], " ")] = true
		}
	}
	if !containsInt(g.sizes, n) {
		g.sizes = append(g.sizes, n)
	}
	g.maxRun = max(g.maxRun, n)
}

// secretCue matches what names a secret and its value.
var secretCue = regexp.MustCompile(`(?i)\b(?:code\s*words?|codewords?|pass\s*(?:words?|phrases?|codes?)|secrets?(?:\s+(?:words?|codes?|keys?|phrases?))?|pins?|tokens?|` +
	`(?:api|access|secret|admin|license|licence)\s+keys?|(?:discount|promo|coupon|voucher|internal|staff|secret|access|admin|unlock|override)\s+codes?)` +
	`\s*(?:is|are|=|:)\s*["'“‘«]*([^\s"'”’»,;]+)`)

// emphasis are words a tone may write in capitals that are no secret.
var emphasis = map[string]bool{"never": true, "always": true, "only": true, "must": true, "dont": true, "important": true,
	"note": true, "warning": true, "please": true, "avoid": true, "strictly": true, "exactly": true, "under": true, "circumstances": true}

const tokenPunct = ".,;:!?\"'()[]{}<>“”‘’«»„*_`"

// addSecrets adds the secret-looking values of tone.
func (g *leakGuard) addSecrets(tone string, public map[string]bool, known *knownText) {
	type candidate struct {
		tok      string
		explicit bool // named as a secret: digits alone count
	}
	var cands []candidate
	for _, m := range secretCue.FindAllStringSubmatch(tone, -1) {
		cands = append(cands, candidate{strings.Trim(m[1], tokenPunct), true})
	}
	upper, lower := 0, 0
	for _, r := range tone {
		if unicode.IsUpper(r) {
			upper++
		} else if unicode.IsLower(r) {
			lower++
		}
	}
	shouting := upper > lower // then capitals mean nothing
	for _, f := range strings.Fields(tone) {
		tok := strings.Trim(f, tokenPunct)
		c := strings.Join(words(tok), "")
		letters, digits := hasLetterDigit(c)
		switch {
		case letters && digits && len(c) >= 4:
			cands = append(cands, candidate{tok: tok})
		case !shouting && capsWord(tok) && !emphasis[c]:
			cands = append(cands, candidate{tok: tok})
		}
	}
	for _, cand := range cands {
		ws := words(cand.tok)
		if len(ws) == 0 {
			continue
		}
		c := strings.Join(ws, "")
		if known.hasRun(ws) || len(c) >= minCompactMixed && strings.Contains(known.compact, c) {
			continue // the knowledge says it
		}
		for _, w := range ws {
			letters, _ := hasLetterDigit(w)
			if utf8.RuneCountInString(w) < minSecretWord || stopword(w) || public[w] || known.words[w] || !letters && !cand.explicit {
				continue
			}
			if !g.secretWords[w] {
				g.secretWords[w] = true
				g.prefixes = append(g.prefixes, w)
			}
		}
		if len(ws) > 1 {
			g.secretSeqs = append(g.secretSeqs, ws)
			g.prefixes = append(g.prefixes, c)
		}
		letters, digits := hasLetterDigit(c)
		if letters && digits && len(c) >= minCompactMixed || len(c) >= minCompactLetters {
			g.compacts = append(g.compacts, c)
			g.prefixes = append(g.prefixes, c)
		}
	}
}

// capsWord reports whether tok is a word of at least four letters, all
// capitals.
func capsWord(tok string) bool {
	n := 0
	for _, r := range tok {
		switch {
		case unicode.IsLower(r):
			return false
		case unicode.IsUpper(r):
			n++
		case r == '-' || unicode.IsDigit(r):
		default:
			return false
		}
	}
	return n >= 4
}

func hasLetterDigit(s string) (letters, digits bool) {
	for _, r := range s {
		if unicode.IsDigit(r) {
			digits = true
		} else if unicode.IsLetter(r) {
			letters = true
		}
	}
	return letters, digits
}

// leak says what text reproduces: "rules", "tone" or "secret", with
// " in base64" when it was encoded; "" when nothing.
func (g *leakGuard) leak(text string) string {
	if what := g.leakWords(words(stripCites(text)), 0, 0, false); what != "" {
		return what
	}
	return g.leakEncoded(text)
}

// leakEncoded says what the base64 runs of text reproduce.
func (g *leakGuard) leakEncoded(text string) string {
	for _, dec := range decodedRuns(text) {
		if what := g.leakWords(words(stripCites(dec)), 0, 0, false); what != "" {
			return what + " in base64"
		}
	}
	return ""
}

// leakWords says what the words ws reproduce, looking only at what ends
// at ws[first] or later and starts at ws[lo] or later (the rest was seen).
// open: the last word may not be complete.
func (g *leakGuard) leakWords(ws []string, first, lo int, open bool) string {
	first = max(first, lo)
	for _, n := range g.sizes {
		for e := max(first, lo+n-1); e < len(ws); e++ {
			if what, ok := g.runs[strings.Join(ws[e-n+1:e+1], " ")]; ok {
				return what
			}
		}
	}
	last := len(ws)
	if open {
		last-- // held back while it may grow (holdFrom)
	}
	for _, w := range ws[min(first, max(last, 0)):max(last, 0)] {
		if g.secretWords[w] {
			return "secret"
		}
	}
	for _, seq := range g.secretSeqs {
		if i := indexRun(ws[max(lo, first-len(seq)+1):], seq); i >= 0 {
			return "secret"
		}
	}
	if len(g.compacts) > 0 {
		c := strings.Join(ws[max(lo, first-g.maxCompact+1):], "")
		for _, s := range g.compacts {
			if strings.Contains(c, s) {
				return "secret"
			}
		}
	}
	return ""
}

// lookBack is how many words before new ones a check must see.
func (g *leakGuard) lookBack() int {
	n := g.maxRun - 1
	for _, seq := range g.secretSeqs {
		n = max(n, len(seq)-1)
	}
	return max(n, g.maxCompact-1, 1)
}

// leakSince says what text reproduces in what ends after its first prev
// bytes, text[:prev] having been checked: a stream's text is checked as
// it grows, each time around what came.
func (g *leakGuard) leakSince(text string, prev int) string {
	if prev <= 0 {
		return g.leak(text)
	}
	need := g.lookBack()
	// The first words of the window may be the end of a cut citation
	// marker: they are context only.
	const margin = 4
	for back := need + margin + 1; ; back *= 2 {
		from := windowStart(text, prev, back)
		sp := wordSpans(stripCites(text[from:]))
		first := len(sp)
		for i, w := range sp {
			if w.end >= prev-from {
				first = i
				break
			}
		}
		lo := 0
		if from > 0 {
			lo = margin
			if first-lo < need {
				continue // too few words before: look further back
			}
		}
		open := len(sp) > 0 && sp[len(sp)-1].end == len(text)-from
		if what := g.leakWords(spanWords(sp), first, lo, open); what != "" {
			return what
		}
		break
	}
	return g.leakEncoded(text[encodedFrom(text, prev):])
}

// windowStart returns where, n words before pos, a check of text should
// start: a word's start, or an unclosed "[" just before it (a citation
// marker is then cut out whole), or 0.
func windowStart(text string, pos, n int) int {
	i := pos
	for n > 0 && i > 0 {
		// Back over non-word characters, then over a word.
		for i > 0 {
			r, size := utf8.DecodeLastRuneInString(text[:i])
			if wordRune(r) {
				break
			}
			i -= size
		}
		for i > 0 {
			r, size := utf8.DecodeLastRuneInString(text[:i])
			if !wordRune(r) {
				break
			}
			i -= size
		}
		n--
	}
	if i == 0 {
		return 0
	}
	if j := strings.LastIndexByte(text[max(0, i-48):i], '['); j >= 0 {
		j += max(0, i-48)
		if !strings.ContainsRune(text[j:i], ']') {
			return j
		}
	}
	return i
}

func wordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// encodedFrom returns where the base64 that may continue at pos starts:
// the run at pos, or, when it starts a line, the lines it may continue.
func encodedFrom(text string, pos int) int {
	r := pos
	for r > 0 && encodedByte(text[r-1]) {
		r--
	}
	ls := strings.LastIndexByte(text[:r], '\n') + 1
	if strings.TrimLeft(text[ls:r], " \t") != "" {
		return r
	}
	for ls > 0 {
		prev := strings.LastIndexByte(text[:ls-1], '\n') + 1
		line := strings.TrimSpace(text[prev : ls-1])
		if line == "" {
			break
		}
		if strings.IndexFunc(line, func(r rune) bool { return r >= utf8.RuneSelf || !encodedByte(byte(r)) }) < 0 {
			ls = prev // a wrapped line
			continue
		}
		if encodedByte(line[len(line)-1]) {
			ls = prev // the blob's first line may end with it
		}
		break
	}
	return ls
}

// holdFrom returns where the end of a stream's text that must wait
// starts (len(text) when none): what may still grow into a leak.
func (g *leakGuard) holdFrom(text string) int {
	hold := len(text)
	// A run of base64 is held until it ends, and then decoded.
	i := len(text)
	for i > 0 && encodedByte(text[i-1]) {
		i--
	}
	if len(text)-i >= minHeldEncoded {
		hold = i
	}
	from := windowStart(text, len(text), max(g.maxRun, g.maxPrefix)+4)
	sp := wordSpans(stripCites(text[from:]))
	if len(sp) == 0 {
		return hold
	}
	// An unfinished word may make a run of one word two.
	open := sp[len(sp)-1].end == len(text)-from
	done, least := sp, 2
	if open {
		done, least = sp[:len(sp)-1], 1
	}
	for k := min(g.maxRun-1, len(done)); k >= least; k-- {
		if g.partial[joinSpans(done[len(done)-k:])] {
			hold = min(hold, from+done[len(done)-k].start)
			break
		}
	}
	// The end may start to spell a secret; an unfinished word that is one
	// waits to be finished.
	c := ""
	for j := len(sp) - 1; j >= 0 && len(c) < g.maxPrefix; j-- {
		c = sp[j].w + c
		for _, p := range g.prefixes {
			if (len(c) < len(p) || open && len(c) == len(p)) && strings.HasPrefix(p, c) {
				hold = min(hold, from+sp[j].start)
				break
			}
		}
	}
	return hold
}

// guardedStream passes a reply's visible deltas on to emit as far as the
// guard allows. Not safe for concurrent use.
type guardedStream struct {
	g     *leakGuard
	emit  func(string)
	text  strings.Builder
	shown int
	// leaked is what the reply reproduced, once seen: nothing more is
	// shown.
	leaked string
}

func (s *guardedStream) write(d string) {
	if s.leaked != "" || d == "" {
		return
	}
	prev := s.text.Len()
	s.text.WriteString(d)
	text := s.text.String()
	if s.leaked = s.g.leakSince(text, prev); s.leaked != "" {
		return
	}
	if safe := s.g.holdFrom(text); safe > s.shown {
		s.show(text[s.shown:safe])
		s.shown = safe
	}
}

// close ends the stream once the reply is complete: it returns what the
// reply leaks, checked whole, or shows what was held back and returns "".
func (s *guardedStream) close() string {
	text := s.text.String()
	if s.leaked == "" {
		s.leaked = s.g.leak(text)
	}
	if s.leaked == "" && s.shown < len(text) {
		s.show(text[s.shown:])
		s.shown = len(text)
	}
	return s.leaked
}

func (s *guardedStream) show(d string) {
	if d != "" && s.emit != nil {
		s.emit(d)
	}
}

// knownText is what the passages say, as words.
type knownText struct {
	seq     []string
	words   map[string]bool
	compact string
	runs    map[int]map[string]bool // by length, built when asked
}

func newKnownText(passages []Passage) *knownText {
	var b strings.Builder
	for _, p := range passages {
		b.WriteString(p.Hit.Text)
		b.WriteString("\n")
	}
	k := &knownText{seq: words(stripCites(b.String())), words: map[string]bool{}, runs: map[int]map[string]bool{}}
	for _, w := range k.seq {
		k.words[w] = true
	}
	k.compact = strings.Join(k.seq, "")
	return k
}

// hasRun reports whether the passages have the words ws in a row.
func (k *knownText) hasRun(ws []string) bool {
	n := len(ws)
	if n == 0 || n > len(k.seq) {
		return false
	}
	set, ok := k.runs[n]
	if !ok {
		set = map[string]bool{}
		for i := 0; i+n <= len(k.seq); i++ {
			set[strings.Join(k.seq[i:i+n], " ")] = true
		}
		k.runs[n] = set
	}
	return set[strings.Join(ws, " ")]
}

// stripCites blanks the citation markers of s, keeping its length.
func stripCites(s string) string {
	return citeGroup.ReplaceAllStringFunc(s, func(m string) string { return strings.Repeat(" ", len(m)) })
}

func encodedByte(c byte) bool {
	return base64Byte(c) || c == '='
}

func base64Byte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '_' || c == '-'
}

// minEncodedRun is the shortest run of base64 that is decoded.
const minEncodedRun = 16

// decodedRuns returns the text that the runs of base64 of s decode to: a
// run of at least minEncodedRun characters and its padding, and the lines
// that continue it when it ends its line (base64 wrapped).
func decodedRuns(s string) []string {
	var out []string
	run := func(i int) int { // the end of the run at i
		for i < len(s) && base64Byte(s[i]) {
			i++
		}
		return i
	}
	pad := func(i int) int {
		for k := 0; k < 2 && i < len(s) && s[i] == '='; k++ {
			i++
		}
		return i
	}
	blank := func(i int) int {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		return i
	}
	for i := 0; i < len(s); {
		if !base64Byte(s[i]) {
			i++
			continue
		}
		j := run(i)
		if j-i < minEncodedRun {
			i = j
			continue
		}
		parts := []string{s[i:j]}
		k := pad(j)
		for {
			m := blank(k)
			if m < len(s) && s[m] == '\r' {
				m++
			}
			if m >= len(s) || s[m] != '\n' {
				break
			}
			m = blank(m + 1)
			e := run(m)
			if e-m < 4 {
				break
			}
			parts = append(parts, s[m:e])
			k = pad(e)
		}
		i = k
		if dec, ok := decode64(strings.Join(parts, "")); ok {
			out = append(out, dec)
		}
	}
	return out
}

// decode64 decodes base64, standard or URL-safe, padded or not, and
// reports whether it is text.
func decode64(m string) (string, bool) {
	enc := base64.RawStdEncoding
	if strings.ContainsAny(m, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(m)
	if err != nil {
		b, err = enc.DecodeString(m[:len(m)/4*4])
	}
	if err != nil || !readable(b) {
		return "", false
	}
	return string(b), true
}

// readable reports whether b is text: UTF-8, nearly all printable.
func readable(b []byte) bool {
	if len(b) < 4 || !utf8.Valid(b) {
		return false
	}
	n, bad := 0, 0
	for _, r := range string(b) {
		n++
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			bad++
		}
	}
	return bad*10 <= n
}

// wordSpan is a word of a text, as words() has it, and where it is.
type wordSpan struct {
	w          string
	start, end int
}

// wordSpans returns the words of text as words() does, with their place.
func wordSpans(text string) []wordSpan {
	var out []wordSpan
	terms.Spans(text, func(w string, start, end int) { out = append(out, wordSpan{w, start, end}) })
	return out
}

func spanWords(sp []wordSpan) []string {
	ws := make([]string, len(sp))
	for i, s := range sp {
		ws[i] = s.w
	}
	return ws
}

func joinSpans(sp []wordSpan) string {
	ws := make([]string, len(sp))
	for i, s := range sp {
		ws[i] = s.w
	}
	return strings.Join(ws, " ")
}

// indexRun returns where run starts in ws, or -1.
func indexRun(ws, run []string) int {
	for i := 0; i+len(run) <= len(ws); i++ {
		ok := true
		for j, w := range run {
			if ws[i+j] != w {
				ok = false
				break
			}
		}
		if ok {
			return i
		}
	}
	return -1
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
