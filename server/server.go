// Package server is the HTTP side: routing, the auth middleware, the
// GraphQL handler with its transports and limits, health, metrics and the
// few static pages.
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	"concierge/assistant"
	"concierge/auth"
	"concierge/chat"
	"concierge/db"
	"concierge/fault"
	"concierge/filestore"
	"concierge/graph"
	"concierge/ingest"
	"concierge/observe"
	"concierge/realtime"
	"concierge/viewer"
)

// Config tunes the server.
type Config struct {
	// Production turns off GraphiQL and introspection.
	Production bool
	// TrustProxy takes the client IP from X-Forwarded-For (behind a proxy).
	TrustProxy bool
	// MaxBodyBytes bounds JSON request bodies (default 4 MiB).
	MaxBodyBytes int64
	// MaxUploadBytes bounds multipart requests (default 60 MiB).
	MaxUploadBytes int64
	// ComplexityLimit bounds query complexity, lists priced by their page
	// size (default DefaultComplexityLimit; see limits.go).
	ComplexityLimit int
	// Operation shape limits (defaults in limits.go): field nesting depth,
	// aliases, directives and selections (fragments expanded) per
	// operation, and parser tokens per document (negative: no limit).
	MaxDepth, MaxAliases, MaxDirectives, MaxSelections, MaxTokens int
	// WebSocket limits (defaults in limits.go): bytes per incoming message
	// (negative: no limit), connections per client IP, active
	// subscriptions per connection and per company.
	WSReadLimit                                            int64
	WSMaxConnsPerIP, WSMaxSubsPerConn, WSMaxSubsPerCompany int
	// WSPingInterval is how often a WebSocket connection is sent a
	// keep-alive; a graphql-transport-ws client silent for two and a half
	// intervals is disconnected (default 20 s, negative: no keep-alive).
	WSPingInterval time.Duration
	// WSInitTimeout is how long a new WebSocket connection may take to
	// send connection_init (default 10 s).
	WSInitTimeout time.Duration
	// Ingest tunes the ingestion jobs (workers, timeouts, attempts,
	// extractors); NewApp fills in its database, index, broker and files.
	Ingest ingest.Config
	// LLM writes the assistant's answers (nil: the offline answerer);
	// LLMTimeout bounds one answer (default: the assistant's).
	LLM        assistant.Provider
	LLMTimeout time.Duration
	// Chat tunes conversations (limits, leases); NewApp fills in its
	// database, auth, broker and assistant.
	Chat chat.Config
	// Broker fans out real-time events (nil: in this process). The App
	// closes it.
	Broker realtime.Broker
	// ShareLimits keeps the per-request rate limits in the database also
	// on SQLite (always on PostgreSQL), e.g. for two platforms on one file.
	ShareLimits bool
}

// Deps are what the server serves.
type Deps struct {
	Schema graphql.ExecutableSchema
	Auth   *auth.Service
	Files  *filestore.Store
	// Ready reports whether the server can serve (database reachable, ...).
	Ready func(ctx context.Context) error
	// Registry collects metrics; nil makes a new one.
	Registry *prometheus.Registry
	// CompanyOrigins returns the origins a company's widget may run on
	// (none: any); visitor credentials are refused from other origins.
	// Nil skips the check.
	CompanyOrigins func(ctx context.Context, companyID uuid.UUID) ([]string, error)
	// Dashboard is the web app served at / (index.html, graphiql.html,
	// assets/); nil serves the one embedded in the binary, if it was built.
	Dashboard fs.FS
	// Stopping ends when the server stops (before the broker and services
	// close): WebSocket connections then close with 1012, their operations
	// not completed, and clients reconnect. Nil: never.
	Stopping context.Context
}

