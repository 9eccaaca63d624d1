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
	if len(q.Text) > retrieval.MaxQueryBytes {
		return nil, retrieval.ErrQueryTooLong
	}
	k := q.K
	if k <= 0 {
		k = retrieval.DefaultK
	}
	k = min(k, retrieval.MaxK)
	query := strings.Join(terms.Content(q.Text), " ")
	if query == "" && len(q.Vector) == 0 {
		return nil, retrieval.ErrEmptyQuery
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("weaviate: search: %w", err)
	}
	if err := s.ensureSchema(ctx); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.SearchTimeout)
	defer cancel()
	tenant := TenantName(companyID)
	words := terms.QueryWords(q.Text, maxQueryTerms)
	stems := make([]string, len(words))
	for i, w := range words {
		stems[i] = terms.Stem(w)
	}
	n := max(4*k, minCandidates)

	// prep reads the company's records (current generations) and starts
	// counting the document frequencies the cache lacks (see rescore.go).
	// done reports that Search must return (hits, err) as they are.
	type prepared struct {
		live    []string
		dc      *dfCache
		total   int
		counted <-chan struct{}
		done    bool
		err     error
	}
	prep := func() (p prepared) {
		info, gens, ok, err := s.searchRecords(cctx, tenant)
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
		p.total, p.counted, err = s.docFreqs(cctx, tenant, p.dc, stems)
		if err != nil {
			if isTenantMissing(err) {
				return prepared{done: true}
			}
			return prepared{done: true, err: s.wrap(ctx, "search: document frequencies", err)}
		}
		return p
	}

	var (
		hs  []hit
		err error
		p   prepared
	)
	c := s.searchClient()
	if c != nil && len(q.ExcludeResources) == 0 {
		// The records and an unfiltered search at once: when every hit is
		// of a live generation, they are the filtered search's hits too;
		// otherwise search again with the filter.
		pc := make(chan prepared, 1)
		go func() { pc <- prep() }()
		hs, err = s.searchGRPC(cctx, c, tenant, query, q.Vector, nil, n, false)
		p = <-pc
		if p.done {
			return nil, p.err
		}
		if err == nil && !allLive(hs, p.live) {
			hs, err = s.searchGRPC(cctx, c, tenant, query, q.Vector, p.live, n, true)
		}
	} else {
		if p = prep(); p.done {
			return nil, p.err
		}
		if c != nil {
			hs, err = s.searchGRPC(cctx, c, tenant, query, q.Vector, p.live, n, true)
		} else {
			hs, err = s.searchGraphQL(cctx, tenant, query, q.Vector, p.live, n)
		}
	}
	if err != nil {
		if isTenantMissing(err) {
			return nil, nil
		}
		return nil, s.wrap(ctx, "search", err)
	}
	total, dc := p.total, p.dc
	wait := time.NewTimer(dfWait)
	select {
	case <-p.counted:
	case <-wait.C:
	}
	wait.Stop()
	dfs := dc.lookup(stems)
	var qv []float32
	if len(q.Vector) > 0 {
		qv = normalized(q.Vector)
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
	return rescore(cands, words, total, dfs, k), nil
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
