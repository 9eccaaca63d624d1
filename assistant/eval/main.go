// Command eval is the answer quality check of package assistant: it
// indexes a small help centre (testdata/helpcenter: 15 articles of a
// fictional SaaS, written for this repository) into a fresh embedded store
// with the local embedder, asks the questions of testdata/questions.json
// through Assistant.Answer, and prints per provider:
//
//   - cited-source recall: in-scope questions answered with a citation of
//     an expected article;
//
//   - fact recall: in-scope questions whose answer contains the expected
//     fact ("$249", "30 days");
//
//   - answered rate on in-scope questions, decline rate on out-of-scope
//     ones;
//
//   - median and p90 answer latency.
//
//     go run ./assistant/eval [-v]
//
// The offline provider always runs; gemini when GEMINI_API_KEY is set
// (GEMINI_BASE_URL and GEMINI_MODEL optional); openai when LLM_BASE_URL and
// LLM_MODEL are set (LLM_API_KEY optional). -v lists the questions not
// handled as expected, with the answers.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"concierge/assistant"
	"concierge/auth"
	"concierge/retrieval"
	"concierge/retrieval/embed"
	"concierge/retrieval/embedded"
)

// Row is one question's outcome.
type Row struct {
	Q       Question
	Answer  assistant.Answer
	Cited   []string // slugs of the cited articles
	Latency time.Duration
	// CitedOK: answered, citing an expected article; FactOK: answered,
	// with an expected fact.
	CitedOK, FactOK bool
}

