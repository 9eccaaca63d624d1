package observe_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"concierge/observe"
	"concierge/observe/observetest"
)

const opDuration = "concierge_graphql_operation_duration_seconds"

func newGraphQLServer(t *testing.T) (*testserver.TestServer, *httptest.Server) {
	t.Helper()
	srv := testserver.New()
	srv.AddTransport(transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{},
		InitFunc:       observe.WebSocketInit(nil),
		CloseFunc:      observe.WebSocketClose(nil),
	})
	srv.AddTransport(transport.POST{})
	srv.Use(observe.GraphQL{})
	srv.Use(extension.FixedComplexityLimit(50))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts
}

func post(t *testing.T, ts *httptest.Server, body string) int {
	t.Helper()
	res, err := http.Post(ts.URL, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer res.Body.Close()
	return res.StatusCode
}

// ops returns the observations of the operation histogram for the labels.
func ops(t *testing.T, typ, name, outcome string) float64 {
	return observetest.Value(t, opDuration, "type", typ, "name", name, "outcome", outcome)
}

func TestGraphQLOperationLatency(t *testing.T) {
	srv, ts := newGraphQLServer(t)

	okBefore := ops(t, "query", "GetName", "ok")
	post(t, ts, `{"query":"query GetName { name }"}`)
	post(t, ts, `{"query":"query GetName { name }"}`)
	require.Equal(t, okBefore+2, ops(t, "query", "GetName", "ok"))

	// The test server answers mutations with an error.
	errBefore := ops(t, "mutation", "Rename", "error")
	post(t, ts, `{"query":"mutation Rename { name }"}`)
	require.Equal(t, errBefore+1, ops(t, "mutation", "Rename", "error"))

	anon := ops(t, "query", "anonymous", "ok")
	post(t, ts, `{"query":"{ name }"}`)
	require.Equal(t, anon+1, ops(t, "query", "anonymous", "ok"))

	// Refused before running: too complex (type and name known), invalid
	// (no operation), not even JSON.
	srv.SetCalculatedComplexity(100)
	heavy := ops(t, "query", "Heavy", "error")
	post(t, ts, `{"query":"query Heavy { name }"}`)
	require.Equal(t, heavy+1, ops(t, "query", "Heavy", "error"))
	srv.SetCalculatedComplexity(0)

	invalid := ops(t, "unknown", "Nope", "error")
	post(t, ts, `{"query":"query Nope { nope }","operationName":"Nope"}`)
	require.Equal(t, invalid+1, ops(t, "unknown", "Nope", "error"))

	garbage := ops(t, "unknown", "other", "error")
	post(t, ts, `{"query":`)
	require.Equal(t, garbage+1, ops(t, "unknown", "other", "error"))

	// A name that is not a plain GraphQL name is "other".
	other := ops(t, "unknown", "other", "error")
	post(t, ts, `{"query":"query A { name }","operationName":"`+strings.Repeat("x", 65)+`"}`)
	require.Equal(t, other+1, ops(t, "unknown", "other", "error"))
	require.Positive(t, observetest.Series(t, opDuration))
}

// TestGraphQLInterceptorDirect calls the interceptors as gqlgen does,
// without a server.
func TestGraphQLInterceptorDirect(t *testing.T) {
	ext := observe.GraphQL{}
	opCtx := &graphql.OperationContext{OperationName: "Direct", Stats: graphql.Stats{OperationStart: time.Now().Add(-time.Second)}}
	ctx := graphql.WithOperationContext(context.Background(), opCtx)

	// Refused before an operation was found: only the response interceptor runs.
	before := ops(t, "unknown", "Direct", "error")
	resp := ext.InterceptResponse(ctx, func(context.Context) *graphql.Response {
		return graphql.ErrorResponse(ctx, "bad")
	})
	require.NotNil(t, resp)
	require.Equal(t, before+1, ops(t, "unknown", "Direct", "error"))
}

// wsRead reads messages until one of type typ (skipping keep-alives).
func wsRead(ctx context.Context, t *testing.T, c *websocket.Conn, typ string) map[string]any {
	t.Helper()
	for {
		var m map[string]any
		require.NoError(t, wsjson.Read(ctx, c, &m))
		if m["type"] == typ {
			return m
		}
		require.Contains(t, []any{"ping", "pong", "ka"}, m["type"], "unexpected message %v", m)
	}
}

func TestWebSocketsAndSubscriptions(t *testing.T) {
	srv, ts := newGraphQLServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conns := func() float64 { return observetest.Value(t, "concierge_websocket_connections") }
	subs := func() float64 { return observetest.Value(t, "concierge_graphql_active_subscriptions") }
	conns0, subs0 := conns(), subs()
	watched := ops(t, "subscription", "Watch", "ok")

	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"),
		&websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	require.NoError(t, err)
	defer c.CloseNow()
	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "connection_init", "payload": map[string]any{}}))
	wsRead(ctx, t, c, "connection_ack")
	require.Equal(t, conns0+1, conns(), "an initialised connection is open")

	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"id": "1", "type": "subscribe",
		"payload": map[string]any{"query": "subscription Watch { name }"}}))
	require.Eventually(t, func() bool { return subs() == subs0+1 }, 5*time.Second, 5*time.Millisecond)
	srv.SendNextSubscriptionMessage()
	wsRead(ctx, t, c, "next")
	require.Equal(t, watched, ops(t, "subscription", "Watch", "ok"), "observed when it ends")

	srv.SendCompleteSubscriptionMessage()
	wsRead(ctx, t, c, "complete")
	require.Eventually(t, func() bool { return subs() == subs0 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, watched+1, ops(t, "subscription", "Watch", "ok"))

	// A subscription ended by the client.
	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"id": "2", "type": "subscribe",
		"payload": map[string]any{"query": "subscription Watch { name }"}}))
	require.Eventually(t, func() bool { return subs() == subs0+1 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"id": "2", "type": "complete"}))
	require.Eventually(t, func() bool { return subs() == subs0 }, 5*time.Second, 5*time.Millisecond)

	// And one left running when the connection closes.
	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"id": "3", "type": "subscribe",
		"payload": map[string]any{"query": "subscription Watch { name }"}}))
	require.Eventually(t, func() bool { return subs() == subs0+1 }, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, c.Close(websocket.StatusNormalClosure, "bye"))
	require.Eventually(t, func() bool { return conns() == conns0 && subs() == subs0 }, 5*time.Second, 5*time.Millisecond)
}

func TestWebSocketRefusedInitIsNotCounted(t *testing.T) {
	refuse := func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		return ctx, nil, context.Canceled
	}
	init := observe.WebSocketInit(refuse)
	closed := false
	closeFn := observe.WebSocketClose(func(context.Context, int) { closed = true })
	before := observetest.Value(t, "concierge_websocket_connections")
	ctx, _, err := init(context.Background(), transport.InitPayload{})
	require.Error(t, err)
	require.Equal(t, before, observetest.Value(t, "concierge_websocket_connections"))
	closeFn(ctx, 1000)
	require.True(t, closed, "the wrapped CloseFunc runs")
	require.Equal(t, before, observetest.Value(t, "concierge_websocket_connections"), "never counted, never uncounted")

	ctx, _, err = observe.WebSocketInit(nil)(context.Background(), transport.InitPayload{})
	require.NoError(t, err)
	require.Equal(t, before+1, observetest.Value(t, "concierge_websocket_connections"))
	observe.WebSocketClose(nil)(ctx, 1000)
	observe.WebSocketClose(nil)(ctx, 1000)
	require.Equal(t, before, observetest.Value(t, "concierge_websocket_connections"), "closed once")
}
