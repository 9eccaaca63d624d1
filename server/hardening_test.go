package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/chat"
	"concierge/dbtest"
	"concierge/server"
)

// promptly runs a request, failing the test if it takes longer than a few
// seconds: refused requests must not hang.
func promptly[T any](t *testing.T, what string, f func() T) T {
	t.Helper()
	start := time.Now()
	v := f()
	require.Less(t, time.Since(start), 5*time.Second, "%s took too long", what)
	t.Logf("%s: %v", what, time.Since(start).Round(time.Millisecond))
	return v
}

func requireLimit(t *testing.T, r *apitest.Response, limit string) {
	t.Helper()
	require.True(t, len(r.Data) == 0 || string(r.Data) == "null", "nothing executed: %s", r.Data)
	require.Equal(t, "BAD_USER_INPUT", r.Code(), "%+v", r.Errors)
	require.Equal(t, limit, r.Errors[0].Extensions["limit"], "%+v", r.Errors)
	// Refused before execution: 200 under application/json (GraphQL over
	// HTTP; 400 under application/graphql-response+json), no data entry.
	require.Equal(t, http.StatusOK, r.Status)
}

func TestQueryShapeLimits(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, dbtest.Open(t, "sqlite3"))
	a := e.Register("alpha")
	alive := func() {
		t.Helper()
		require.Equal(t, "Viewer", e.Do(a.AdminToken, `{ me { __typename } }`, nil).OK(t).Str("me.__typename"))
	}

	// Depth: 50 nested fields are refused before validation or execution.
	deep := "{ " + strings.Repeat("me { company { ", 25) + "id" + strings.Repeat(" } }", 25) + " }"
	r := promptly(t, "50-level query", func() *apitest.Response { return e.Do(a.AdminToken, deep, nil) })
	requireLimit(t, r, "depth")
	// Fragments count too, and a fragment cycle cannot loop the check.
	r = promptly(t, "deep through fragments", func() *apitest.Response {
		return e.Do(a.AdminToken, `query { ...A } fragment A on Query { me { company { id } } ...B }
			fragment B on Query { me { company { id } } ...A }`, nil)
	})
	require.NotEmpty(t, r.Errors, "a fragment cycle is refused (by validation)")
	nested := "query { ...F0 } "
	for i := range 20 {
		nested += fmt.Sprintf("fragment F%d on T { f { ...F%d } } ", i, i+1)
	}
	nested += "fragment F20 on T { id }"
	r = promptly(t, "fragment chain", func() *apitest.Response { return e.Do(a.AdminToken, nested, nil) })
	require.Equal(t, "BAD_USER_INPUT", r.Code(), "%+v", r.Errors)
	alive()

	// Aliases: 1,000 are refused; 30 pass.
	var b strings.Builder
	b.WriteString("{ ")
	for i := range 1000 {
		fmt.Fprintf(&b, "a%d: me { __typename } ", i)
	}
	b.WriteString("}")
	r = promptly(t, "1,000 aliases", func() *apitest.Response { return e.Do(a.AdminToken, b.String(), nil) })
	requireLimit(t, r, "aliases")
	b.Reset()
	b.WriteString("{ ")
	for i := range 30 {
		fmt.Fprintf(&b, "a%d: me { __typename } ", i)
	}
	b.WriteString("}")
	e.Do(a.AdminToken, b.String(), nil).OK(t)

	// Directives: a flood on one field.
	flood := "{ me " + strings.Repeat("@include(if: true) ", 1000) + "{ __typename } }"
	r = promptly(t, "1,000 directives", func() *apitest.Response { return e.Do(a.AdminToken, flood, nil) })
	requireLimit(t, r, "directives")

	// Many unaliased copies of one field (they merge, so no alias limit
	// applies, but validation and pricing would walk every copy).
	r = promptly(t, "3,000 copies of a field", func() *apitest.Response {
		return e.Do(a.AdminToken, "{ "+strings.Repeat("me { __typename } ", 3000)+"}", nil)
	})
	requireLimit(t, r, "selections")

	// Tokens: 100k tokens stop the parser.
	r = promptly(t, "100k tokens", func() *apitest.Response {
		return e.Do(a.AdminToken, "{ "+strings.Repeat("__typename ", 100000)+"}", nil)
	})
	require.Equal(t, "GRAPHQL_PARSE_FAILED", r.Code(), "%+v", r.Errors)
	require.Contains(t, r.Errors[0].Message, "token limit")
	alive()

	// Pricing: lists cost their page size.
	q := `query($n: Int) { conversations(first: $n) { edges { node { id
		messages(first: $n) { edges { node { id body createdAt } } } } } } }`
	e.Do(a.AdminToken, q, map[string]any{"n": 5}).OK(t)
	r = promptly(t, "first: 500 nested", func() *apitest.Response { return e.Do(a.AdminToken, q, map[string]any{"n": 500}) })
	requireLimit(t, r, "complexity")
	ql := strings.ReplaceAll(strings.Replace(q, "query($n: Int)", "query", 1), "$n", "500")
	requireLimit(t, e.Do(a.AdminToken, ql, nil), "complexity")
	// One large page alone is fine; beyond the maximum page the resolver's
	// clear error stands.
	e.Do(a.AdminToken, `{ resources(first: 500) { totalCount edges { node { id title status } } } }`, nil).OK(t)
	r = e.Do(a.AdminToken, `{ resources(first: 10000) { edges { node { id } } } }`, nil)
	require.Equal(t, "BAD_USER_INPUT", r.Code(), "%+v", r.Errors)
	require.Equal(t, "first", r.Errors[0].Extensions["field"])

	// GraphiQL's introspection query is deeper than the depth limit, and
	// still works in development.
	intro := "{ __schema { types { fields { type { " + strings.Repeat("ofType { ", 7) + "name" + strings.Repeat(" }", 7+5)
	e.Do("", intro, nil).OK(t)
	alive()
}

