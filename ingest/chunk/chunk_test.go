package chunk

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

var vocabulary = strings.Fields(`customer support refund order shipping account password billing invoice
plan upgrade widget agent conversation knowledge answer question delivery tracking warehouse
return policy days business weekend holiday premium enterprise integration website email phone`)

// prose returns n deterministic English sentences, each ending with '.'.
func prose(seed int64, n int) []string {
	rng := rand.New(rand.NewSource(seed))
	out := make([]string, n)
	for i := range out {
		words := make([]string, 5+rng.Intn(20))
		for j := range words {
			words[j] = vocabulary[rng.Intn(len(vocabulary))]
		}
		words[0] = strings.ToUpper(words[0][:1]) + words[0][1:]
		out[i] = fmt.Sprintf("%s number %d.", strings.Join(words, " "), i)
	}
	return out
}

// paragraphs groups sentences into paragraphs of 3-7 sentences.
func paragraphs(sents []string) string {
	var b strings.Builder
	for i, s := range sents {
		b.WriteString(s)
		switch {
		case i%5 == 4:
			b.WriteString("\n\n")
		case i%3 == 2:
			b.WriteString("\n") // hard-wrapped line, same paragraph
		default:
			b.WriteString(" ")
		}
	}
	return b.String()
}

// checkInvariants asserts what must hold for any input: ordinals, budgets,
// and that no text is lost (every letter and digit of the input appears at
// least as often in the output, and every sentence fragment of every line
// that fits the budget appears verbatim in some chunk or heading).
func checkInvariants(t testing.TB, doc Document, opts Options, chunks []Chunk) {
	t.Helper()
	o := opts.normalized()
	var all strings.Builder
	for i, c := range chunks {
		// plain ifs: this runs in the fuzz loop, where require's reflection is slow
		if c.Ordinal != i || c.TokenCount != EstimateTokens(c.Text) || c.TokenCount > o.MaxTokens ||
			c.Text == "" || c.Text != strings.TrimSpace(c.Text) || !utf8.ValidString(c.Text) {
			require.Failf(t, "bad chunk", "chunk %d (max %d tokens): %+v", i, o.MaxTokens, c)
		}
		all.WriteString(c.Text)
		all.WriteString("\n")
		all.WriteString(c.Heading)
		all.WriteString("\n")
	}
	out := all.String()

	in := map[rune]int{}
	for _, s := range doc.Sections {
		for _, r := range s.Text {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				in[r]++
			}
		}
	}
	got := map[rune]int{}
	for _, r := range out {
		got[r]++
	}
	for r, n := range in {
		if got[r] < n {
			require.Failf(t, "text lost", "rune %q appears %d times in the input, %d in the chunks", r, n, got[r])
		}
	}

	for _, s := range doc.Sections {
		for _, line := range strings.Split(normalizeText(s.Text), "\n") {
			line = collapse(line)
			if EstimateTokens(line) > o.MaxTokens {
				continue // may be cut between words: covered by the rune count above
			}
			for _, f := range strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune(".!?…。！？｡", r) }) {
				f = strings.TrimFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
				if f != "" && !strings.Contains(out, f) {
					require.Failf(t, "sentence fragment lost", "%q not found in any chunk", f)
				}
			}
		}
	}
}

func TestEmptyInput(t *testing.T) {
	require.Empty(t, Split(Document{}, Options{}))
	require.Empty(t, Split(Document{Title: "x", Sections: []Section{
		{Heading: "Empty", Text: ""},
		{Heading: "Spaces", Text: " \n\t\r\n \u00a0\u3000 \f "},
		{Text: "\u200b\ufeff"},
		{Text: "----\n\n=====\n#\n"},
	}}, Options{}))
}

func TestSentencesNeverCut(t *testing.T) {
	sents := prose(1, 400)
	doc := Document{Title: "Help", Sections: []Section{{Heading: "FAQ", Text: paragraphs(sents)}}}
	chunks := Split(doc, Options{})
	checkInvariants(t, doc, Options{}, chunks)
	require.Greater(t, len(chunks), 10)
	known := map[string]bool{}
	for _, s := range sents {
		known[s] = true
	}
	for i, c := range chunks {
		require.True(t, strings.HasSuffix(c.Text, "."), "chunk %d does not end at a sentence boundary: …%q", i, tail(c.Text))
		// every sentence of the chunk is a whole input sentence
		for _, para := range strings.Split(c.Text, "\n\n") {
			for _, s := range strings.SplitAfter(para, ". ") {
				require.True(t, known[strings.TrimSpace(s)], "chunk %d holds a partial sentence %q", i, s)
			}
		}
		require.LessOrEqual(t, c.TokenCount, DefaultMaxTokens)
		if i < len(chunks)-1 {
			require.GreaterOrEqual(t, c.TokenCount, DefaultTargetTokens/2, "chunk %d too small", i)
		}
		require.Equal(t, "FAQ", c.Heading)
		require.Equal(t, "Help", c.Title)
	}
	// every sentence is somewhere
	joined := strings.Join(texts(chunks), "\n")
	for _, s := range sents {
		require.Contains(t, joined, s)
	}
}

