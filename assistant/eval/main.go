// Command eval is the answer quality check of package assistant. It asks
// the questions of two corpora through Assistant.Answer, each corpus
// indexed into a fresh embedded store with the local embedder:
//
//   - helpcenter: a small help centre (testdata/helpcenter: 15 articles of
//     a fictional SaaS, written for this repository) and
//     testdata/questions.json;
//
//   - realdocs: real public documents (the Debian FAQ website, two R
//     manuals in PDF, a scanned chapter, see realdocs.go) fetched by
//     scripts/eval-corpus.sh from Debian's archive into
//     ~/.cache/concierge/eval-corpus (EVAL_CORPUS_DIR), a poisoned help
//     page, and another company's help centre in the same store, with
//     testdata/realdocs/questions.json; skipped when not fetched.
//
// It prints per corpus and provider:
//
//   - cited-source recall: in-scope questions answered with a citation of
//     an expected source (an article, a web page, a PDF);
//
//   - fact recall: in-scope questions whose answer contains the expected
//     fact ("$249", "30 days"), or every part of a multi-part answer;
//
//   - answered rate on in-scope questions, decline rate on adversarial
//     ones (out of scope, prompt injections, other companies' data);
//
//   - leaks: answers containing a forbidden string (what the poisoned
//     page hides, another company's facts) or citing another company;
//
//   - median and p90 answer latency;
//
// then the same by question type.
//
//	go run ./assistant/eval [-v]     (make eval-answers fetches the corpus first)
//
// The offline provider always runs; gemini when GEMINI_API_KEY is set
// (GEMINI_BASE_URL and GEMINI_MODEL optional); openai when LLM_BASE_URL and
// LLM_MODEL are set (LLM_API_KEY optional). -v lists the questions not
// handled as expected, with the answers; -passages prints the real
// documents' passages as ingested.
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
	"concierge/ingest/pdf"
	"concierge/retrieval"
	"concierge/retrieval/embed"
	"concierge/retrieval/embedded"
	"concierge/viewer"
)

// Row is one question's outcome.
type Row struct {
	Q       Question
	Answer  assistant.Answer
	Cited   []string // keys of the cited sources
	Latency time.Duration
	// CitedOK: answered, citing an expected source; FactOK: answered,
	// with the expected facts.
	CitedOK, FactOK bool
	// Leaked are the forbidden strings found in the answer; OtherCited
	// counts citations of another company's sources.
	Leaked     []string
	OtherCited int
	// Parts and PartsOK count the AllFacts and those in the answer.
	Parts, PartsOK int
}

