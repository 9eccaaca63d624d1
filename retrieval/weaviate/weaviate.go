// Package weaviate is the production retrieval.Store: one Weaviate
// collection with native multi-tenancy, one tenant per company, vectors
// supplied by us (vectorizer none) and hybrid search (BM25 + vector).
//
// # Layout
//
// Passages live in Config.Class (default "ConciergePassage"). Weaviate's BM25
// does no stemming, so each passage also carries textStem and titleStem: the
// text (with its section heading) and the title run through the same light
// stemmer (concierge/terms) that is applied to the query; BM25
// searches those. The company's index records live in Class+"Index", a
// vector-less collection with the same tenants: one "info" object (embedder,
// dimension) and one "resource" object per resource naming its current
// generation.
//
// # Atomic replace
//
// ReplaceResource writes the new passages under a fresh generation id, which
// no search can see yet (a search only matches generations named by the
// resource objects). It then overwrites the resource object with the new
// generation — a single-object write, the commit point — and only after a
// grace period (longer than any search may take) deletes the previous
// generation, so a search that read the old pointer just before the switch
// still finds its passages. A search therefore sees exactly one generation
// per resource, and once ReplaceResource returns, only the new one.
// Generations left behind by a crash are invisible and are removed by the
// next DeleteResource or DeleteCompany.
//
// # Tenants
//
// A company's tenant is "c" + the 32 hex digits of its UUID: within
// Weaviate's [A-Za-z0-9_-]{1,64}, and distinct companies never share one.
package weaviate

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-openapi/strfmt"
	"github.com/google/uuid"
	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/filters"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/grpc"
	"github.com/weaviate/weaviate/entities/models"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	grpcgo "google.golang.org/grpc"

	"concierge/retrieval"
	"concierge/terms"
)

// Fusion algorithms of the hybrid search.
const (
	FusionRelative = "relative"
	FusionRanked   = "ranked"
)

// Config configures a Store. Only URL is required.
type Config struct {
	// URL of Weaviate's HTTP API, e.g. http://127.0.0.1:18079.
	URL string
	// GRPC is Weaviate's gRPC address (host:port). When set, batch
	// imports go over gRPC; otherwise everything uses HTTP.
	GRPC string
	// Class is the passages collection (default "ConciergePassage"); the
	// index records live in Class+"Index".
	Class string
	// Alpha weighs vector against keyword search: 0 is pure BM25, 1 pure
	// vector (default 0.5). Negative means 0.
	Alpha float32
	// Fusion is "relative" (relativeScoreFusion, default) or "ranked".
	Fusion string
	// SearchTimeout bounds one Search (default 5s).
	SearchTimeout time.Duration
	// WriteTimeout bounds each write request (default 60s).
	WriteTimeout time.Duration
	// DialTimeout bounds connecting to Weaviate (default 2s), so a store
	// that is down fails fast.
	DialTimeout time.Duration
	// BatchSize is how many passages go in one batch request (default 200).
	BatchSize int
	// DeleteGrace is how long a replaced generation stays before it is
	// deleted (default SearchTimeout+1s); see the package comment.
	DeleteGrace time.Duration
}

// Store is a retrieval.Store on Weaviate.
type Store struct {
	cfg       Config
	client    *wv.Client
	http      *http.Client
	base      string // scheme://host
	class     string
	infoClass string
	fusion    graphql.FusionType

	schemaMu sync.Mutex
	schemaOK bool

	tenants sync.Map // tenant name -> struct{}: known to exist

	dfs sync.Map // tenant name -> *dfCache (see rescore.go)

	recs      sync.Map     // tenant name -> *recordsEntry (see searchRecords)
	recsEpoch atomic.Int64 // bumped around every write of this Store
	recsCount atomic.Int64
	secure    bool // https: gRPC over TLS

	grpcOnce   sync.Once
	grpcConn   *grpcgo.ClientConn
	grpcSearch pb.WeaviateClient
	dfCount    atomic.Int64
	dfSem      chan struct{}      // bounds background counting requests
	bgCtx      context.Context    // cancelled by Close
	bgCancel   context.CancelFunc // stops background counting
	bgWG       sync.WaitGroup

	locksMu sync.Mutex
	locks   map[uuid.UUID]*companyLock

	pendingMu sync.Mutex
	pending   map[*pendingDelete]struct{}
	closed    bool
	wg        sync.WaitGroup
}

