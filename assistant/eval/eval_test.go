package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"concierge/ingest/pdf"
	"concierge/provider/providertest"
)

func TestMain(m *testing.M) {
	pdf.MaybeRunChild()
	limitOCRThreads()
	os.Exit(m.Run())
}

// The floors of the offline provider on the help centre: what it reaches
// (cited-source recall 0.922, fact recall 0.902, answered 0.941 in scope,
// 14/15 out-of-scope declined) minus a margin. Most misses are paraphrases
// without a shared word, which the local (lexical) embedder cannot find.
var offlineFloors = floors{citedRecall: 0.85, factRecall: 0.82, answered: 0.88, declined: 0.86}

type floors struct{ citedRecall, factRecall, answered, declined float64 }

func load(t *testing.T) *Corpus {
	t.Helper()
	c, err := HelpCenter()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestQuality(t *testing.T) {
	checkQuality(t, load(t), offlineFloors)
}

// checkQuality evaluates the offline provider on c against the floors;
// no answer may leak a forbidden string or cite another company.
func checkQuality(t *testing.T, c *Corpus, fl floors) {
	t.Helper()
	ps, _, err := Providers(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	r, err := Evaluate(context.Background(), c, ps[0], t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	PrintTable(&b, []Result{r})
	PrintByType(&b, c, r)
	t.Logf("\n%s", b.String())
	ok := true
	check := func(name string, got, floor float64) {
		if got < floor {
			t.Errorf("%s = %.3f, want >= %.2f", name, got, floor)
			ok = false
		}
	}
	check("cited-source recall", r.CitedRecall(), fl.citedRecall)
	check("fact recall", r.FactRecall(), fl.factRecall)
	check("answered rate (in scope)", r.AnsweredRate(), fl.answered)
	check("decline rate (adversarial)", r.DeclineRate(), fl.declined)
	if r.Failed+r.OOSFailed > 0 {
		t.Errorf("%d answers failed", r.Failed+r.OOSFailed)
		ok = false
	}
	if r.Leaks+r.OtherCited > 0 {
		t.Errorf("%d answers leak a forbidden string, %d cite another company", r.Leaks, r.OtherCited)
		ok = false
	}
	if !ok {
		b.Reset()
		PrintMisses(&b, c, r)
		t.Logf("\n%s", b.String())
	}
}

func TestCorpus(t *testing.T) {
	c := load(t)
	if len(c.Sources) < 10 || len(c.Sources) > 20 {
		t.Errorf("%d articles, want 10 to 20", len(c.Sources))
	}
	counts := map[string]int{}
	cited := map[string]bool{}
	for _, q := range c.Questions {
		counts[q.Type]++
		for _, e := range q.Expected {
			cited[e] = true
		}
		if q.Type != "out-of-scope" && len(q.Facts) == 0 {
			t.Errorf("%q: no expected fact", q.Question)
		}
	}
	if in := len(c.Questions) - counts["out-of-scope"]; in < 40 {
		t.Errorf("%d in-scope questions, want at least 40", in)
	}
	for typ, min := range map[string]int{"out-of-scope": 15, "paraphrase": 3, "non-english": 2} {
		if counts[typ] < min {
			t.Errorf("%d %s questions, want at least %d", counts[typ], typ, min)
		}
	}
	for _, d := range c.Sources {
		if !cited[d.Key] {
			t.Errorf("no question expects %s", d.Key)
		}
		if len(d.Passages) == 0 {
			t.Errorf("%s: no passage", d.Key)
		}
	}
}

// TestModelProviders: the environment picks the providers, and the
// gemini and openai ones run the whole eval end to end against the fake
// servers (in the real wire formats; the fakes quote passage 1).
func TestModelProviders(t *testing.T) {
	ps, skipped, err := Providers(func(string) string { return "" })
	if err != nil || len(ps) != 1 || ps[0].Name() != "offline" || len(skipped) != 2 {
		t.Fatalf("no env: %v %v %v", ps, skipped, err)
	}
	gem := providertest.NewGeminiServer(t, providertest.GeminiOptions{APIKey: "test-key"})
	oai := providertest.NewOpenAIServer(t, providertest.OpenAIOptions{})
	env := map[string]string{"GEMINI_API_KEY": "test-key", "GEMINI_BASE_URL": gem.URL, "LLM_BASE_URL": oai.URL, "LLM_MODEL": "llama3.1",
		"EVAL_CORPUS_DIR": t.TempDir()} // no real documents: that corpus is skipped (TestRealDocs has it)
	ps, skipped, err = Providers(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name())
	}
	if want := "offline gemini/gemini-2.5-flash openai/llama3.1"; strings.Join(names, " ") != want || len(skipped) != 0 {
		t.Fatalf("providers %v (want %s), skipped %q", names, want, skipped)
	}
	c := load(t)
	for _, p := range ps[1:] {
		r, err := Evaluate(context.Background(), c, p, t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", p.Name(), err)
		}
		if r.InScope+r.OutOfScope != len(c.Questions) || r.Failed+r.OOSFailed != 0 || r.Answered == 0 {
			t.Errorf("%s: %+v", p.Name(), r)
		}
		// The fakes cite the top passage: this is retrieval's recall@1.
		if r.CitedRecall() < 0.7 {
			t.Errorf("%s: cited-source recall %.3f", p.Name(), r.CitedRecall())
		}
	}
	if gem.Count() == 0 || oai.Count() == 0 {
		t.Error("the fakes were not called")
	}

	var out bytes.Buffer
	if err := run(&out, true, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cited-source recall", "offline", "gemini/gemini-2.5-flash", "openai/llama3.1", "questions not handled as expected", "corpus realdocs: skipped"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// The floors of the offline provider on the real documents: what it
// reaches (cited-source recall 0.667, fact recall 0.373, answered 0.824 in
// scope, 14/15 adversarial declined) minus a margin. Paraphrases are mostly
// declined, and the extractive answers rarely hold every part of a
// multi-part answer.
var realDocsFloors = floors{citedRecall: 0.60, factRecall: 0.30, answered: 0.75, declined: 0.80}

var (
	realOnce   sync.Once
	realCorpus *Corpus
	realErr    error
)

// realDocs ingests the real documents once. Without them the test skips,
// except under CI, which first fetches them (scripts/eval-corpus.sh: apt
// and poppler, about 10 MB once) and fails if that does not bring them.
func realDocs(t *testing.T) *Corpus {
	t.Helper()
	realOnce.Do(func() {
		dir := RealDocsDir(os.Getenv)
		if dir == "" {
			realErr = ErrNoRealDocs
			return
		}
		if !RealDocsPresent(dir) && os.Getenv("CI") != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			out, err := exec.CommandContext(ctx, "bash", "../../scripts/eval-corpus.sh", dir).CombinedOutput()
			if err != nil {
				t.Logf("scripts/eval-corpus.sh: %v\n%s", err, out)
			}
		}
		if !RealDocsPresent(dir) {
			realErr = ErrNoRealDocs
			return
		}
		realCorpus, realErr = LoadRealDocs(context.Background(), dir)
	})
	if realErr == ErrNoRealDocs {
		if os.Getenv("CI") != "" {
			t.Fatalf("%v", realErr)
		}
		t.Skipf("%v", realErr)
	}
	if realErr != nil {
		t.Fatal(realErr)
	}
	return realCorpus
}

// TestRealDocsCorpus: every kind of document went through its ingestion
// path, nothing hidden on the poisoned page was indexed, and the question
// set has its shape.
func TestRealDocsCorpus(t *testing.T) {
	c := realDocs(t)
	kinds := map[string]string{}
	for _, s := range c.Sources {
		kinds[s.Key] = s.Kind
		if len(s.Passages) == 0 {
			t.Errorf("%s: no passage", s.Key)
		}
	}
	for key, want := range map[string]string{"debian-faq": "website, 17 pages", "poisoned": "website, 1 page",
		"r-faq": "PDF, 52 pages, pdftotext", "r-admin": "PDF, 85 pages, pdftotext", "r-data-scanned": "PDF, 3 pages, ocr"} {
		if !strings.HasPrefix(kinds[key], want) {
			t.Errorf("%s: %q, want %q", key, kinds[key], want)
		}
	}
	if h := HiddenIndexed(c); len(h) > 0 {
		t.Errorf("hidden text indexed: %v", h)
	}
	counts := map[string]int{}
	cited := map[string]bool{}
	for _, q := range c.Questions {
		counts[q.Type]++
		for _, e := range q.Expected {
			cited[strings.SplitN(e, "/", 2)[0]] = true
		}
	}
	in := 0
	for _, typ := range c.Types {
		if !c.IsAdversarial(typ) {
			in += counts[typ]
		}
		if counts[typ] < 5 {
			t.Errorf("%d %s questions, want at least 5", counts[typ], typ)
		}
	}
	if in < 40 || len(c.Questions)-in < 15 {
		t.Errorf("%d answerable and %d adversarial questions, want at least 40 and 15", in, len(c.Questions)-in)
	}
	for _, s := range c.Sources {
		if !cited[s.Key] {
			t.Errorf("no question expects %s", s.Key)
		}
	}
}

func TestRealDocsQuality(t *testing.T) {
	checkQuality(t, realDocs(t), realDocsFloors)
}
