package main

import (
	"context"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"concierge/provider/providertest"
	"concierge/retrieval/embed"
)

// The bars of issue 3 for the embedded store with the local embedder
// (reached with word vectors and reranking: recall@5 0.901, OOS declined
// 13/15, false declines 0/81; lexical only it was 0.889, 15/15, 2/81).
var embeddedBars = bars{recall5: 0.85, decline: 0.80, falseDecline: 0.05}

// The bars for the Weaviate store with the local embedder: what it reaches
// (recall@5 0.889, OOS declined 13/15, false declines 0/81: its hybrid
// candidates are re-scored with the embedded store's formula) minus a
// margin.
var weaviateBars = bars{recall5: 0.85, decline: 0.80, falseDecline: 0.05}

// The bars of the paraphrase set (issue 17), embedded store: recall@5
// reached 0.415 and false declines 10/82 with word vectors and
// reranking; lexical only they were 0.415 and 38/82 (most paraphrases
// were declined). Its out-of-scope questions (installing Go, IDEs) are
// too near the documents' subject for the local embedder: no bar.
var paraphraseBars = bars{recall5: 0.38, decline: 0, falseDecline: 0.20}

type bars struct{ recall5, decline, falseDecline float64 }

// TestQuality runs the embedded+local evaluation (and weaviate+local when
// WEAVIATE_URL is set) of the main question set and holds it to the bars.
// On failure it lists the questions answered wrongly, with the top hits.
// The paraphrase set has its own bars (TestParaphraseSet checks its
// shape); they need the word vectors (fail in CI, skip elsewhere).
func TestQuality(t *testing.T) {
	c, all := load(t)
	qs := InSet(all, MainSet)
	t.Run("embedded+local", func(t *testing.T) {
		quality(t, c, qs, EmbeddedLocal(), embeddedBars)
	})
	t.Run("paraphrase set, embedded+local", func(t *testing.T) {
		if ok, err := embed.Semantic(); !ok {
			if os.Getenv("CI") != "" {
				t.Fatal(err)
			}
			t.Skip(err)
		}
		quality(t, c, InSet(all, ParaphraseSet), EmbeddedLocal(), paraphraseBars)
	})
	pairs, _ := Pairs(os.Getenv)
	for _, p := range pairs {
		if p.Store == "weaviate" && p.Embedder == "local" {
			t.Run("weaviate+local", func(t *testing.T) { quality(t, c, qs, p, weaviateBars) })
		}
	}
}