// Result is the evaluation of one provider.
type Result struct {
	Provider                    string
	InScope, OutOfScope         int
	Answered, CitedOK, FactOK   int
	WithFacts                   int
	Declined, Failed, OOSFailed int
	Rows                        []Row
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// CitedRecall is the share of in-scope questions answered with a citation
// of an expected article.
func (r Result) CitedRecall() float64 { return rate(r.CitedOK, r.InScope) }

// FactRecall is the share of in-scope questions with facts whose answer
// contains one.
func (r Result) FactRecall() float64 { return rate(r.FactOK, r.WithFacts) }

// AnsweredRate is the share of in-scope questions answered.
func (r Result) AnsweredRate() float64 { return rate(r.Answered, r.InScope) }

// DeclineRate is the share of out-of-scope questions declined.
func (r Result) DeclineRate() float64 { return rate(r.Declined, r.OutOfScope) }

// Latency returns the q-quantile of the answer latencies.
func (r Result) Latency(q float64) time.Duration {
	var ls []time.Duration
	for _, row := range r.Rows {
		ls = append(ls, row.Latency)
	}
	if len(ls) == 0 {
		return 0
	}
	slices.Sort(ls)
	return ls[min(len(ls)-1, int(q*float64(len(ls))))]
}

// Index builds a fresh embedded index of docs under dir for a new company
// and returns the search service and a context acting for the company.
func Index(ctx context.Context, docs []Doc, dir string) (*retrieval.Service, context.Context, func(), error) {
	store, err := embedded.Open(ctx, filepath.Join(dir, embedded.FileName))
	if err != nil {
		return nil, nil, nil, err
	}
	svc := retrieval.NewService(store, embed.NewLocal())
	ctx = auth.SystemContext(ctx, uuid.New())
	for _, d := range docs {
		if err := svc.IndexResource(ctx, d.ID, d.Passages()); err != nil {
			store.Close()
			return nil, nil, nil, fmt.Errorf("index %s: %w", d.Slug, err)
		}
	}
	return svc, ctx, func() { store.Close() }, nil
}

// Evaluate asks every question through an Assistant with provider p.
func Evaluate(ctx context.Context, docs []Doc, qs []Question, p assistant.Provider, tmp string) (Result, error) {
	res := Result{Provider: p.Name()}
	dir, err := os.MkdirTemp(tmp, "answers-eval-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	svc, cctx, closeStore, err := Index(ctx, docs, dir)
	if err != nil {
		return res, err
	}
	defer closeStore()
	a, err := assistant.New(assistant.Config{Provider: p, Search: svc, Timeout: 60 * time.Second})
	if err != nil {
		return res, err
	}
	slugOf := map[uuid.UUID]string{}
	for _, d := range docs {
		slugOf[d.ID] = d.Slug
	}
	for _, q := range qs {
		start := time.Now()
		ans, err := a.Answer(cctx, assistant.Request{
			CompanyName: "Tidewise", AssistantName: "Tidy", Tone: "friendly and concise",
			History: []assistant.Turn{{Role: assistant.RoleVisitor, Text: q.Question}},
		}, nil)
		if err != nil {
			return res, fmt.Errorf("%q: %w", q.Question, err)
		}
		row := Row{Q: q, Answer: ans, Latency: time.Since(start)}
		for _, c := range ans.Citations {
			row.Cited = append(row.Cited, slugOf[c.ResourceID])
		}
		answered := ans.Outcome == assistant.OutcomeAnswered
		if q.Type == "out-of-scope" {
			res.OutOfScope++
			switch ans.Outcome {
			case assistant.OutcomeDeclined:
				res.Declined++
			case assistant.OutcomeFailed:
				res.OOSFailed++
			}
		} else {
			res.InScope++
			if answered {
				res.Answered++
				for _, s := range row.Cited {
					if slices.Contains(q.Expected, s) {
						row.CitedOK = true
					}
				}
			}
			if ans.Outcome == assistant.OutcomeFailed {
				res.Failed++
			}
			if len(q.Facts) > 0 {
				res.WithFacts++
				lower := strings.ToLower(ans.Text)
				for _, f := range q.Facts {
					if answered && strings.Contains(lower, strings.ToLower(f)) {
						row.FactOK = true
					}
				}
			}
			if row.CitedOK {
				res.CitedOK++
			}
			if row.FactOK {
				res.FactOK++
			}
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// Providers returns the providers to evaluate, and a line for each one
// skipped, from the environment.
func Providers(getenv func(string) string) (ps []assistant.Provider, skipped []string, err error) {
	ps = append(ps, assistant.NewOffline(assistant.OfflineOptions{}))
	if key := getenv("GEMINI_API_KEY"); key != "" {
		g, err := assistant.NewGemini(assistant.GeminiConfig{APIKey: key, BaseURL: getenv("GEMINI_BASE_URL"), Model: getenv("GEMINI_MODEL")})
		if err != nil {
			return nil, nil, err
		}
		ps = append(ps, g)
	} else {
		skipped = append(skipped, "provider gemini: skipped (GEMINI_API_KEY not set)")
	}
	if base, model := getenv("LLM_BASE_URL"), getenv("LLM_MODEL"); base != "" && model != "" {
		o, err := assistant.NewOpenAI(assistant.OpenAIConfig{BaseURL: base, Model: model, APIKey: getenv("LLM_API_KEY")})
		if err != nil {
			return nil, nil, err
		}
		ps = append(ps, o)
	} else {
		skipped = append(skipped, "provider openai: skipped (LLM_BASE_URL and LLM_MODEL not both set)")
	}
	return ps, skipped, nil
}

// PrintTable writes the results table.
func PrintTable(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "provider\tquestions\tcited-source recall\tfact recall\tanswered (in-scope)\tdeclined (out-of-scope)\tfailed\tlatency p50\tp90\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d+%d\t%.3f (%d/%d)\t%.3f (%d/%d)\t%.3f (%d/%d)\t%.3f (%d/%d)\t%d\t%s\t%s\t\n",
			r.Provider, r.InScope, r.OutOfScope,
			r.CitedRecall(), r.CitedOK, r.InScope,
			r.FactRecall(), r.FactOK, r.WithFacts,
			r.AnsweredRate(), r.Answered, r.InScope,
			r.DeclineRate(), r.Declined, r.OutOfScope,
			r.Failed+r.OOSFailed, fmtDur(r.Latency(0.5)), fmtDur(r.Latency(0.9)))
	}
	tw.Flush()
}

// PrintByType writes the in-scope figures by question type.
func PrintByType(w io.Writer, r Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s by type\tquestions\tcited-source recall\tfact recall\tanswered\t\n", r.Provider)
	for _, t := range QuestionTypes {
		if t == "out-of-scope" {
			continue
		}
		var n, cited, fact, answered int
		for _, row := range r.Rows {
			if row.Q.Type != t {
				continue
			}
			n++
			if row.CitedOK {
				cited++
			}
			if row.FactOK {
				fact++
			}
			if row.Answer.Outcome == assistant.OutcomeAnswered {
				answered++
			}
		}
		if n > 0 {
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t\n", t, n, rate(cited, n), rate(fact, n), rate(answered, n))
		}
	}
	tw.Flush()
}

// PrintMisses writes the questions not handled as expected.
func PrintMisses(w io.Writer, r Result) {
	fmt.Fprintf(w, "%s: questions not handled as expected\n", r.Provider)
	n := 0
	for _, row := range r.Rows {
		var why string
		switch {
		case row.Q.Type == "out-of-scope" && row.Answer.Outcome != assistant.OutcomeDeclined:
			why = "out of scope, " + string(row.Answer.Outcome)
		case row.Q.Type != "out-of-scope" && row.Answer.Outcome != assistant.OutcomeAnswered:
			why = string(row.Answer.Outcome) + " (" + row.Answer.Reason + ")"
		case row.Q.Type != "out-of-scope" && !row.CitedOK:
			why = "cited " + strings.Join(row.Cited, ", ") + ", expected " + strings.Join(row.Q.Expected, " or ")
		case row.Q.Type != "out-of-scope" && len(row.Q.Facts) > 0 && !row.FactOK:
			why = "no expected fact (" + strings.Join(row.Q.Facts, " | ") + ")"
		default:
			continue
		}
		n++
		fmt.Fprintf(w, "  [%s] %q: %s (confidence %.2f)\n", row.Q.Type, row.Q.Question, why, row.Answer.Confidence)
		fmt.Fprintf(w, "      %s\n", strings.ReplaceAll(row.Answer.Text, "\n", "\n      "))
	}
	if n == 0 {
		fmt.Fprintln(w, "  none")
	}
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < time.Second:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func main() {
	verbose := flag.Bool("v", false, "list the questions not handled as expected, with their answers")
	flag.Parse()
	if err := run(os.Stdout, *verbose, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, verbose bool, getenv func(string) string) error {
	ctx := context.Background()
	docs, err := LoadCorpus()
	if err != nil {
		return err
	}
	qs, err := LoadQuestions(docs)
	if err != nil {
		return err
	}
	passages := 0
	for _, d := range docs {
		passages += len(d.Passages())
	}
	counts := map[string]int{}
	for _, q := range qs {
		counts[q.Type]++
	}
	var parts []string
	for _, t := range QuestionTypes {
		parts = append(parts, fmt.Sprintf("%d %s", counts[t], t))
	}
	fmt.Fprintf(w, "corpus: %d articles, %d passages (embedded store, local embedder)\n", len(docs), passages)
	fmt.Fprintf(w, "questions: %d (%s)\n", len(qs), strings.Join(parts, ", "))
	ps, skipped, err := Providers(getenv)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		fmt.Fprintln(w, s)
	}
	fmt.Fprintln(w)
	var rs []Result
	var failed []string
	for _, p := range ps {
		r, err := Evaluate(ctx, docs, qs, p, "")
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", p.Name(), err))
			continue
		}
		rs = append(rs, r)
	}
	PrintTable(w, rs)
	for _, r := range rs {
		fmt.Fprintln(w)
		PrintByType(w, r)
	}
	if verbose {
		for _, r := range rs {
			fmt.Fprintln(w)
			PrintMisses(w, r)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s", strings.Join(failed, "\n"))
	}
	return nil
}
