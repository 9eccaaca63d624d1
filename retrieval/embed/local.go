// Package embed holds the Embedders: local (deterministic, offline), and
// the network ones (Gemini, OpenAI-compatible) in their own files.
package embed

import (
	"context"
	"math"
	"runtime"
	"slices"
	"sync"

	"concierge/retrieval"
	"concierge/retrieval/embed/wordvec"
	"concierge/terms"
)

// Names of the local embedder; bump a version whenever its features
// change, so indexes built with the old ones are rebuilt.
const (
	// LocalName: lexical and semantic (word vectors built in).
	LocalName = "local-v3"
	// LexicalName: lexical only (a binary built without word vectors).
	LexicalName = "local-v2"
)

// LexicalDimension is the size of the lexical part of a local vector.
const LexicalDimension = 384

// Shares of the two parts in a local vector (squares sum to 1): the
// cosine of two local vectors is lexicalShare²·lexical cosine +
// semanticShare²·semantic cosine.
const (
	lexicalShare  = 0.70710678 // √½
	semanticShare = 0.70710678
)

// Local is the default embedder: deterministic, no network, nothing
// downloaded at run time. Its vector has two parts.
//
// The lexical part is a signed feature hash (FNV-1a) of the text's stemmed
// words, its word pairs (bigrams) and the character 3- to 5-grams of its
// words, with sub-linear term frequency, stopwords down-weighted, accents
// folded and the result L2-normalised: two texts are close when they share
// words, inflections of words ("refund"/"refunds"), or spellings
// ("refnd"/"refund" share n-grams).
//
// The semantic part is the text's word-vector embedding (package wordvec:
// GloVe vectors, SIF-weighted), built into the binary by `make vectors`:
// texts are close when their words mean alike ("money back" and "refund",
// "crash" and "panic"). A binary built without the vectors has only the
// lexical part (LexicalName) and says so when it starts.
type Local struct{ sem *wordvec.Table }

// NewLocal returns the local embedder, with the semantic part when the
// binary has word vectors.
func NewLocal() Local {
	t, _ := wordvec.Default()
	return Local{sem: t}
}

// NewLexical returns the local embedder without its semantic part.
func NewLexical() Local { return Local{} }

// Semantic reports whether the embedder has its semantic part, and why not.
func Semantic() (bool, error) {
	t, err := wordvec.Default()
	return t != nil, err
}

// Name implements retrieval.Embedder.
func (l Local) Name() string {
	if l.sem == nil {
		return LexicalName
	}
	return LocalName
}

// Dimension implements retrieval.Embedder.
func (l Local) Dimension() int {
	if l.sem == nil {
		return LexicalDimension
	}
	return LexicalDimension + l.sem.Dimension()
}

// Vector embeds one text.
func (l Local) Vector(text string) []float32 {
	lex := LexicalVector(text)
	if l.sem == nil {
		return lex
	}
	v := make([]float32, l.Dimension())
	for i, x := range lex {
		v[i] = x * lexicalShare
	}
	l.sem.Embed(text, v[LexicalDimension:], semanticShare)
	return v
}

// Embed implements retrieval.Embedder. Queries and documents are embedded
// alike. Large batches are spread over the CPUs.
func (l Local) Embed(ctx context.Context, texts []string, _ retrieval.Kind) ([][]float32, error) {
	out := make([][]float32, len(texts))
	workers := min(runtime.GOMAXPROCS(0), (len(texts)+15)/16)
	if workers <= 1 {
		for i, t := range texts {
			if i%64 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			out[i] = l.Vector(t)
		}
		return out, nil
	}
	var wg sync.WaitGroup
	next := make(chan int, len(texts))
	for i := range texts {
		next <- i
	}
	close(next)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil {
					return
				}
				out[i] = l.Vector(texts[i])
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Feature weights: words carry most of the meaning, word pairs add phrase
// matches, character n-grams catch inflections and typos.
const (
	wordWeight     = 1.0
	stopWeight     = 0.15
	bigramWeight   = 0.6
	ngramWeight    = 0.22
	featWord       = 'w'
	featBigram     = 'b'
	featNgram      = 'n'
	fnvOffset      = 14695981039346656037
	fnvPrime       = 1099511628211
	maxWordForGram = 24
)

type feature struct {
	weight float32
	count  float32
}

// LexicalVector is the lexical part of a text's local vector (see Local).
func LexicalVector(text string) []float32 {
	feats := make(map[uint64]feature, min(1024, 16+len(text)/3))
	add := func(h uint64, w float32) {
		f := feats[h]
		f.weight = w
		f.count++
		feats[h] = f
	}
	v := make([]float32, LexicalDimension)
	// Character n-grams go straight into v (linear tf: they are many and
	// each weighs little); words and bigrams get sub-linear tf.
	addGram := func(h uint64, w float32) {
		i := (h >> 1) % LexicalDimension
		if h&1 == 1 {
			w = -w
		}
		v[i] += w
	}
	var prev string
	terms.Words(text, func(w string) {
		stop := terms.Stopword(w)
		s := terms.Stem(w)
		ww := float32(wordWeight)
		if stop {
			ww = stopWeight
		}
		add(hash2(featWord, s, ""), ww)
		if !stop {
			if prev != "" {
				add(hash2(featBigram, prev, s), bigramWeight)
			}
			prev = s
			if len(w) <= maxWordForGram {
				ngrams(w, addGram)
			}
		}
	})
	// Summed in hash order, not map order: float addition is not
	// associative, and the same text must give the same bits every time.
	hs := make([]uint64, 0, len(feats))
	for h := range feats {
		hs = append(hs, h)
	}
	slices.Sort(hs)
	for _, h := range hs {
		f := feats[h]
		x := f.weight * (1 + float32(math.Log(float64(f.count))))
		i := (h >> 1) % LexicalDimension
		if h&1 == 1 {
			x = -x
		}
		v[i] += x
	}
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	if n == 0 {
		return v
	}
	inv := float32(1 / math.Sqrt(n))
	for i := range v {
		v[i] *= inv
	}
	return v
}

// ngrams adds the character 3- to 5-grams of "<w>" (with word boundaries).
func ngrams(w string, add func(uint64, float32)) {
	var buf [maxWordForGram*4 + 2]byte
	b := append(buf[:0], '<')
	b = append(b, w...)
	b = append(b, '>')
	for n := 3; n <= 5; n++ {
		for i := 0; i+n <= len(b); i++ {
			h := uint64(fnvOffset)
			h = (h ^ featNgram) * fnvPrime
			for _, c := range b[i : i+n] {
				h = (h ^ uint64(c)) * fnvPrime
			}
			add(h, ngramWeight)
		}
	}
}

func hash2(kind byte, a, b string) uint64 {
	h := uint64(fnvOffset)
	h = (h ^ uint64(kind)) * fnvPrime
	for i := 0; i < len(a); i++ {
		h = (h ^ uint64(a[i])) * fnvPrime
	}
	if b != "" {
		h = (h ^ ' ') * fnvPrime
		for i := 0; i < len(b); i++ {
			h = (h ^ uint64(b[i])) * fnvPrime
		}
	}
	return h
}