func TestOversizedBody(t *testing.T) {
	t.Parallel()
	e := apitest.NewWithConfig(t, dbtest.Open(t, "sqlite3"), server.Config{MaxBodyBytes: 64 << 10})
	a := e.Register("alpha")
	big := map[string]any{"query": `{ me { __typename } }`, "variables": map[string]any{"pad": strings.Repeat("x", 100<<10)}}
	raw, _ := json.Marshal(big)
	post := func(body io.Reader, length int64) (*http.Response, map[string]any) {
		req, err := http.NewRequest(http.MethodPost, e.URL, body)
		require.NoError(t, err)
		req.ContentLength = length
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+a.AdminToken)
		res, err := e.Server.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&out))
		return res, out
	}
	for name, length := range map[string]int64{"with Content-Length": int64(len(raw)), "chunked": -1} {
		start := time.Now()
		res, out := post(io.MultiReader(bytes.NewReader(raw)), length)
		require.Less(t, time.Since(start), 5*time.Second, name)
		require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode, "%s: %v", name, out)
	}
	_, out := post(bytes.NewReader(raw), -1)
	errs, _ := out["errors"].([]any)
	require.Len(t, errs, 1)
	require.Equal(t, "BAD_USER_INPUT", errs[0].(map[string]any)["extensions"].(map[string]any)["code"])
	// A body just under the limit is served.
	small, _ := json.Marshal(map[string]any{"query": `{ me { __typename } }`, "variables": map[string]any{"pad": strings.Repeat("x", 60<<10)}})
	res, out := post(bytes.NewReader(small), -1)
	require.Equal(t, http.StatusOK, res.StatusCode, "%v", out)
}

func TestNoFieldSuggestionsInProduction(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, "sqlite3")
	dev := apitest.New(t, d)
	r := dev.Do("", `{ mee { __typename } }`, nil)
	require.NotEmpty(t, r.Errors)
	require.Contains(t, r.Errors[0].Message, "Did you mean", "development suggests")

	prod := apitest.NewWithConfig(t, dbtest.Open(t, "sqlite3"), server.Config{Production: true})
	for _, q := range []string{`{ mee { __typename } }`, `{ me { companyy { id } } }`, `{ me }`} {
		r := prod.Do("", q, nil)
		require.NotEmpty(t, r.Errors, q)
		for _, e := range r.Errors {
			require.NotContains(t, e.Message, "Did you mean", q)
		}
	}
}