type companyLock struct {
	mu   sync.Mutex
	refs int
}

type pendingDelete struct {
	timer *time.Timer
	run   func()
}

var _ retrieval.Store = (*Store)(nil)

// New returns a Store for the Weaviate at cfg.URL and makes sure its
// collections exist. If Weaviate cannot be reached, New returns a usable
// Store together with an error wrapping retrieval.ErrUnavailable (a server
// may start before Weaviate and report it on /readyz through Ping); the
// collections are then created on first use. Other errors return a nil
// Store.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.URL == "" {
		return nil, errors.New("weaviate: no URL")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("weaviate: bad URL %q: want http(s)://host:port", cfg.URL)
	}
	if cfg.Class == "" {
		cfg.Class = "ConciergePassage"
	}
	if !validClass(cfg.Class) {
		return nil, fmt.Errorf("weaviate: bad class name %q", cfg.Class)
	}
	if cfg.Alpha == 0 {
		cfg.Alpha = 0.5
	}
	cfg.Alpha = min(max(cfg.Alpha, 0), 1)
	var fusion graphql.FusionType
	switch cfg.Fusion {
	case "", FusionRelative:
		cfg.Fusion, fusion = FusionRelative, graphql.RelativeScore
	case FusionRanked:
		fusion = graphql.Ranked
	default:
		return nil, fmt.Errorf("weaviate: unknown fusion %q (relative or ranked)", cfg.Fusion)
	}
	if cfg.SearchTimeout <= 0 {
		cfg.SearchTimeout = 5 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 60 * time.Second
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 2 * time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 200
	}
	if cfg.DeleteGrace <= 0 {
		cfg.DeleteGrace = cfg.SearchTimeout + time.Second
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.DialTimeout,
		ResponseHeaderTimeout: cfg.WriteTimeout,
	}
	hc := &http.Client{Transport: transport, Timeout: cfg.WriteTimeout}
	wcfg := wv.Config{Host: u.Host, Scheme: u.Scheme, ConnectionClient: hc, Timeout: cfg.WriteTimeout}
	if cfg.GRPC != "" {
		wcfg.GrpcConfig = &grpc.Config{Host: cfg.GRPC, Secured: u.Scheme == "https"}
	}
	client, err := wv.NewClient(wcfg)
	if err != nil {
		return nil, fmt.Errorf("weaviate: client: %w", err)
	}
	s := &Store{
		cfg:       cfg,
		client:    client,
		http:      hc,
		base:      u.Scheme + "://" + u.Host,
		class:     cfg.Class,
		infoClass: cfg.Class + "Index",
		fusion:    fusion,
		secure:    u.Scheme == "https",
		locks:     map[uuid.UUID]*companyLock{},
		pending:   map[*pendingDelete]struct{}{},
		dfSem:     make(chan struct{}, dfParallel),
	}
	s.bgCtx, s.bgCancel = context.WithCancel(context.Background())
	if err := s.ensureSchema(ctx); err != nil {
		if errors.Is(err, retrieval.ErrUnavailable) {
			return s, err
		}
		return nil, err
	}
	return s, nil
}

