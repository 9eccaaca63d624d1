package weaviate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"

	"concierge/retrieval"
	"concierge/retrieval/internal/score"
	"concierge/terms"
)

// hit is a passage object as the hybrid search returns it.
type hit struct {
	Text       string  `json:"text"`
	Title      string  `json:"title"`
	Heading    string  `json:"heading"`
	URL        string  `json:"url"`
	Page       float64 `json:"page"`
	Ordinal    float64 `json:"ordinal"`
	ChunkID    string  `json:"chunkId"`
	ResourceID string  `json:"resourceId"`
	Generation string  `json:"generation"`
	Additional struct {
		Vector []float32 `json:"vector"`
	} `json:"_additional"`
}

// Search runs a hybrid search over the company's current generations for
// max(4·K, 40) candidates (over gRPC when Config.GRPC is set, with their
// vectors), re-scores them with the embedded store's formula, so that
// retrieval.DefaultThreshold means the same, and returns the K best, at
// most two per resource while others match (see rescore.go).
func (s *Store) Search(ctx context.Context, companyID uuid.UUID, q retrieval.Query) ([]retrieval.Hit, error) {
	sq, err := newSearchQuery(q)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("weaviate: search: %w", err)
	}
	if err := s.ensureSchema(ctx); err != nil {
		return nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, s.cfg.SearchTimeout)
	defer cancel()
	hs, p, err := s.fetch(ctx, sctx, TenantName(companyID), sq)
	switch {
	case p.done:
		return nil, p.err
	case isTenantMissing(err):
		return nil, nil
	case err != nil:
		return nil, s.wrap(ctx, "search", err)
	}
	dfs := p.frequencies(sq.stems)
	return rescore(newCandidates(hs, q.Vector), sq.words, p.total, dfs, sq.k), nil
}

// searchQuery is a Search's query, checked and split into what each step
// needs.
type searchQuery struct {
	retrieval.Query
	k     int      // hits to return
	n     int      // candidates to fetch
	bm25  string   // what BM25 searches: the content words' stems
	words []string // the words rescore weighs (terms.QueryWords)
	stems []string // their stems, whose document frequencies it needs
}

func newSearchQuery(q retrieval.Query) (searchQuery, error) {
	if len(q.Text) > retrieval.MaxQueryBytes {
		return searchQuery{}, retrieval.ErrQueryTooLong
	}
	k := q.K
	if k <= 0 {
		k = retrieval.DefaultK
	}
	k = min(k, retrieval.MaxK)
	bm25 := strings.Join(terms.Content(q.Text), " ")
	if bm25 == "" && len(q.Vector) == 0 {
		return searchQuery{}, retrieval.ErrEmptyQuery
	}
	words := terms.QueryWords(q.Text, maxQueryTerms)
	stems := make([]string, len(words))
	for i, w := range words {
		stems[i] = terms.Stem(w)
	}
	return searchQuery{Query: q, k: k, n: max(4*k, minCandidates), bm25: bm25, words: words, stems: stems}, nil
}

// prepared is what prepare read of the company's records: the live
// generations, and the document frequencies being counted. done means
// that Search returns (nil, err) at once: an error, no index, or nothing
// left to search.
type prepared struct {
	live    []string
	dc      *dfCache
	total   int
	counted <-chan struct{}
	done    bool
	err     error
}

// prepare reads the company's records (current generations) and starts
// counting the document frequencies the cache lacks (see rescore.go).
// sctx bounds the requests; errors are wrapped for ctx, the caller's.
func (s *Store) prepare(ctx, sctx context.Context, tenant string, q searchQuery) (p prepared) {
	info, gens, ok, err := s.searchRecords(sctx, tenant)
	if err != nil {
		return prepared{done: true, err: s.wrap(ctx, "search", err)}
	}
	if !ok || info == nil {
		return prepared{done: true}
	}
	if len(q.Vector) > 0 && len(q.Vector) != info.Dimension {
		return prepared{done: true, err: fmt.Errorf("%w: query vector has %d dimensions, the index %d",
			retrieval.ErrDimensionMismatch, len(q.Vector), info.Dimension)}
	}
	for _, r := range q.ExcludeResources {
		delete(gens, r)
	}
	if len(gens) == 0 {
		return prepared{done: true}
	}
	for _, g := range gens {
		p.live = append(p.live, g)
	}
	p.dc = s.dfCacheOf(tenant, genState(gens))
	p.total, p.counted, err = s.docFreqs(sctx, tenant, p.dc, q.stems)
	if err != nil {
		if isTenantMissing(err) {
			return prepared{done: true}
		}
		return prepared{done: true, err: s.wrap(ctx, "search: document frequencies", err)}
	}
	return p
}

