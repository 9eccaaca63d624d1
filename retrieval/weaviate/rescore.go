package weaviate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"

	"concierge/retrieval"
	"concierge/retrieval/internal/score"
	"concierge/terms"
)

// Re-scoring. Weaviate's fused score says how a hit ranks among the
// query's hits, not whether it answers the query (relative fusion puts any
// top hit at 0.5 or more), so Search takes a generous candidate set from
// the hybrid query, with the vectors, and scores each candidate with
// score.Combine, the embedded store's formula: cosine, IDF-weighted
// coverage of the query's words, a heading bonus and a small rank term.
// retrieval.DefaultThreshold then means the same in both stores.
//
// # Term rarity
//
// Weaviate does not expose document frequencies. A term's is counted by
// an Aggregate over a BM25-only hybrid search (alpha 0) of the stemmed
// properties, capped at maxTermDocs+1 objects (counting costs Weaviate
// about as much as loading the objects); a term over the cap is common,
// and its frequency is estimated from the share of the candidates holding
// it times the tenant's object count. The query's unknown terms are
// counted concurrently (dfParallel at a time), while the hybrid search
// runs, so a cold query costs a few ms more and a warm one nothing.
// Counts are cached per tenant and dropped when its resources' generations
// change (Search reads them anyway), so they follow writes. They include
// generations not yet committed or not yet deleted: an estimate, good for
// a weight.
//
// Typos: a query term no passage holds is matched, as in the embedded
// store, against words at one or two edits from it, here taken from the
// candidates (found by the vector side, whose character n-grams survive a
// typo), or else against a long prefix of it.
const (
	// minCandidates is the least candidates taken from the hybrid search.
	minCandidates = 40
	// rrfK is reciprocal rank fusion's constant, as in the embedded store.
	rrfK = 60
	// maxTermDocs caps a term's counted document frequency (counting
	// costs Weaviate about 2.5µs per object); a commoner term's is
	// estimated from the share of the candidates holding it.
	maxTermDocs = 200
	// dfParallel bounds the concurrent counting requests of one search.
	dfParallel = 4
	// maxQueryTerms bounds the terms of one query.
	maxQueryTerms = 32
	// maxCachedTerms bounds a tenant's cache of document frequencies.
	maxCachedTerms = 50_000
	// dfWait is how long a search waits, once its candidates are back,
	// for the counts it started (a few ms on a small tenant).
	dfWait = 3 * time.Millisecond
	// maxPendingTerms bounds a tenant's terms being counted.
	maxPendingTerms = 256
	// maxCachedTenants bounds the tenants with a cache.
	maxCachedTenants = 1000
	// maxCorrections bounds the typo corrections of one word.
	maxCorrections = 3
	// bm25 parameters of the collection (see passageClass).
	bm25K1 = 1.2
	bm25B  = 0.75
)

// dfCache is a tenant's document frequencies for one state of its index.
type dfCache struct {
	mu        sync.Mutex
	state     uint64 // fingerprint of the generations
	total     int    // objects in the tenant (-1: unknown)
	lastTotal int    // of an earlier state (-1: none): an estimate meanwhile
	counting  bool   // total being counted
	df        map[string]int
	stale     map[string]int // of the previous state: estimates until recounted
	pending   map[string]bool
}

func (s *Store) dfCacheOf(tenant string, state uint64) *dfCache {
	v, ok := s.dfs.Load(tenant)
	if !ok {
		if s.dfCount.Add(1) > maxCachedTenants {
			s.dfs.Clear()
			s.dfCount.Store(1)
		}
		v, _ = s.dfs.LoadOrStore(tenant, &dfCache{total: -1, lastTotal: -1})
	}
	c := v.(*dfCache)
	c.mu.Lock()
	if c.state != state || c.df == nil || len(c.df) >= maxCachedTerms {
		if c.total >= 0 {
			c.lastTotal = c.total
		}
		if len(c.df) < maxCachedTerms {
			c.stale = c.df
		} else {
			c.stale = nil
		}
		c.state, c.total, c.counting, c.df, c.pending = state, -1, false, map[string]int{}, map[string]bool{}
	}
	c.mu.Unlock()
	return c
}