func validClass(c string) bool {
	if c == "" || len(c) > 200 || c[0] < 'A' || c[0] > 'Z' {
		return false
	}
	for _, r := range c {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// TenantName is the Weaviate tenant of a company: "c" and the UUID's 32 hex
// digits. It is injective, so two companies never share a tenant.
func TenantName(companyID uuid.UUID) string {
	var b [33]byte
	b[0] = 'c'
	hex.Encode(b[1:], companyID[:])
	return string(b[:])
}

// hnswEF is the HNSW search list size: Weaviate's default (-1) makes it
// 8 times the limit, at least 100, for the vector half of every hybrid
// query; a fixed, smaller list costs much less with little loss of recall
// for the few dozen candidates we take (it is raised to the limit anyway).
const hnswEF = 64

// Property names.
const (
	pText       = "text"
	pTitle      = "title"
	pHeading    = "heading"
	pURL        = "url"
	pPage       = "page"
	pResourceID = "resourceId"
	pChunkID    = "chunkId"
	pOrdinal    = "ordinal"
	pGeneration = "generation"
	pTextStem   = "textStem"
	pTitleStem  = "titleStem"

	pKind      = "kind"
	pEmbedder  = "embedder"
	pDimension = "dimension"

	kindInfo     = "info"
	kindResource = "resource"
)

func prop(name, dataType, tokenization string, filterable, searchable bool) *models.Property {
	return &models.Property{
		Name: name, DataType: []string{dataType}, Tokenization: tokenization,
		IndexFilterable: &filterable, IndexSearchable: &searchable,
	}
}

func (s *Store) passageClass() *models.Class {
	no := false
	return &models.Class{
		Class:              s.class,
		Description:        "Concierge passages: one tenant per company (see concierge/retrieval/weaviate)",
		Vectorizer:         "none",
		VectorIndexType:    "hnsw",
		VectorIndexConfig:  map[string]any{"distance": "cosine", "ef": hnswEF},
		MultiTenancyConfig: &models.MultiTenancyConfig{Enabled: true, AutoTenantCreation: false, AutoTenantActivation: true},
		InvertedIndexConfig: &models.InvertedIndexConfig{
			Bm25:      &models.BM25Config{B: 0.75, K1: 1.2},
			Stopwords: &models.StopwordConfig{Preset: "en"},
		},
		Properties: []*models.Property{
			prop(pText, "text", "", false, false),
			prop(pTitle, "text", "", false, false),
			prop(pHeading, "text", "", false, false),
			prop(pURL, "text", "", false, false),
			{Name: pPage, DataType: []string{"int"}, IndexFilterable: &no, IndexRangeFilters: &no},
			{Name: pOrdinal, DataType: []string{"int"}, IndexFilterable: &no, IndexRangeFilters: &no},
			prop(pChunkID, "text", "field", false, false),
			prop(pResourceID, "text", "field", true, false),
			prop(pGeneration, "text", "field", true, false),
			prop(pTextStem, "text", "whitespace", false, true),
			prop(pTitleStem, "text", "whitespace", false, true),
		},
	}
}

func (s *Store) indexClass() *models.Class {
	no := false
	return &models.Class{
		Class:              s.infoClass,
		Description:        "Concierge index records (embedder, current generation per resource), same tenants as " + s.class,
		Vectorizer:         "none",
		VectorIndexConfig:  map[string]any{"skip": true},
		MultiTenancyConfig: &models.MultiTenancyConfig{Enabled: true, AutoTenantCreation: false, AutoTenantActivation: true},
		Properties: []*models.Property{
			prop(pKind, "text", "field", true, false),
			prop(pResourceID, "text", "field", true, false),
			prop(pGeneration, "text", "field", false, false),
			prop(pEmbedder, "text", "field", false, false),
			{Name: pDimension, DataType: []string{"int"}, IndexFilterable: &no, IndexRangeFilters: &no},
		},
	}
}

// ensureSchema creates both collections if they do not exist yet.
func (s *Store) ensureSchema(ctx context.Context) error {
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	if s.schemaOK {
		return nil
	}
	for _, c := range []*models.Class{s.passageClass(), s.indexClass()} {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
		err := s.ensureClass(cctx, c)
		cancel()
		if err != nil {
			return s.wrap(ctx, "create collection "+c.Class, err)
		}
	}
	s.schemaOK = true
	return nil
}

func (s *Store) ensureClass(ctx context.Context, c *models.Class) error {
	exists, err := s.client.Schema().ClassExistenceChecker().WithClassName(c.Class).Do(ctx)
	if err != nil {
		return err
	}
	if !exists {
		err = s.client.Schema().ClassCreator().WithClass(c).Do(ctx)
		if err == nil {
			return nil
		}
		// Another replica may have created it meanwhile.
		if exists, err2 := s.client.Schema().ClassExistenceChecker().WithClassName(c.Class).Do(ctx); err2 != nil || !exists {
			return err
		}
	}
	got, err := s.client.Schema().ClassGetter().WithClassName(c.Class).Do(ctx)
	if err != nil {
		return err
	}
	if got.MultiTenancyConfig == nil || !got.MultiTenancyConfig.Enabled {
		return fmt.Errorf("collection %s exists without multi-tenancy; drop it or choose another class", c.Class)
	}
	// The search-time ef is mutable: bring a collection created before it
	// was set up to date.
	want, _ := c.VectorIndexConfig.(map[string]any)["ef"]
	if vc, ok := got.VectorIndexConfig.(map[string]any); ok && want != nil {
		if ef, _ := vc["ef"].(float64); int(ef) != want.(int) {
			vc["ef"] = want
			if err := s.client.Schema().ClassUpdater().WithClass(got).Do(ctx); err != nil {
				return fmt.Errorf("set ef of %s: %w", c.Class, err)
			}
		}
	}
	return nil
}

// ensureTenant creates the company's tenant if needed.
func (s *Store) ensureTenant(ctx context.Context, tenant string) error {
	if _, ok := s.tenants.Load(tenant); ok {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	for _, class := range []string{s.class, s.infoClass} {
		exists, err := s.client.Schema().TenantsExists().WithClassName(class).WithTenant(tenant).Do(cctx)
		if err != nil {
			return s.wrap(ctx, "check tenant", err)
		}
		if exists {
			continue
		}
		err = s.client.Schema().TenantsCreator().WithClassName(class).
			WithTenants(models.Tenant{Name: tenant, ActivityStatus: models.TenantActivityStatusACTIVE}).Do(cctx)
		if err != nil && !strings.Contains(strings.ToLower(err.Error()), "already exist") {
			return s.wrap(ctx, "create tenant", err)
		}
	}
	s.tenants.Store(tenant, struct{}{})
	return nil
}

func (s *Store) lock(company uuid.UUID) func() {
	s.locksMu.Lock()
	l := s.locks[company]
	if l == nil {
		l = &companyLock{}
		s.locks[company] = l
	}
	l.refs++
	s.locksMu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		s.locksMu.Lock()
		if l.refs--; l.refs == 0 {
			delete(s.locks, company)
		}
		s.locksMu.Unlock()
	}
}

// wrap turns a client error into ours: the caller's context error when it
// was cancelled, ErrUnavailable when Weaviate could not be reached.
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("weaviate: %s: %w", op, cerr)
	}
	if unavailable(err) {
		return fmt.Errorf("%w: weaviate at %s: %s: %v", retrieval.ErrUnavailable, s.base, op, err)
	}
	return fmt.Errorf("weaviate: %s: %w", op, err)
}

