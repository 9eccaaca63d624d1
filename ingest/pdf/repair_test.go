package pdf

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"
)

func TestRepairLigatures(t *testing.T) {
	for in, want := range map[string]string{
		"\uFB01nd the \uFB02ow":            "find the flow",
		"e\uFB00ect, o\uFB03ce, ba\uFB04e": "effect, office, baffle",
		"\uFB06op, \uFB05and":              "stop, stand",
		"no ligature here":                 "no ligature here",
	} {
		require.Equal(t, want, repairGlyphs(in), in)
	}
}

func TestRepairSpacingAccents(t *testing.T) {
	for in, want := range map[string]string{
		// pdfTeX: the accent glyph before its letter...
		"Wirtschaftsuniversit\u00A8at Wien": "Wirtschaftsuniversität Wien",
		"Universit\u00B4e de Gen\u02CBeve":  "Université de Genève",
		"cr\u00B4e\u00B4e":                  "créé",
		"\u02C6ile, fen\u02C6etre":          "île, fenêtre",
		"Espa\u02DCna":                      "España",
		"\u02C7Skoda, \u02C7cesky":          "Škoda, česky",
		"Fran\u00B8cais":                    "Français",
		// ...or after it: the common letter wins ("ät", not "aẗ").
		"Universita\u00A8t": "Universität",
		"Mu\u00A8nchen":     "München",
		// ASCII stand-ins only between letters.
		"tr`es, co^te":            "très, côte",
		"run `go test` and ~/src": "run `go test` and ~/src",
		"a^2 + b^2":               "a^2 + b^2",
		// An acute used as an apostrophe stays.
		"don\u00B4t, it\u00B4s": "don\u00B4t, it\u00B4s",
		// Alone, it stays too.
		"the \u00A8 sign": "the \u00A8 sign",
		// A combining mark before its letter moves after it; NFC.
		"\u0308uber": "über",
		"Cafe\u0301": "Café",
	} {
		got := repairGlyphs(in)
		require.Equal(t, want, got, in)
		require.True(t, norm.NFC.IsNormalString(got), in)
	}
}

func TestRepairHyphenation(t *testing.T) {
	vocab := func(s string) map[string]bool { return vocabulary([]string{s}) }
	for _, tc := range []struct{ in, want, doc string }{
		// A word cut at the line end is joined; the rest of the line stays.
		{"the informa-\ntion we keep\nand more", "the information\nwe keep\nand more", ""},
		// The next line was only the word's end.
		{"collected informa-\ntion\nnext line", "collected information\nnext line", ""},
		// Punctuation after the word's end goes with it.
		{"we keep informa-\ntion, and more", "we keep information,\nand more", ""},
		// Twice cut.
		{"infor-\nma-\ntion here", "information\nhere", ""},
		// A real compound: spelled with its hyphen elsewhere.
		{"a well-\nknown tool", "a well-known\ntool", "well-known facts"},
		// Both halves are words of the document, the joined word is not.
		{"the self-\nservice portal", "the self-service\nportal", "help yourself: self and service"},
		// Both halves are words, but the joined word is too.
		{"some-\nthing new", "something\nnew", "some thing or something"},
		// The word before already has a hyphen.
		{"a state-of-the-\nart design", "a state-of-the-art\ndesign", ""},
		// A command-line option, a path, an address.
		{"configure --with-\nblas and more", "configure --with-blas\nand more", ""},
		{"see https://cran.example.org/bin/r-\nbase/ for it", "see https://cran.example.org/bin/r-base/\nfor it", ""},
		{"write to mirror-\nteam@example.org", "write to mirror-team@example.org", ""},
		// Not a hyphenation: capitals, digits, a dash, no letter before.
		{"COVID-\n19 rules", "COVID-\n19 rules", ""},
		{"Wirtschafts-\nUniversität", "Wirtschafts-\nUniversität", ""},
		{"prices -\nmore below", "prices -\nmore below", ""},
		{"see page 3-\n4", "see page 3-\n4", ""},
		// A soft hyphen always joins.
		{"infor\u00ADmation here", "infor\u00ADmation here", ""},
		{"well\u00AD\nknown", "wellknown", "well-known"},
		// Unicode hyphen.
		{"informa\u2010\ntion", "information", ""},
	} {
		v := vocab(tc.in + "\n" + tc.doc)
		require.Equal(t, tc.want, joinHyphenation(tc.in, v), tc.in)
	}
}

func TestRestoreCompounds(t *testing.T) {
	texts := []string{"Our self-service portal. The Self-Service desk.", "Use the selfservice portal, or Selfservice.", "An email, an e-mail, an email."}
	restoreCompounds(texts)
	require.Equal(t, "Our self-service portal. The Self-Service desk.", texts[0])
	require.Equal(t, "Use the self-service portal, or Self-service.", texts[1])
	require.Equal(t, "An email, an e-mail, an email.", texts[2], "spelled more often without the hyphen")
}

// TestRepairDocument: the words of every page decide, and the title is
// repaired too.
func TestRepairDocument(t *testing.T) {
	doc := &Document{Title: "Wirtschaftsuniversit\u00A8at", Pages: []Page{
		{Number: 1, Text: "Our self-service portal.\nThe e\uFB00ective informa-\ntion."},
		{Number: 2, Text: "Use the self-\nservice portal for information."},
	}}
	Repair(doc)
	require.Equal(t, "Wirtschaftsuniversität", doc.Title)
	require.Equal(t, "Our self-service portal.\nThe effective information.", doc.Pages[0].Text)
	require.Equal(t, "Use the self-service\nportal for information.", doc.Pages[1].Text)
	Repair(nil)

	// Only pdftotext joins compounds at line ends.
	for extractor, want := range map[string]string{"pdftotext": "the self-service desk", "purego": "the selfservice desk", "ocr": "the selfservice desk"} {
		doc := &Document{Extractor: extractor, Pages: []Page{{Number: 1, Text: "a self-service portal"}, {Number: 2, Text: "the selfservice desk"}}}
		Repair(doc)
		require.Equal(t, want, doc.Pages[1].Text, extractor)
	}
}

// TestExtractRepairs: every extraction path repairs accents and
// hyphenation (WinAnsi has the spacing diaeresis, 0xA8).
func TestExtractRepairs(t *testing.T) {
	requireTools(t, "pdftotext", "pdfinfo")
	lines := []string{"Welcome to the Wirtschaftsuniversit\xa8at Wien.", "We keep the informa-", "tion you give us for 30 days.",
		"Our self-service portal is open.", "Use the self-", "service portal at any time."}
	path := writeFile(t, "repair.pdf", buildPDF([]testPage{{lines: lines}}, pdfOpts{}))
	for _, m := range modes() {
		t.Run(m.name, func(t *testing.T) {
			doc, err := Extract(context.Background(), path, m.opts)
			require.NoError(t, err)
			text := strings.Join(strings.Fields(doc.Pages[0].Text), " ")
			require.Contains(t, text, "Wirtschaftsuniversität Wien")
			require.Contains(t, text, "the information you give us")
			require.Contains(t, text, "Use the self-service portal")
			require.NotContains(t, text, "informa-")
		})
	}
}
