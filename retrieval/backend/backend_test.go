package backend_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/retrieval"
	"concierge/retrieval/backend"
	"concierge/retrieval/embed"
	"concierge/viewer"
)

func TestEmbeddedDefault(t *testing.T) {
	ctx := context.Background()
	svc, err := backend.Open(ctx, backend.Config{DataDir: t.TempDir()})
	require.NoError(t, err)
	defer svc.Close()
	require.Equal(t, embed.NewLocal().Name(), svc.Embedder().Name())
	cid := uuid.New()
	sys := viewer.SystemContext(ctx, cid)
	require.NoError(t, svc.IndexResource(sys, uuid.New(), []retrieval.Passage{{ChunkID: uuid.New(), Title: "Shipping", Text: "Parcels ship within two business days."}}))
	hits, err := svc.Search(sys, "when do parcels ship", 5, nil)
	require.NoError(t, err)
	require.NotEmpty(t, hits)
}

func TestUnknownEmbedder(t *testing.T) {
	_, err := backend.Open(context.Background(), backend.Config{DataDir: t.TempDir(), Embedder: "word2vec"})
	require.ErrorIs(t, err, backend.ErrNotConfigured)
	_, err = backend.Open(context.Background(), backend.Config{DataDir: t.TempDir(), Embedder: "gemini"})
	require.ErrorIs(t, err, backend.ErrNotConfigured, "gemini without a key")
}

// A Weaviate that is down does not stop the server from starting: Open
// returns a store whose Ping fails fast, so /readyz reports it.
func TestWeaviateDown(t *testing.T) {
	ctx := context.Background()
	svc, err := backend.Open(ctx, backend.Config{DataDir: t.TempDir(), WeaviateURL: "http://127.0.0.1:1"})
	require.NoError(t, err)
	defer svc.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	start := time.Now()
	err = svc.Ping(pctx)
	require.True(t, errors.Is(err, retrieval.ErrUnavailable), "got %v", err)
	require.Less(t, time.Since(start), 5*time.Second)
}

// With WEAVIATE_URL set (CI starts a server), the service runs on Weaviate.
func TestWeaviate(t *testing.T) {
	url := os.Getenv("WEAVIATE_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("WEAVIATE_URL is not set in CI: .ci/run starts Weaviate")
		}
		t.Skip("WEAVIATE_URL not set (make weaviate-start)")
	}
	ctx := context.Background()
	svc, err := backend.Open(ctx, backend.Config{DataDir: t.TempDir(), WeaviateURL: url, WeaviateGRPC: os.Getenv("WEAVIATE_GRPC")})
	require.NoError(t, err)
	defer svc.Close()
	require.NoError(t, svc.Ping(ctx))
	a, b := uuid.New(), uuid.New()
	t.Cleanup(func() {
		_ = svc.DeleteCompany(viewer.SystemContext(ctx, a), a)
		_ = svc.DeleteCompany(viewer.SystemContext(ctx, b), b)
	})
	require.NoError(t, svc.IndexResource(viewer.SystemContext(ctx, a), uuid.New(), []retrieval.Passage{{ChunkID: uuid.New(), Title: "Refunds", Text: "Refunds are paid within 14 days."}}))
	require.NoError(t, svc.IndexResource(viewer.SystemContext(ctx, b), uuid.New(), []retrieval.Passage{{ChunkID: uuid.New(), Title: "Secrets", Text: "Bravo's refund secret is 42."}}))
	hits, err := svc.Search(viewer.SystemContext(ctx, a), "refund", 5, nil)
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	for _, h := range hits {
		require.NotContains(t, h.Text, "Bravo", "company A never sees company B's passages")
	}
}
