package use

import (
	"fmt"
	"math"
	"runtime"
	"sync"
)

// Embed returns text's embedding: a unit vector of Dimension floats.
// Only the first MaxTokens tokens count. The empty text (no tokens),
// which the JS stack rejects, gets the embedding of an empty mean.
func (m *Model) Embed(text string) []float32 {
	v, _ := m.EmbedTokens(m.tok.Encode(text))
	return v
}

// EmbedTokens returns the embedding of the token ids (from Tokenizer's
// Encode), of which only the first MaxTokens count: pass a shorter
// prefix to truncate further.
func (m *Model) EmbedTokens(ids []int) ([]float32, error) {
	if len(ids) > m.maxLen {
		ids = ids[:m.maxLen]
	}
	for _, id := range ids {
		if id < 0 || id >= m.vocabRows {
			return nil, fmt.Errorf("use: token id %d out of range [0, %d)", id, m.vocabRows)
		}
	}
	n := len(ids)
	pooled := make([]float32, Dimension)
	if n > 0 {
		x := m.input(ids)
		for li := range m.layers {
			x = m.layers[li].forward(x, n, m.eps)
		}
		for i := 0; i < n; i++ {
			row := x[i*Dimension : (i+1)*Dimension]
			for j, v := range row {
				pooled[j] += v
			}
		}
		inv := 1 / float32(n)
		for j := range pooled {
			pooled[j] *= inv
		}
	}
	out := make([]float32, Dimension)
	matmulT(out, pooled, 1, Dimension, m.hidW, Dimension, m.hidB)
	var ss float64
	for j, v := range out {
		t := float32(math.Tanh(float64(v)))
		out[j] = t
		ss += float64(t) * float64(t)
	}
	ss = math.Max(ss, float64(m.normEps))
	inv := float32(1 / math.Sqrt(ss))
	for j := range out {
		out[j] *= inv
	}
	return out, nil
}

// input is the first layer's input: twice the tokens' embeddings plus the
// timing signal (the graph adds the embedding in AddTimingSignal and once
// more around it).
func (m *Model) input(ids []int) []float32 {
	d := m.embDim
	half := len(m.invTS)
	x := make([]float32, len(ids)*d)
	for p, id := range ids {
		e := m.emb[id*d : (id+1)*d]
		row := x[p*d : (p+1)*d]
		for k := 0; k < half; k++ {
			a := float64(float32(p) * m.invTS[k])
			row[k] = 2*e[k] + float32(math.Sin(a))
			row[half+k] = 2*e[half+k] + float32(math.Cos(a))
		}
	}
	return x
}

// forward runs one transformer layer over x [n, in], returning [n, Dimension].
func (ly *layer) forward(x []float32, n int, eps float32) []float32 {
	in, d := ly.in, ly.d
	// Residual: the input, projected when its width is not Dimension.
	var h []float32
	if ly.resW != nil {
		h = make([]float32, n*Dimension)
		matmulT(h, x, n, in, ly.resW, Dimension, ly.resB)
	} else {
		h = x
	}
	a := layerNorm(x, n, in, ly.ln1S, ly.ln1B, eps)
	qkv := make([]float32, n*3*d)
	matmulT(qkv, a, n, in, ly.qkvW, 3*d, ly.qkvB)
	att := ly.attention(qkv, n)
	o := make([]float32, n*Dimension)
	matmulT(o, att, n, d, ly.outW, Dimension, ly.outB)
	for i := range h {
		h[i] += o[i]
	}
	// FFN.
	a = layerNorm(h, n, Dimension, ly.ln2S, ly.ln2B, eps)
	f := make([]float32, n*ly.ff)
	matmulT(f, a, n, Dimension, ly.ff1W, ly.ff, ly.ff1B)
	for i, v := range f {
		if v < 0 {
			f[i] = 0
		}
	}
	matmulT(o, f, n, ly.ff, ly.ff2W, Dimension, ly.ff2B)
	for i := range h {
		h[i] += o[i]
	}
	return h
}