// Production answers a request for the schema with a clear refusal that
// points to the published SDL, however the request is dressed; development
// answers it.
func TestIntrospectionIsRefusedInProduction(t *testing.T) {
	t.Parallel()
	dev := apitest.New(t, dbtest.Open(t, "sqlite3"))
	dev.Do("", `{ __schema { queryType { name } } }`, nil).OK(t)

	prod := apitest.NewWithConfig(t, dbtest.Open(t, "sqlite3"), server.Config{Production: true})
	for _, q := range []string{
		`{ __schema { queryType { name } } }`,
		`query { __type(name: "Company") { name } }`,
		`query Q { ...F } fragment F on Query { __schema { types { name } } }`,
		`{ ... on Query { __type(name: "Query") { name } } }`,
	} {
		r := prod.Do("", q, nil)
		require.Len(t, r.Errors, 1, q)
		require.Equal(t, "FORBIDDEN", r.Errors[0].Extensions["code"], q)
		require.Contains(t, r.Errors[0].Message, "/schema.graphql", q)
		require.Nil(t, r.Data, q)
	}
	prod.Do("", `{ __typename }`, nil).OK(t)
}

// wsClient is a bare graphql-transport-ws client.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func wsDial(t *testing.T, e *apitest.Env, origin string) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http"),
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
	if err != nil {
		return nil, res, err
	}
	conn.SetReadLimit(1 << 20)
	c := &wsClient{t: t, conn: conn}
	t.Cleanup(func() { conn.CloseNow() })
	return c, res, nil
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (c *wsClient) send(m any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return wsjson.Write(ctx, c.conn, m)
}

// read returns the next message other than ping/pong, or an error (the
// connection closed).
func (c *wsClient) read() (wsMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var m wsMsg
		if err := wsjson.Read(ctx, c.conn, &m); err != nil {
			return m, err
		}
		switch m.Type {
		case "ping":
			_ = c.send(map[string]any{"type": "pong"})
		case "pong":
		default:
			return m, nil
		}
	}
}

// init sends connection_init and returns the answer's type or the error
// that closed the connection.
func (c *wsClient) init(token string) (string, error) {
	payload := map[string]any{}
	if token != "" {
		payload["authorization"] = "Bearer " + token
	}
	if err := c.send(map[string]any{"type": "connection_init", "payload": payload}); err != nil {
		return "", err
	}
	m, err := c.read()
	return m.Type, err
}

