// Command eval is the retrieval quality check: it indexes a corpus of real
// documentation (the Go specification and memory model, testdata/NOTICE)
// into a fresh index for each configured store and embedder, asks the
// questions of every question set and prints, for each set on its own
// rows, recall@1, recall@5, MRR@10, the out-of-scope decline rate and the
// in-scope false-decline rate against the Service's threshold, then
// recall and MRR by question type.
//
// The sets: testdata/questions.json, the project's questions of every
// type (direct, paraphrase, variant, needle, out-of-scope), which
// eval_test holds to its bars; and testdata/paraphrase.json (issue 17),
// everyday paraphrases a newcomer to Go might type, which avoid the words
// of the sections that answer them, plus newcomers' questions the two
// documents do not answer.
//
//	go run ./retrieval/eval [-v] [-threshold T] [-resources chapter|section] [-dump]
//
// Pairs: the embedded store with the local embedder always; the Weaviate
// store when WEAVIATE_URL is set (WEAVIATE_GRPC optional); the gemini
// embedder when GEMINI_API_KEY is set (GEMINI_BASE_URL optional); the
// openai embedder when LLM_BASE_URL and EMBEDDING_MODEL are set (LLM_API_KEY
// optional). EMBEDDING_MODEL and EMBEDDING_DIMENSION apply as in the server
// (to the provider EMBEDDING_PROVIDER names, or to both when it is unset).
// Everything else is printed as skipped. -threshold (or RETRIEVAL_THRESHOLD)
// overrides the Service's default threshold.
//
// Relevance is by section: a hit is relevant when its document and section
// heading ("spec: Constant declarations") are among the question's
// expected ones, so the questions survive changes to the chunking.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"concierge/retrieval"
	"concierge/retrieval/embed"
	"concierge/retrieval/embedded"
	"concierge/retrieval/weaviate"
	"concierge/viewer"
)

// searchK is how many hits each question asks for (MRR@10).
const searchK = 10

// Pair is one store and embedder to evaluate.
type Pair struct {
	Store, Embedder string
	// open returns the store (in dir, for the embedded one) and a cleanup.
	open  func(ctx context.Context, dir string, company uuid.UUID) (retrieval.Store, func(), error)
	embed func(ctx context.Context) (retrieval.Embedder, error)
}

// Result is the evaluation of one pair, over the questions of every set
// (Set empty) or of one (see Only).
type Result struct {
	Store, Embedder string
	Set             string
	Passages        int
	InScope         int
	OutOfScope      int
	Threshold       float64
	// Hits1 and Hits5: in-scope questions with a relevant hit at rank 1,
	// and within the top 5.
	Hits1, Hits5 int
	// RR is the sum of reciprocal ranks of the first relevant hit in the
	// top 10 (MRR@10 = RR/InScope).
	RR float64
	// Declined: out-of-scope questions whose top hit scores under the
	// threshold (or that have no hit); FalseDeclines: in-scope ones.
	Declined, FalseDeclines int
	IndexTime               time.Duration
	Answers                 []Answer
}

// Answer is what the search returned for one question.
type Answer struct {
	Q Question
	// Rank of the first relevant hit (1-based), 0 when none in the top 10.
	Rank int
	Hits []retrieval.Hit
	Keys []string // relevance keys of Hits
}

// TopScore is the score of the best hit (0 without hits).
func (a Answer) TopScore() float64 {
	if len(a.Hits) == 0 {
		return 0
	}
	return a.Hits[0].Score
}

func (r Result) rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// Recall1 is recall@1 over the in-scope questions.
func (r Result) Recall1() float64 { return r.rate(r.Hits1, r.InScope) }

// Recall5 is recall@5 over the in-scope questions.
func (r Result) Recall5() float64 { return r.rate(r.Hits5, r.InScope) }

// MRR10 is the mean reciprocal rank at 10 over the in-scope questions.
func (r Result) MRR10() float64 {
	if r.InScope == 0 {
		return 0
	}
	return r.RR / float64(r.InScope)
}

