package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"concierge/fault"
	"concierge/graph"
	"concierge/viewer"
)

// Default limits; every one can be changed in Config.
const (
	DefaultMaxDepth            = 12
	DefaultMaxAliases          = 30
	DefaultMaxDirectives       = 50
	DefaultMaxSelections       = 2000
	DefaultMaxTokens           = 15000
	DefaultComplexityLimit     = 50000
	DefaultWSReadLimit         = 64 << 10
	DefaultWSMaxConnsPerIP     = 200
	DefaultWSMaxSubsPerConn    = 50
	DefaultWSMaxSubsPerCompany = 20000
	DefaultWSPingInterval      = 20 * time.Second
	DefaultWSInitTimeout       = 10 * time.Second
	// unpricedPage is what a connection queried without first/last is
	// priced at (entgql then returns every row; most lists are short).
	unpricedPage = 20
)

func init() {
	// Operations refused before execution (by the limits below) are
	// request errors like gqlgen's own validation failures: an error
	// message, not data, over WebSocket (gqlws.go). Over HTTP every
	// request error is answered alike (graphqlhttp.go). Resolver errors
	// with the same code are unaffected (they never go through this table).
	errcode.RegisterErrorType(fault.CodeBadUserInput, errcode.KindProtocol)
}

// applyLimitDefaults fills in the limits left at zero. Negative values
// turn a limit off (MaxTokens, WSReadLimit, the WebSocket caps).
func applyLimitDefaults(cfg *Config) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.MaxDepth, DefaultMaxDepth)
	def(&cfg.MaxAliases, DefaultMaxAliases)
	def(&cfg.MaxDirectives, DefaultMaxDirectives)
	def(&cfg.MaxSelections, DefaultMaxSelections)
	def(&cfg.MaxTokens, DefaultMaxTokens)
	def(&cfg.WSMaxConnsPerIP, DefaultWSMaxConnsPerIP)
	def(&cfg.WSMaxSubsPerConn, DefaultWSMaxSubsPerConn)
	def(&cfg.WSMaxSubsPerCompany, DefaultWSMaxSubsPerCompany)
	if cfg.WSInitTimeout <= 0 {
		cfg.WSInitTimeout = DefaultWSInitTimeout
	}
	if cfg.WSPingInterval == 0 {
		cfg.WSPingInterval = DefaultWSPingInterval
	}
	if cfg.WSReadLimit == 0 {
		cfg.WSReadLimit = DefaultWSReadLimit
	}
}

func limitError(limit string, max int, format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": fault.CodeBadUserInput, "limit": limit, "max": max},
	}
}

// queryLimits refuses operations that are too deep, carry too many aliases
// or directives, or expand to too many selections. It runs on the raw query
// before gqlgen parses and validates it (validation of a hostile document
// is itself costly: overlapping-fields checks are quadratic), parsing it
// under the same token limit; documents that passed are remembered so a
// repeated query is not parsed twice.
type queryLimits struct {
	maxDepth, maxAliases, maxDirectives, maxSelections, maxTokens int

	passed *lru.LRU[bool]
}

var (
	_ graphql.HandlerExtension          = (*queryLimits)(nil)
	_ graphql.OperationParameterMutator = (*queryLimits)(nil)
)

func newQueryLimits(cfg Config) *queryLimits {
	tokens := cfg.MaxTokens
	if tokens < 0 {
		tokens = 0
	}
	return &queryLimits{maxDepth: cfg.MaxDepth, maxAliases: cfg.MaxAliases, maxDirectives: cfg.MaxDirectives,
		maxSelections: cfg.MaxSelections, maxTokens: tokens, passed: lru.New[bool](1000)}
}

func (q *queryLimits) ExtensionName() string                   { return "QueryLimits" }
func (q *queryLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (q *queryLimits) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	if p.Query == "" {
		return nil
	}
	sum := sha256.Sum256([]byte(p.Query))
	key := string(sum[:]) // not the query: passed ones may be megabytes long
	if _, ok := q.passed.Get(ctx, key); ok {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, q.maxTokens)
	if err != nil {
		// The executor parses again and reports the error (the token
		// limit included) with its own code.
		return nil //nolint:nilerr
	}
	if gerr := q.check(doc); gerr != nil {
		return gerr
	}
	q.passed.Add(ctx, key, true)
	return nil
}

// check walks every operation of doc, following fragment spreads (a
// fragment already on the current path is not entered again, so cycles,
// which validation refuses later, cannot loop), and stops at the first
// limit exceeded: the walk is bounded by maxSelections whatever the
// document.
func (q *queryLimits) check(doc *ast.QueryDocument) *gqlerror.Error {
	for _, op := range doc.Operations {
		w := limitWalker{q: q, doc: doc, path: map[string]bool{}}
		w.directives += len(op.Directives)
		for _, v := range op.VariableDefinitions {
			w.directives += len(v.Directives)
		}
		if err := w.walk(op.SelectionSet, 0, false); err != nil {
			return err
		}
		if err := w.checkCounts(); err != nil {
			return err
		}
	}
	return nil
}