func (c *wsClient) subscribe(id, query string, vars map[string]any) error {
	return c.send(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
}

// code returns the extensions.code of an error carried by m (a "next"
// with errors or an "error").
func (m wsMsg) code() string {
	var errs []apitest.Error
	if m.Type == "next" {
		var r apitest.Response
		_ = json.Unmarshal(m.Payload, &r)
		errs = r.Errors
	} else {
		_ = json.Unmarshal(m.Payload, &errs)
	}
	if len(errs) == 0 {
		return ""
	}
	c, _ := errs[0].Extensions["code"].(string)
	return c
}

func TestWebSocketLimits(t *testing.T) {
	t.Parallel()
	e := apitest.NewWithConfig(t, dbtest.Open(t, "sqlite3"),
		server.Config{WSMaxConnsPerIP: 3, WSMaxSubsPerConn: 2, WSMaxSubsPerCompany: 3, WSReadLimit: 16 << 10})
	a := e.Register("alpha")

	t.Run("connections per IP", func(t *testing.T) {
		var open []*wsClient
		for range 3 {
			c, _, err := wsDial(t, e, "")
			require.NoError(t, err)
			typ, err := c.init(a.AgentToken)
			require.NoError(t, err)
			require.Equal(t, "connection_ack", typ)
			open = append(open, c)
		}
		res := refusedDial(t, e)
		require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
		var body map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&body))
		require.Contains(t, fmt.Sprint(body), "RATE_LIMITED")

		// Leaving frees the slot.
		open[0].conn.Close(websocket.StatusNormalClosure, "")
		require.Eventually(t, func() bool {
			c, _, err := wsDial(t, e, "")
			if err != nil {
				return false
			}
			open[0] = c
			return true
		}, 5*time.Second, 20*time.Millisecond)
		for _, c := range open {
			c.conn.Close(websocket.StatusNormalClosure, "")
		}
		// All gone: three new ones fit again.
		require.Eventually(t, func() bool {
			var got []*wsClient
			defer func() {
				for _, c := range got {
					c.conn.Close(websocket.StatusNormalClosure, "")
				}
			}()
			for range 3 {
				c, _, err := wsDial(t, e, "")
				if err != nil {
					return false
				}
				got = append(got, c)
			}
			return true
		}, 5*time.Second, 50*time.Millisecond)
	})

	t.Run("subscriptions per connection and company", func(t *testing.T) {
		// Wait for the previous subtest's connections to be gone.
		var c1, c2 *wsClient
		require.Eventually(t, func() bool {
			var err1, err2 error
			c1, _, err1 = wsDial(t, e, "")
			c2, _, err2 = wsDial(t, e, "")
			if err1 != nil || err2 != nil {
				if c1 != nil {
					c1.conn.CloseNow()
				}
				if c2 != nil {
					c2.conn.CloseNow()
				}
				return false
			}
			return true
		}, 5*time.Second, 50*time.Millisecond)
		for _, c := range []*wsClient{c1, c2} {
			typ, err := c.init(a.AgentToken)
			require.NoError(t, err)
			require.Equal(t, "connection_ack", typ)
		}
		// Subscriptions start concurrently: whichever comes last is refused.
		refused := func(c *wsClient, ids ...string) (string, string) {
			t.Helper()
			for _, id := range ids {
				require.NoError(t, c.subscribe(id, companyEventsQ, nil))
			}
			m, err := c.read()
			require.NoError(t, err)
			require.Equal(t, "RATE_LIMITED", m.code(), "%s", m.Payload)
			payload := string(m.Payload)
			for m.Type != "complete" && m.Type != "error" { // the refused subscription ends
				next, err := c.read()
				require.NoError(t, err)
				require.Equal(t, m.ID, next.ID)
				m = next
			}
			return m.ID, payload
		}
		id1, msg := refused(c1, "1", "2", "3")
		require.Contains(t, msg, "this connection")
		_ = msg
		id2, _ := refused(c2, "1", "2")
		live := "1"
		if id1 == "1" {
			live = "2"
		}
		_ = id2
		// Stopping one frees a company slot.
		require.NoError(t, c1.send(map[string]any{"id": live, "type": "complete"}))
		require.Eventually(t, func() bool {
			if err := c2.subscribe("3", companyEventsQ, nil); err != nil {
				return false
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			var m wsMsg
			if err := wsjson.Read(ctx, c2.conn, &m); err != nil {
				return true // no refusal: the subscription is live
			}
			return m.code() == ""
		}, 5*time.Second, 50*time.Millisecond)
	})

	t.Run("message size", func(t *testing.T) {
		var c *wsClient
		require.Eventually(t, func() bool {
			var err error
			c, _, err = wsDial(t, e, "")
			return err == nil
		}, 5*time.Second, 50*time.Millisecond)
		typ, err := c.init(a.AgentToken)
		require.NoError(t, err)
		require.Equal(t, "connection_ack", typ)
		require.NoError(t, c.subscribe("1", `subscription { companyEvents { kind } } # `+strings.Repeat("x", 32<<10), nil))
		_, err = c.read()
		require.Error(t, err, "a message over the read limit closes the connection")
		require.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err), "%v", err)
	})
}

// refusedDial dials once more and returns the HTTP response of the refused
// handshake.
func refusedDial(t *testing.T, e *apitest.Env) *http.Response {
	t.Helper()
	start := time.Now()
	_, res, err := wsDial(t, e, "")
	require.Error(t, err)
	require.NotNil(t, res)
	require.Less(t, time.Since(start), 5*time.Second)
	return res
}

