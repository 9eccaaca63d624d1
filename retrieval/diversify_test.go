package retrieval_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/retrieval"
)

func TestDiversify(t *testing.T) {
	long, short := uuid.New(), uuid.New()
	hit := func(r uuid.UUID, score float64) retrieval.Hit {
		return retrieval.Hit{Passage: retrieval.Passage{ResourceID: r}, Score: score}
	}
	hits := []retrieval.Hit{hit(long, 0.9), hit(long, 0.8), hit(short, 0.3), hit(long, 0.7), hit(long, 0.6)}
	got := retrieval.Diversify(hits, 3)
	require.Len(t, got, 3)
	require.Equal(t, []float64{0.9, 0.8, 0.3}, []float64{got[0].Score, got[1].Score, got[2].Score},
		"at most two of one resource while another matches")
	// Too few resources: topped up with the best skipped hits, best first.
	got = retrieval.Diversify([]retrieval.Hit{hit(long, 0.5), hit(long, 0.9), hit(long, 0.7)}, 5)
	require.Equal(t, []float64{0.9, 0.7, 0.5}, []float64{got[0].Score, got[1].Score, got[2].Score})
	require.Empty(t, retrieval.Diversify(nil, 5))
}
