// Package apitest runs the whole platform behind an httptest server for end
// to end tests, and speaks to it as clients do: GraphQL over HTTP (JSON and
// multipart uploads) and subscriptions over graphql-transport-ws.
package apitest

import (
	"maps"
	"strconv"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"concierge/ent/resource"
	"concierge/ingest"
	"concierge/ingest/facebook"
	"concierge/realtime"
	"concierge/secretbox"
	"concierge/viewer"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/account"
	"concierge/db"
	"concierge/ent/privacy"
	"concierge/retrieval/backend"
	"concierge/server"
)

// Env is a running platform.
type Env struct {
	T      testing.TB
	DB     *db.DB
	App    *server.App
	Server *httptest.Server
	URL    string
}

// New starts the platform over d (a migrated database, see dbtest), with
// its ingestion workers running.
func New(t testing.TB, d *db.DB) *Env {
	t.Helper()
	return NewWithConfig(t, d, server.Config{})
}

// NewWithConfig is New with a server configuration (ingest extractors,
// timeouts, ...).
func NewWithConfig(t testing.TB, d *db.DB, cfg server.Config) *Env {
	t.Helper()
	dir := t.TempDir()
	rs, err := backend.Open(context.Background(), backend.Config{DataDir: filepath.Join(dir, "index")})
	require.NoError(t, err)
	if cfg.Ingest.PollInterval == 0 {
		cfg.Ingest.PollInterval = 100 * time.Millisecond
	}
	if _, ok := cfg.Ingest.Extractors[resource.TypeFACEBOOK]; !ok {
		// Test traffic stays on loopback: unless a test brings its own fake
		// Graph API, Facebook calls go to a closed local port.
		key, err := secretbox.LoadOrCreateKey("", dir)
		require.NoError(t, err)
		box, err := secretbox.New(key)
		require.NoError(t, err)
		fb, err := facebook.New(facebook.Config{BaseURL: "http://127.0.0.1:9/v23.0"})
		require.NoError(t, err)
		cfg.Ingest.Secrets = box
		cfg.Ingest.Extractors = maps.Clone(cfg.Ingest.Extractors)
		if cfg.Ingest.Extractors == nil {
			cfg.Ingest.Extractors = map[resource.Type]ingest.Extractor{}
		}
		cfg.Ingest.Extractors[resource.TypeFACEBOOK] = &facebook.Extractor{Client: fb, Secrets: box}
	}
	app, err := server.NewApp(d, []byte(strings.Repeat("k", 40)), dir, cfg, rs)
	require.NoError(t, err)
	require.NoError(t, app.StartWorkers(context.Background()))
	app.StartChat(context.Background())
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		app.Close()
	})
	return &Env{T: t, DB: d, App: app, Server: srv, URL: srv.URL + "/graphql"}
}

// Response is a GraphQL response.
type Response struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []Error         `json:"errors"`
}

// Error is one GraphQL error.
type Error struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code returns the first error's extensions.code, or "" without errors.
func (r *Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// OK fails the test if the response has errors.
func (r *Response) OK(t testing.TB) *Response {
	t.Helper()
	require.Empty(t, r.Errors, "unexpected GraphQL errors")
	return r
}

// Decode unmarshals data into v.
func (r *Response) Decode(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.Data, v))
}