// unavailable reports whether err means Weaviate could not serve at all.
func unavailable(err error) bool {
	for e := err; e != nil; {
		var wce *fault.WeaviateClientError
		if errors.As(e, &wce) {
			switch wce.StatusCode {
			case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
				return true
			}
			e = wce.DerivedFromError
			continue
		}
		var ne net.Error
		var oe *net.OpError
		var ue *url.Error
		switch {
		case errors.Is(e, context.DeadlineExceeded), errors.Is(e, syscall.ECONNREFUSED),
			errors.Is(e, syscall.ECONNRESET), errors.Is(e, syscall.EHOSTUNREACH), errors.Is(e, syscall.ENETUNREACH):
			return true
		case errors.As(e, &oe), errors.As(e, &ne) && ne.Timeout():
			return true
		case errors.As(e, &ue):
			return true
		}
		if s := e.Error(); strings.Contains(s, "connection refused") || strings.Contains(s, "Unavailable") ||
			strings.Contains(s, "EOF") {
			return true
		}
		return false
	}
	return false
}

func isTenantMissing(err error) bool {
	if err == nil {
		return false
	}
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "tenant not found") || strings.Contains(m, "tenant") && strings.Contains(m, "not found") ||
		strings.Contains(m, "tenant") && strings.Contains(m, "does not exist")
}

// Ping reports whether Weaviate is ready.
func (s *Store) Ping(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, min(s.cfg.SearchTimeout, 3*time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, s.base+"/v1/.well-known/ready", nil)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return s.wrap(ctx, "ping", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: weaviate at %s: not ready (HTTP %d)", retrieval.ErrUnavailable, s.base, resp.StatusCode)
	}
	return s.ensureSchema(ctx)
}

