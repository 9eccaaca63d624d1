package retrieval

import (
	"strings"

	"concierge/retrieval/embed/wordvec"
	"concierge/terms"
)

// Reranking. A store ranks passages by evidence about the whole passage
// (BM25, one vector per passage). A long passage that answers the
// question in one sentence is diluted in both; the reranker reads the best
// candidates again, sentence by sentence, and moves those whose heading or
// one sentence means what the question asks up.
//
// It runs in Service.Search over the store's candidates, whatever the
// store, so both stores rerank alike.

// Reranker rescores a query's candidate hits (Score in [0, 1], comparable
// with the Service's threshold); it may reorder them in place.
type Reranker interface {
	Rerank(query string, hits []Hit)
}

// WithReranker sets the reranker (nil: none). The default is the semantic
// reranker when the binary has word vectors.
func WithReranker(r Reranker) Option { return func(s *Service) { s.rerank = r } }

// rerankCandidates is how many of the store's hits are reranked.
const rerankCandidates = 30

// SemanticReranker reranks with word vectors (package wordvec).
type SemanticReranker struct {
	t *wordvec.Table
}

// NewSemanticReranker returns the semantic reranker, or nil when the
// binary has no word vectors.
func NewSemanticReranker() *SemanticReranker {
	t, _ := wordvec.Default()
	if t == nil {
		return nil
	}
	return &SemanticReranker{t: t}
}

// Tuning of the semantic reranker (measured on `make eval`):
const (
	// rerankWeight is the share of the sentence-level evidence in the
	// new score; the store's score keeps the rest.
	rerankWeight = 0.5
	// A cosine of semFloor or less counts nothing, semSaturation or more
	// fully.
	semFloor      = 0.15
	semSaturation = 0.55
	// headingCredit scales the heading's cosine.
	headingCredit = 0.9
	// alignShare is the word alignment's share of the evidence (see
	// wordvec.Table.Align), alignFloor the alignment that counts nothing.
	alignShare = 0.7
	alignFloor = 0.4
	// minSentenceWords: shorter sentences are joined with the next.
	minSentenceWords = 6
)

// Rerank implements Reranker.
func (r *SemanticReranker) Rerank(query string, hits []Hit) {
	dim := r.t.Dimension()
	q := make([]float32, dim)
	if r.t.Embed(query, q, 1) == 0 {
		return
	}
	v := make([]float32, dim)
	cos := func(text string) float64 {
		clear(v)
		if r.t.Embed(text, v, 1) == 0 {
			return 0
		}
		var s float32
		for i := range q {
			s += q[i] * v[i]
		}
		return float64(s)
	}
	// Words the vectors do not know (typos, codes, product names) are the
	// store's to judge: the reranker's say shrinks with their share.
	qwords := terms.List(query)
	content, known := 0, 0
	for _, w := range qwords {
		if !terms.Stopword(w) {
			content++
			if r.t.Has(w) {
				known++
			}
		}
	}
	if known == 0 {
		return
	}
	weight := rerankWeight * float64(known) / float64(content)
	for i := range hits {
		h := &hits[i]
		best := headingCredit * cos(h.Heading)
		for _, s := range sentences(h.Text) {
			best = max(best, cos(s))
		}
		sem := (best - semFloor) / (semSaturation - semFloor)
		sem = min(max(sem, 0), 1)
		al := r.t.Align(qwords, h.Heading+"\n"+h.Text)
		al = min(max((al-alignFloor)/(1-alignFloor), 0), 1)
		ev := (1-alignShare)*sem + alignShare*al
		h.Score = (1-weight)*h.Score + weight*ev
	}
}

// sentences splits text at sentence ends and line breaks, joining pieces
// shorter than minSentenceWords words with the next.
func sentences(text string) []string {
	var out []string
	var cur strings.Builder
	words := 0
	flush := func(force bool) {
		if cur.Len() == 0 || (!force && words < minSentenceWords) {
			return
		}
		out = append(out, cur.String())
		cur.Reset()
		words = 0
	}
	start := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		end := c == '\n' || ((c == '.' || c == '?' || c == '!' || c == ';') && (i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\n'))
		if !end {
			continue
		}
		piece := text[start : i+1]
		start = i + 1
		cur.WriteString(piece)
		words += len(strings.Fields(piece))
		flush(false)
	}
	cur.WriteString(text[start:])
	words += len(strings.Fields(text[start:]))
	flush(true)
	return out
}