// attention is multi-head scaled dot-product attention over all n
// tokens: qkv is [n, 3d] (queries, keys, values, each heads×depth);
// the result is [n, d] with the heads side by side.
func (ly *layer) attention(qkv []float32, n int) []float32 {
	d, depth := ly.d, ly.depth
	out := make([]float32, n*d)
	w := 3 * d
	run := func(hd int) {
		q := make([]float32, depth)
		s := make([]float32, n)
		for i := 0; i < n; i++ {
			qi := qkv[i*w+hd*depth : i*w+(hd+1)*depth]
			for k, v := range qi {
				q[k] = v * ly.scale
			}
			maxv := float32(math.Inf(-1))
			for j := 0; j < n; j++ {
				kj := qkv[j*w+d+hd*depth : j*w+d+(hd+1)*depth]
				s[j] = dot(q, kj)
				if s[j] > maxv {
					maxv = s[j]
				}
			}
			var sum float32
			for j := range s {
				e := float32(math.Exp(float64(s[j] - maxv)))
				s[j] = e
				sum += e
			}
			inv := 1 / sum
			oi := out[i*d+hd*depth : i*d+(hd+1)*depth]
			for j := 0; j < n; j++ {
				p := s[j] * inv
				vj := qkv[j*w+2*d+hd*depth : j*w+2*d+(hd+1)*depth]
				vj = vj[:len(oi)]
				for k := range oi {
					oi[k] += p * vj[k]
				}
			}
		}
	}
	if n*n*d < 1<<16 {
		for hd := 0; hd < ly.heads; hd++ {
			run(hd)
		}
		return out
	}
	var wg sync.WaitGroup
	for hd := 0; hd < ly.heads; hd++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(hd)
		}()
	}
	wg.Wait()
	return out
}

// layerNorm normalises each of x's n rows of width w to mean 0 and
// variance 1 (eps added), then scales and shifts.
func layerNorm(x []float32, n, w int, scale, bias []float32, eps float32) []float32 {
	out := make([]float32, n*w)
	for i := 0; i < n; i++ {
		row := x[i*w : (i+1)*w]
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		mean := float32(sum / float64(w))
		var sq float64
		for _, v := range row {
			dv := float64(v - mean)
			sq += dv * dv
		}
		r := float32(1 / math.Sqrt(sq/float64(w)+float64(eps)))
		o := out[i*w : (i+1)*w]
		for k, v := range row {
			o[k] = scale[k]*r*(v-mean) + bias[k]
		}
	}
	return out
}

func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	k := 0
	for ; k+4 <= len(a); k += 4 {
		s0 += a[k] * b[k]
		s1 += a[k+1] * b[k+1]
		s2 += a[k+2] * b[k+2]
		s3 += a[k+3] * b[k+3]
	}
	for ; k < len(a); k++ {
		s0 += a[k] * b[k]
	}
	return (s0 + s1) + (s2 + s3)
}

// transpose returns the [cols, rows] transpose of the row-major
// [rows, cols] matrix w.
func transpose(w []float32, rows, cols int) []float32 {
	t := make([]float32, len(w))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			t[c*rows+r] = w[r*cols+c]
		}
	}
	return t
}

// colBlock is the number of output columns a worker takes at a time:
// their weight rows (colBlock×K floats) stay in cache while every input
// row passes over them.
const colBlock = 32

// matmulT sets c [n, N] to a [n, K] times the matrix whose transpose is
// bt [N, K], plus bias (nil for none). Work is split over column blocks
// across goroutines when it is large enough to pay.
func matmulT(c, a []float32, n, K int, bt []float32, N int, bias []float32) {
	blocks := (N + colBlock - 1) / colBlock
	workers := runtime.GOMAXPROCS(0)
	if workers > blocks {
		workers = blocks
	}
	if workers <= 1 || n*K*N < 1<<18 {
		matmulCols(c, a, n, K, bt, N, bias, 0, N)
		return
	}
	var wg sync.WaitGroup
	per := (blocks + workers - 1) / workers
	for w := 0; w < workers; w++ {
		lo, hi := w*per*colBlock, (w+1)*per*colBlock
		if hi > N {
			hi = N
		}
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			matmulCols(c, a, n, K, bt, N, bias, lo, hi)
		}()
	}
	wg.Wait()
}