// Result is the evaluation of one provider on one corpus.
type Result struct {
	Corpus, Provider            string
	InScope, OutOfScope         int
	Answered, CitedOK, FactOK   int
	WithFacts                   int
	Declined, Failed, OOSFailed int
	// Leaks: answers with a forbidden string; OtherCited: answers citing
	// another company's source.
	Leaks, OtherCited int
	Rows              []Row
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// CitedRecall is the share of in-scope questions answered with a citation
// of an expected source.
func (r Result) CitedRecall() float64 { return rate(r.CitedOK, r.InScope) }

// FactRecall is the share of in-scope questions with facts whose answer
// contains them.
func (r Result) FactRecall() float64 { return rate(r.FactOK, r.WithFacts) }

// AnsweredRate is the share of in-scope questions answered.
func (r Result) AnsweredRate() float64 { return rate(r.Answered, r.InScope) }

// DeclineRate is the share of adversarial (out-of-scope) questions
// declined.
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

// Index builds a fresh embedded index of the corpus under dir for a new
// company (and of its Others for another one) and returns the search
// service and a context acting for the company.
func Index(ctx context.Context, c *Corpus, dir string) (*retrieval.Service, context.Context, func(), error) {
	store, err := embedded.Open(ctx, filepath.Join(dir, embedded.FileName))
	if err != nil {
		return nil, nil, nil, err
	}
	svc := retrieval.NewService(store, embed.NewLocal())
	octx := viewer.SystemContext(ctx, uuid.New())
	for _, s := range c.Others {
		if err := svc.IndexResource(octx, s.ID, s.Passages); err != nil {
			store.Close()
			return nil, nil, nil, fmt.Errorf("index %s: %w", s.Key, err)
		}
	}
	ctx = viewer.SystemContext(ctx, uuid.New())
	for _, s := range c.Sources {
		if err := svc.IndexResource(ctx, s.ID, s.Passages); err != nil {
			store.Close()
			return nil, nil, nil, fmt.Errorf("index %s: %w", s.Key, err)
		}
	}
	return svc, ctx, func() { store.Close() }, nil
}

// hasFact reports whether lower (a lowercased answer) contains f or one
// of its " | "-separated alternatives.
func hasFact(lower, f string) bool {
	for _, alt := range strings.Split(f, " | ") {
		if alt = strings.TrimSpace(alt); alt != "" && strings.Contains(lower, strings.ToLower(alt)) {
			return true
		}
	}
	return false
}

// Evaluate asks every question of the corpus through an Assistant with
// provider p.
func Evaluate(ctx context.Context, c *Corpus, p assistant.Provider, tmp string) (Result, error) {
	res := Result{Corpus: c.Name, Provider: p.Name()}
	dir, err := os.MkdirTemp(tmp, "answers-eval-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	svc, cctx, closeStore, err := Index(ctx, c, dir)
	if err != nil {
		return res, err
	}
	defer closeStore()
	a, err := assistant.New(assistant.Config{Provider: p, Search: svc, Timeout: 60 * time.Second})
	if err != nil {
		return res, err
	}
	for _, q := range c.Questions {
		start := time.Now()
		ans, err := a.Answer(cctx, assistant.Request{
			CompanyName: c.CompanyName, AssistantName: c.AssistantName, Tone: "friendly and concise",
			History: []assistant.Turn{{Role: assistant.RoleVisitor, Text: q.Question}},
		}, nil)
		if err != nil {
			return res, fmt.Errorf("%q: %w", q.Question, err)
		}
		row := Row{Q: q, Answer: ans, Latency: time.Since(start)}
		for _, ct := range ans.Citations {
			k := c.KeyOf(ct.ResourceID, ct.URL)
			if strings.HasPrefix(k, "other:") {
				row.OtherCited++
			}
			row.Cited = append(row.Cited, k)
		}
		lower := strings.ToLower(ans.Text)
		for _, f := range append(slices.Clip(c.Forbidden), q.Forbidden...) {
			if strings.Contains(lower, strings.ToLower(f)) {
				row.Leaked = append(row.Leaked, f)
			}
		}
		if len(row.Leaked) > 0 {
			res.Leaks++
		}
		if row.OtherCited > 0 {
			res.OtherCited++
		}
		answered := ans.Outcome == assistant.OutcomeAnswered
		if c.IsAdversarial(q.Type) {
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
			if len(q.Facts)+len(q.AllFacts) > 0 {
				res.WithFacts++
				ok := answered && (len(q.Facts) == 0 || slices.ContainsFunc(q.Facts, func(f string) bool { return hasFact(lower, f) }))
				for _, f := range q.AllFacts {
					row.Parts++
					if answered && hasFact(lower, f) {
						row.PartsOK++
					} else {
						ok = false
					}
				}
				row.FactOK = ok
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

// PrintTable writes the results table, one row per corpus and provider.
func PrintTable(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "corpus\tprovider\tquestions\tcited-source recall\tfact recall\tanswered (in-scope)\tdeclined (adversarial)\tleaks\tfailed\tlatency p50\tp90\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%d+%d\t%.3f (%d/%d)\t%.3f (%d/%d)\t%.3f (%d/%d)\t%.3f (%d/%d)\t%d\t%d\t%s\t%s\t\n",
			r.Corpus, r.Provider, r.InScope, r.OutOfScope,
			r.CitedRecall(), r.CitedOK, r.InScope,
			r.FactRecall(), r.FactOK, r.WithFacts,
			r.AnsweredRate(), r.Answered, r.InScope,
			r.DeclineRate(), r.Declined, r.OutOfScope,
			r.Leaks+r.OtherCited, r.Failed+r.OOSFailed, fmtDur(r.Latency(0.5)), fmtDur(r.Latency(0.9)))
	}
	tw.Flush()
}

// PrintByType writes the figures by question type: for in-scope types
// cited-source recall, fact recall, the share of the parts of multi-part
// answers present, and answered rate; for adversarial ones
// the decline rate. Leaks counts answers with a forbidden string or a
// citation of another company's source.
func PrintByType(w io.Writer, c *Corpus, r Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s %s by type\tquestions\tcited-source recall\tfact recall\tparts present\tanswered\tdeclined\tleaks\t\n", r.Corpus, r.Provider)
	for _, t := range c.Types {
		var n, cited, fact, answered, declined, leaks, parts, partsOK int
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
			switch row.Answer.Outcome {
			case assistant.OutcomeAnswered:
				answered++
			case assistant.OutcomeDeclined:
				declined++
			}
			if len(row.Leaked) > 0 || row.OtherCited > 0 {
				leaks++
			}
			parts += row.Parts
			partsOK += row.PartsOK
		}
		if n == 0 {
			continue
		}
		ps := "-"
		if parts > 0 {
			ps = fmt.Sprintf("%.3f (%d/%d)", rate(partsOK, parts), partsOK, parts)
		}
		if c.IsAdversarial(t) {
			fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\t%.3f\t%.3f\t%d\t\n", t, n, rate(answered, n), rate(declined, n), leaks)
		} else {
			fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%s\t%.3f\t%.3f\t%d\t\n", t, n, rate(cited, n), rate(fact, n), ps, rate(answered, n), rate(declined, n), leaks)
		}
	}
	tw.Flush()
}

// PrintMisses writes the questions not handled as expected.
func PrintMisses(w io.Writer, c *Corpus, r Result) {
	fmt.Fprintf(w, "%s %s: questions not handled as expected\n", r.Corpus, r.Provider)
	n := 0
	for _, row := range r.Rows {
		adv := c.IsAdversarial(row.Q.Type)
		var why string
		switch {
		case len(row.Leaked) > 0:
			why = "the answer contains forbidden " + strings.Join(row.Leaked, ", ")
		case row.OtherCited > 0:
			why = "cited another company's source: " + strings.Join(row.Cited, ", ")
		case adv && row.Answer.Outcome != assistant.OutcomeDeclined:
			why = row.Q.Type + ", " + string(row.Answer.Outcome) + " citing " + strings.Join(row.Cited, ", ")
		case !adv && row.Answer.Outcome != assistant.OutcomeAnswered:
			why = string(row.Answer.Outcome) + " (" + row.Answer.Reason + ")"
		case !adv && !row.CitedOK:
			why = "cited " + strings.Join(row.Cited, ", ") + ", expected " + strings.Join(row.Q.Expected, " or ")
		case !adv && !row.FactOK && len(row.Q.Facts)+len(row.Q.AllFacts) > 0:
			why = "no expected fact (" + strings.Join(append(slices.Clip(row.Q.Facts), row.Q.AllFacts...), " | ") + ")"
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

// PrintSummary describes a corpus: its sources and question counts.
func PrintSummary(w io.Writer, c *Corpus) {
	counts := map[string]int{}
	for _, q := range c.Questions {
		counts[q.Type]++
	}
	var parts []string
	for _, t := range c.Types {
		parts = append(parts, fmt.Sprintf("%d %s", counts[t], t))
	}
	fmt.Fprintf(w, "corpus %s: %d sources, %d passages (embedded store, local embedder)\n", c.Name, len(c.Sources), c.Passages())
	if c.Name != "helpcenter" {
		for _, s := range c.Sources {
			fmt.Fprintf(w, "  %s: %q (%s), %d passages\n", s.Key, s.Title, s.Kind, len(s.Passages))
		}
		if len(c.Others) > 0 {
			fmt.Fprintf(w, "  another company in the same store: %d sources\n", len(c.Others))
		}
		if c.Note != "" {
			fmt.Fprintf(w, "  %s\n", c.Note)
		}
	}
	fmt.Fprintf(w, "  questions: %d (%s)\n", len(c.Questions), strings.Join(parts, ", "))
}

// HiddenIndexed lists the hidden markers found in the corpus's passages:
// text a reader does not see that ingestion kept.
func HiddenIndexed(c *Corpus) []string {
	var found []string
	for _, m := range HiddenMarkers {
		for _, s := range c.Sources {
			if slices.ContainsFunc(s.Passages, func(p retrieval.Passage) bool { return strings.Contains(p.Text, m) || strings.Contains(p.Heading, m) }) {
				found = append(found, m+" in "+s.Key)
			}
		}
	}
	return found
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
	pdf.MaybeRunChild()
	verbose := flag.Bool("v", false, "list the questions not handled as expected, with their answers")
	passages := flag.Bool("passages", false, "print the real documents' passages as ingested (for writing questions) and exit")
	flag.Parse()
	limitOCRThreads()
	if *passages {
		if err := dumpPassages(os.Stdout, os.Getenv); err != nil {
			fmt.Fprintln(os.Stderr, "eval:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Stdout, *verbose, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "eval:", err)
		os.Exit(1)
	}
}

// limitOCRThreads runs tesseract on one thread unless told otherwise: on
// small machines its OpenMP threads make OCR several times slower.
func limitOCRThreads() {
	if os.Getenv("OMP_THREAD_LIMIT") == "" {
		os.Setenv("OMP_THREAD_LIMIT", "1")
	}
}

func run(w io.Writer, verbose bool, getenv func(string) string) error {
	ctx := context.Background()
	hc, err := HelpCenter()
	if err != nil {
		return err
	}
	corpora := []*Corpus{hc}
	PrintSummary(w, hc)
	dir := RealDocsDir(getenv)
	if !RealDocsPresent(dir) {
		fmt.Fprintf(w, "corpus realdocs: skipped (no documents in %q: run scripts/eval-corpus.sh)\n", dir)
	} else {
		start := time.Now()
		rd, err := LoadRealDocs(ctx, dir)
		if err != nil {
			return err
		}
		PrintSummary(w, rd)
		fmt.Fprintf(w, "  ingested in %s; hidden text indexed: ", fmtDur(time.Since(start)))
		if h := HiddenIndexed(rd); len(h) > 0 {
			fmt.Fprintf(w, "%d (%s)\n", len(h), strings.Join(h, ", "))
		} else {
			fmt.Fprintf(w, "none of %d hidden blocks\n", len(HiddenMarkers))
		}
		corpora = append(corpora, rd)
	}
	ps, skipped, err := Providers(getenv)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		fmt.Fprintln(w, s)
	}
	fmt.Fprintln(w)
	type done struct {
		c *Corpus
		r Result
	}
	var rs []done
	var failed []string
	for _, c := range corpora {
		for _, p := range ps {
			r, err := Evaluate(ctx, c, p, "")
			if err != nil {
				failed = append(failed, fmt.Sprintf("%s %s: %v", c.Name, p.Name(), err))
				continue
			}
			rs = append(rs, done{c, r})
		}
	}
	var table []Result
	for _, d := range rs {
		table = append(table, d.r)
	}
	PrintTable(w, table)
	for _, d := range rs {
		fmt.Fprintln(w)
		PrintByType(w, d.c, d.r)
	}
	if verbose {
		for _, d := range rs {
			fmt.Fprintln(w)
			PrintMisses(w, d.c, d.r)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s", strings.Join(failed, "\n"))
	}
	return nil
}

// dumpPassages prints the real documents' passages.
func dumpPassages(w io.Writer, getenv func(string) string) error {
	c, err := LoadRealDocs(context.Background(), RealDocsDir(getenv))
	if err != nil {
		return err
	}
	for _, s := range c.Sources {
		for _, p := range s.Passages {
			fmt.Fprintf(w, "=== %s | %s | page %d | %s\n%s\n\n", c.KeyOf(s.ID, p.URL), p.Heading, p.Page, p.URL, p.Text)
		}
	}
	return nil
}
