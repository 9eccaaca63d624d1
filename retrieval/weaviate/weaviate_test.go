package weaviate_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"

	"concierge/retrieval"
	"concierge/retrieval/storetest"
	"concierge/retrieval/weaviate"
)

func newStore(t testing.TB, cfg weaviate.Config) *weaviate.Store {
	t.Helper()
	need(t)
	if cfg.URL == "" {
		cfg.URL = serverURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := weaviate.New(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func TestConformance(t *testing.T) {
	need(t)
	t.Run("RelativeFusionHTTP", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) retrieval.Store { return newStore(t, weaviate.Config{}) })
	})
	t.Run("RankedFusionGRPC", func(t *testing.T) {
		if serverGRPC == "" {
			t.Skip("WEAVIATE_GRPC not set")
		}
		storetest.Run(t, func(t *testing.T) retrieval.Store {
			return newStore(t, weaviate.Config{GRPC: serverGRPC, Fusion: weaviate.FusionRanked})
		})
	})
}

func TestTenantName(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	seen := map[string]uuid.UUID{}
	ids := []uuid.UUID{uuid.Nil, uuid.Max,
		uuid.MustParse("00000000-0000-0000-0000-000000000001"),
		uuid.MustParse("10000000-0000-0000-0000-000000000000"),
		uuid.MustParse("0000000a-0000-0000-0000-000000000000"),
		uuid.MustParse("0000000A-0000-0000-0000-000000000000"), // the same id as above: same tenant
	}
	for range 10000 {
		ids = append(ids, uuid.New())
	}
	for _, id := range ids {
		name := weaviate.TenantName(id)
		require.Regexp(t, valid, name)
		require.Len(t, name, 33)
		if other, ok := seen[name]; ok {
			require.Equal(t, other, id, "two companies share tenant %s", name)
		}
		seen[name] = id
		// Injective: the name gives the id back.
		back, err := uuid.Parse(name[1:])
		require.NoError(t, err)
		require.Equal(t, id, back)
	}
	require.Len(t, seen, len(ids)-1)
}

func TestBM25Stemming(t *testing.T) {
	st := newStore(t, weaviate.Config{Alpha: -1}) // alpha 0: keywords only
	ctx := t.Context()
	c, r1, r2 := uuid.New(), uuid.New(), uuid.New()
	info := retrieval.IndexInfo{Embedder: "test", Dimension: 3}
	require.NoError(t, st.ReplaceResource(ctx, c, r1, info, []retrieval.Passage{{
		ChunkID: uuid.New(), ResourceID: r1, Title: "Money back", Text: "How to get a refund for a broken order.",
		Vector: []float32{1, 0, 0},
	}}))
	require.NoError(t, st.ReplaceResource(ctx, c, r2, info, []retrieval.Passage{{
		ChunkID: uuid.New(), ResourceID: r2, Title: "Shipping", Text: "Parcels are shipped within two days.",
		Vector: []float32{0, 1, 0},
	}}))
	// The query vector points at the shipping passage; with alpha 0 only
	// the (stemmed) keywords count.
	hits, err := st.Search(ctx, c, retrieval.Query{Text: "Refunds?", Vector: []float32{0, 1, 0}, K: 5})
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	require.Equal(t, r1, hits[0].ResourceID)
	require.Len(t, hits, 1, "alpha 0: the vector alone finds nothing")
	// Without a vector, and with the inflection on the passage side.
	hits, err = st.Search(ctx, c, retrieval.Query{Text: "when does my parcel ship", K: 5})
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	require.Equal(t, r2, hits[0].ResourceID)

	// The default alpha blends both.
	mixed := newStore(t, weaviate.Config{})
	hits, err = mixed.Search(ctx, c, retrieval.Query{Text: "refunded", Vector: []float32{1, 0, 0}, K: 5})
	require.NoError(t, err)
	require.Equal(t, r1, hits[0].ResourceID)
}