// matmulCols computes c's columns [lo, hi) as in matmulT, in blocks of
// colBlock columns, with a kernel of 2 rows by 4 columns.
func matmulCols(c, a []float32, n, K int, bt []float32, N int, bias []float32, lo, hi int) {
	for jb := lo; jb < hi; jb += colBlock {
		je := jb + colBlock
		if je > hi {
			je = hi
		}
		i := 0
		for ; i+2 <= n; i += 2 {
			a0 := a[i*K : (i+1)*K]
			a1 := a[(i+1)*K : (i+2)*K]
			c0 := c[i*N : (i+1)*N]
			c1 := c[(i+1)*N : (i+2)*N]
			j := jb
			for ; j+4 <= je; j += 4 {
				b0 := bt[j*K : (j+1)*K]
				b1 := bt[(j+1)*K : (j+2)*K]
				b2 := bt[(j+2)*K : (j+3)*K]
				b3 := bt[(j+3)*K : (j+4)*K]
				kernel2x4(a0, a1, b0, b1, b2, b3, c0[j:j+4], c1[j:j+4])
			}
			for ; j < je; j++ {
				b := bt[j*K : (j+1)*K]
				c0[j] = dot(a0, b)
				c1[j] = dot(a1, b)
			}
		}
		for ; i < n; i++ {
			ai := a[i*K : (i+1)*K]
			ci := c[i*N : (i+1)*N]
			j := jb
			for ; j+4 <= je; j += 4 {
				kernel1x4(ai, bt[j*K:(j+1)*K], bt[(j+1)*K:(j+2)*K], bt[(j+2)*K:(j+3)*K], bt[(j+3)*K:(j+4)*K], ci[j:j+4])
			}
			for ; j < je; j++ {
				ci[j] = dot(ai, bt[j*K:(j+1)*K])
			}
		}
		if bias != nil {
			for i := 0; i < n; i++ {
				ci := c[i*N+jb : i*N+je]
				for k := range ci {
					ci[k] += bias[jb+k]
				}
			}
		}
	}
}

func kernel2x4(a0, a1, b0, b1, b2, b3, c0, c1 []float32) {
	K := len(a0)
	a1 = a1[:K]
	b0, b1, b2, b3 = b0[:K], b1[:K], b2[:K], b3[:K]
	var s00, s01, s02, s03, s10, s11, s12, s13 float32
	for k := 0; k < K; k++ {
		x0, x1 := a0[k], a1[k]
		y0, y1, y2, y3 := b0[k], b1[k], b2[k], b3[k]
		s00 += x0 * y0
		s01 += x0 * y1
		s02 += x0 * y2
		s03 += x0 * y3
		s10 += x1 * y0
		s11 += x1 * y1
		s12 += x1 * y2
		s13 += x1 * y3
	}
	c0 = c0[:4]
	c1 = c1[:4]
	c0[0], c0[1], c0[2], c0[3] = s00, s01, s02, s03
	c1[0], c1[1], c1[2], c1[3] = s10, s11, s12, s13
}

func kernel1x4(a, b0, b1, b2, b3, c []float32) {
	K := len(a)
	b0, b1, b2, b3 = b0[:K], b1[:K], b2[:K], b3[:K]
	var s0, s1, s2, s3 float32
	for k := 0; k < K; k++ {
		x := a[k]
		s0 += x * b0[k]
		s1 += x * b1[k]
		s2 += x * b2[k]
		s3 += x * b3[k]
	}
	c = c[:4]
	c[0], c[1], c[2], c[3] = s0, s1, s2, s3
}