// DeclineRate is the share of out-of-scope questions declined.
func (r Result) DeclineRate() float64 { return r.rate(r.Declined, r.OutOfScope) }

// FalseDeclineRate is the share of in-scope questions declined.
func (r Result) FalseDeclineRate() float64 { return r.rate(r.FalseDeclines, r.InScope) }

// Evaluate indexes the corpus into a fresh index of pair (in a new
// directory under tmp, for a new company) and asks every question; the
// counts are over all of qs (Only gives those of one set).
// threshold > 0 overrides the Service's default.
func Evaluate(ctx context.Context, c *Corpus, qs []Question, pair Pair, tmp string, threshold float64) (Result, error) {
	res := Result{Store: pair.Store, Embedder: pair.Embedder, Passages: c.Passages()}
	dir, err := os.MkdirTemp(tmp, "eval-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	company := uuid.New()
	emb, err := pair.embed(ctx)
	if err != nil {
		return res, err
	}
	store, cleanup, err := pair.open(ctx, dir, company)
	if err != nil {
		return res, err
	}
	defer cleanup()
	var opts []retrieval.Option
	if threshold > 0 {
		opts = append(opts, retrieval.WithThreshold(threshold))
	}
	svc := retrieval.NewService(store, emb, opts...)
	res.Threshold = svc.Threshold()
	ctx = viewer.SystemContext(ctx, company)

	start := time.Now()
	for _, r := range c.Resources {
		if err := svc.IndexResource(ctx, r.ID, r.Passages); err != nil {
			return res, fmt.Errorf("index %s %q: %w", r.Doc, r.Name, err)
		}
	}
	res.IndexTime = time.Since(start)

	// Stores that learn term statistics in the background (Weaviate) are
	// warmed up first: every question once, then wait for the counts, twice
	// (a pass may start more counts than are kept pending at once).
	if st, ok := store.(interface{ Settle() }); ok {
		for range 2 {
			for _, q := range qs {
				if _, err := svc.Search(ctx, q.Question, searchK, nil); err != nil {
					return res, fmt.Errorf("warm-up search %q: %w", q.Question, err)
				}
			}
			st.Settle()
		}
	}

	for _, q := range qs {
		hits, err := svc.Search(ctx, q.Question, searchK, nil)
		if err != nil {
			return res, fmt.Errorf("search %q: %w", q.Question, err)
		}
		a := Answer{Q: q, Hits: hits}
		want := map[string]bool{}
		for _, e := range q.Expected {
			want[e] = true
		}
		for i, h := range hits {
			k := c.Key(h.Passage)
			a.Keys = append(a.Keys, k)
			if a.Rank == 0 && want[k] {
				a.Rank = i + 1
			}
		}
		res.Answers = append(res.Answers, a)
	}
	res.tally()
	return res, nil
}

// tally computes the counts from the answers.
func (r *Result) tally() {
	r.InScope, r.OutOfScope, r.Hits1, r.Hits5, r.RR, r.Declined, r.FalseDeclines = 0, 0, 0, 0, 0, 0, 0
	for _, a := range r.Answers {
		declined := a.TopScore() < r.Threshold
		if a.Q.Type == "out-of-scope" {
			r.OutOfScope++
			if declined {
				r.Declined++
			}
			continue
		}
		r.InScope++
		if declined {
			r.FalseDeclines++
		}
		if a.Rank == 1 {
			r.Hits1++
		}
		if a.Rank >= 1 && a.Rank <= 5 {
			r.Hits5++
		}
		if a.Rank > 0 {
			r.RR += 1 / float64(a.Rank)
		}
	}
}

// Only is the result for the questions of one set.
func (r Result) Only(set string) Result {
	out := r
	out.Set = set
	out.Answers = nil
	for _, a := range r.Answers {
		if a.Q.Set == set {
			out.Answers = append(out.Answers, a)
		}
	}
	out.tally()
	return out
}

// Sets returns the question sets of the result's answers, in report
// order.
func (r Result) Sets() []string {
	var out []string
	for _, set := range questionSets {
		if slices.ContainsFunc(r.Answers, func(a Answer) bool { return a.Q.Set == set }) {
			out = append(out, set)
		}
	}
	return out
}

// name is the result's label in headings: store+embedder, and the set
// when it is for one.
func (r Result) name() string {
	if r.Set == "" {
		return r.Store + "+" + r.Embedder
	}
	return r.Store + "+" + r.Embedder + " " + r.Set
}

// EmbeddedLocal is the pair that always runs.
func EmbeddedLocal() Pair {
	return Pair{Store: "embedded", Embedder: "local", open: openEmbedded, embed: localEmbedder}
}

func openEmbedded(ctx context.Context, dir string, _ uuid.UUID) (retrieval.Store, func(), error) {
	s, err := embedded.Open(ctx, filepath.Join(dir, embedded.FileName))
	if err != nil {
		return nil, nil, err
	}
	return s, func() { s.Close() }, nil
}

func localEmbedder(context.Context) (retrieval.Embedder, error) { return embed.NewLocal(), nil }

// Pairs returns the configured pairs and a line for each skipped store or
// embedder, from the environment.
func Pairs(getenv func(string) string) (pairs []Pair, skipped []string) {
	type named struct {
		name string
		open func(ctx context.Context, dir string, company uuid.UUID) (retrieval.Store, func(), error)
	}
	type namedEmb struct {
		name  string
		embed func(ctx context.Context) (retrieval.Embedder, error)
	}
	stores := []named{{"embedded", openEmbedded}}
	if u := getenv("WEAVIATE_URL"); u != "" {
		grpc := getenv("WEAVIATE_GRPC")
		stores = append(stores, named{"weaviate", func(ctx context.Context, _ string, company uuid.UUID) (retrieval.Store, func(), error) {
			s, err := weaviate.New(ctx, weaviate.Config{URL: u, GRPC: grpc, Class: "ConciergeEval"})
			if err != nil {
				if s != nil {
					s.Close()
				}
				return nil, nil, err
			}
			return s, func() {
				dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				s.DeleteCompany(dctx, company)
				s.Close()
			}, nil
		}})
	} else {
		skipped = append(skipped, "store weaviate: skipped (WEAVIATE_URL not set)")
	}
	embs := []namedEmb{{"local", localEmbedder}}
	// As in the server: EMBEDDING_MODEL and EMBEDDING_DIMENSION configure
	// the model embedder EMBEDDING_PROVIDER names (or either, when unset).
	provider := getenv("EMBEDDING_PROVIDER")
	model := func(p string) string {
		if provider == "" || provider == p {
			return getenv("EMBEDDING_MODEL")
		}
		return ""
	}
	dim := func(p string) int {
		if provider == "" || provider == p {
			d, _ := strconv.Atoi(getenv("EMBEDDING_DIMENSION"))
			return d
		}
		return 0
	}
	if key := getenv("GEMINI_API_KEY"); key != "" {
		embs = append(embs, namedEmb{"gemini", func(ctx context.Context) (retrieval.Embedder, error) {
			return embed.NewGemini(ctx, embed.GeminiConfig{APIKey: key, BaseURL: getenv("GEMINI_BASE_URL"),
				Model: model("gemini"), Dimension: dim("gemini")})
		}})
	} else {
		skipped = append(skipped, "embedder gemini: skipped (GEMINI_API_KEY not set)")
	}
	switch base, m := getenv("LLM_BASE_URL"), model("openai"); {
	case base == "":
		skipped = append(skipped, "embedder openai: skipped (LLM_BASE_URL not set)")
	case m == "":
		skipped = append(skipped, "embedder openai: skipped (LLM_BASE_URL set, EMBEDDING_MODEL not)")
	default:
		embs = append(embs, namedEmb{"openai", func(ctx context.Context) (retrieval.Embedder, error) {
			o, err := embed.NewOpenAI(embed.OpenAIConfig{BaseURL: base, APIKey: getenv("LLM_API_KEY"), Model: m, Dimension: dim("openai")})
			if err != nil {
				return nil, err
			}
			// The service needs the dimension before indexing; without
			// EMBEDDING_DIMENSION it is learnt from one request.
			if _, err := o.Probe(ctx); err != nil {
				return nil, err
			}
			return o, nil
		}})
	}
	for _, s := range stores {
		for _, e := range embs {
			pairs = append(pairs, Pair{Store: s.name, Embedder: e.name, open: s.open, embed: e.embed})
		}
	}
	return pairs, skipped
}

// PrintTable writes the results table: a row for each result, or for each
// set of a result that is over all sets (questions are in-scope +
// out-of-scope).
func PrintTable(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "store\tembedder\tset\tpassages\tquestions\trecall@1\trecall@5\tMRR@10\tthreshold\tOOS declined\tin-scope false-declined\tindex time\t")
	var rows []Result
	for _, r := range rs {
		if r.Set != "" {
			rows = append(rows, r)
			continue
		}
		for _, set := range r.Sets() {
			rows = append(rows, r.Only(set))
		}
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d+%d\t%.3f\t%.3f\t%.3f\t%.2f\t%.3f (%d/%d)\t%.3f (%d/%d)\t%s\t\n",
			r.Store, r.Embedder, r.Set, r.Passages, r.InScope, r.OutOfScope,
			r.Recall1(), r.Recall5(), r.MRR10(), r.Threshold,
			r.DeclineRate(), r.Declined, r.OutOfScope,
			r.FalseDeclineRate(), r.FalseDeclines, r.InScope,
			r.IndexTime.Round(time.Millisecond))
	}
	tw.Flush()
}