func TestUnavailable(t *testing.T) {
	ports, err := freePorts(1)
	require.NoError(t, err)
	url := "http://127.0.0.1:" + itoa(ports[0]) // nothing listens there
	start := time.Now()
	st, err := weaviate.New(t.Context(), weaviate.Config{URL: url})
	require.ErrorIs(t, err, retrieval.ErrUnavailable)
	require.NotNil(t, st, "New returns a usable store that reports the outage")
	defer st.Close()
	require.ErrorIs(t, st.Ping(t.Context()), retrieval.ErrUnavailable)
	c, r := uuid.New(), uuid.New()
	_, err = st.Search(t.Context(), c, storetest.Q("anything", 5))
	require.ErrorIs(t, err, retrieval.ErrUnavailable)
	err = st.ReplaceResource(t.Context(), c, r, storetest.Info, storetest.Passages(r, "T", "text"))
	require.ErrorIs(t, err, retrieval.ErrUnavailable)
	_, _, err = st.Info(t.Context(), c)
	require.ErrorIs(t, err, retrieval.ErrUnavailable)
	require.ErrorIs(t, st.DeleteCompany(t.Context(), c), retrieval.ErrUnavailable)
	require.Less(t, time.Since(start), 5*time.Second)

	// A server that accepts connections but never answers: bounded by the
	// timeouts, not a hang.
	l, err := listenSilently(t)
	require.NoError(t, err)
	start = time.Now()
	st2, err := weaviate.New(t.Context(), weaviate.Config{URL: "http://" + l, SearchTimeout: time.Second, WriteTimeout: time.Second})
	require.ErrorIs(t, err, retrieval.ErrUnavailable)
	defer st2.Close()
	require.ErrorIs(t, st2.Ping(t.Context()), retrieval.ErrUnavailable)
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestDeleteCompanyRemovesTenant(t *testing.T) {
	st := newStore(t, weaviate.Config{})
	client := rawClient(t)
	ctx := t.Context()
	c, r := uuid.New(), uuid.New()
	tenant := weaviate.TenantName(c)
	exists := func(class string) bool {
		ok, err := client.Schema().TenantsExists().WithClassName(class).WithTenant(tenant).Do(ctx)
		require.NoError(t, err)
		return ok
	}
	require.False(t, exists("ConciergePassage"))
	require.NoError(t, st.ReplaceResource(ctx, c, r, storetest.Info, storetest.Passages(r, "Hours", "open from nine")))
	require.True(t, exists("ConciergePassage"))
	require.True(t, exists("ConciergePassageIndex"))
	require.NoError(t, st.DeleteCompany(ctx, c))
	require.False(t, exists("ConciergePassage"))
	require.False(t, exists("ConciergePassageIndex"))
	require.NoError(t, st.DeleteCompany(ctx, c), "twice is fine")
}

func TestReplacedGenerationIsDeleted(t *testing.T) {
	st := newStore(t, weaviate.Config{DeleteGrace: 200 * time.Millisecond})
	client := rawClient(t)
	ctx := t.Context()
	c, r := uuid.New(), uuid.New()
	t.Cleanup(func() { st.DeleteCompany(context.Background(), c) })
	require.NoError(t, st.ReplaceResource(ctx, c, r, storetest.Info, storetest.Passages(r, "A", "one", "two", "three")))
	require.NoError(t, st.ReplaceResource(ctx, c, r, storetest.Info, storetest.Passages(r, "A", "four", "five")))
	require.Eventually(t, func() bool { return count(t, client, c) == 2 }, 10*time.Second, 100*time.Millisecond)
	require.NoError(t, st.DeleteResource(ctx, c, r))
	require.Equal(t, 0, count(t, client, c))
}

func rawClient(t *testing.T) *wv.Client {
	t.Helper()
	cfg := weaviate.Config{URL: serverURL}
	host := cfg.URL[len("http://"):]
	client, err := wv.NewClient(wv.Config{Host: host, Scheme: "http"})
	require.NoError(t, err)
	return client
}

func count(t *testing.T, client *wv.Client, company uuid.UUID) int {
	t.Helper()
	resp, err := client.GraphQL().Aggregate().WithClassName("ConciergePassage").WithTenant(weaviate.TenantName(company)).
		WithFields(graphql.Field{Name: "meta", Fields: []graphql.Field{{Name: "count"}}}).Do(t.Context())
	require.NoError(t, err)
	require.Empty(t, resp.Errors)
	agg := resp.Data["Aggregate"].(map[string]any)["ConciergePassage"].([]any)
	return int(agg[0].(map[string]any)["meta"].(map[string]any)["count"].(float64))
}

// Two replicas share one Weaviate: a search caches the company's records
// briefly, yet sees its own writes at once and another replica's within a
// second, and never a mix of a resource's old and new passages.
func TestRecordsCacheAcrossReplicas(t *testing.T) {
	a := newStore(t, weaviate.Config{GRPC: os.Getenv("WEAVIATE_GRPC")})
	b := newStore(t, weaviate.Config{GRPC: os.Getenv("WEAVIATE_GRPC")})
	ctx := t.Context()
	c, r := uuid.New(), uuid.New()
	t.Cleanup(func() { _ = a.DeleteCompany(context.Background(), c) })
	info := retrieval.IndexInfo{Embedder: "test", Dimension: 3}
	put := func(st *weaviate.Store, word string) {
		require.NoError(t, st.ReplaceResource(ctx, c, r, info, []retrieval.Passage{
			{ChunkID: uuid.New(), ResourceID: r, Title: "Edition", Text: "The " + word + " edition of the manual.", Vector: []float32{1, 0, 0}},
			{ChunkID: uuid.New(), ResourceID: r, Title: "Edition", Text: "More of the " + word + " edition.", Vector: []float32{1, 0, 0}},
		}))
	}
	editions := func(st *weaviate.Store) map[string]bool {
		hits, err := st.Search(ctx, c, retrieval.Query{Text: "edition manual", Vector: []float32{1, 0, 0}, K: 5})
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, h := range hits {
			for _, w := range []string{"first", "second", "third"} {
				if strings.Contains(h.Text, w) {
					seen[w] = true
				}
			}
		}
		require.LessOrEqual(t, len(seen), 1, "never a mix of editions: %v", seen)
		return seen
	}
	put(a, "first")
	require.True(t, editions(a)["first"])
	put(a, "second")
	require.True(t, editions(a)["second"], "a store sees its own write at once")
	put(b, "third")
	require.Eventually(t, func() bool { return editions(a)["third"] }, 5*time.Second, 50*time.Millisecond,
		"another replica's write is seen within the records cache's lifetime")
}