func quality(t *testing.T, c *Corpus, qs []Question, p Pair, want bars) {
	r, err := Evaluate(context.Background(), c, qs, p, t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	PrintTable(&b, []Result{r})
	b.WriteString("\n")
	PrintByType(&b, r)
	t.Logf("\n%s", b.String())
	ok := true
	if got := r.Recall5(); got < want.recall5 {
		t.Errorf("recall@5 = %.3f (%d/%d), want >= %.2f", got, r.Hits5, r.InScope, want.recall5)
		ok = false
	}
	if got := r.DeclineRate(); got < want.decline {
		t.Errorf("out-of-scope decline rate = %.3f (%d/%d) at threshold %.2f, want >= %.2f",
			got, r.Declined, r.OutOfScope, r.Threshold, want.decline)
		ok = false
	}
	if got := r.FalseDeclineRate(); got > want.falseDecline {
		t.Errorf("in-scope false-decline rate = %.3f (%d/%d) at threshold %.2f, want <= %.2f",
			got, r.FalseDeclines, r.InScope, r.Threshold, want.falseDecline)
		ok = false
	}
	if !ok {
		b.Reset()
		PrintMisses(&b, r)
		b.WriteString("\n")
		PrintThresholds(&b, r)
		t.Logf("\n%s", b.String())
	}
}

// TestDeterministic: two fresh indexes give the same answers, with the
// same scores to 1e-6 (embed.LexicalVector sums its features in a fixed
// order since local-v2, so they are in fact bit for bit the same).
func TestDeterministic(t *testing.T) {
	c, qs := load(t)
	var runs [2][]Answer
	for i := range runs {
		r, err := Evaluate(context.Background(), c, qs, EmbeddedLocal(), t.TempDir(), 0)
		if err != nil {
			t.Fatal(err)
		}
		for j := range r.Answers {
			for k := range r.Answers[j].Hits {
				// Chunk ids are stable; the vectors are not compared.
				r.Answers[j].Hits[k].Vector = nil
			}
		}
		runs[i] = r.Answers
	}
	for j := range runs[0] {
		a, b := runs[0][j], runs[1][j]
		if !reflect.DeepEqual(a.Keys, b.Keys) || a.Rank != b.Rank {
			t.Errorf("%q: two runs differ:\n%v\n%v", a.Q.Question, a.Keys, b.Keys)
			continue
		}
		for k := range a.Hits {
			x, y := a.Hits[k], b.Hits[k]
			if math.Abs(x.Score-y.Score) > 1e-6 {
				t.Errorf("%q hit %d: score %v then %v", a.Q.Question, k+1, x.Score, y.Score)
			}
			x.Score, y.Score = 0, 0
			if !reflect.DeepEqual(x, y) {
				t.Errorf("%q hit %d: two runs differ:\n%+v\n%+v", a.Q.Question, k+1, a.Hits[k], b.Hits[k])
			}
		}
	}
}

func load(t *testing.T) (*Corpus, []Question) {
	t.Helper()
	c, err := LoadCorpus(ByChapter)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := LoadQuestions(c)
	if err != nil {
		t.Fatal(err)
	}
	return c, qs
}

func TestCorpus(t *testing.T) {
	c, all := load(t)
	qs := InSet(all, MainSet)
	if n := c.Passages(); n < 300 || n > 600 {
		t.Errorf("%d passages, want 300 to 600", n)
	}
	for _, r := range c.Resources {
		for i, p := range r.Passages {
			n := wordCount(p.Text)
			if n == 0 || n > maxWords+tailWords {
				t.Errorf("%s #%d: %d words", c.Key(p), i, n)
			}
			if p.Title == "" || p.Heading == "" || p.URL == "" || p.Ordinal != i || p.ResourceID != r.ID {
				t.Errorf("%s #%d: incomplete passage %+v", c.Key(p), i, p)
			}
		}
	}
	counts := map[string]int{}
	for _, q := range qs {
		counts[q.Type]++
	}
	if in := len(qs) - counts["out-of-scope"]; in < 60 {
		t.Errorf("%d in-scope questions, want at least 60", in)
	}
	for typ, min := range map[string]int{"direct": 10, "paraphrase": 10, "variant": 10, "needle": 10, "out-of-scope": 10} {
		if counts[typ] < min {
			t.Errorf("%d %s questions, want at least %d", counts[typ], typ, min)
		}
	}
}

// TestParaphraseSet: the paraphrase set of issue 17 loads, every label it
// expects is a section of the corpus, and it keeps its shape: at least 40
// paraphrases over sections of both documents, at most 2 per section, and
// at least 8 out-of-scope questions. It has no quality bars.
func TestParaphraseSet(t *testing.T) {
	c, all := load(t)
	qs := InSet(all, ParaphraseSet)
	known := c.headings()
	counts := map[string]int{}
	perSection := map[string]int{}
	docs := map[string]bool{}
	for _, q := range qs {
		counts[q.Type]++
		for _, e := range q.Expected {
			if !known[e] {
				t.Errorf("%q: expected %q is no section of the corpus", q.Question, e)
			}
			perSection[e]++
			docs[strings.SplitN(e, ":", 2)[0]] = true
		}
	}
	if counts["paraphrase"] < 40 || counts["out-of-scope"] < 8 || counts["paraphrase"]+counts["out-of-scope"] != len(qs) {
		t.Errorf("%d questions: %v, want at least 40 paraphrase and 8 out-of-scope, nothing else", len(qs), counts)
	}
	for e, n := range perSection {
		if n > 2 {
			t.Errorf("%d questions expect %q, want at most 2", n, e)
		}
	}
	for _, d := range c.Docs {
		if !docs[d.Key] {
			t.Errorf("no question expects a section of %s", d.Key)
		}
	}
}

// TestParseQuestions: a question set naming a section that does not
// exist, or repeating a question of another set, does not load.
func TestParseQuestions(t *testing.T) {
	c, _ := load(t)
	known := c.headings()
	for _, tc := range []struct{ name, json, want string }{
		{"unknown label", `[{"type": "paraphrase", "question": "q?", "expected": ["spec: Defer statement"]}]`, `"spec: Defer statement" is no section`},
		{"unknown document", `[{"type": "paraphrase", "question": "q?", "expected": ["faq: Locks"]}]`, `"faq: Locks" is no section`},
		{"repeated", `[{"type": "direct", "question": "How do defer statements work?", "expected": ["spec: Defer statements"]}]`, "duplicate"},
		{"in scope, no label", `[{"type": "paraphrase", "question": "q?", "expected": []}]`, "expect nothing"},
		{"unknown type", `[{"type": "paraphrase-new", "question": "q?", "expected": ["spec: Defer statements"]}]`, "not one of"},
	} {
		seen := map[string]string{"How do defer statements work?": MainSet}
		_, err := parseQuestions("test.json", []byte(tc.json), known, seen)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
	qs, err := parseQuestions("test.json", []byte(`[{"type": "paraphrase", "question": "q?", "expected": ["spec: Defer statements"]}]`), known, map[string]string{})
	if err != nil || len(qs) != 1 || qs[0].Set != "test.json" {
		t.Errorf("valid set: %v, %+v", err, qs)
	}
}

// TestNoCutSentences: passages are cut where a sentence, list item or
// code block ends, not where a sentence runs on.
func TestNoCutSentences(t *testing.T) {
	c, _ := load(t)
	for _, doc := range c.Docs {
		for _, s := range doc.Sections {
			groups := packUnits(s.blocks)
			if len(groups) != len(s.Passages) {
				t.Fatalf("%s: %d groups, %d passages", s.Heading, len(groups), len(s.Passages))
			}
			for i := 1; i < len(groups); i++ {
				last, first := groups[i-1][len(groups[i-1])-1], groups[i][0]
				if glued(last, first) {
					t.Errorf("%s: %s #%d is cut mid-sentence: ...%q | %q...", doc.Key, s.Heading, i-1,
						last.text[max(0, len(last.text)-50):], first.text[:min(50, len(first.text))])
				}
			}
		}
	}
}

func TestSentences(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"One. Two? Three!", []string{"One.", "Two?", "Three!"}},
		{"Use e.g. Go. Then x.f is fine.", []string{"Use e.g. Go.", "Then x.f is fine."}},
		{`He said "stop." Then left.`, []string{`He said "stop."`, "Then left."}},
		{"Version 1.22 changed it. 2 rules follow.", []string{"Version 1.22 changed it.", "2 rules follow."}},
		{"no end", []string{"no end"}},
	} {
		if got := Sentences(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Sentences(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseDocument(t *testing.T) {
	src := `<!--{"Title": "Doc"}-->
<h2 id="a">Alpha</h2>
<p>First sentence here. Second one &amp; more.</p>
<h3 id="b">Beta <code>x</code></h3>
<p>Text of beta.</p>
<pre>
	code := 1
</pre>
<h4 id="c">Gamma</h4>
<ul><li>item one</li><li>item two</li></ul>
`
	d, err := ParseDocument("d", "https://example.com/d", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := []Section{
		{Top: "Alpha", Heading: "Alpha", Anchor: "a", Passages: []string{"First sentence here. Second one & more."}},
		{Top: "Alpha", Heading: "Beta x", Anchor: "b", Passages: []string{"Text of beta.\n\ncode := 1\n\nGamma.\n\nitem one\n\nitem two"}},
	}
	for i := range d.Sections {
		d.Sections[i].blocks = nil
	}
	if d.Title != "Doc" || !reflect.DeepEqual(d.Sections, want) {
		t.Errorf("got %q %#v\nwant %#v", d.Title, d.Sections, want)
	}
}

// TestPairs: the environment picks the pairs; the model embedders run
// end to end against the fake servers of providertest (in the real wire
// formats).
func TestPairs(t *testing.T) {
	pairs, skipped := Pairs(func(string) string { return "" })
	if len(pairs) != 1 || pairs[0].Store != "embedded" || pairs[0].Embedder != "local" || len(skipped) != 3 {
		t.Fatalf("no env: pairs %v, skipped %q", pairs, skipped)
	}

	gem := providertest.NewGeminiServer(t, providertest.GeminiOptions{})
	oai := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{})
	env := map[string]string{
		"GEMINI_API_KEY": "test-key", "GEMINI_BASE_URL": gem.URL,
		"LLM_BASE_URL": oai.URL, "EMBEDDING_PROVIDER": "openai", "EMBEDDING_MODEL": "test-embed",
	}
	pairs, skipped = Pairs(func(k string) string { return env[k] })
	var names []string
	for _, p := range pairs {
		names = append(names, p.Store+"+"+p.Embedder)
	}
	if want := "embedded+local embedded+gemini embedded+openai"; strings.Join(names, " ") != want || len(skipped) != 1 {
		t.Fatalf("pairs %v (want %s), skipped %q", names, want, skipped)
	}
	c, qs := load(t)
	for _, p := range pairs[1:] {
		r, err := Evaluate(context.Background(), c, qs, p, t.TempDir(), 0)
		if err != nil {
			t.Fatalf("%s+%s: %v", p.Store, p.Embedder, err)
		}
		if r.Passages != c.Passages() || r.InScope+r.OutOfScope != len(qs) {
			t.Errorf("%s+%s: %+v", p.Store, p.Embedder, r)
		}
	}
}