// lookup returns the known document frequencies of stems (current, else
// of the previous state); unknown ones are absent.
func (c *dfCache) lookup(stems []string) map[string]int {
	out := make(map[string]int, len(stems))
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range stems {
		if df, ok := c.df[st]; ok {
			out[st] = df
		} else if df, ok := c.stale[st]; ok {
			out[st] = df
		}
	}
	return out
}

// genState fingerprints a tenant's current generations.
func genState(gens map[uuid.UUID]string) uint64 {
	var x uint64
	for r, g := range gens {
		h := fnv.New64a()
		h.Write(r[:])
		io.WriteString(h, g)
		x ^= h.Sum64() // order-independent
	}
	return x ^ uint64(len(gens))
}

// docFreqs returns the tenant's object count (counted once per tenant,
// then refreshed in the background when its generations change) and
// starts counting, in the background, the document frequency of each stem
// not cached yet (capped at maxTermDocs+1). A search never waits for them:
// it reads whatever the cache holds once its hybrid query is back (after
// waiting at most dfWait for the counts it started, closing the returned
// channel), and estimates the rest from its candidates.
func (s *Store) docFreqs(ctx context.Context, tenant string, c *dfCache, stems []string) (int, <-chan struct{}, error) {
	var miss []string
	c.mu.Lock()
	state := c.state
	total, last := c.total, c.lastTotal
	countTotal := total < 0 && !c.counting
	if countTotal {
		c.counting = true
	}
	for _, st := range stems {
		if _, ok := c.df[st]; !ok && !c.pending[st] && len(c.pending) < maxPendingTerms {
			c.pending[st] = true
			miss = append(miss, st)
		}
	}
	c.mu.Unlock()
	done := make(chan struct{})
	var counted sync.WaitGroup
	for _, st := range miss {
		counted.Add(1)
		s.bgWG.Go(func() {
			defer counted.Done()
			n, ok := s.countTerm(tenant, st)
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.state == state {
				delete(c.pending, st)
				if ok {
					c.df[st] = n
				}
			}
		})
	}
	go func() { counted.Wait(); close(done) }()
	if total >= 0 {
		return max(total, 1), done, nil
	}
	if last >= 0 {
		if countTotal {
			s.bgWG.Go(func() {
				n, err := s.countObjects(s.bgCtx, tenant)
				c.mu.Lock()
				defer c.mu.Unlock()
				if c.state == state {
					c.counting = false
					if err == nil {
						c.total = n
					}
				}
			})
		}
		return max(last, 1), done, nil
	}
	// The first search of a tenant: count its objects (cheap) now.
	n, err := s.countObjects(ctx, tenant)
	c.mu.Lock()
	if c.state == state {
		c.counting = false
		if err == nil {
			c.total = n
		}
	}
	c.mu.Unlock()
	if err != nil {
		return 0, nil, err
	}
	return max(n, 1), done, nil
}

// countObjects counts the tenant's passages.
func (s *Store) countObjects(ctx context.Context, tenant string) (int, error) {
	ten, _ := json.Marshal(tenant)
	var ans struct {
		Aggregate map[string][]struct {
			Meta struct {
				Count float64 `json:"count"`
			} `json:"meta"`
		} `json:"Aggregate"`
	}
	if err := s.graphQL(ctx, fmt.Sprintf("{Aggregate{%s(tenant:%s){meta{count}}}}", s.class, ten), &ans); err != nil {
		return 0, fmt.Errorf("count passages: %w", err)
	}
	r := ans.Aggregate[s.class]
	if len(r) == 0 {
		return 0, errors.New("count passages: no answer")
	}
	return int(r[0].Meta.Count), nil
}