type limitWalker struct {
	q                               *queryLimits
	doc                             *ast.QueryDocument
	path                            map[string]bool
	aliases, directives, selections int
}

func (w *limitWalker) checkCounts() *gqlerror.Error {
	q := w.q
	switch {
	case q.maxAliases > 0 && w.aliases > q.maxAliases:
		return limitError("aliases", q.maxAliases, "the operation has more than %d aliases", q.maxAliases)
	case q.maxDirectives > 0 && w.directives > q.maxDirectives:
		return limitError("directives", q.maxDirectives, "the operation has more than %d directives", q.maxDirectives)
	case q.maxSelections > 0 && w.selections > q.maxSelections:
		return limitError("selections", q.maxSelections, "the operation selects more than %d fields (fragments expanded)", q.maxSelections)
	}
	return nil
}

// walk counts set's selections at depth (the number of fields above it).
// Introspection subtrees (__schema, __type) are exempt from the depth
// limit: GraphiQL's introspection query is deeper than any API query needs,
// and gqlparser bounds introspection depth itself.
func (w *limitWalker) walk(set ast.SelectionSet, depth int, introspection bool) *gqlerror.Error {
	for _, sel := range set {
		w.selections++
		switch s := sel.(type) {
		case *ast.Field:
			w.directives += len(s.Directives)
			if s.Alias != "" && s.Alias != s.Name {
				w.aliases++
			}
			intro := introspection || s.Name == "__schema" || s.Name == "__type"
			if !intro && w.q.maxDepth > 0 && depth+1 > w.q.maxDepth {
				return limitError("depth", w.q.maxDepth, "the operation is nested deeper than %d fields", w.q.maxDepth)
			}
			if err := w.checkCounts(); err != nil {
				return err
			}
			if len(s.SelectionSet) > 0 {
				if err := w.walk(s.SelectionSet, depth+1, intro); err != nil {
					return err
				}
			}
		case *ast.InlineFragment:
			w.directives += len(s.Directives)
			if err := w.checkCounts(); err != nil {
				return err
			}
			if err := w.walk(s.SelectionSet, depth, introspection); err != nil {
				return err
			}
		case *ast.FragmentSpread:
			w.directives += len(s.Directives)
			if err := w.checkCounts(); err != nil {
				return err
			}
			def := w.doc.Fragments.ForName(s.Name)
			if def == nil || w.path[s.Name] {
				continue
			}
			w.directives += len(def.Directives)
			w.path[s.Name] = true
			err := w.walk(def.SelectionSet, depth, introspection)
			delete(w.path, s.Name)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// pricedSchema prices a field taking first/last (every entgql connection)
// or limit (offset pages: Resource.chunks) at its page size times its
// selection: `first: 500` costs a hundred times `first: 5`. Page sizes
// above graph.MaxPageSize are priced at the maximum (the resolver refuses
// them with a clearer error); a list without first/last or limit is
// priced at unpricedPage.
type pricedSchema struct {
	graphql.ExecutableSchema
}

func (p pricedSchema) Complexity(ctx context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	if c, ok := p.ExecutableSchema.Complexity(ctx, typeName, field, child, args); ok {
		return c, ok
	}
	def := p.Schema().Types[typeName]
	if def == nil {
		return 0, false
	}
	fd := def.Fields.ForName(field)
	if fd == nil {
		return 0, false
	}
	var n int
	var ok bool
	switch {
	case fd.Arguments.ForName("first") != nil || fd.Arguments.ForName("last") != nil:
		if n, ok = pageArg(args["first"]); !ok {
			n, ok = pageArg(args["last"])
		}
	case fd.Arguments.ForName("limit") != nil:
		n, ok = pageArg(args["limit"])
	default:
		return 0, false
	}
	if !ok {
		n = unpricedPage
	}
	n = max(1, min(n, graph.MaxPageSize))
	return 1 + n*max(child, 1), true
}

func pageArg(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int32:
		return int(x), true
	case int64:
		return int(min(x, 1<<31)), true
	case float64:
		return int(min(x, 1<<31)), true
	case *int:
		if x != nil {
			return *x, true
		}
	}
	return 0, false
}

// complexityLimit refuses operations whose priced complexity exceeds limit.
type complexityLimit struct {
	limit int
	es    graphql.ExecutableSchema
}

var (
	_ graphql.HandlerExtension        = (*complexityLimit)(nil)
	_ graphql.OperationContextMutator = (*complexityLimit)(nil)
)

func (c *complexityLimit) ExtensionName() string { return "PricedComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = pricedSchema{es}
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if c.limit <= 0 || oc.Operation == nil {
		return nil
	}
	n := complexity.Calculate(ctx, c.es, oc.Operation, oc.Variables)
	if n > c.limit {
		return limitError("complexity", c.limit, "the operation costs %d, more than the limit of %d (lists cost their page size: ask for smaller pages)", n, c.limit)
	}
	return nil
}

// wsLimits counts WebSocket connections per client IP and active
// subscriptions per connection and per company.
type wsLimits struct {
	maxConnsPerIP, maxSubsPerConn, maxSubsPerCompany int

	mu        sync.Mutex
	connsByIP map[string]int
	subsByCo  map[uuid.UUID]int
}

func newWSLimits(cfg Config) *wsLimits {
	return &wsLimits{maxConnsPerIP: cfg.WSMaxConnsPerIP, maxSubsPerConn: cfg.WSMaxSubsPerConn,
		maxSubsPerCompany: cfg.WSMaxSubsPerCompany, connsByIP: map[string]int{}, subsByCo: map[uuid.UUID]int{}}
}

func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// acquireConn counts a new connection from ip, or reports false at the cap.
func (l *wsLimits) acquireConn(ip string) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.maxConnsPerIP > 0 && l.connsByIP[ip] >= l.maxConnsPerIP {
		return nil, false
	}
	l.connsByIP[ip]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			if l.connsByIP[ip]--; l.connsByIP[ip] <= 0 {
				delete(l.connsByIP, ip)
			}
		})
	}, true
}