// PrintByType writes recall@1, recall@5 and MRR@10 by question set and
// in-scope type for one result.
func PrintByType(w io.Writer, r Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s+%s by type\tset\tquestions\trecall@1\trecall@5\tMRR@10\t\n", r.Store, r.Embedder)
	for _, set := range r.Sets() {
		for _, t := range questionTypes {
			if t != "out-of-scope" {
				printType(tw, r, set, t)
			}
		}
	}
	tw.Flush()
}

// printType writes the row of one set and in-scope type, if it has
// questions.
func printType(tw io.Writer, r Result, set, t string) {
	sub := r
	sub.Answers = nil
	for _, a := range r.Answers {
		if a.Q.Set == set && a.Q.Type == t {
			sub.Answers = append(sub.Answers, a)
		}
	}
	if len(sub.Answers) == 0 {
		return
	}
	sub.tally()
	fmt.Fprintf(tw, "%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t\n", t, set, sub.InScope, sub.Recall1(), sub.Recall5(), sub.MRR10())
}

// PrintMisses writes the in-scope questions without a relevant hit in the
// top 5, the out-of-scope ones not declined and the in-scope ones
// declined, with what the search returned.
func PrintMisses(w io.Writer, r Result) {
	fmt.Fprintf(w, "%s: questions not answered as expected\n", r.name())
	n := 0
	for _, a := range r.Answers {
		var why string
		switch {
		case a.Q.Type == "out-of-scope" && a.TopScore() >= r.Threshold:
			why = "out of scope, not declined"
		case a.Q.Type != "out-of-scope" && (a.Rank == 0 || a.Rank > 5):
			why = fmt.Sprintf("relevant at rank %d (0: not in top %d)", a.Rank, searchK)
			if a.TopScore() < r.Threshold {
				why += ", declined"
			}
		case a.Q.Type != "out-of-scope" && a.TopScore() < r.Threshold:
			why = fmt.Sprintf("relevant at rank %d, but declined", a.Rank)
		default:
			continue
		}
		n++
		fmt.Fprintf(w, "  [%s] %q: %s\n", a.Q.Type, a.Q.Question, why)
		if len(a.Q.Expected) > 0 {
			fmt.Fprintf(w, "      expected: %s\n", strings.Join(a.Q.Expected, " | "))
		}
		for i, h := range a.Hits[:min(5, len(a.Hits))] {
			fmt.Fprintf(w, "      %d. %.3f %s\n", i+1, h.Score, a.Keys[i])
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "  none")
	}
}

