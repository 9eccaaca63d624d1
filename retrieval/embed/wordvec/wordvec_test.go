package wordvec

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// small builds a table of a few words with random vectors, words with
// related meanings sharing most of their vector.
func small(t *testing.T) *Table {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	base := func() []float32 {
		v := make([]float32, 32)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	near := func(b []float32) []float32 {
		v := make([]float32, len(b))
		for i := range v {
			v[i] = b[i] + 0.2*float32(rng.NormFloat64())
		}
		return v
	}
	money, hours := base(), base()
	words := []string{"refund", "money", "open", "hours", "parcel"}
	vecs := [][]float32{near(money), near(money), near(hours), near(hours), base()}
	ranks := []uint32{5000, 300, 200, 900, 7000}
	// Filler words, so that the directions all-but-the-top removes are
	// estimated from more than a handful.
	for i := range 300 {
		words = append(words, fmt.Sprintf("filler%c%c", 'a'+i/26, 'a'+i%26))
		vecs = append(vecs, base())
		ranks = append(ranks, uint32(10+i*7))
	}
	tb, err := Build(words, ranks, vecs)
	require.NoError(t, err)
	return tb
}

func TestWriteParse(t *testing.T) {
	tb := small(t)
	var buf bytes.Buffer
	n, err := tb.WriteTo(&buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	back, err := Parse(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, tb.Dimension(), back.Dimension())
	require.Equal(t, tb.Words(), back.Words())
	for w, i := range tb.index {
		j := back.index[w]
		require.InDelta(t, tb.weight[i], back.weight[j], 1e-6)
		for k := range tb.dim {
			// int8 with a per-vector scale: within half a step.
			require.InDelta(t, tb.vecs[int(i)*tb.dim+k], back.vecs[int(j)*tb.dim+k], float64(maxAbs(tb.row(i)))/254+1e-6)
		}
	}
	for _, bad := range [][]byte{nil, []byte("CWV1"), []byte("XXXX\x01\x00\x00\x00\x10\x00\x00\x00"), buf.Bytes()[:buf.Len()-3]} {
		_, err := Parse(bad)
		require.Error(t, err)
	}
}

func TestEmbedAndAlign(t *testing.T) {
	tb := small(t)
	emb := func(s string) []float32 { return embedText(tb, s) }
	q, r, o := emb("money back?"), emb("a refund"), emb("open hours")
	require.InDelta(t, 1, math.Sqrt(dot(q, q)), 1e-5)
	require.Greater(t, dot(q, r), dot(q, o))
	v := make([]float32, tb.Dimension())
	require.Zero(t, tb.Embed("zzz qqq", v, 1), "no known word")
	require.Zero(t, dot(v, v))

	require.InDelta(t, 1, tb.Align([]string{"refund"}, "the refund is paid"), 1e-6)
	require.Greater(t, tb.Align([]string{"money"}, "a refund"), tb.Align([]string{"money"}, "opening hours"))
	require.Zero(t, tb.Align([]string{"zzz"}, "a refund"))

	// Cosines: a word's with itself is 1, related words are nearer than
	// unrelated ones, and as near as Align finds them.
	cos := func(a, b string) float64 {
		c, ok := tb.Cosine(a, b)
		require.True(t, ok, "%s, %s", a, b)
		return c
	}
	require.InDelta(t, 1, cos("money", "money"), 1e-5)
	require.Greater(t, cos("money", "refund"), cos("money", "hours"))
	require.InDelta(t, tb.Align([]string{"money"}, "refund"), cos("money", "refund"), 1e-5)
	_, ok := tb.Cosine("money", "zzz")
	require.False(t, ok)
}

// TestBuiltIn checks the table `make vectors` builds into the binary; it
// fails in CI and skips elsewhere when it was not built.
func TestBuiltIn(t *testing.T) {
	tb, err := Default()
	if tb == nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	require.Equal(t, 100, tb.Dimension())
	require.Greater(t, tb.Words(), 90_000)
	for _, w := range []string{"refund", "password", "shipping", "invoice", "crash", "loop"} {
		require.True(t, tb.Has(w), w)
	}
	emb := func(s string) []float32 { return embedText(tb, s) }
	q := emb("How do I get my money back?")
	require.Greater(t, dot(q, emb("Refunds are issued within 14 days.")), dot(q, emb("Our office is open Monday to Friday."))+0.1)
	// The common directions are gone: unrelated texts are near 0.
	require.Less(t, math.Abs(dot(emb("What is the capital of France?"), emb("Refunds are issued within 14 days."))), 0.2)
}

func maxAbs(v []float32) float32 {
	var m float32
	for _, x := range v {
		m = max(m, x, -x)
	}
	return m
}

// embedText is text's unit vector in tb.
func embedText(tb *Table, text string) []float32 {
	v := make([]float32, tb.Dimension())
	tb.Embed(text, v, 1)
	return v
}

func dot(a, b []float32) (s float64) {
	for i := range a {
		s += float64(a[i] * b[i])
	}
	return s
}