func TestOverlapBetweenConsecutiveChunks(t *testing.T) {
	doc := Document{Sections: []Section{{Text: paragraphs(prose(2, 300))}}}
	chunks := Split(doc, Options{TargetTokens: 200, MaxTokens: 300, OverlapTokens: 80}) // every test sentence is < 80 tokens
	require.Greater(t, len(chunks), 5)
	for i := 1; i < len(chunks); i++ {
		prev, cur := chunks[i-1].Text, chunks[i].Text
		k := overlapLen(prev, cur)
		require.Greater(t, k, 0, "no overlap between chunks %d and %d", i-1, i)
		ov := cur[:k]
		require.LessOrEqual(t, EstimateTokens(ov), 80)
		require.True(t, strings.HasSuffix(ov, "."), "overlap %q is not whole sentences", ov)
		require.Greater(t, len(cur), k, "chunk %d adds nothing new", i)
	}
	// no overlap when disabled
	chunks = Split(doc, Options{TargetTokens: 200, MaxTokens: 300, OverlapTokens: -1})
	for i := 1; i < len(chunks); i++ {
		require.Zero(t, overlapLen(chunks[i-1].Text, chunks[i].Text))
	}
}

// overlapLen is the length of the longest prefix of cur (ending at a
// sentence end) that is also a suffix of prev (modulo paragraph breaks).
func overlapLen(prev, cur string) int {
	flat := func(s string) string { return strings.ReplaceAll(s, "\n\n", " ") }
	p := flat(prev)
	best := 0
	for k := 1; k <= len(cur); k++ {
		if cur[k-1] == '.' && strings.HasSuffix(p, flat(cur[:k])) {
			best = k
		}
	}
	return best
}

func TestPageAndURLCarried(t *testing.T) {
	doc := Document{Title: "Manual.pdf"}
	for p := 1; p <= 4; p++ {
		doc.Sections = append(doc.Sections, Section{
			Page: p, URL: fmt.Sprintf("https://example.com/manual#page=%d", p),
			Text: paragraphs(prose(int64(p), 60+p*10)),
		})
	}
	doc.Sections = append(doc.Sections, Section{Page: 5, Text: "   "}) // dropped
	chunks := Split(doc, Options{})
	checkInvariants(t, doc, Options{}, chunks)
	pages := map[int]int{}
	for _, c := range chunks {
		require.GreaterOrEqual(t, c.Page, 1)
		require.LessOrEqual(t, c.Page, 4)
		require.Equal(t, fmt.Sprintf("https://example.com/manual#page=%d", c.Page), c.URL)
		// the chunk's text comes from its own page
		first := strings.SplitAfter(c.Text, ". ")[0]
		require.Contains(t, doc.Sections[c.Page-1].Text, strings.TrimSpace(first))
		pages[c.Page]++
	}
	require.Len(t, pages, 4)
}

func TestHeadingsCarried(t *testing.T) {
	text := `# Installation

Download the installer from the website. Run it and follow the steps.

## Linux Setup

Use the package manager. The service starts at boot.

Setup Guide
===========

Open the dashboard. Create your first widget.

Advanced
--------

Tune the retrieval settings.

Billing And Plans

Invoices are sent monthly. You can change plans anytime.

# Empty Heading

# Contact

Write to support.`
	doc := Document{Sections: []Section{{Heading: "Docs", URL: "https://x.example/docs", Text: text}}}
	chunks := Split(doc, Options{})
	checkInvariants(t, doc, Options{}, chunks)
	byHeading := map[string]string{}
	for _, c := range chunks {
		byHeading[c.Heading] += c.Text
		require.Equal(t, "https://x.example/docs", c.URL)
	}
	require.Equal(t, map[string]string{
		"Docs > Installation":                               "Download the installer from the website. Run it and follow the steps.",
		"Docs > Installation > Linux Setup":                 "Use the package manager. The service starts at boot.",
		"Docs > Setup Guide":                                "Open the dashboard. Create your first widget.",
		"Docs > Setup Guide > Advanced":                     "Tune the retrieval settings.",
		"Docs > Setup Guide > Advanced > Billing And Plans": "Invoices are sent monthly. You can change plans anytime.",
		"Docs > Empty Heading":                              "Empty Heading",
		"Docs > Contact":                                    "Write to support.",
	}, byHeading)
}

