package server_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/retrieval"
	"concierge/viewer"
)

// Deleting a company drops its knowledge index too; other companies' stay.
func TestDeleteCompanyDropsIndex(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a, b := e.Register("alpha"), e.Register("bravo")
		super := e.SuperAdmin("root")
		for _, tn := range []*apitest.Tenant{a, b} {
			ctx := viewer.SystemContext(context.Background(), tn.CompanyID)
			require.NoError(t, e.App.Retrieval.IndexResource(ctx, uuid.New(), []retrieval.Passage{
				{ChunkID: uuid.New(), Title: "Refunds", Text: "Refunds are paid within 14 days of a return."},
			}))
		}
		e.Do(super, `mutation($id: ID!) { deleteCompany(id: $id) }`, map[string]any{"id": b.CompanyID}).OK(t)

		store := e.App.Retrieval.Store()
		_, ok, err := store.Info(context.Background(), b.CompanyID)
		require.NoError(t, err)
		require.False(t, ok, "the deleted company's index is gone")
		hits, err := e.App.Retrieval.Search(viewer.SystemContext(context.Background(), a.CompanyID), "refund", 5, nil)
		require.NoError(t, err)
		require.NotEmpty(t, hits, "the other company's index is untouched")
	})
}
