package retrieval_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/observe/observetest"
)

// TestSearchMetrics checks that a search moves
// concierge_retrieval_search_seconds, and that refused queries (no
// company, nothing to search for) do not.
func TestSearchMetrics(t *testing.T) {
	svc, _, _, ctx := setup(t)
	require.NoError(t, svc.IndexResource(ctx, uuid.New(), passages))
	searches := func() float64 {
		return observetest.Value(t, "concierge_retrieval_search_seconds", "outcome", "ok")
	}
	before := searches()
	hits, err := svc.Search(ctx, "refund", 5, nil)
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	require.Equal(t, before+1, searches())

	refused := observetest.Value(t, "concierge_retrieval_search_seconds")
	_, err = svc.Search(ctx, "?!", 5, nil)
	require.Error(t, err)
	_, err = svc.Search(t.Context(), "refund", 5, nil)
	require.Error(t, err)
	require.Equal(t, refused, observetest.Value(t, "concierge_retrieval_search_seconds"))
}