// New returns the HTTP handler of the whole service.
func New(cfg Config, deps Deps) http.Handler {
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 4 << 20
	}
	if cfg.MaxUploadBytes == 0 {
		cfg.MaxUploadBytes = 60 << 20
	}
	if cfg.ComplexityLimit == 0 {
		cfg.ComplexityLimit = DefaultComplexityLimit
	}
	applyLimitDefaults(&cfg)
	reg := deps.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	observe.Register(reg)
	m := newMetrics(reg)
	s := &srv{cfg: cfg, deps: deps, ws: newWSLimits(cfg), origins: newOriginCache(deps.CompanyOrigins)}

	mux := http.NewServeMux()
	gql := s.graphqlHandler()
	app := newDashboard(dashboardFS(deps.Dashboard), cfg.Production)
	var gqlRoute http.Handler = gql
	if !cfg.Production {
		gqlRoute = withGraphiQL(app, gql)
	}
	mux.Handle("/graphql", s.authenticate(gqlRoute))
	if deps.Schema != nil {
		mux.Handle("GET /schema.graphql", sdlHandler(schemaSDL(deps.Schema.Schema())))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if deps.Files != nil {
		mux.Handle("GET /files/logos/{company}/{name}", deps.Files.LogoHandler())
	}
	mux.HandleFunc("GET /widget.js", widgetScript)
	mux.HandleFunc("GET /widget/test", s.widgetTest)
	mux.Handle("/", app)
	return observe.RequestID(recoverer(m.instrument(cors(securityHeaders(!cfg.Production, mux)))))
}

type srv struct {
	cfg     Config
	deps    Deps
	ws      *wsLimits
	origins *originCache
}

func (s *srv) graphqlHandler() http.Handler {
	h := handler.New(s.deps.Schema)
	wsReadLimit := s.cfg.WSReadLimit
	ws := newWSImplementation(s.cfg.WSPingInterval)
	h.AddTransport(&graphqlTransportWS{
		impl:        ws,
		init:        observe.WebSocketInit(s.wsInit),
		closed:      observe.WebSocketClose(nil),
		initTimeout: s.cfg.WSInitTimeout,
		readLimit:   wsReadLimit,
		stopping:    s.deps.Stopping,
	})
	// The older graphql-ws subprotocol (subscriptions-transport-ws clients).
	h.AddTransport(transport.Websocket{
		PayloadReadLimit: &wsReadLimit,
		Implementation:   ws,
		InitFunc:         legacyInit(observe.WebSocketInit(s.wsInit)),
		CloseFunc:        observe.WebSocketClose(nil),
		InitTimeout:      s.cfg.WSInitTimeout,
	})
	h.AddTransport(transport.Options{})
	// GET and POST application/json, answered as GraphQL over HTTP says
	// (graphqlhttp.go).
	h.AddTransport(graphqlHTTP{})
	h.AddTransport(transport.MultipartForm{MaxUploadSize: s.cfg.MaxUploadBytes + 2<<20, MaxMemory: 8 << 20}) // the stricter limit is limitedBody's
	h.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	h.Use(observe.GraphQL{})
	if !s.cfg.Production {
		h.Use(extension.Introspection{})
	} else {
		h.Use(introspectionOff{})
	}
	h.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	// After APQ, which fills in the query: limits apply before parsing
	// and validation.
	h.Use(newQueryLimits(s.cfg))
	h.Use(&complexityLimit{limit: s.cfg.ComplexityLimit})
	h.Use(subscriptionLimits{s.ws})
	if s.cfg.MaxTokens > 0 {
		h.SetParserTokenLimit(s.cfg.MaxTokens)
	}
	h.SetDisableSuggestion(s.cfg.Production)
	h.SetErrorPresenter(graph.ErrorPresenter)
	h.SetRecoverFunc(graph.Recover)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isWebSocket(r) {
			release, ok := s.ws.acquireConn(auth.ClientIP(r.Context()))
			if !ok {
				writeGraphQLError(w, http.StatusTooManyRequests, &fault.Error{Code: fault.CodeRateLimited,
					Message: "too many WebSocket connections from this address"})
				return
			}
			serveDetached(h, w, r, release)
			return
		}
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			// Like uploads: refused up front when the length says so,
			// else once past the limit, with a GraphQL-shaped 413.
			tooLarge := &fault.Error{Code: fault.CodeBadUserInput, Field: "body",
				Message: fmt.Sprintf("the request body is larger than %d bytes", s.cfg.MaxBodyBytes)}
			if r.ContentLength > s.cfg.MaxBodyBytes {
				writeGraphQLError(w, http.StatusRequestEntityTooLarge, tooLarge)
				return
			}
			// gqlgen reads the whole body anyway: read it here, bounded.
			data, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxBodyBytes+1))
			if err != nil {
				writeGraphQLError(w, http.StatusBadRequest, fault.Invalid("body", "cannot read the request body"))
				return
			}
			if int64(len(data)) > s.cfg.MaxBodyBytes {
				writeGraphQLError(w, http.StatusRequestEntityTooLarge, tooLarge)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(data))
			h.ServeHTTP(w, r)
			return
		}
		tooLarge := fault.Invalid("file", "the upload is larger than %d MB", s.cfg.MaxUploadBytes>>20)
		if r.ContentLength > s.cfg.MaxUploadBytes+(1<<20) {
			writeGraphQLError(w, http.StatusRequestEntityTooLarge, tooLarge)
			return
		}
		// Uploads are refused while they stream: past the limit the body
		// stops reading, and the caller gets a clear error instead of
		// gqlgen's generic one.
		body := &limitedBody{ReadCloser: r.Body, left: s.cfg.MaxUploadBytes + (1 << 20)}
		r.Body = body
		lw := &limitWriter{ResponseWriter: w, body: body, err: tooLarge}
		h.ServeHTTP(lw, r)
	})
}