func TestVisitorOrigin(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, dbtest.Open(t, "sqlite3"))
	a := e.Register("alpha")
	r := e.Do("", `mutation($in: StartConversationInput!) { startConversation(input: $in) { token conversation { id } } }`,
		map[string]any{"in": map[string]any{"companyKey": a.WidgetKey, "name": "Vera"}}).OK(t)
	visitor, conv := r.Str("startConversation.token"), r.Str("startConversation.conversation.id")
	const shop, evil = "https://shop.alpha.test", "https://evil.test"
	sub := `subscription($c: ID!) { conversationEvents(conversationId: $c) { kind } }`
	me := `{ me { __typename } }`

	connect := func(origin string) (string, error) {
		c, _, err := wsDial(t, e, origin)
		require.NoError(t, err)
		typ, err := c.init(visitor)
		if err == nil && typ == "connection_ack" {
			require.NoError(t, c.subscribe("1", sub, map[string]any{"c": conv}))
		}
		c.conn.CloseNow()
		return typ, err
	}

	// No origins listed: any origin.
	typ, err := connect(evil)
	require.NoError(t, err)
	require.Equal(t, "connection_ack", typ)
	e.DoHeaders(visitor, http.Header{"Origin": {evil}}, me, nil).OK(t)

	e.Do(a.AdminToken, `mutation { updateCompany(input: {allowedOrigins: ["https://shop.alpha.test"]}) { id } }`, nil).OK(t)
	// The server caches origins for a few seconds.
	require.Eventually(t, func() bool {
		return e.DoHeaders(visitor, http.Header{"Origin": {evil}}, me, nil).Code() == "FORBIDDEN"
	}, 15*time.Second, 200*time.Millisecond)
	r = e.DoHeaders(visitor, http.Header{"Origin": {evil}}, me, nil)
	require.Equal(t, http.StatusForbidden, r.Status)
	e.DoHeaders(visitor, http.Header{"Origin": {shop}}, me, nil).OK(t)
	e.DoHeaders(visitor, http.Header{"Origin": {"HTTPS://Shop.Alpha.Test/"}}, me, nil).OK(t)
	e.Do(visitor, me, nil).OK(t) // no Origin: not a browser

	typ, err = connect(evil)
	require.True(t, err != nil || typ == "connection_error", "foreign origin refused: %s %v", typ, err)
	if err == nil {
		require.Equal(t, "connection_error", typ)
	}
	typ, err = connect(shop)
	require.NoError(t, err)
	require.Equal(t, "connection_ack", typ)

	// Agents are not affected by a company's widget origins.
	e.DoHeaders(a.AgentToken, http.Header{"Origin": {evil}}, me, nil).OK(t)
	c, _, err := wsDial(t, e, evil)
	require.NoError(t, err)
	typ, err = c.init(a.AgentToken)
	require.NoError(t, err)
	require.Equal(t, "connection_ack", typ)
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	for _, prod := range []bool{false, true} {
		e := apitest.NewWithConfig(t, dbtest.Open(t, "sqlite3"), server.Config{Production: prod})
		base := e.Server.URL
		get := func(path string, h http.Header) *http.Response {
			req, err := http.NewRequest(http.MethodGet, base+path, nil)
			require.NoError(t, err)
			for k, v := range h {
				req.Header[k] = v
			}
			res, err := e.Server.Client().Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res
		}
		page := func(res *http.Response, name string) {
			t.Helper()
			h := res.Header
			require.Contains(t, h.Get("Content-Security-Policy"), "default-src 'self'", name)
			require.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'", name)
			require.Equal(t, "DENY", h.Get("X-Frame-Options"), name)
			require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), name)
			require.Equal(t, "strict-origin-when-cross-origin", h.Get("Referrer-Policy"), name)
		}
		home := get("/", nil)
		require.Equal(t, http.StatusOK, home.StatusCode)
		page(home, "home")
		require.NotContains(t, home.Header.Get("Content-Security-Policy"), "cdn.jsdelivr.net")
		page(get("/healthz", nil), "healthz")

		gi := get("/graphql", http.Header{"Accept": {"text/html"}})
		if prod {
			require.NotEqual(t, http.StatusOK, gi.StatusCode, "no GraphiQL in production")
			require.Equal(t, "no-store", gi.Header.Get("Cache-Control"))
		} else {
			require.Equal(t, http.StatusOK, gi.StatusCode)
			require.Contains(t, gi.Header.Get("Content-Type"), "text/html")
			page(gi, "GraphiQL")
			require.NotContains(t, gi.Header.Get("Content-Security-Policy"), "cdn.jsdelivr.net", "GraphiQL is served from this origin")
		}

		r := e.Do("", `{ __typename }`, nil)
		require.Equal(t, http.StatusOK, r.Status)
		req, _ := http.NewRequest(http.MethodPost, e.URL, strings.NewReader(`{"query":"{ __typename }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "https://partner.example")
		res, err := e.Server.Client().Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
		require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		require.Equal(t, "*", res.Header.Get("Access-Control-Allow-Origin"), "the API stays open to any origin")
		require.Empty(t, res.Header.Get("Content-Security-Policy"))
		require.Empty(t, res.Header.Get("X-Frame-Options"))
		pre, _ := http.NewRequest(http.MethodOptions, e.URL, nil)
		pre.Header.Set("Origin", "https://partner.example")
		pre.Header.Set("Access-Control-Request-Method", "POST")
		res, err = e.Server.Client().Do(pre)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		require.Equal(t, "*", res.Header.Get("Access-Control-Allow-Origin"))

		w := get("/widget.js", http.Header{"Origin": {"https://shop.example"}})
		require.Equal(t, http.StatusOK, w.StatusCode)
		require.Equal(t, "*", w.Header.Get("Access-Control-Allow-Origin"))
		require.Empty(t, w.Header.Get("X-Frame-Options"))
		require.Empty(t, w.Header.Get("Content-Security-Policy"))
		wt := get("/widget/test", nil)
		require.Empty(t, wt.Header.Get("X-Frame-Options"))
	}
}

// TestWebSocketKeepAlive: the server sends the subprotocol's keep-alive
// every interval; a graphql-transport-ws client that answers stays, one
// that went silent is disconnected, and a graphql-ws client (whose
// protocol has no answer to keep-alives) is kept.
func TestWebSocketKeepAlive(t *testing.T) {
	t.Parallel()
	const interval = 200 * time.Millisecond
	e := apitest.NewWithConfig(t, dbtest.Open(t, "sqlite3"), server.Config{WSPingInterval: interval})
	a := e.Register("alpha")
	dial := func(subprotocol string) *websocket.Conn {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.URL, "http"),
			&websocket.DialOptions{Subprotocols: []string{subprotocol}})
		require.NoError(t, err)
		t.Cleanup(func() { conn.CloseNow() })
		require.NoError(t, wsjson.Write(ctx, conn, map[string]any{"type": "connection_init",
			"payload": map[string]any{"authorization": "Bearer " + a.AgentToken}}))
		var ack wsMsg
		require.NoError(t, wsjson.Read(ctx, conn, &ack))
		require.Equal(t, "connection_ack", ack.Type)
		return conn
	}
	// follow reads for d and counts each message type; answer pongs pings.
	follow := func(conn *websocket.Conn, d time.Duration, answer bool) (map[string]int, error) {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		seen := map[string]int{}
		for {
			var m wsMsg
			if err := wsjson.Read(ctx, conn, &m); err != nil {
				if ctx.Err() != nil {
					return seen, nil // still open
				}
				return seen, err
			}
			seen[m.Type]++
			if m.Type == "ping" && answer {
				if err := wsjson.Write(ctx, conn, map[string]any{"type": "pong"}); err != nil {
					if ctx.Err() != nil {
						return seen, nil // the ping came as the time was up
					}
					return seen, err
				}
			}
		}
	}

	live, silent, legacy := dial("graphql-transport-ws"), dial("graphql-transport-ws"), dial("graphql-ws")
	done := make(chan struct{})
	var silentErr error
	var silentSeen map[string]int
	go func() {
		defer close(done)
		silentSeen, silentErr = follow(silent, 10*interval, false)
	}()
	legacyDone := make(chan struct{})
	var legacySeen map[string]int
	var legacyErr error
	go func() {
		defer close(legacyDone)
		legacySeen, legacyErr = follow(legacy, 10*interval, false)
	}()
	seen, err := follow(live, 10*interval, true)
	require.NoError(t, err, "a client that answers keep-alives stays connected")
	require.GreaterOrEqual(t, seen["ping"], 5, "%v", seen)
	<-done
	require.Error(t, silentErr, "a client silent for 2.5 intervals is disconnected")
	require.GreaterOrEqual(t, silentSeen["ping"], 2, "%v", silentSeen)
	<-legacyDone
	require.NoError(t, legacyErr, "graphql-ws clients are kept")
	require.GreaterOrEqual(t, legacySeen["ka"], 5, "%v", legacySeen)
}

// TestGraphQLTransportWSProtocol: protocol errors close the connection
// with the graphql-transport-ws close codes.
func TestGraphQLTransportWSProtocol(t *testing.T) {
	t.Parallel()
	e := apitest.NewWithConfig(t, dbtest.Open(t, "sqlite3"), server.Config{WSInitTimeout: 300 * time.Millisecond})
	a := e.Register("alpha")
	// closed returns the close code the server ended the connection with.
	closed := func(c *wsClient) websocket.StatusCode {
		t.Helper()
		for {
			_, err := c.read()
			if err != nil {
				return websocket.CloseStatus(err)
			}
		}
	}
	dial := func() *wsClient {
		c, _, err := wsDial(t, e, "")
		require.NoError(t, err)
		return c
	}
	initialised := func() *wsClient {
		c := dial()
		typ, err := c.init(a.AgentToken)
		require.NoError(t, err)
		require.Equal(t, "connection_ack", typ)
		return c
	}

	t.Run("no connection_init in time", func(t *testing.T) {
		require.EqualValues(t, 4408, closed(dial()))
	})
	t.Run("subscribe before connection_init", func(t *testing.T) {
		c := dial()
		require.NoError(t, c.subscribe("1", companyEventsQ, nil))
		require.EqualValues(t, 4401, closed(c))
	})
	t.Run("refused credentials", func(t *testing.T) {
		c := dial()
		_, err := c.init("not-a-token")
		require.Error(t, err)
		require.EqualValues(t, 4403, websocket.CloseStatus(err))
	})
	t.Run("second connection_init", func(t *testing.T) {
		c := initialised()
		require.NoError(t, c.send(map[string]any{"type": "connection_init"}))
		require.EqualValues(t, 4429, closed(c))
	})
	t.Run("subscription id in use", func(t *testing.T) {
		c := initialised()
		require.NoError(t, c.subscribe("1", companyEventsQ, nil))
		require.NoError(t, c.subscribe("1", companyEventsQ, nil))
		require.EqualValues(t, 4409, closed(c))
	})
	t.Run("not JSON", func(t *testing.T) {
		c := initialised()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, c.conn.Write(ctx, websocket.MessageText, []byte("{nope")))
		require.EqualValues(t, 4400, closed(c))
	})
	t.Run("ping, a query, a refused operation and complete", func(t *testing.T) {
		c := initialised()
		require.NoError(t, c.send(map[string]any{"type": "ping"}))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var pong wsMsg
		require.NoError(t, wsjson.Read(ctx, c.conn, &pong))
		require.Equal(t, "pong", pong.Type)

		require.NoError(t, c.subscribe("q", `{ me { kind user { email } } }`, nil))
		m, err := c.read()
		require.NoError(t, err)
		require.Equal(t, "next", m.Type)
		require.Contains(t, string(m.Payload), "@")
		m, err = c.read()
		require.NoError(t, err)
		require.Equal(t, wsMsg{ID: "q", Type: "complete"}, m)

		require.NoError(t, c.subscribe("bad", `subscription { nope }`, nil))
		m, err = c.read()
		require.NoError(t, err)
		require.Equal(t, "error", m.Type, "%s", m.Payload)
		require.Equal(t, "bad", m.ID)

		// A completed subscription frees its id at once, and sends
		// nothing more.
		require.NoError(t, c.subscribe("s", companyEventsQ, nil))
		require.NoError(t, c.send(map[string]any{"id": "s", "type": "complete"}))
		require.NoError(t, c.subscribe("s", companyEventsQ, nil))
		ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		var m2 wsMsg
		err = wsjson.Read(ctx, c.conn, &m2)
		require.ErrorIs(t, err, context.DeadlineExceeded, "nothing arrives, the connection stays: %+v", m2)
	})
}

// A server that stops closes its WebSockets with 1012 (service restart)
// and does not complete their subscriptions: graphql-ws clients then
// reconnect and resubscribe, where a completed stream would stay finished
// (a dashboard would stop getting live updates until reloaded).
func TestStoppingServerAsksClientsToReconnect(t *testing.T) {
	t.Parallel()
	e := apitest.NewWithConfig(t, dbtest.Open(t, "sqlite3"), server.Config{})
	a := e.Register("alpha")
	c, _, err := wsDial(t, e, "")
	require.NoError(t, err)
	typ, err := c.init(a.AgentToken)
	require.NoError(t, err)
	require.Equal(t, "connection_ack", typ)
	require.NoError(t, c.subscribe("inbox", `subscription { inboxEvents { kind } }`, nil))
	require.NoError(t, c.subscribe("company", companyEventsQ, nil))
	e.WaitSubscribers(chat.InboxTopic(a.CompanyID), 1)

	e.App.Close()
	var frames []string
	for {
		m, err := c.read()
		if err != nil {
			require.EqualValues(t, server.CloseServiceRestart, websocket.CloseStatus(err), "frames before the close: %v", frames)
			break
		}
		frames = append(frames, m.Type+" "+m.ID)
	}
	require.Empty(t, frames, "no operation is completed by a stopping server")
}
