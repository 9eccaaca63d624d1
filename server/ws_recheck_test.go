package server_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/server"
)

// A WebSocket's credential is checked again while it is open: after a
// logout its subscriptions end.
func TestWebSocketEndsAfterLogout(t *testing.T) {
	defer server.SetWSRecheckInterval(100 * time.Millisecond)()
	d := dbtest.Open(t, "sqlite3")
	e := apitest.New(t, d)
	a := e.Register("alpha")
	sub, err := e.Subscribe(a.AdminToken, `subscription { companyEvents { kind } }`, nil)
	require.NoError(t, err)
	require.Nil(t, sub.Next(300*time.Millisecond), "open and quiet while the session lives")
	e.Do(a.AdminToken, `mutation { logout }`, nil).OK(t)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if sub.Closed() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the subscription outlived the session")
}

// A WebSocket whose credential cannot be checked for a moment (the
// database is away) is told to come back (1013), not that its credential
// is refused (4403): on 4403 the widget drops its token for a new one. A
// request over HTTP gets 503 with when to try again.
func TestWebSocketCredentialUncheckable(t *testing.T) {
	d := dbtest.Open(t, "sqlite3")
	e := apitest.New(t, d)
	a := e.Register("alpha")
	r := e.Do("", `mutation($k: String!) { startConversation(input: {companyKey: $k}) { token conversation { id } } }`,
		map[string]any{"k": a.WidgetKey}).OK(t)
	token := r.Str("startConversation.token")
	vars := map[string]any{"c": r.Str("startConversation.conversation.id")}
	const q = `subscription($c: ID!) { conversationEvents(conversationId: $c) { kind } }`

	var away atomic.Bool
	dbtest.OnQuery(d, func(_ context.Context, q ent.Query) error {
		if _, ok := q.(*ent.VisitorQuery); ok && away.Load() {
			return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
		}
		return nil
	})
	away.Store(true)
	_, err := e.Subscribe(token, q, vars)
	require.Error(t, err)
	require.EqualValues(t, websocket.StatusTryAgainLater, websocket.CloseStatus(err), "%v", err)
	// Over HTTP: 503, and when to try again.
	res := e.Do(token, `{ me { __typename } }`, nil)
	require.Equal(t, http.StatusServiceUnavailable, res.Status)
	require.Equal(t, "SERVICE_UNAVAILABLE", res.Code())
	require.EqualValues(t, 1, res.Errors[0].Extensions["retryAfterSeconds"])

	away.Store(false)
	sub, err := e.Subscribe(token, q, vars)
	require.NoError(t, err, "the same token is good once the database is back")
	sub.Close()
	_, err = e.Subscribe(token+"x", q, vars)
	require.EqualValues(t, 4403, websocket.CloseStatus(err), "a bad token is still refused: %v", err)
}

// A WebSocket whose credential is refused when checked again closes with
// 4403 and the reason, so that the client can renew its credential or
// tell its user why the session ended ("this account is deactivated").
func TestWebSocketRecheckRefusalSaysWhy(t *testing.T) {
	defer server.SetWSRecheckInterval(100 * time.Millisecond)()
	e := apitest.New(t, dbtest.Open(t, "sqlite3"))
	a := e.Register("alpha")
	c, _, err := wsDial(t, e, "")
	require.NoError(t, err)
	typ, err := c.init(a.AgentToken)
	require.NoError(t, err)
	require.Equal(t, "connection_ack", typ)
	require.NoError(t, c.subscribe("1", companyEventsQ, nil))
	e.Do(a.AdminToken, `mutation($id: ID!) { updateAgent(id: $id, input: {isActive: false}) { id } }`,
		map[string]any{"id": a.AgentID}).OK(t)
	for {
		m, err := c.read()
		if err != nil {
			var ce websocket.CloseError
			require.ErrorAs(t, err, &ce)
			require.EqualValues(t, 4403, ce.Code)
			require.Equal(t, "this account is deactivated", ce.Reason)
			return
		}
		require.NotEqual(t, "complete", m.Type, "a refused connection is closed, not its operations completed")
	}
}