// countTerm counts the passages holding stem, up to maxTermDocs+1, at most
// dfParallel at a time per Store (in the background of searches).
func (s *Store) countTerm(tenant, stem string) (int, bool) {
	select {
	case s.dfSem <- struct{}{}:
	case <-s.bgCtx.Done():
		return 0, false
	}
	defer func() { <-s.dfSem }()
	ctx, cancel := context.WithTimeout(s.bgCtx, s.cfg.SearchTimeout)
	defer cancel()
	if c := s.searchClient(); c != nil {
		n, err := s.countTermGRPC(ctx, c, tenant, stem, maxTermDocs+1)
		return n, err == nil
	}
	ten, _ := json.Marshal(tenant)
	props, _ := json.Marshal([]string{pTextStem, pTitleStem})
	qs, _ := json.Marshal(stem)
	var ans struct {
		Aggregate map[string][]struct {
			Meta struct {
				Count float64 `json:"count"`
			} `json:"meta"`
		} `json:"Aggregate"`
	}
	q := fmt.Sprintf("{Aggregate{%s(tenant:%s,hybrid:{query:%s,alpha:0,properties:%s},objectLimit:%d){meta{count}}}}",
		s.class, ten, qs, props, maxTermDocs+1)
	if err := s.graphQL(ctx, q, &ans); err != nil {
		return 0, false
	}
	r := ans.Aggregate[s.class]
	if len(r) == 0 {
		return 0, false
	}
	return int(r[0].Meta.Count), true
}

// candidate is a hit of the hybrid search being re-scored.
type candidate struct {
	hit   retrieval.Hit
	cos   float64 // -1: unknown
	words []string
	stems map[string]int // term frequencies of the stemmed words
	bm25  float64
	rrf   float64
}

// rescore scores the candidates (see the comment above) and returns the
// k best, diversified.
func rescore(cands []*candidate, words []string, total int, df map[string]int, k int) []retrieval.Hit {
	// Query terms and their weights.
	qts := make([]score.Term, 0, len(words))
	for _, w := range words {
		st := terms.Stem(w)
		qt := score.Term{Word: w, Stem: st}
		d, known := df[st]
		if !known {
			// Not counted yet: estimated from the candidates below.
			held := 0
			for _, cd := range cands {
				if cd.stems[st] > 0 {
					held++
				}
			}
			d = max(held, 1)
			if held > 0 {
				d = maxTermDocs + 1
			}
		}
		if d == 0 && isASCII(w) {
			if alts, adf := corrections(cands, w); len(alts) > 0 {
				qt.Alts, d = alts, adf
			} else if p := score.PrefixFallback(w); p != "" {
				n := 0
				for _, cd := range cands {
					if slices.ContainsFunc(cd.words, func(x string) bool { return strings.HasPrefix(x, p) }) {
						n++
					}
				}
				if n > 0 {
					qt.Prefix, d = p, n
				}
			}
		}
		if d > maxTermDocs && len(cands) > 0 {
			// Counted up to the cap: a common word. The candidates
			// over-represent the query's words, which errs on the side of
			// a common word weighing little.
			held := 0
			for _, cd := range cands {
				if cd.stems[st] > 0 {
					held++
				}
			}
			d = max(d, int(math.Round(float64(held)/float64(len(cands))*float64(total))))
		}
		qt.Weight = score.IDF(total, min(d, total))
		if score.Filler(w) {
			qt.Weight *= score.FillerWeight
		}
		qts = append(qts, qt)
	}
	// BM25 of each candidate over its stemmed words (Weaviate does not
	// return its own part of the fused score), lengths relative to the
	// candidates' average.
	var avg float64
	for _, cd := range cands {
		n := 0
		for _, c := range cd.stems {
			n += c
		}
		avg += float64(n)
	}
	avg = max(avg/float64(max(len(cands), 1)), 1)
	var maxBM25 float64
	for _, cd := range cands {
		n := 0
		for _, c := range cd.stems {
			n += c
		}
		norm := bm25K1 * (1 - bm25B + bm25B*float64(n)/avg)
		for _, qt := range qts {
			if tf := cd.stems[qt.Stem]; tf > 0 {
				cd.bm25 += qt.Weight * float64(tf) * (bm25K1 + 1) / (float64(tf) + norm)
			}
		}
		maxBM25 = max(maxBM25, cd.bm25)
	}
	// Reciprocal rank fusion of the candidates' two rankings.
	order := make([]*candidate, len(cands))
	copy(order, cands)
	rank := func(key func(*candidate) float64) {
		sort.SliceStable(order, func(i, j int) bool { return key(order[i]) > key(order[j]) })
		for i, cd := range order {
			if key(cd) > 0 {
				cd.rrf += 1.0 / float64(rrfK+i+1)
			}
		}
	}
	rank(func(cd *candidate) float64 { return cd.bm25 })
	rank(func(cd *candidate) float64 { return cd.cos + 1 })
	for _, cd := range cands {
		m := score.Coverage(qts, cd.hit.Title, cd.hit.Heading, cd.hit.Text)
		cd.hit.Score = score.Combine(score.Signals{Cos: cd.cos, BM25: cd.bm25, MaxBM25: maxBM25,
			Fused: cd.rrf * float64(rrfK+1) / 2}, m)
	}
	hits := make([]retrieval.Hit, len(cands))
	for i, cd := range cands {
		hits[i] = cd.hit
	}
	return retrieval.Diversify(hits, k)
}

