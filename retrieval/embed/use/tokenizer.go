package use

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf16"

	"golang.org/x/text/unicode/norm"
)

// separator marks a word's start in SentencePiece pieces.
const separator = '\u2581'

// reservedSymbols is the number of leading vocabulary entries (unknown,
// <s>, </s>, extra ids) that never match text.
const reservedSymbols = 6

// Tokenizer is a port of @energetic-ai/embeddings' tokenizer (itself the
// tfjs-models Universal Sentence Encoder tokenizer): NFKC, '▁' before the
// text and for every space, then a Viterbi search over the pieces' scores;
// a character no piece starts with becomes id 0 (unknown), and runs of
// unknowns collapse into one. No lower-casing. Its quirks (an unreached
// position scores 0, ties go to the later piece) are kept on purpose, so
// that ids match the JS ones.
type Tokenizer struct {
	pieces []tokPiece
	root   *trieNode
}

type tokPiece struct {
	text   string
	score  float64
	u16len int // the JS string's length, used when walking back
}

type trieNode struct {
	children map[rune]*trieNode
	end      bool
	nrunes   int
	score    float64
	id       int
}

// NewTokenizerJSON builds a tokenizer from vocab.json: an array of
// [piece, score] pairs.
func NewTokenizerJSON(vocabJSON []byte) (*Tokenizer, error) {
	var raw [][2]json.RawMessage
	if err := json.Unmarshal(vocabJSON, &raw); err != nil {
		return nil, fmt.Errorf("use: vocab.json: %w", err)
	}
	vocab := make([]Piece, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r[0], &vocab[i].Text); err != nil {
			return nil, fmt.Errorf("use: vocab.json entry %d: %w", i, err)
		}
		if err := json.Unmarshal(r[1], &vocab[i].Score); err != nil {
			return nil, fmt.Errorf("use: vocab.json entry %d: %w", i, err)
		}
	}
	return NewTokenizer(vocab)
}

// Piece is a vocabulary entry.
type Piece struct {
	Text  string
	Score float64
}

// NewTokenizer builds a tokenizer from the vocabulary, in id order.
func NewTokenizer(vocab []Piece) (*Tokenizer, error) {
	if len(vocab) <= reservedSymbols {
		return nil, fmt.Errorf("use: vocabulary of %d pieces", len(vocab))
	}
	t := &Tokenizer{pieces: make([]tokPiece, len(vocab)), root: &trieNode{}}
	for i, p := range vocab {
		t.pieces[i] = tokPiece{text: p.Text, score: p.Score, u16len: len(utf16.Encode([]rune(p.Text)))}
	}
	for i := reservedSymbols; i < len(vocab); i++ {
		t.insert(vocab[i].Text, vocab[i].Score, i)
	}
	return t, nil
}

// Len is the vocabulary's size.
func (t *Tokenizer) Len() int { return len(t.pieces) }

// Piece returns the text of piece id.
func (t *Tokenizer) Piece(id int) string { return t.pieces[id].text }

func (t *Tokenizer) insert(word string, score float64, id int) {
	node := t.root
	rs := []rune(word)
	for i, r := range rs {
		c := node.children[r]
		if c == nil {
			if node.children == nil {
				node.children = map[rune]*trieNode{}
			}
			c = &trieNode{nrunes: i + 1}
			node.children[r] = c
		}
		node = c
		if i == len(rs)-1 {
			node.end = true
			node.score = score
			node.id = id
		}
	}
}

type match struct {
	start, nrunes, id int
	score             float64
}

// Encode returns the ids of text's pieces.
func (t *Tokenizer) Encode(text string) []int {
	s := norm.NFKC.String(text)
	if s == "" {
		return nil
	}
	s = string(separator) + strings.ReplaceAll(s, " ", string(separator))
	sym := []rune(s)
	n := len(sym)
	// ends[e] lists the matches ending at e, by start position then length,
	// as the JS visits them.
	ends := make([][]match, n+1)
	for i := 0; i < n; i++ {
		found := false
		node := t.root.children[sym[i]]
		for j := i; j < n && node != nil; j++ {
			if node.end {
				ends[j+1] = append(ends[j+1], match{start: i, nrunes: node.nrunes, id: node.id, score: node.score})
				found = true
			}
			if j+1 < n {
				node = node.children[sym[j+1]]
			} else {
				node = nil
			}
		}
		if !found {
			ends[i+1] = append(ends[i+1], match{start: i, nrunes: 1, id: 0, score: 0})
		}
	}
	best := make([]float64, n+1)
	words := make([]int, n+1)
	for e := 0; e <= n; e++ {
		for _, w := range ends[e] {
			score := w.score + best[e-w.nrunes]
			if best[e] == 0 || score >= best[e] {
				best[e] = score
				words[e] = w.id
			}
		}
	}
	var rev []int
	for it := n; it > 0; it -= t.pieces[words[it]].u16len {
		rev = append(rev, words[it])
	}
	out := make([]int, 0, len(rev))
	prevUnk := false
	for _, id := range rev {
		if !(prevUnk && id == 0) {
			out = append(out, id)
		}
		prevUnk = id == 0
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
