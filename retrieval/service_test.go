package retrieval_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/retrieval"
	"concierge/retrieval/embedded"
	"concierge/retrieval/storetest"
	"concierge/viewer"
)

// hashEmbedder embeds with storetest.Vector and counts texts embedded.
type hashEmbedder struct {
	name  string
	texts atomic.Int64
}

func (e *hashEmbedder) Name() string   { return e.name }
func (e *hashEmbedder) Dimension() int { return storetest.Dim }
func (e *hashEmbedder) Embed(_ context.Context, texts []string, _ retrieval.Kind) ([][]float32, error) {
	e.texts.Add(int64(len(texts)))
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = storetest.Vector(t)
	}
	return out, nil
}

func setup(t *testing.T) (*retrieval.Service, *hashEmbedder, retrieval.Store, context.Context) {
	t.Helper()
	st, err := embedded.Open(t.Context(), t.TempDir()+"/index.db")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	emb := &hashEmbedder{name: "hash-v1"}
	return retrieval.NewService(st, emb), emb, st, viewer.SystemContext(t.Context(), uuid.New())
}

var passages = []retrieval.Passage{
	{Title: "Refunds", Heading: "Policy", Text: "refund within thirty days"},
	{Title: "Refunds", Heading: "Payment", Text: "money returns to your card"},
}

func TestServiceNeedsCompany(t *testing.T) {
	t.Parallel()
	svc, _, _, _ := setup(t)
	for _, ctx := range []context.Context{t.Context(), viewer.NewContext(t.Context(), &viewer.Viewer{Kind: viewer.KindSuperAdmin, ID: uuid.New()})} {
		_, err := svc.Search(ctx, "refund", 5, nil)
		require.ErrorIs(t, err, retrieval.ErrNoCompany)
		require.ErrorIs(t, svc.IndexResource(ctx, uuid.New(), passages), retrieval.ErrNoCompany)
		require.ErrorIs(t, svc.DeleteResource(ctx, uuid.New()), retrieval.ErrNoCompany)
		require.ErrorIs(t, svc.ResetCompany(ctx), retrieval.ErrNoCompany)
	}
}

func TestServiceQueryValidation(t *testing.T) {
	t.Parallel()
	svc, _, _, ctx := setup(t)
	require.NoError(t, svc.IndexResource(ctx, uuid.New(), passages))
	for _, q := range []string{"", "   \n\t", "?!"} {
		_, err := svc.Search(ctx, q, 5, nil)
		require.ErrorIs(t, err, retrieval.ErrEmptyQuery, q)
	}
	_, err := svc.Search(ctx, strings.Repeat("a", 50<<10), 5, nil)
	require.ErrorIs(t, err, retrieval.ErrQueryTooLong)
	hits, err := svc.Search(ctx, "refund", 5, nil)
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	// A company without an index has no hits.
	hits, err = svc.Search(viewer.SystemContext(t.Context(), uuid.New()), "refund", 5, nil)
	require.NoError(t, err)
	require.Empty(t, hits)
}

func TestServiceCache(t *testing.T) {
	t.Parallel()
	svc, emb, _, ctx := setup(t)
	r := uuid.New()
	require.NoError(t, svc.IndexResource(ctx, r, passages))
	require.EqualValues(t, 2, emb.texts.Load())
	require.NoError(t, svc.IndexResource(ctx, r, passages))
	require.EqualValues(t, 2, emb.texts.Load(), "unchanged text is not embedded again")
	// Same text in another company is embedded for it (keys are per company).
	require.NoError(t, svc.IndexResource(viewer.SystemContext(t.Context(), uuid.New()), r, passages))
	require.EqualValues(t, 4, emb.texts.Load())
}

func TestPersistentCache(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := embedded.OpenCache(t.Context(), dir+"/embeddings.db")
	require.NoError(t, err)
	k := retrieval.NewCacheKey("e", uuid.New(), retrieval.KindDocument, "hello")
	require.NoError(t, c.Put(t.Context(), []retrieval.CacheKey{k}, [][]float32{{1, 2, 3}}))
	require.NoError(t, c.Close())
	c, err = embedded.OpenCache(t.Context(), dir+"/embeddings.db")
	require.NoError(t, err)
	defer c.Close()
	got, err := c.Get(t.Context(), []retrieval.CacheKey{k, retrieval.NewCacheKey("e", k.Company, retrieval.KindQuery, "hello")})
	require.NoError(t, err)
	require.Equal(t, []float32{1, 2, 3}, got[0])
	require.Nil(t, got[1])
	require.NoError(t, c.DeleteCompany(t.Context(), k.Company))
	got, err = c.Get(t.Context(), []retrieval.CacheKey{k})
	require.NoError(t, err)
	require.Nil(t, got[0])
}

func TestMemoryCacheEvicts(t *testing.T) {
	t.Parallel()
	c := retrieval.NewMemoryCache(2)
	co := uuid.New()
	keys := []retrieval.CacheKey{retrieval.NewCacheKey("e", co, 0, "a"), retrieval.NewCacheKey("e", co, 0, "b"), retrieval.NewCacheKey("e", co, 0, "c")}
	require.NoError(t, c.Put(t.Context(), keys, [][]float32{{1}, {2}, {3}}))
	got, _ := c.Get(t.Context(), keys)
	require.Nil(t, got[0])
	require.Equal(t, []float32{3}, got[2])
	require.Equal(t, 2, c.Len())
}

func TestServiceEmbedderChanged(t *testing.T) {
	t.Parallel()
	svc, _, st, ctx := setup(t)
	require.NoError(t, svc.IndexResource(ctx, uuid.New(), passages))
	other := retrieval.NewService(st, &hashEmbedder{name: "hash-v2"})
	_, err := other.Search(ctx, "refund", 5, nil)
	require.ErrorIs(t, err, retrieval.ErrEmbedderChanged)
	require.ErrorIs(t, other.IndexResource(ctx, uuid.New(), passages), retrieval.ErrEmbedderChanged)
	require.NoError(t, other.ResetCompany(ctx))
	require.NoError(t, other.IndexResource(ctx, uuid.New(), passages))
	hits, err := other.Search(ctx, "refund", 5, nil)
	require.NoError(t, err)
	require.NotEmpty(t, hits)
}

func TestServiceDeleteCompany(t *testing.T) {
	t.Parallel()
	svc, _, st, ctx := setup(t)
	company, _ := viewer.FromContext(ctx).Tenant()
	require.NoError(t, svc.IndexResource(ctx, uuid.New(), passages))
	// Another company's viewer may not.
	require.ErrorIs(t, svc.DeleteCompany(viewer.SystemContext(t.Context(), uuid.New()), company), retrieval.ErrForbidden)
	require.ErrorIs(t, svc.DeleteCompany(t.Context(), company), retrieval.ErrForbidden)
	admin := viewer.NewContext(t.Context(), &viewer.Viewer{Kind: viewer.KindSuperAdmin, ID: uuid.New()})
	require.NoError(t, svc.DeleteCompany(admin, company))
	_, ok, err := st.Info(t.Context(), company)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestRelevantThreshold(t *testing.T) {
	t.Parallel()
	svc, _, _, _ := setup(t)
	hits := []retrieval.Hit{{Score: 0.9}, {Score: retrieval.DefaultThreshold}, {Score: 0.1}}
	require.Len(t, svc.Relevant(hits), 2)
	require.Empty(t, svc.Relevant(nil))
}
