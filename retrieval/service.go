package retrieval

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"concierge/observe"
	"concierge/viewer"
)

// DefaultThreshold is the score under which a hit is not relevant enough
// to answer from. Calibrated on the embedded store with the local embedder
// (retrieval/embedded TestRelevance): the top hits of questions the
// corpus answers scored 0.64–1.0, those of questions it does not cover
// 0.10–0.17.
// Other store/embedder pairs should calibrate their own (WithThreshold).
const DefaultThreshold = 0.4

// DefaultBatchSize is how many texts are embedded per Embed call.
const DefaultBatchSize = 64

// Service indexes and searches the knowledge of the company of the
// caller's viewer (viewer.FromContext): there is no call without a company.
type Service struct {
	store     Store
	emb       Embedder
	cache     Cache
	batch     int
	threshold float64
	rerank    Reranker
}

// Option configures a Service.
type Option func(*Service)

// WithCache puts cache in front of the embedder (default: an in-memory
// LRU of 10,000 vectors).
func WithCache(c Cache) Option { return func(s *Service) { s.cache = c } }

// WithBatchSize sets how many texts go to the embedder per call.
func WithBatchSize(n int) Option {
	return func(s *Service) {
		if n > 0 {
			s.batch = n
		}
	}
}

// WithThreshold sets the relevance threshold (see DefaultThreshold).
func WithThreshold(t float64) Option { return func(s *Service) { s.threshold = t } }

// NewService returns a Service searching store with vectors from emb.
func NewService(store Store, emb Embedder, opts ...Option) *Service {
	s := &Service{store: store, emb: emb, batch: DefaultBatchSize, threshold: DefaultThreshold}
	if r := NewSemanticReranker(); r != nil {
		s.rerank = r
	}
	for _, o := range opts {
		o(s)
	}
	if s.cache == nil {
		s.cache = NewMemoryCache(10_000)
	}
	return s
}

// Store returns the service's store.
func (s *Service) Store() Store { return s.store }

// Embedder returns the service's embedder.
func (s *Service) Embedder() Embedder { return s.emb }

// Threshold is the score under which hits are not relevant.
func (s *Service) Threshold() float64 { return s.threshold }

// Relevant returns the hits scoring at least the threshold, in order; an
// empty result means the knowledge has no answer.
func (s *Service) Relevant(hits []Hit) []Hit {
	var out []Hit
	for _, h := range hits {
		if h.Score >= s.threshold {
			out = append(out, h)
		}
	}
	return out
}

func tenant(ctx context.Context) (uuid.UUID, error) {
	id, ok := viewer.FromContext(ctx).Tenant()
	if !ok {
		return uuid.Nil, ErrNoCompany
	}
	return id, nil
}

// info returns the company's index info, or ErrEmbedderChanged when it was
// built with another embedder than the service's.
func (s *Service) info(ctx context.Context, company uuid.UUID) (IndexInfo, bool, error) {
	info, ok, err := s.store.Info(ctx, company)
	if err != nil {
		return info, false, err
	}
	if ok && (info.Embedder != s.emb.Name() || info.Dimension != s.emb.Dimension()) {
		return info, true, fmt.Errorf("retrieval: index built with %s (%d), service uses %s (%d): %w",
			info.Embedder, info.Dimension, s.emb.Name(), s.emb.Dimension(), ErrEmbedderChanged)
	}
	return info, ok, nil
}

// IndexResource embeds passages (title, heading and text together) and
// replaces the resource's passages with them. Unchanged text is not
// embedded again (the cache). Passages get resourceID, and a new ChunkID
// when they have none. ErrEmbedderChanged means the company's index was
// built by another embedder: call ResetCompany and re-index every resource.
func (s *Service) IndexResource(ctx context.Context, resourceID uuid.UUID, passages []Passage) error {
	company, err := tenant(ctx)
	if err != nil {
		return err
	}
	if _, _, err := s.info(ctx, company); err != nil {
		return err
	}
	ps := make([]Passage, len(passages))
	texts := make([]string, len(passages))
	for i, p := range passages {
		p.ResourceID = resourceID
		if p.ChunkID == uuid.Nil {
			p.ChunkID = uuid.New()
		}
		ps[i] = p
		texts[i] = DocumentText(p)
	}
	vecs, err := s.embed(ctx, company, texts, KindDocument)
	if err != nil {
		return err
	}
	for i := range ps {
		ps[i].Vector = vecs[i]
	}
	info := IndexInfo{Embedder: s.emb.Name(), Dimension: s.emb.Dimension()}
	return s.store.ReplaceResource(ctx, company, resourceID, info, ps)
}

