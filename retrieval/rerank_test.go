package retrieval_test

import (
	"os"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/retrieval"
	"concierge/retrieval/embed"
	"concierge/retrieval/embedded"
	"concierge/viewer"
)

func semanticReranker(t *testing.T) *retrieval.SemanticReranker {
	t.Helper()
	r := retrieval.NewSemanticReranker()
	if r == nil {
		_, err := embed.Semantic()
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return r
}

// TestRerankReadsSentences: the passage one of whose sentences means what
// the question asks moves above passages that only share its words, and
// a question of words the vectors do not know keeps the store's scores.
func TestRerankReadsSentences(t *testing.T) {
	t.Parallel()
	r := semanticReranker(t)
	long := "Our shop opened in 2009 in Lyon. We sell handmade ceramics, bowls and vases. " +
		"If an order arrives broken, we pay the refund to your card within five days. " +
		"Every piece is glazed by hand and fired twice."
	hits := []retrieval.Hit{
		{Passage: retrieval.Passage{ChunkID: uuid.New(), Heading: "Delivery", Text: "Parcels leave the workshop on Mondays. You can get the tracking number back by email."}, Score: 0.5},
		{Passage: retrieval.Passage{ChunkID: uuid.New(), Heading: "About us", Text: long}, Score: 0.5},
		{Passage: retrieval.Passage{ChunkID: uuid.New(), Heading: "Opening hours", Text: "The showroom is open from Tuesday to Saturday, 10 to 18."}, Score: 0.5},
	}
	r.Rerank("How do I get my money back if my order is damaged?", hits)
	require.Greater(t, hits[1].Score, hits[0].Score, "the refund sentence, not 'get … back'")
	require.Greater(t, hits[1].Score, hits[2].Score)

	before := []float64{0.61, 0.42}
	typo := []retrieval.Hit{{Passage: retrieval.Passage{Text: "refund policy"}, Score: before[0]}, {Passage: retrieval.Passage{Text: "shipping"}, Score: before[1]}}
	r.Rerank("xqzt-42 rfndz", typo)
	require.Equal(t, before, []float64{typo[0].Score, typo[1].Score})
}

// TestSearchReranks: the Service reranks the store's candidates and keeps
// k of them; without a reranker it returns the store's order.
func TestSearchReranks(t *testing.T) {
	t.Parallel()
	semanticReranker(t)
	st, err := embedded.Open(t.Context(), t.TempDir()+"/index.db")
	require.NoError(t, err)
	defer st.Close()
	ctx := viewer.SystemContext(t.Context(), uuid.New())
	svc := retrieval.NewService(st, embed.NewLocal())
	texts := []string{
		"The warranty covers manufacturing defects for two years from the date of purchase.",
		"To reset your password, open Settings, choose Security and press Reset.",
		"We deliver to France, Belgium and Switzerland; parcels arrive in three working days.",
		"If you are not satisfied, we refund the full price to your card within five days of the return.",
		"Gift cards are valid for one year and cannot be exchanged for cash.",
		"Our support team answers by phone from 9 to 17 on working days.",
	}
	for _, tx := range texts {
		require.NoError(t, svc.IndexResource(ctx, uuid.New(), []retrieval.Passage{{ChunkID: uuid.New(), Title: "Help", Text: tx}}))
	}
	hits, err := svc.Search(ctx, "Can I get my money back?", 3, nil)
	require.NoError(t, err)
	require.Len(t, hits, 3)
	// No word of the question is in the refund passage; "cash" in the
	// gift-card one is as near "money" as word vectors go, so both lead.
	top := hits[0].Text + hits[1].Text
	require.Contains(t, top, "refund")
	require.Contains(t, top, "cash")

	plain := retrieval.NewService(st, embed.NewLocal(), retrieval.WithReranker(nil))
	raw, err := plain.Search(ctx, "Can I get my money back?", 3, nil)
	require.NoError(t, err)
	require.Len(t, raw, 3)
	require.NotEqual(t, hits[0].Score, raw[0].Score, "the reranker changed the scores")
}