// PrintThresholds writes how the top-hit scores of in-scope and
// out-of-scope questions are spread, and what other thresholds would do.
func PrintThresholds(w io.Writer, r Result) {
	var in, out []float64
	for _, a := range r.Answers {
		if a.Q.Type == "out-of-scope" {
			out = append(out, a.TopScore())
		} else {
			in = append(in, a.TopScore())
		}
	}
	slices.Sort(in)
	slices.Sort(out)
	q := func(xs []float64, f float64) float64 {
		if len(xs) == 0 {
			return 0
		}
		return xs[min(len(xs)-1, int(f*float64(len(xs))))]
	}
	fmt.Fprintf(w, "%s top-hit scores (min p10 p50 p90 max): in-scope %.3f %.3f %.3f %.3f %.3f; out-of-scope %.3f %.3f %.3f %.3f %.3f\n",
		r.name(), q(in, 0), q(in, 0.1), q(in, 0.5), q(in, 0.9), q(in, 1),
		q(out, 0), q(out, 0.1), q(out, 0.5), q(out, 0.9), q(out, 1))
	for t := 0.30; t < 0.751; t += 0.05 {
		var d, fd int
		for _, x := range out {
			if x < t {
				d++
			}
		}
		for _, x := range in {
			if x < t {
				fd++
			}
		}
		fmt.Fprintf(w, "  threshold %.2f: out-of-scope declined %d/%d, in-scope declined %d/%d\n", t, d, len(out), fd, len(in))
	}
}