// Conns returns the open WebSocket connections from ip.
func (l *wsLimits) Conns(ip string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.connsByIP[ip]
}

// Subs returns the active subscriptions of company.
func (l *wsLimits) Subs(company uuid.UUID) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.subsByCo[company]
}

// wsConn is one WebSocket connection's subscription count; wsInit puts it
// in the connection's context.
type wsConn struct{ subs atomic.Int64 }

type wsConnKey struct{}

// acquireSub counts a new subscription on conn for company (uuid.Nil: no
// company, e.g. a super admin), or returns the error refusing it.
func (l *wsLimits) acquireSub(conn *wsConn, company uuid.UUID) (release func(), err *fault.Error) {
	if conn != nil {
		if n := conn.subs.Add(1); l.maxSubsPerConn > 0 && n > int64(l.maxSubsPerConn) {
			conn.subs.Add(-1)
			return nil, &fault.Error{Code: fault.CodeRateLimited,
				Message: fmt.Sprintf("too many subscriptions on this connection (at most %d)", l.maxSubsPerConn)}
		}
	}
	if company != uuid.Nil {
		l.mu.Lock()
		if l.maxSubsPerCompany > 0 && l.subsByCo[company] >= l.maxSubsPerCompany {
			l.mu.Unlock()
			if conn != nil {
				conn.subs.Add(-1)
			}
			return nil, &fault.Error{Code: fault.CodeRateLimited,
				Message: fmt.Sprintf("the company has too many live subscriptions (at most %d)", l.maxSubsPerCompany)}
		}
		l.subsByCo[company]++
		l.mu.Unlock()
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if conn != nil {
				conn.subs.Add(-1)
			}
			if company != uuid.Nil {
				l.mu.Lock()
				if l.subsByCo[company]--; l.subsByCo[company] <= 0 {
					delete(l.subsByCo, company)
				}
				l.mu.Unlock()
			}
		})
	}, nil
}

// subscriptionLimits is the operation interceptor enforcing the
// subscription caps; the count is released when the subscription's
// context ends (client stop, completion or connection close).
type subscriptionLimits struct{ l *wsLimits }

var (
	_ graphql.HandlerExtension     = subscriptionLimits{}
	_ graphql.OperationInterceptor = subscriptionLimits{}
)

func (subscriptionLimits) ExtensionName() string                   { return "SubscriptionLimits" }
func (subscriptionLimits) Validate(graphql.ExecutableSchema) error { return nil }

func (s subscriptionLimits) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	conn, _ := ctx.Value(wsConnKey{}).(*wsConn)
	var company uuid.UUID
	if v := viewer.FromContext(ctx); v != nil && v.Kind != viewer.KindSuperAdmin {
		company = v.CompanyID
	}
	release, ferr := s.l.acquireSub(conn, company)
	if ferr != nil {
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
			Message:    ferr.Message,
			Extensions: map[string]any{"code": ferr.Code},
		}}})
	}
	context.AfterFunc(ctx, release)
	return next(ctx)
}
