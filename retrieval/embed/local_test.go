package embed_test

import (
	"math"
	"os"
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

// requireSemantic fails in CI and skips elsewhere when the binary was
// built without word vectors (`make vectors`).
func requireSemantic(t *testing.T) {
	t.Helper()
	if ok, err := embed.Semantic(); !ok {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

func TestLocal(t *testing.T) {
	t.Parallel()
	e := embed.NewLexical()
	require.Equal(t, embed.LexicalName, e.Name())
	vs, err := e.Embed(t.Context(), []string{"What is your refund policy?", "refunds policies", "refnd policy", "shipping to Canada", "", "Réfund"}, retrieval.KindQuery)
	require.NoError(t, err)
	for _, v := range vs[:4] {
		require.Len(t, v, embed.LexicalDimension)
		require.InDelta(t, 1, math.Sqrt(cos(v, v)), 1e-5)
	}
	require.Greater(t, cos(vs[0], vs[1]), 0.5, "inflections")
	require.Greater(t, cos(vs[0], vs[2]), 0.3, "typo")
	require.Less(t, cos(vs[0], vs[3]), 0.15, "unrelated")
	require.Zero(t, cos(vs[4], vs[4]), "empty text")
	again, _ := e.Embed(t.Context(), []string{"What is your refund policy?"}, retrieval.KindDocument)
	require.Equal(t, vs[0], again[0], "deterministic")
}

// TestLocalSemantic: with word vectors, paraphrases without a shared word
// are close and unrelated texts are not; typos still count (lexical part).
func TestLocalSemantic(t *testing.T) {
	t.Parallel()
	requireSemantic(t)
	e := embed.NewLocal()
	require.Equal(t, embed.LocalName, e.Name())
	require.Equal(t, embed.LexicalDimension+100, e.Dimension())
	texts := []string{
		"How do I get my money back?",
		"Refunds are paid to the original card within five days.",
		"Our office is open Monday to Friday.",
		"refnd policy",
		"What is your refund policy?",
	}
	vs, err := e.Embed(t.Context(), texts, retrieval.KindQuery)
	require.NoError(t, err)
	for _, v := range vs {
		require.Len(t, v, e.Dimension())
		require.InDelta(t, 1, math.Sqrt(cos(v, v)), 1e-4)
	}
	lex := embed.NewLexical()
	lv, err := lex.Embed(t.Context(), texts, retrieval.KindQuery)
	require.NoError(t, err)
	require.Less(t, cos(lv[0], lv[1]), 0.05, "lexically, money back and refunds share nothing")
	require.Greater(t, cos(vs[0], vs[1]), cos(vs[0], vs[2])+0.05, "money back is nearer refunds than opening hours")
	require.Greater(t, cos(vs[0], vs[1]), 0.1)
	require.Greater(t, cos(vs[3], vs[4]), 0.2, "typo")
	again, _ := e.Embed(t.Context(), texts[:1], retrieval.KindDocument)
	require.Equal(t, vs[0], again[0], "deterministic")
}

func BenchmarkLocalSemantic(b *testing.B) {
	e := embed.NewLocal()
	text := []string{"Our refund policy: you can ask for a refund within thirty days of purchase if the item is unused and in its original packaging, and we pay the money back to the original payment method within five business days."}
	for b.Loop() {
		e.Embed(b.Context(), text, retrieval.KindDocument)
	}
}

func BenchmarkLocal(b *testing.B) {
	text := "Our refund policy: you can ask for a refund within thirty days of purchase if the item is unused and in its original packaging, and we pay the money back to the original payment method within five business days."
	for b.Loop() {
		embed.LexicalVector(text)
	}
}