func main() {
	verbose := flag.Bool("v", false, "list the questions not answered as expected, with their top 5 hits")
	def, _ := strconv.ParseFloat(os.Getenv("RETRIEVAL_THRESHOLD"), 64)
	threshold := flag.Float64("threshold", def, "relevance threshold (0: the Service's default; env RETRIEVAL_THRESHOLD)")
	dump := flag.Bool("dump", false, "print the corpus passages and exit")
	resources := flag.String("resources", ByChapter, "what one resource is: chapter (a top-level <h2> section) or section (each <h2>/<h3> section)")
	flag.Parse()
	if err := run(*verbose, *threshold, *dump, *resources); err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
}

func run(verbose bool, threshold float64, dump bool, resources string) error {
	ctx := context.Background()
	c, err := LoadCorpus(resources)
	if err != nil {
		return err
	}
	if dump {
		for _, r := range c.Resources {
			for _, p := range r.Passages {
				fmt.Printf("=== %s [%s] #%d (%d words)\n%s\n\n", c.Key(p), r.Name, p.Ordinal, wordCount(p.Text), p.Text)
			}
		}
		return nil
	}
	qs, err := LoadQuestions(c)
	if err != nil {
		return err
	}
	fmt.Printf("corpus: %d documents, %d resources (one per %s), %d passages\n", len(c.Docs), len(c.Resources), resources, c.Passages())
	for _, set := range questionSets {
		counts := map[string]int{}
		n := 0
		for _, q := range InSet(qs, set) {
			counts[q.Type]++
			n++
		}
		var parts []string
		for _, t := range questionTypes {
			if counts[t] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", counts[t], t))
			}
		}
		fmt.Printf("questions %s: %d (%s)\n", set, n, strings.Join(parts, ", "))
	}
	pairs, skipped := Pairs(os.Getenv)
	for _, s := range skipped {
		fmt.Println(s)
	}
	fmt.Println()
	var rs []Result
	var failed []string
	for _, p := range pairs {
		r, err := Evaluate(ctx, c, qs, p, "", threshold)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s+%s: %v", p.Store, p.Embedder, err))
			continue
		}
		rs = append(rs, r)
	}
	PrintTable(os.Stdout, rs)
	for _, r := range rs {
		fmt.Println()
		PrintByType(os.Stdout, r)
	}
	if verbose {
		for _, r := range rs {
			for _, set := range r.Sets() {
				fmt.Println()
				PrintMisses(os.Stdout, r.Only(set))
				fmt.Println()
				PrintThresholds(os.Stdout, r.Only(set))
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s", strings.Join(failed, "\n"))
	}
	return nil
}
