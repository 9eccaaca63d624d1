package embed_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/retrieval"
	"concierge/retrieval/embed"
)

func cos(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestLocal(t *testing.T) {
	t.Parallel()
	e := embed.NewLocal()
	require.Equal(t, "local-v2", e.Name())
	vs, err := e.Embed(t.Context(), []string{"What is your refund policy?", "refunds policies", "refnd policy", "shipping to Canada", "", "Réfund"}, retrieval.KindQuery)
	require.NoError(t, err)
	for _, v := range vs[:4] {
		require.Len(t, v, embed.LocalDimension)
		require.InDelta(t, 1, math.Sqrt(cos(v, v)), 1e-5)
	}
	require.Greater(t, cos(vs[0], vs[1]), 0.5, "inflections")
	require.Greater(t, cos(vs[0], vs[2]), 0.3, "typo")
	require.Less(t, cos(vs[0], vs[3]), 0.15, "unrelated")
	require.Zero(t, cos(vs[4], vs[4]), "empty text")
	again, _ := e.Embed(t.Context(), []string{"What is your refund policy?"}, retrieval.KindDocument)
	require.Equal(t, vs[0], again[0], "deterministic")
}

func BenchmarkLocal(b *testing.B) {
	text := "Our refund policy: you can ask for a refund within thirty days of purchase if the item is unused and in its original packaging, and we pay the money back to the original payment method within five business days."
	for b.Loop() {
		embed.LocalVector(text)
	}
}