func TestPlainTextHeadingsNeedBlankLineAndTitleCase(t *testing.T) {
	text := "Refund Policy\n\nRefunds take five days.\n\nthis is not a heading\n\nIt is a sentence.\n\nNot A Heading.\n\nEnd here."
	chunks := Split(Document{Sections: []Section{{Text: text}}}, Options{})
	require.Len(t, chunks, 1)
	require.Equal(t, "Refund Policy", chunks[0].Heading)
	require.Equal(t, "Refunds take five days.\n\nthis is not a heading\n\nIt is a sentence.\n\nNot A Heading.\n\nEnd here.", chunks[0].Text)
}

// A title line directly above its text (no blank line between, as people
// paste FAQs) is the heading of that text, not its first words; a short
// line that continues a sentence is not.
func TestPlainTextHeadingRightAboveItsText(t *testing.T) {
	text := "Delivery\nOrders ship the same day.\n\nReturns\nYou can return items within 30 days.\n\nOur Team\nis here to help."
	chunks := Split(Document{Sections: []Section{{Text: text}}}, Options{})
	byHeading := map[string]string{}
	for _, c := range chunks {
		byHeading[c.Heading] += c.Text
	}
	require.Equal(t, map[string]string{
		"Delivery": "Orders ship the same day.",
		"Returns":  "You can return items within 30 days.\n\nOur Team is here to help.",
	}, byHeading)
}

func TestLongSentenceForcedCutAtWords(t *testing.T) {
	words := make([]string, 3000)
	for i := range words {
		words[i] = fmt.Sprintf("w%d", i)
	}
	text := "Short intro. " + strings.Join(words, " ") + ". Short outro."
	doc := Document{Sections: []Section{{Text: text}}}
	opts := Options{TargetTokens: 100, MaxTokens: 150, OverlapTokens: 20}
	chunks := Split(doc, opts)
	checkInvariants(t, doc, opts, chunks)
	require.Greater(t, len(chunks), 20)
	seen := map[string]bool{}
	for _, c := range chunks {
		require.LessOrEqual(t, c.TokenCount, 150)
		for _, w := range strings.Fields(c.Text) {
			w = strings.TrimSuffix(w, ".")
			if strings.HasPrefix(w, "w") {
				require.Regexp(t, `^w\d+$`, w)
				seen[w] = true
			}
		}
	}
	for _, w := range words {
		require.True(t, seen[w], "word %s lost", w)
	}
	require.Equal(t, "Short intro.", strings.SplitAfter(chunks[0].Text, ".")[0])
	require.True(t, strings.HasSuffix(chunks[len(chunks)-1].Text, "Short outro."))
}

func TestLongSentenceCutAtLineBreaksFirst(t *testing.T) {
	var lines []string
	for i := 0; i < 60; i++ {
		lines = append(lines, fmt.Sprintf("- item %d with a few words but no full stop", i))
	}
	doc := Document{Sections: []Section{{Text: strings.Join(lines, "\n")}}}
	opts := Options{TargetTokens: 80, MaxTokens: 120}
	chunks := Split(doc, opts)
	checkInvariants(t, doc, opts, chunks)
	require.Greater(t, len(chunks), 3)
	for _, c := range chunks {
		require.Regexp(t, `^- item \d+ .*full stop$`, c.Text, "cut inside a line")
	}
}

func TestCJK(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&b, "这是第%d个关于退款政策的句子，请仔细阅读。", i)
		if i%7 == 6 {
			b.WriteString("\n\n")
		}
	}
	doc := Document{Sections: []Section{{Text: b.String()}}}
	chunks := Split(doc, Options{})
	checkInvariants(t, doc, Options{}, chunks)
	require.Greater(t, len(chunks), 5)
	for i, c := range chunks {
		require.True(t, strings.HasSuffix(c.Text, "。"), "chunk %d ends mid-sentence: %q", i, tail(c.Text))
		require.True(t, strings.HasPrefix(c.Text, "这是第"), "chunk %d starts mid-sentence", i)
		require.NotContains(t, c.Text, "。 ", "no spaces inserted between CJK sentences")
	}
	for i := 1; i < len(chunks); i++ {
		first := strings.SplitAfter(chunks[i].Text, "。")[0]
		require.Contains(t, chunks[i-1].Text, first, "CJK overlap")
	}

	// CJK without any punctuation or space: cut between characters
	doc = Document{Sections: []Section{{Text: strings.Repeat("退款政策", 2000)}}}
	chunks = Split(doc, Options{})
	checkInvariants(t, doc, Options{}, chunks)
	require.Greater(t, len(chunks), 10)
	var all strings.Builder
	for i, c := range chunks {
		require.LessOrEqual(t, c.TokenCount, DefaultMaxTokens)
		if i == 0 {
			all.WriteString(c.Text)
		}
	}
	require.True(t, strings.HasPrefix(strings.Repeat("退款政策", 2000), all.String()))

	// hard-wrapped CJK lines are joined without spaces
	chunks = Split(Document{Sections: []Section{{Text: "退款需要\n五个工作日。"}}}, Options{})
	require.Equal(t, "退款需要五个工作日。", chunks[0].Text)
}