// limitedBody fails reads past its limit and remembers that it did.
type limitedBody struct {
	io.ReadCloser
	left     int64
	exceeded bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// A body of exactly the limit ends here; one more byte is over.
		var one [1]byte
		if n, err := b.ReadCloser.Read(one[:]); n == 0 && err == io.EOF {
			return 0, io.EOF
		}
		b.exceeded = true
		return 0, errors.New("upload too large")
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// limitWriter replaces the response to an upload that hit the limit with a
// clear BAD_USER_INPUT error.
type limitWriter struct {
	http.ResponseWriter
	body    *limitedBody
	err     *fault.Error
	written bool
	swapped bool
}

func (w *limitWriter) WriteHeader(code int) {
	if w.written {
		return
	}
	w.written = true
	if w.body.exceeded {
		w.swapped = true
		writeGraphQLError(w.ResponseWriter, http.StatusRequestEntityTooLarge, w.err)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	if w.swapped {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// wsInit authenticates a WebSocket connection from connection_init (browsers
// cannot send headers on upgrade) and re-checks the credential every 30
// seconds, closing the connection once it stops being valid.
// wsRecheckInterval is how often a WebSocket's credential is checked again.
var wsRecheckInterval atomic.Int64 // nanoseconds; 30 s unless a test sets it

func init() { wsRecheckInterval.Store(int64(30 * time.Second)) }

func (s *srv) wsInit(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	ctx = context.WithValue(ctx, wsConnKey{}, &wsConn{})
	bearer := bearerToken(p.Authorization())
	if bearer == "" {
		return viewer.NewContext(ctx, &viewer.Viewer{}), nil, nil
	}
	v, err := s.deps.Auth.Authenticate(ctx, bearer)
	if err == nil {
		err = s.checkVisitorOrigin(ctx, v, auth.Origin(ctx))
	}
	if err != nil {
		return ctx, nil, credentialRefusal(ctx, err)
	}
	ctx, cancel := context.WithCancelCause(viewer.NewContext(ctx, v))
	// The credential is checked again every 30 s (a logout, a deactivated
	// user or company ends the connection). A timer, not a goroutine per
	// connection: idle connections cost no stack.
	var (
		mu    sync.Mutex
		timer *time.Timer
	)
	recheck := func() {
		if ctx.Err() != nil {
			return
		}
		if _, err := s.deps.Auth.Authenticate(ctx, bearer); err != nil {
			var fe *fault.Error
			if errors.As(err, &fe) && fe.Code == fault.CodeUnauthenticated {
				// The connection closes with 4403 and the reason
				// ("this account is deactivated"): the client renews its
				// credential or tells its user why the session ended.
				cancel(&wsRefusal{4403, err})
				return
			}
		}
		mu.Lock()
		timer.Reset(time.Duration(wsRecheckInterval.Load()))
		mu.Unlock()
	}
	mu.Lock()
	timer = time.AfterFunc(time.Duration(wsRecheckInterval.Load()), recheck)
	mu.Unlock()
	context.AfterFunc(ctx, func() {
		mu.Lock()
		timer.Stop()
		mu.Unlock()
	})
	return ctx, nil, nil
}

// credentialRefusal is how a connection_init whose credential failed is
// closed: 4403 when it was refused (the client needs a new one), 1013 (try
// again later) when it could not be checked for a moment (the database is
// away: the client comes back with the same credential), 1011 otherwise.
func credentialRefusal(ctx context.Context, err error) *wsRefusal {
	if _, ok := fault.As(err); ok {
		return &wsRefusal{4403, err}
	}
	logUncheckable(ctx, "checking a WebSocket's credential", err)
	if db.IsUnavailable(err) {
		return &wsRefusal{websocket.CloseTryAgainLater, errors.New("cannot check credentials now; try again in a moment")}
	}
	return &wsRefusal{websocket.CloseInternalServerErr, errors.New("cannot check credentials now")}
}

// logUncheckable logs a credential that could not be checked: a warning
// when the database is away for a moment (a restart), as the resolvers log
// it, an error otherwise.
func logUncheckable(ctx context.Context, doing string, err error) {
	if db.IsUnavailable(err) {
		slog.WarnContext(ctx, doing, slog.Any("err", err))
		return
	}
	slog.ErrorContext(ctx, doing, slog.Any("err", err))
}

func bearerToken(h string) string {
	h = strings.TrimSpace(h)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticate puts the viewer and the client IP in the request context.
// No credential means an anonymous viewer; a bad one is refused with 401
// and a GraphQL-shaped UNAUTHENTICATED error, never downgraded to anonymous.
// refuse answers a request whose credentials were refused (a fault, with
// status) or could not be checked (anything else: 503, logged as doing).
func refuse(ctx context.Context, w http.ResponseWriter, err error, status int, doing string) {
	fe, ok := fault.As(err)
	if !ok {
		// Not a refusal: the credential could not be checked. The client
		// may try again, and is told when.
		logUncheckable(ctx, doing, err)
		w.Header().Set("Retry-After", "1")
		writeGraphQLError(w, http.StatusServiceUnavailable, &fault.Error{Code: fault.CodeUnavailable,
			Message: "cannot check credentials now; try again in a moment", RetryAfter: time.Second})
		return
	}
	writeGraphQLError(w, status, fe)
}

// ownOrigin is this server's origin as the request reached it.
func (s *srv) ownOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || (s.cfg.TrustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *srv) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A page of this server itself (the widget test page) is not a
		// company's site: its origin is no other site's, so it is never
		// refused by a company's allowed origins.
		origin := r.Header.Get("Origin")
		same := origin != "" && strings.EqualFold(strings.TrimRight(origin, "/"), s.ownOrigin(r))
		if same {
			origin = ""
		}
		ctx := auth.WithSameOrigin(auth.WithOrigin(auth.WithClientIP(r.Context(), s.clientIP(r)), origin), same)
		v := &viewer.Viewer{}
		if h := r.Header.Get("Authorization"); h != "" {
			tok := bearerToken(h)
			if tok == "" {
				writeGraphQLError(w, http.StatusUnauthorized, fault.Unauthenticated("Authorization must be 'Bearer <token>'"))
				return
			}
			var err error
			if v, err = s.deps.Auth.Authenticate(ctx, tok); err != nil {
				refuse(ctx, w, err, http.StatusUnauthorized, "authenticating")
				return
			}
			if err := s.checkVisitorOrigin(ctx, v, origin); err != nil {
				refuse(ctx, w, err, http.StatusForbidden, "checking the visitor's origin")
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(viewer.NewContext(ctx, v)))
	})
}

func (s *srv) clientIP(r *http.Request) string {
	if s.cfg.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			return strings.TrimSpace(strings.Split(xff, ",")[0])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeGraphQLError(w http.ResponseWriter, status int, fe *fault.Error) {
	ext := map[string]any{"code": fe.Code}
	if s := fe.RetryAfterSeconds(); s > 0 {
		ext["retryAfterSeconds"] = s
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": fe.Message, "extensions": ext}},
	})
}

func (s *srv) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain")
	if s.deps.Ready != nil {
		if err := s.deps.Ready(ctx); err != nil {
			slog.WarnContext(ctx, "not ready", slog.Any("err", err))
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
	}
	_, _ = w.Write([]byte("ready\n"))
}

// cors lets the widget and partners' browsers call the API from any
// origin. Credentials are bearer tokens, never cookies, so this is safe;
// per-company origin rules apply where a visitor starts a conversation.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Apollo-Require-Preflight, X-Request-Id")
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
			h.Set("Access-Control-Max-Age", "600")
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				slog.ErrorContext(r.Context(), "http: panic", slog.Any("panic", v), slog.String("path", r.URL.Path))
				http.Error(w, "internal error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