// DocumentText is the text a passage is embedded as: its title and
// heading carry meaning too.
func DocumentText(p Passage) string {
	var b strings.Builder
	for _, s := range []string{p.Title, p.Heading, p.Text} {
		if s = strings.TrimSpace(s); s != "" {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// embed returns the vectors of texts, from the cache or the embedder in
// batches.
func (s *Service) embed(ctx context.Context, company uuid.UUID, texts []string, kind Kind) ([][]float32, error) {
	name, dim := s.emb.Name(), s.emb.Dimension()
	keys := make([]CacheKey, len(texts))
	for i, t := range texts {
		keys[i] = NewCacheKey(name, company, kind, t)
	}
	vecs, err := s.cache.Get(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("retrieval: embedding cache: %w", err)
	}
	var miss []int
	for i, v := range vecs {
		if len(v) != dim {
			miss = append(miss, i)
		}
	}
	for start := 0; start < len(miss); start += s.batch {
		idx := miss[start:min(start+s.batch, len(miss))]
		batch := make([]string, len(idx))
		bkeys := make([]CacheKey, len(idx))
		for j, i := range idx {
			batch[j], bkeys[j] = texts[i], keys[i]
		}
		got, err := s.emb.Embed(ctx, batch, kind)
		if err != nil {
			return nil, fmt.Errorf("retrieval: embed with %s: %w", name, err)
		}
		if len(got) != len(batch) {
			return nil, fmt.Errorf("retrieval: %s returned %d vectors for %d texts", name, len(got), len(batch))
		}
		for j, v := range got {
			if len(v) != dim {
				return nil, fmt.Errorf("retrieval: %s returned %d dimensions, want %d: %w", name, len(v), dim, ErrDimensionMismatch)
			}
			vecs[idx[j]] = v
		}
		if err := s.cache.Put(ctx, bkeys, got); err != nil {
			return nil, fmt.Errorf("retrieval: embedding cache: %w", err)
		}
	}
	return vecs, nil
}

// DeleteResource removes a resource's passages from the viewer's company.
func (s *Service) DeleteResource(ctx context.Context, resourceID uuid.UUID) error {
	company, err := tenant(ctx)
	if err != nil {
		return err
	}
	return s.store.DeleteResource(ctx, company, resourceID)
}

// DeleteCompany removes a company's index and cached embeddings. The
// viewer is a super admin, or acts for that company (a worker).
func (s *Service) DeleteCompany(ctx context.Context, companyID uuid.UUID) error {
	v := viewer.FromContext(ctx)
	if id, ok := v.Tenant(); !v.SuperAdmin() && (!ok || id != companyID) {
		return ErrForbidden
	}
	return s.deleteCompany(ctx, companyID)
}

func (s *Service) deleteCompany(ctx context.Context, companyID uuid.UUID) error {
	if err := s.store.DeleteCompany(ctx, companyID); err != nil {
		return err
	}
	if err := s.cache.DeleteCompany(ctx, companyID); err != nil {
		return fmt.Errorf("retrieval: embedding cache: %w", err)
	}
	return nil
}

// ResetCompany deletes the viewer's company's index, so that a re-index
// after ErrEmbedderChanged starts clean.
func (s *Service) ResetCompany(ctx context.Context) error {
	company, err := tenant(ctx)
	if err != nil {
		return err
	}
	return s.deleteCompany(ctx, company)
}

// Search returns up to k (default DefaultK, at most MaxK) passages of the
// viewer's company for text, best first, never from excluded resources.
// A company without an index has no hits. Use Relevant to keep the hits
// good enough to answer from.
func (s *Service) Search(ctx context.Context, text string, k int, exclude []uuid.UUID) (_ []Hit, err error) {
	company, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	if len(text) > MaxQueryBytes {
		return nil, fmt.Errorf("%w (%d bytes, at most %d)", ErrQueryTooLong, len(text), MaxQueryBytes)
	}
	if strings.IndexFunc(text, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
		return nil, ErrEmptyQuery
	}
	defer func(start time.Time) { observe.RetrievalSearch(start, err) }(time.Now())
	_, ok, err := s.info(ctx, company)
	if err != nil || !ok {
		return nil, err
	}
	vecs, err := s.embed(ctx, company, []string{text}, KindQuery)
	if err != nil {
		return nil, err
	}
	if k <= 0 {
		k = DefaultK
	}
	k = min(k, MaxK)
	if s.rerank == nil {
		return s.store.Search(ctx, company, Query{Text: text, Vector: vecs[0], K: k, ExcludeResources: exclude})
	}
	hits, err := s.store.Search(ctx, company, Query{Text: text, Vector: vecs[0], K: max(k, rerankCandidates), ExcludeResources: exclude})
	if err != nil {
		return nil, err
	}
	s.rerank.Rerank(text, hits)
	return Diversify(hits, k), nil
}

// Ping reports whether the store can serve.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// Close closes the store.
func (s *Service) Close() error { return s.store.Close() }