// Close runs the pending deletions of replaced generations now.
func (s *Store) Close() error {
	s.pendingMu.Lock()
	s.closed = true
	ps := make([]*pendingDelete, 0, len(s.pending))
	for p := range s.pending {
		ps = append(ps, p)
	}
	clear(s.pending)
	s.pendingMu.Unlock()
	for _, p := range ps {
		stopped := p.timer.Stop()
		p.run()
		if stopped { // the timer's func, which calls Done, will not run
			s.wg.Done()
		}
	}
	s.wg.Wait()
	s.bgCancel()
	s.bgWG.Wait()
	if s.grpcConn != nil {
		s.grpcConn.Close()
	}
	return nil
}

// record is an object of the index collection.
type record struct {
	Kind       string  `json:"kind"`
	ResourceID string  `json:"resourceId"`
	Generation string  `json:"generation"`
	Embedder   string  `json:"embedder"`
	Dimension  float64 `json:"dimension"`
	Additional struct {
		ID string `json:"id"`
	} `json:"_additional"`
}

// records reads a company's index records: the info (nil if none) and the
// current generation of each resource. ok is false without a tenant.
func (s *Store) records(ctx context.Context, tenant string) (info *retrieval.IndexInfo, gens map[uuid.UUID]string, ok bool, err error) {
	const page = 10000
	gens = map[uuid.UUID]string{}
	after := ""
	for {
		q := s.client.GraphQL().Get().WithClassName(s.infoClass).WithTenant(tenant).WithLimit(page).
			WithFields(graphql.Field{Name: pKind}, graphql.Field{Name: pResourceID}, graphql.Field{Name: pGeneration},
				graphql.Field{Name: pEmbedder}, graphql.Field{Name: pDimension},
				graphql.Field{Name: "_additional", Fields: []graphql.Field{{Name: "id"}}})
		if after != "" {
			q = q.WithAfter(after)
		}
		var recs []record
		var err error
		if c := s.searchClient(); c != nil {
			recs, err = s.recordsGRPC(ctx, c, tenant, after, page)
		} else {
			err = s.get(ctx, q, s.infoClass, &recs)
		}
		if err != nil {
			if isTenantMissing(err) {
				return nil, nil, false, nil
			}
			return nil, nil, false, err
		}
		for _, r := range recs {
			switch r.Kind {
			case kindInfo:
				info = &retrieval.IndexInfo{Embedder: r.Embedder, Dimension: int(r.Dimension)}
			case kindResource:
				if id, err := uuid.Parse(r.ResourceID); err == nil && r.Generation != "" {
					gens[id] = r.Generation
				}
			}
		}
		if len(recs) < page {
			return info, gens, true, nil
		}
		after = recs[len(recs)-1].Additional.ID
	}
}

// get runs a GraphQL Get and decodes the class's objects into out.
// recordsTTL bounds how long a search trusts records read by an earlier
// search. Writes of this Store invalidate them at once; another replica's
// writes are seen within recordsTTL. That keeps every search consistent:
// a replaced generation is deleted only after DeleteGrace (well over
// recordsTTL), so stale records still name a complete generation, and
// hits of a generation the records do not name make the search run again
// with the records' filter.
const recordsTTL = time.Second

type recordsEntry struct {
	epoch int64
	at    time.Time
	info  *retrieval.IndexInfo
	gens  map[uuid.UUID]string
	ok    bool
}

