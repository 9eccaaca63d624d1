package terms

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStem(t *testing.T) {
	for in, want := range map[string]string{
		"refunds": "refund", "refund": "refund", "refunded": "refund", "refunding": "refund",
		"policies": "policy", "policy": "policy", "shipping": "ship", "shipped": "ship", "ships": "ship",
		"boxes": "box", "classes": "class", "payments": "pay", "payment": "pay", "quickly": "quick",
		"charge": "charg", "charged": "charg", "charges": "charg", "status": "status", "bus": "bus",
	} {
		require.Equal(t, want, Stem(in), in)
	}
}

func TestWords(t *testing.T) {
	require.Equal(t, []string{"cafe", "creme", "brulee", "42", "strasse", "x"}, List("Café CRÈME-brûlée, 42 straße! x"))
	require.Equal(t, []string{"refund", "policy"}, Content("What is the refund policy?"))
	require.Equal(t, []string{"how", "do", "i"}, Content("how do I"))
}

// StemWithAtion is Stem that also lets "-ation" nouns meet their verbs; the
// indexes' Stem leaves them.
func TestStemWithAtion(t *testing.T) {
	for in, want := range map[string]string{
		"declarations": "declar", "declared": "declar", "confirmation": "confirm", "refunds": "refund",
		"payments": "pay", "charge": "charg", "status": "status",
	} {
		require.Equal(t, want, StemWithAtion(in), in)
	}
	require.Equal(t, "declaration", Stem("declarations"))
}

func TestQueryWords(t *testing.T) {
	require.Equal(t, []string{"refunds", "policy"}, QueryWords("What is the refunds policy? Refund, refunded!", 32))
	require.Equal(t, []string{"how", "do", "i"}, QueryWords("how do I", 32))
	require.Equal(t, []string{"alpha", "beta"}, QueryWords("alpha beta gamma", 2))
}