func TestWhitespaceNormalised(t *testing.T) {
	text := "  Hello\t\tworld.\r\nThis   is\u00a0fine.\r\n\r\n\r\nSecond\u200b paragraph\x00 here. \f Page two."
	chunks := Split(Document{Sections: []Section{{Text: text}}}, Options{})
	require.Len(t, chunks, 1)
	require.Equal(t, "Hello world. This is fine.\n\nSecond paragraph here.\n\nPage two.", chunks[0].Text)
}

func TestVeryLongLineAndDeterminism(t *testing.T) {
	line := strings.Join(prose(3, 3000), " ") // one line, ~60k words
	doc := Document{Sections: []Section{{Text: line}, {Text: strings.Repeat("x", 100000)}}}
	a := Split(doc, Options{})
	checkInvariants(t, doc, Options{}, a)
	b := Split(doc, Options{})
	require.Equal(t, a, b)
}

func TestAbbreviationsDoNotEndSentences(t *testing.T) {
	sp := sentences(`Dr. Smith met Mr. J. Doe, e.g. at 3.5 p.m. yesterday. "Really?" she asked. Yes! 你好。世界`)
	p := `Dr. Smith met Mr. J. Doe, e.g. at 3.5 p.m. yesterday. "Really?" she asked. Yes! 你好。世界`
	var got []string
	for _, s := range sp {
		got = append(got, p[s.start:s.end])
	}
	require.Equal(t, []string{`Dr. Smith met Mr. J. Doe, e.g. at 3.5 p.m. yesterday.`, `"Really?" she asked.`, `Yes!`, `你好。`, `世界`}, got)
}

func TestEstimateTokens(t *testing.T) {
	require.Equal(t, 0, EstimateTokens(" \n"))
	require.Equal(t, 2, EstimateTokens("hello")) // 1.3 → 2
	require.Equal(t, 13, EstimateTokens(strings.Repeat("word ", 10)))
	require.Equal(t, 3, EstimateTokens("你好。"))
	require.Equal(t, 25, EstimateTokens(strings.Repeat("a", 100))) // one token per 4 characters
}

func TestOneMegabyteIsFast(t *testing.T) {
	text := megabyte()
	start := time.Now()
	chunks := Split(Document{Sections: []Section{{Text: text}}}, Options{})
	el := time.Since(start)
	require.NotEmpty(t, chunks)
	require.Less(t, el, 3*time.Second, "1 MB took %v", el)
	t.Logf("1 MB -> %d chunks in %v", len(chunks), el)
}

func megabyte() string {
	var b strings.Builder
	for i := int64(0); b.Len() < 1<<20; i++ {
		b.WriteString("## Section ")
		fmt.Fprint(&b, i)
		b.WriteString("\n\n")
		b.WriteString(paragraphs(prose(i, 50)))
		b.WriteString("\n\n")
	}
	return b.String()[:1<<20]
}

func BenchmarkSplit1MB(b *testing.B) {
	doc := Document{Sections: []Section{{Text: megabyte()}}}
	b.SetBytes(1 << 20)
	b.ReportAllocs()
	for b.Loop() {
		Split(doc, Options{})
	}
}

func FuzzSplit(f *testing.F) {
	f.Add("# Title\n\nHello world. Second sentence!\n\nPlain Heading\n\nMore text here?", 20, 30, 5)
	f.Add("Heading\n=====\n\n这是一个句子。这是另一个。\n\n"+strings.Repeat("word ", 200), 10, 15, 3)
	f.Add(strings.Repeat("a", 500)+"\n"+strings.Repeat("退", 300), 5, 8, 2)
	f.Add("Mr. J. Smith said \"hi.\" Then left.\n---\n## ##\n#\n\n\r\n\f\x00\xff", 300, 450, 50)
	f.Add("A\n\nB\n\nC", 1, 1, 1)
	f.Fuzz(func(t *testing.T, text string, target, maxT, overlap int) {
		if len(text) > 4096 { // keep executions fast; long inputs are covered by the unit tests
			text = text[:4096]
		}
		opts := Options{TargetTokens: target % 500, MaxTokens: maxT % 700, OverlapTokens: overlap % 100}
		doc := Document{Sections: []Section{{Heading: "H", Page: 1, Text: text}, {Text: text[len(text)/2:]}}}
		chunks := Split(doc, opts)
		checkInvariants(t, doc, opts, chunks)
	})
}

func texts(cs []Chunk) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Text
	}
	return out
}

func tail(s string) string {
	if len(s) > 60 {
		return s[len(s)-60:]
	}
	return s
}
