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
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/uuid"
	wv "github.com/weaviate/weaviate-go-client/v5/weaviate"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/fault"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/graphql"
	"github.com/weaviate/weaviate-go-client/v5/weaviate/grpc"
	pb "github.com/weaviate/weaviate/grpc/generated/protocol/v1"
	grpcgo "google.golang.org/grpc"

	"concierge/retrieval"
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
