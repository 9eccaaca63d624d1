// Package server is the HTTP side: routing, the auth middleware, the
// GraphQL handler with its transports and limits, health, metrics and the
// few static pages.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/99designs/gqlgen/graphql/playground"
	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/ast"

	"concierge/assistant"
	"concierge/auth"
	"concierge/chat"
	"concierge/fault"
	"concierge/filestore"
	"concierge/graph"
	"concierge/ingest"
	"concierge/realtime"
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
	// ComplexityLimit bounds query complexity (default 1000).
	ComplexityLimit int
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
		cfg.ComplexityLimit = 1000
	}
	reg := deps.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := newMetrics(reg)
	s := &srv{cfg: cfg, deps: deps}

	mux := http.NewServeMux()
	gql := s.graphqlHandler()
	var gqlRoute http.Handler = gql
	if !cfg.Production {
		gqlRoute = withGraphiQL(gql)
	}
	mux.Handle("/graphql", s.authenticate(gqlRoute))
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
	mux.HandleFunc("GET /{$}", s.home)
	return recoverer(m.instrument(cors(mux)))
}

type srv struct {
	cfg  Config
	deps Deps
}

func (s *srv) graphqlHandler() http.Handler {
	h := handler.New(s.deps.Schema)
	h.AddTransport(transport.Websocket{
		// Credentials travel in connection_init, never in cookies, so any
		// origin may connect (the widget runs on customers' sites).
		Implementation: transport.CoderWebsocketImplementation{
			AcceptOptions: websocket.AcceptOptions{InsecureSkipVerify: true},
		},
		InitFunc:              s.wsInit,
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 20 * time.Second,
		PingPongInterval:      20 * time.Second,
	})
	h.AddTransport(transport.Options{})
	h.AddTransport(transport.GET{})
	h.AddTransport(transport.POST{})
	h.AddTransport(transport.MultipartForm{MaxUploadSize: s.cfg.MaxUploadBytes + 2<<20, MaxMemory: 8 << 20}) // the stricter limit is limitedBody's
	h.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if !s.cfg.Production {
		h.Use(extension.Introspection{})
	}
	h.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	h.Use(extension.FixedComplexityLimit(s.cfg.ComplexityLimit))
	h.SetErrorPresenter(graph.ErrorPresenter)
	h.SetRecoverFunc(graph.Recover)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
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
func (s *srv) wsInit(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	bearer := bearerToken(p.Authorization())
	if bearer == "" {
		return auth.NewContext(ctx, &auth.Viewer{}), nil, nil
	}
	v, err := s.deps.Auth.Authenticate(ctx, bearer)
	if err != nil {
		return transport.WithWebsocketCloseCode(ctx, 4403), nil, err
	}
	ctx, cancel := context.WithCancel(auth.NewContext(ctx, v))
	go func() {
		defer cancel()
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := s.deps.Auth.Authenticate(ctx, bearer); err != nil {
					var fe *fault.Error
					if errors.As(err, &fe) && fe.Code == fault.CodeUnauthenticated {
						return
					}
				}
			}
		}
	}()
	return ctx, nil, nil
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
func (s *srv) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := auth.WithOrigin(auth.WithClientIP(r.Context(), s.clientIP(r)), r.Header.Get("Origin"))
		v := &auth.Viewer{}
		if h := r.Header.Get("Authorization"); h != "" {
			tok := bearerToken(h)
			if tok == "" {
				writeGraphQLError(w, http.StatusUnauthorized, fault.Unauthenticated("Authorization must be 'Bearer <token>'"))
				return
			}
			var err error
			if v, err = s.deps.Auth.Authenticate(ctx, tok); err != nil {
				fe, ok := fault.As(err)
				if !ok {
					slog.ErrorContext(ctx, "authenticating", slog.Any("err", err))
					writeGraphQLError(w, http.StatusServiceUnavailable, &fault.Error{Code: fault.CodeUnavailable, Message: "cannot check credentials now"})
					return
				}
				writeGraphQLError(w, http.StatusUnauthorized, fe)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(auth.NewContext(ctx, v)))
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
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": fe.Message, "extensions": map[string]any{"code": fe.Code}}},
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

// withGraphiQL serves GraphiQL to browsers asking /graphql for HTML.
func withGraphiQL(next http.Handler) http.Handler {
	gi := playground.Handler("Concierge GraphQL", "/graphql")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.RawQuery == "" && strings.Contains(r.Header.Get("Accept"), "text/html") {
			gi.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cors lets the widget and partners' browsers call the API from any
// origin. Credentials are bearer tokens, never cookies, so this is safe;
// per-company origin rules apply where a visitor starts a conversation.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Apollo-Require-Preflight")
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
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
