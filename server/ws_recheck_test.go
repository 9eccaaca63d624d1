package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/dbtest"
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