// Get returns the value at a dotted path of data ("login.token"; a number
// indexes a list: "agents.edges.0.node.id"), or nil.
func (r *Response) Get(path string) any {
	var v any
	if json.Unmarshal(r.Data, &v) != nil {
		return nil
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// Str is Get as a string.
func (r *Response) Str(path string) string {
	s, _ := r.Get(path).(string)
	return s
}

// Do posts a GraphQL request with an optional bearer token.
func (e *Env) Do(token, query string, vars map[string]any) *Response {
	e.T.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(e.T, err)
	req, err := http.NewRequest(http.MethodPost, e.URL, bytes.NewReader(body))
	require.NoError(e.T, err)
	req.Header.Set("Content-Type", "application/json")
	return e.send(req, token)
}

// DoHeaders is Do with extra request headers (Origin, ...).
func (e *Env) DoHeaders(token string, h http.Header, query string, vars map[string]any) *Response {
	e.T.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(e.T, err)
	req, err := http.NewRequest(http.MethodPost, e.URL, bytes.NewReader(body))
	require.NoError(e.T, err)
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	return e.send(req, token)
}

// File is a file for Upload.
type File struct {
	Name    string
	Content []byte
}

// Upload posts a GraphQL multipart request; files maps variable paths
// ("input.logo") to files, whose variables must be null in vars.
func (e *Env) Upload(token, query string, vars map[string]any, files map[string]File) *Response {
	e.T.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(e.T, mw.WriteField("operations", string(ops)))
	m := map[string][]string{}
	i := 0
	keys := map[string]string{}
	for path := range files {
		k := fmt.Sprint(i)
		m[k] = []string{"variables." + path}
		keys[path] = k
		i++
	}
	mj, _ := json.Marshal(m)
	require.NoError(e.T, mw.WriteField("map", string(mj)))
	for path, f := range files {
		w, err := mw.CreateFormFile(keys[path], f.Name)
		require.NoError(e.T, err)
		_, err = w.Write(f.Content)
		require.NoError(e.T, err)
	}
	require.NoError(e.T, mw.Close())
	req, err := http.NewRequest(http.MethodPost, e.URL, &buf)
	require.NoError(e.T, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return e.send(req, token)
}

func (e *Env) send(req *http.Request, token string) *Response {
	e.T.Helper()
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.Server.Client().Do(req)
	require.NoError(e.T, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.T, err)
	out := &Response{Status: res.StatusCode}
	require.NoError(e.T, json.Unmarshal(raw, out), "response: %s", raw)
	return out
}

// Tenant is a registered company with a company admin, an agent and an
// API key carrying every scope.
type Tenant struct {
	CompanyID  uuid.UUID
	WidgetKey  string
	AdminID    uuid.UUID
	AdminEmail string
	AdminPass  string
	AdminToken string
	Refresh    string
	AgentID    uuid.UUID
	AgentEmail string
	AgentToken string
	APIKey     string
	APIKeyID   uuid.UUID
}

// Password is the password of every account the harness creates.
const Password = "correct horse battery"

// Register creates a company through the API with an admin, an agent and
// an API key.
func (e *Env) Register(slug string) *Tenant {
	e.T.Helper()
	t := &Tenant{AdminEmail: "admin@" + slug + ".test", AgentEmail: "agent@" + slug + ".test", AdminPass: Password}
	r := e.Do("", `mutation($in: RegisterCompanyInput!) { registerCompany(input: $in) {
		token refreshToken user { id } company { id widgetKey } } }`, map[string]any{"in": map[string]any{
		"name": "Company " + slug, "slug": slug, "email": "hello@" + slug + ".test",
		"adminFullName": "Admin " + slug, "adminEmail": t.AdminEmail, "adminPassword": Password,
	}}).OK(e.T)
	t.AdminToken = r.Str("registerCompany.token")
	t.Refresh = r.Str("registerCompany.refreshToken")
	t.AdminID = uuid.MustParse(r.Str("registerCompany.user.id"))
	t.CompanyID = uuid.MustParse(r.Str("registerCompany.company.id"))
	t.WidgetKey = r.Str("registerCompany.company.widgetKey")
	r = e.Do(t.AdminToken, `mutation($in: CreateAgentInput!) { createAgent(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"email": t.AgentEmail, "fullName": "Agent " + slug, "password": Password}}).OK(e.T)
	t.AgentID = uuid.MustParse(r.Str("createAgent.id"))
	t.AgentToken = e.Login(t.AgentEmail, Password)
	r = e.Do(t.AdminToken, `mutation($in: CreateAPIKeyInput!) { createApiKey(input: $in) { secret apiKey { id } } }`,
		map[string]any{"in": map[string]any{"name": "partner", "scopes": ScopeNames(viewer.AllScopes...)}}).OK(e.T)
	t.APIKey = r.Str("createApiKey.secret")
	t.APIKeyID = uuid.MustParse(r.Str("createApiKey.apiKey.id"))
	return t
}

// Login logs a user in and returns the access token.
func (e *Env) Login(email, password string) string {
	e.T.Helper()
	r := e.Do("", `mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }`,
		map[string]any{"e": email, "p": password}).OK(e.T)
	return r.Str("login.token")
}

// SuperAdmin creates a super admin and returns its access token.
func (e *Env) SuperAdmin(username string) string {
	e.T.Helper()
	ctx := context.Background()
	_, err := account.CreateSuperAdmin(ctx, e.DB.Client, username, "", Password, "Super "+username)
	require.NoError(e.T, err)
	r := e.Do("", `mutation($u: String!, $p: String!) { superAdminLogin(username: $u, password: $p) { token } }`,
		map[string]any{"u": username, "p": Password}).OK(e.T)
	return r.Str("superAdminLogin.token")
}

// Bypass is a context that passes every privacy rule, for checking the
// database directly in tests.
func Bypass() context.Context {
	return privacy.DecisionContext(context.Background(), privacy.Allow)
}

// WaitSubscribers polls the in-process broker until topic has at least n
// subscribers, failing the test after 5 seconds. Use it instead of sleeping
// between Subscribe and the mutation whose event the test expects.
func (e *Env) WaitSubscribers(topic realtime.Topic, n int) {
	e.T.Helper()
	m, ok := e.App.Broker.(interface {
		Subscribers(topic realtime.Topic) int
	})
	require.True(e.T, ok, "WaitSubscribers needs a broker that counts subscribers, got %T", e.App.Broker)
	deadline := time.Now().Add(5 * time.Second)
	for m.Subscribers(topic) < n {
		if time.Now().After(deadline) {
			require.FailNowf(e.T, "timed out waiting for subscribers", "topic %s has %d subscribers, want %d", topic, m.Subscribers(topic), n)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, bounded by the deadline
	}
}

// Subscription is a live graphql-transport-ws subscription.
type Subscription struct {
	conn   *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	next   chan *Response
	err    chan error
	ended  chan struct{} // closed when the server ends the subscription
}

// Subscribe opens a WebSocket, authenticates in connection_init and starts
// one subscription.
func (e *Env) Subscribe(token, query string, vars map[string]any) (*Subscription, error) {
	// The subscription lives until Close or the test's end; only the
	// handshake is bounded.
	ctx, cancel := context.WithCancel(context.Background())
	hs, hsCancel := context.WithTimeout(ctx, 30*time.Second)
	defer hsCancel()
	wsURL := "ws" + strings.TrimPrefix(e.URL, "http")
	conn, _, err := websocket.Dial(hs, wsURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		cancel()
		return nil, err
	}
	payload := map[string]any{}
	if token != "" {
		payload["authorization"] = "Bearer " + token
	}
	if err := wsjson.Write(hs, conn, map[string]any{"type": "connection_init", "payload": payload}); err != nil {
		cancel()
		return nil, err
	}
	var ack map[string]any
	if err := wsjson.Read(hs, conn, &ack); err != nil {
		cancel()
		return nil, fmt.Errorf("waiting for connection_ack: %w", err)
	}
	if ack["type"] != "connection_ack" {
		cancel()
		conn.CloseNow()
		return nil, fmt.Errorf("connection refused: %v", ack)
	}
	if err := wsjson.Write(hs, conn, map[string]any{"id": "1", "type": "subscribe",
		"payload": map[string]any{"query": query, "variables": vars}}); err != nil {
		cancel()
		return nil, err
	}
	s := &Subscription{conn: conn, ctx: ctx, cancel: cancel, next: make(chan *Response, 64), err: make(chan error, 1),
		ended: make(chan struct{})}
	go s.read()
	e.T.Cleanup(s.Close)
	return s, nil
}

func (s *Subscription) read() {
	defer close(s.ended)
	defer close(s.next)
	for {
		var m struct {
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := wsjson.Read(s.ctx, s.conn, &m); err != nil {
			s.err <- err
			return
		}
		switch m.Type {
		case "ping":
			_ = wsjson.Write(s.ctx, s.conn, map[string]any{"type": "pong"})
		case "next":
			var r Response
			_ = json.Unmarshal(m.Payload, &r)
			s.next <- &r
		case "error":
			var errs []Error
			_ = json.Unmarshal(m.Payload, &errs)
			s.next <- &Response{Errors: errs}
			return
		case "complete":
			return
		}
	}
}

// Next waits up to timeout for the next event; nil if none came or the
// subscription ended.
func (s *Subscription) Next(timeout time.Duration) *Response {
	select {
	case r := <-s.next:
		return r
	case <-time.After(timeout):
		return nil
	}
}

// Closed reports whether the server ended the subscription (complete, an
// error, or a closed connection) and every event was read.
func (s *Subscription) Closed() bool {
	select {
	case <-s.ended:
		return len(s.next) == 0
	default:
		return false
	}
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.conn.Close(websocket.StatusNormalClosure, "")
	s.cancel()
}

// ScopeNames spells scopes as the API's APIKeyScope enum does, for
// createApiKey's variables.
func ScopeNames(scopes ...viewer.Scope) []string {
	names := make([]string, len(scopes))
	for i, sc := range scopes {
		names[i] = sc.Name()
	}
	return names
}