// corrections returns the candidates' words closest to w within
// score.MaxEdits(w), sharing its first letter, the commonest first, and
// how many candidates hold one.
func corrections(cands []*candidate, w string) ([]string, int) {
	maxd := score.MaxEdits(w)
	if maxd == 0 {
		return nil, 0
	}
	bare := score.Bare(w)
	type cand struct {
		word string
		d    int
		docs int
	}
	byWord := map[string]*cand{}
	best := maxd
	for _, cd := range cands {
		for _, t := range cd.words {
			if len(t) < 4 || t[0] != w[0] {
				continue
			}
			if x, ok := byWord[t]; ok {
				if x != nil {
					x.docs++
				}
				continue
			}
			d := min(score.Distance(w, t, best), score.Distance(bare, t, best))
			if d > best {
				byWord[t] = nil
				continue
			}
			best = d
			byWord[t] = &cand{t, d, 1}
		}
	}
	var cs []*cand
	for _, x := range byWord {
		if x != nil && x.d <= best {
			cs = append(cs, x)
		}
	}
	slices.SortFunc(cs, func(a, b *cand) int {
		if a.docs != b.docs {
			return b.docs - a.docs
		}
		return strings.Compare(a.word, b.word)
	})
	cs = cs[:min(len(cs), maxCorrections)]
	var alts []string
	docs := 0
	for _, x := range cs {
		alts = append(alts, terms.Stem(x.word))
		docs += x.docs
	}
	return alts, docs
}

// cosine of a (normalised) and b.
func cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return -1
	}
	var dot, nb float64
	for i, x := range b {
		dot += float64(a[i]) * float64(x)
		nb += float64(x) * float64(x)
	}
	if nb == 0 {
		return -1
	}
	return dot / math.Sqrt(nb)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// graphQL posts a GraphQL query and decodes its data into out (typed, so
// that the candidates' vectors are decoded once, straight into floats).
func (s *Store) graphQL(ctx context.Context, query string, out any) error {
	body, _ := json.Marshal(map[string]string{"query": query})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+"/v1/graphql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		err := fmt.Errorf("graphql: HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
		switch resp.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return &fault.WeaviateClientError{IsUnexpectedStatusCode: true, StatusCode: resp.StatusCode, Msg: err.Error()}
		}
		return err
	}
	var ans struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return fmt.Errorf("graphql: %w", err)
	}
	if len(ans.Errors) > 0 {
		msgs := make([]string, len(ans.Errors))
		for i, e := range ans.Errors {
			msgs[i] = e.Message
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	if len(ans.Data) == 0 || string(ans.Data) == "null" {
		return errors.New("graphql: no data in the answer")
	}
	return json.Unmarshal(ans.Data, out)
}

// Settle waits until the background counting started so far has finished.
// The quality check calls it between a warm-up pass and the measured one,
// so that its figures do not depend on how fast counts come back.
func (s *Store) Settle() { s.bgWG.Wait() }