// searchRecords is records for Search, cached per tenant for recordsTTL
// and until this Store writes. The caller may modify gens.
func (s *Store) searchRecords(ctx context.Context, tenant string) (*retrieval.IndexInfo, map[uuid.UUID]string, bool, error) {
	epoch := s.recsEpoch.Load()
	if v, ok := s.recs.Load(tenant); ok {
		e := v.(*recordsEntry)
		if e.epoch == epoch && epoch%2 == 0 && time.Since(e.at) < recordsTTL {
			return e.info, maps.Clone(e.gens), e.ok, nil
		}
	}
	at := time.Now()
	info, gens, ok, err := s.records(ctx, tenant)
	if err != nil {
		return nil, nil, false, err
	}
	if epoch%2 == 0 && s.recsEpoch.Load() == epoch { // no write began meanwhile
		if _, loaded := s.recs.Swap(tenant, &recordsEntry{epoch: epoch, at: at, info: info, gens: maps.Clone(gens), ok: ok}); !loaded {
			if s.recsCount.Add(1) > maxCachedTenants { // bounded like the term caches
				s.recs.Clear()
				s.recsCount.Store(0)
			}
		}
	}
	return info, gens, ok, nil
}

func (s *Store) get(ctx context.Context, q *graphql.GetBuilder, class string, out any) error {
	resp, err := q.Do(ctx)
	if err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		msgs := make([]string, len(resp.Errors))
		for i, e := range resp.Errors {
			msgs[i] = e.Message
		}
		return errors.New(strings.Join(msgs, "; "))
	}
	get, ok := resp.Data["Get"]
	if !ok {
		return errors.New("graphql: no Get in the answer")
	}
	raw, err := json.Marshal(get)
	if err != nil {
		return err
	}
	var byClass map[string]json.RawMessage
	if err := json.Unmarshal(raw, &byClass); err != nil {
		return err
	}
	if b, ok := byClass[class]; ok && string(b) != "null" {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Info returns the embedder a company's index was built with.
func (s *Store) Info(ctx context.Context, companyID uuid.UUID) (retrieval.IndexInfo, bool, error) {
	if err := s.ensureSchema(ctx); err != nil {
		return retrieval.IndexInfo{}, false, err
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.SearchTimeout)
	defer cancel()
	info, _, ok, err := s.records(cctx, TenantName(companyID))
	if err != nil {
		return retrieval.IndexInfo{}, false, s.wrap(ctx, "read index info", err)
	}
	if !ok || info == nil {
		return retrieval.IndexInfo{}, false, nil
	}
	return *info, true, nil
}

func recordID(companyID uuid.UUID, key string) string {
	return uuid.NewSHA1(companyID, []byte(key)).String()
}

// ReplaceResource atomically replaces a resource's passages (see the
// package comment).
func (s *Store) ReplaceResource(ctx context.Context, companyID, resourceID uuid.UUID, info retrieval.IndexInfo, passages []retrieval.Passage) error {
	if info.Embedder == "" {
		return errors.New("weaviate: replace resource: no embedder name in the index info")
	}
	for i, p := range passages {
		if len(p.Vector) != info.Dimension || info.Dimension <= 0 {
			return fmt.Errorf("%w: passage %d has %d dimensions, the index info says %d",
				retrieval.ErrDimensionMismatch, i, len(p.Vector), info.Dimension)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("weaviate: replace resource: %w", err)
	}
	if err := s.ensureSchema(ctx); err != nil {
		return err
	}
	unlock := s.lock(companyID)
	defer unlock()
	s.recsEpoch.Add(1)
	defer s.recsEpoch.Add(1)
	tenant := TenantName(companyID)
	err := s.replace(ctx, companyID, resourceID, tenant, info, passages)
	if isTenantMissing(err) { // deleted by another replica since we cached it
		s.tenants.Delete(tenant)
		err = s.replace(ctx, companyID, resourceID, tenant, info, passages)
	}
	return err
}

func (s *Store) replace(ctx context.Context, companyID, resourceID uuid.UUID, tenant string, info retrieval.IndexInfo, passages []retrieval.Passage) error {
	if err := s.ensureTenant(ctx, tenant); err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	cur, gens, _, err := s.records(rctx, tenant)
	cancel()
	if err != nil {
		return s.wrap(ctx, "read index info", err)
	}
	if cur != nil {
		if cur.Embedder != info.Embedder {
			return fmt.Errorf("%w: company index built with %q (dimension %d), passages from %q",
				retrieval.ErrEmbedderChanged, cur.Embedder, cur.Dimension, info.Embedder)
		}
		if cur.Dimension != info.Dimension {
			return fmt.Errorf("%w: company index has dimension %d, passages have %d",
				retrieval.ErrDimensionMismatch, cur.Dimension, info.Dimension)
		}
	}
	old := gens[resourceID]
	gen := uuid.New()

	// 1. The new generation, invisible until the resource record names it.
	objs := make([]*models.Object, 0, min(len(passages), s.cfg.BatchSize))
	flush := func() error {
		if len(objs) == 0 {
			return nil
		}
		err := s.batch(ctx, objs)
		objs = objs[:0]
		return err
	}
	for _, p := range passages {
		objs = append(objs, s.passageObject(tenant, gen, resourceID, p))
		if len(objs) == s.cfg.BatchSize {
			if err := flush(); err != nil {
				s.dropGeneration(tenant, resourceID, gen.String())
				return err
			}
		}
	}
	// 2. The commit point: the resource record (and the info, the first
	// time) in one batch request; a batch of two objects of one shard.
	objs = append(objs, &models.Object{
		Class: s.infoClass, Tenant: tenant, ID: objectID(recordID(companyID, "resource:"+resourceID.String())),
		Properties: map[string]any{pKind: kindResource, pResourceID: resourceID.String(), pGeneration: gen.String()},
	})
	if cur == nil {
		objs = append(objs, &models.Object{
			Class: s.infoClass, Tenant: tenant, ID: objectID(recordID(companyID, kindInfo)),
			Properties: map[string]any{pKind: kindInfo, pEmbedder: info.Embedder, pDimension: info.Dimension},
		})
	}
	// Records after passages: flush them separately so that a failure of
	// the passages never commits.
	recs := objs[len(objs)-(1+boolInt(cur == nil)):]
	objs = objs[:len(objs)-len(recs)]
	if err := flush(); err != nil {
		s.dropGeneration(tenant, resourceID, gen.String())
		return err
	}
	if err := ctx.Err(); err != nil {
		s.dropGeneration(tenant, resourceID, gen.String())
		return fmt.Errorf("weaviate: replace resource: %w", err)
	}
	if err := s.batch(ctx, recs); err != nil {
		s.dropGeneration(tenant, resourceID, gen.String())
		return err
	}
	// 3. The previous generation, once no search can still be reading it.
	if old != "" {
		s.later(func() { s.dropGeneration(tenant, resourceID, old) })
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func objectID(id string) strfmt.UUID { return strfmt.UUID(id) }

func (s *Store) passageObject(tenant string, gen, resourceID uuid.UUID, p retrieval.Passage) *models.Object {
	return &models.Object{
		Class:  s.class,
		Tenant: tenant,
		ID:     objectID(uuid.NewSHA1(gen, p.ChunkID[:]).String()),
		Vector: models.C11yVector(p.Vector),
		Properties: map[string]any{
			pText:       p.Text,
			pTitle:      p.Title,
			pHeading:    p.Heading,
			pURL:        p.URL,
			pPage:       p.Page,
			pOrdinal:    p.Ordinal,
			pChunkID:    p.ChunkID.String(),
			pResourceID: resourceID.String(),
			pGeneration: gen.String(),
			pTextStem:   stemText(p.Heading + "\n" + p.Text),
			pTitleStem:  stemText(p.Title),
		},
	}
}

// batch writes objects and reports the first per-object error.
func (s *Store) batch(ctx context.Context, objs []*models.Object) error {
	cctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	res, err := s.client.Batch().ObjectsBatcher().WithObjects(objs...).Do(cctx)
	if err != nil {
		return s.wrap(ctx, "batch import", err)
	}
	for _, r := range res {
		if r.Result != nil && r.Result.Errors != nil && len(r.Result.Errors.Error) > 0 {
			var msgs []string
			for _, e := range r.Result.Errors.Error {
				msgs = append(msgs, e.Message)
			}
			err := errors.New(strings.Join(msgs, "; "))
			if strings.Contains(strings.ToLower(err.Error()), "vector length") ||
				strings.Contains(strings.ToLower(err.Error()), "dimension") {
				return fmt.Errorf("%w: weaviate: %v", retrieval.ErrDimensionMismatch, err)
			}
			return s.wrap(ctx, "batch import", err)
		}
	}
	return nil
}

// later runs fn after the delete grace period (or at Close).
func (s *Store) later(fn func()) {
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	if s.closed {
		s.wg.Go(fn)
		return
	}
	p := &pendingDelete{run: fn}
	s.wg.Add(1)
	p.timer = time.AfterFunc(s.cfg.DeleteGrace, func() {
		defer s.wg.Done()
		s.pendingMu.Lock()
		_, mine := s.pending[p]
		delete(s.pending, p)
		s.pendingMu.Unlock()
		if mine {
			fn()
		}
	})
	s.pending[p] = struct{}{}
}

// dropGeneration deletes one generation of a resource, best effort: an
// invisible leftover is removed by the next DeleteResource anyway.
func (s *Store) dropGeneration(tenant string, resourceID uuid.UUID, gen string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
	defer cancel()
	_ = s.deleteWhere(ctx, tenant, filters.Where().WithOperator(filters.And).WithOperands([]*filters.WhereBuilder{
		filters.Where().WithPath([]string{pResourceID}).WithOperator(filters.Equal).WithValueText(resourceID.String()),
		filters.Where().WithPath([]string{pGeneration}).WithOperator(filters.Equal).WithValueText(gen),
	}))
}

func (s *Store) deleteWhere(ctx context.Context, tenant string, where *filters.WhereBuilder) error {
	// A batch delete removes at most QUERY_MAXIMUM_RESULTS (10,000 by
	// default) objects: repeat until nothing matched.
	for range 1000 {
		res, err := s.client.Batch().ObjectsBatchDeleter().WithClassName(s.class).WithTenant(tenant).
			WithOutput("minimal").WithWhere(where).Do(ctx)
		if err != nil {
			return err
		}
		if res == nil || res.Results == nil || res.Results.Matches == 0 || res.Results.Matches < res.Results.Limit {
			return nil
		}
	}
	return nil
}

// DeleteResource removes a resource's passages, every generation.
func (s *Store) DeleteResource(ctx context.Context, companyID, resourceID uuid.UUID) error {
	s.recsEpoch.Add(1)
	defer s.recsEpoch.Add(1)
	if err := s.ensureSchema(ctx); err != nil {
		return err
	}
	unlock := s.lock(companyID)
	defer unlock()
	tenant := TenantName(companyID)
	cctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	// The record first: from then on no search sees the resource.
	err := s.client.Data().Deleter().WithClassName(s.infoClass).WithTenant(tenant).
		WithID(recordID(companyID, "resource:"+resourceID.String())).Do(cctx)
	var wce *fault.WeaviateClientError
	switch {
	case err == nil:
	case errors.As(err, &wce) && wce.StatusCode == http.StatusNotFound:
	case isTenantMissing(err):
		return nil // no index at all
	default:
		return s.wrap(ctx, "delete resource record", err)
	}
	err = s.deleteWhere(cctx, tenant,
		filters.Where().WithPath([]string{pResourceID}).WithOperator(filters.Equal).WithValueText(resourceID.String()))
	if err != nil && !isTenantMissing(err) {
		return s.wrap(ctx, "delete resource passages", err)
	}
	return nil
}

// DeleteCompany removes the company's tenant, with all its passages and
// records.
func (s *Store) DeleteCompany(ctx context.Context, companyID uuid.UUID) error {
	s.recsEpoch.Add(1)
	defer s.recsEpoch.Add(1)
	if err := s.ensureSchema(ctx); err != nil {
		return err
	}
	unlock := s.lock(companyID)
	defer unlock()
	tenant := TenantName(companyID)
	cctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
	defer cancel()
	s.tenants.Delete(tenant)
	for _, class := range []string{s.infoClass, s.class} {
		err := s.client.Schema().TenantsDeleter().WithClassName(class).WithTenants(tenant).Do(cctx)
		if err != nil && !isTenantMissing(err) {
			return s.wrap(ctx, "delete tenant", err)
		}
	}
	return nil
}

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

// stemText is the text BM25 indexes: the words of text, stemmed the way
// the query is, separated by spaces.
func stemText(text string) string {
	var b strings.Builder
	terms.Words(text, func(w string) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(terms.Stem(w))
	})
	return b.String()
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