// fetch prepares the search and runs the candidate search over the live
// generations. Over gRPC, with no resource excluded, the records and an
// unfiltered search run at once: when every hit is of a live generation,
// they are the filtered search's hits too; otherwise it searches again
// with the filter. The search's error is returned as it is.
func (s *Store) fetch(ctx, sctx context.Context, tenant string, q searchQuery) ([]hit, prepared, error) {
	c := s.searchClient()
	if c != nil && len(q.ExcludeResources) == 0 {
		pc := make(chan prepared, 1)
		go func() { pc <- s.prepare(ctx, sctx, tenant, q) }()
		hs, err := s.searchGRPC(sctx, c, tenant, q.bm25, q.Vector, nil, q.n, false)
		p := <-pc
		if p.done {
			return nil, p, nil
		}
		if err == nil && !allLive(hs, p.live) {
			hs, err = s.searchGRPC(sctx, c, tenant, q.bm25, q.Vector, p.live, q.n, true)
		}
		return hs, p, err
	}
	p := s.prepare(ctx, sctx, tenant, q)
	if p.done {
		return nil, p, nil
	}
	if c != nil {
		hs, err := s.searchGRPC(sctx, c, tenant, q.bm25, q.Vector, p.live, q.n, true)
		return hs, p, err
	}
	hs, err := s.searchGraphQL(sctx, tenant, q.bm25, q.Vector, p.live, q.n)
	return hs, p, err
}

// frequencies waits up to dfWait for the counts prepare started, then
// returns the document frequencies known of stems.
func (p prepared) frequencies(stems []string) map[string]int {
	wait := time.NewTimer(dfWait)
	select {
	case <-p.counted:
	case <-wait.C:
	}
	wait.Stop()
	return p.dc.lookup(stems)
}

// newCandidates turns hits into rescore's candidates: the passage, its
// cosine to the query vector (-1 without one), its words and the
// frequencies of their stems. Hits with malformed ids are left out.
func newCandidates(hs []hit, vec []float32) []*candidate {
	var qv []float32
	if len(vec) > 0 {
		qv = score.Normalized(vec)
	}
	cands := make([]*candidate, 0, len(hs))
	for _, h := range hs {
		chunk, err1 := uuid.Parse(h.ChunkID)
		res, err2 := uuid.Parse(h.ResourceID)
		if err1 != nil || err2 != nil {
			continue
		}
		cd := &candidate{cos: -1, stems: map[string]int{}, hit: retrieval.Hit{Passage: retrieval.Passage{
			ChunkID: chunk, ResourceID: res, Ordinal: int(h.Ordinal), Title: h.Title, Heading: h.Heading,
			URL: h.URL, Page: int(h.Page), Text: h.Text,
		}}}
		if qv != nil {
			cd.cos = cosine(qv, h.Additional.Vector)
		}
		seen := map[string]bool{}
		for _, t := range []string{h.Title, h.Heading, h.Text} {
			terms.Words(t, func(w string) {
				cd.stems[terms.Stem(w)]++
				if !seen[w] {
					seen[w] = true
					cd.words = append(cd.words, w)
				}
			})
		}
		cands = append(cands, cd)
	}
	return cands
}

// allLive reports whether every hit is of one of the live generations.
func allLive(hs []hit, live []string) bool {
	set := make(map[string]struct{}, len(live))
	for _, g := range live {
		set[g] = struct{}{}
	}
	for _, h := range hs {
		if _, ok := set[h.Generation]; !ok {
			return false
		}
	}
	return true
}

// searchGraphQL runs the candidate search, over the live generations, with
// GraphQL (without gRPC).
func (s *Store) searchGraphQL(ctx context.Context, tenant, query string, vec []float32, live []string, n int) ([]hit, error) {
	where := filters.Where().WithPath([]string{pGeneration}).WithOperator(filters.ContainsAny).WithValueText(live...)
	fields := []graphql.Field{{Name: pText}, {Name: pTitle}, {Name: pHeading}, {Name: pURL}, {Name: pPage},
		{Name: pOrdinal}, {Name: pChunkID}, {Name: pResourceID}}
	if len(vec) > 0 {
		fields = append(fields, graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "vector"}}})
	}
	get := s.client.GraphQL().Get().WithClassName(s.class).WithTenant(tenant).WithWhere(where).WithLimit(n)
	if query == "" {
		get = get.WithNearVector(s.client.GraphQL().NearVectorArgBuilder().WithVector(vec))
	} else {
		h := s.client.GraphQL().HybridArgumentBuilder().WithQuery(query).
			WithProperties([]string{pTextStem, pTitleStem}).WithFusionType(s.fusion)
		if len(vec) > 0 {
			h = h.WithVector(vec).WithAlpha(s.cfg.Alpha)
		} else {
			h = h.WithAlpha(0)
		}
		get = get.WithHybrid(h)
	}
	var ans struct {
		Get map[string][]hit `json:"Get"`
	}
	err := s.graphQL(ctx, get.WithFields(fields...).Build(), &ans)
	return ans.Get[s.class], err
}
