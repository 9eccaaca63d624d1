package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
)

// The fields the dashboard needs beyond DESIGN.md's contract: User.online,
// Resource.chunks, testQuestion and rotateIdentitySecret.

// onlineOf lists the viewer's agents as email -> online.
func onlineOf(t *testing.T, e *apitest.Env, token string, where map[string]any) map[string]bool {
	t.Helper()
	var c struct {
		Agents struct {
			Edges []struct {
				Node struct {
					Email  string
					Online bool
				}
			}
		}
	}
	e.Do(token, `query($w: UserWhereInput) { agents(first: 100, where: $w) { edges { node { email online } } } }`,
		map[string]any{"w": where}).OK(t).Decode(t, &c)
	out := map[string]bool{}
	for _, ed := range c.Agents.Edges {
		out[ed.Node.Email] = ed.Node.Online
	}
	return out
}

// An agent following inboxEvents is online; the others are not, and it
// goes offline when it stops following. Another company sees none of it.
func TestAgentOnline(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a, b := e.Register("alpha"), e.Register("bravo")
		e.Do(a.AdminToken, createAgentQ, map[string]any{"in": agentInput("second@alpha.test")}).OK(t)

		require.Equal(t, map[string]bool{a.AdminEmail: false, a.AgentEmail: false, "second@alpha.test": false},
			onlineOf(t, e, a.AdminToken, nil), "nobody follows the inbox yet")

		inbox, err := e.Subscribe(a.AgentToken, `subscription { inboxEvents { kind } }`, nil)
		require.NoError(t, err)
		agentOnline(t, d, a.AgentID)
		want := map[string]bool{a.AdminEmail: false, a.AgentEmail: true, "second@alpha.test": false}
		require.Equal(t, want, onlineOf(t, e, a.AdminToken, nil), "the agent following the inbox is online")
		require.Equal(t, want, onlineOf(t, e, a.AgentToken, nil), "agents see who is online too")
		require.Equal(t, want, onlineOf(t, e, a.APIKey, nil), "and agents:read keys")
		r := e.Do(a.AdminToken, `query($id: ID!) { node(id: $id) { ... on User { online } } }`, map[string]any{"id": a.AgentID}).OK(t)
		require.Equal(t, true, r.Get("node.online"))

		// Another company: its own agents only, and A's agent is no node of it.
		require.Equal(t, map[string]bool{b.AdminEmail: false, b.AgentEmail: false}, onlineOf(t, e, b.AdminToken, nil))
		require.Empty(t, onlineOf(t, e, b.AgentToken, map[string]any{"idIn": []string{a.AgentID.String(), a.AdminID.String()}}))
		for _, tok := range []string{b.AdminToken, b.AgentToken, b.APIKey} {
			r := e.Do(tok, `query($id: ID!) { node(id: $id) { ... on User { email online } } }`, map[string]any{"id": a.AgentID})
			require.Nil(t, r.Get("node"), "%s", r.Data)
			require.NotContains(t, string(r.Data), a.AgentEmail)
		}
		requireCode(t, e.Do("", `{ agents { edges { node { online } } } }`, nil), "UNAUTHENTICATED", "agents")

		// Stopping the inbox takes the agent offline.
		inbox.Close()
		require.Eventually(t, func() bool { return !onlineOf(t, e, a.AdminToken, nil)[a.AgentEmail] },
			10*time.Second, 20*time.Millisecond, "the agent goes offline when it stops following the inbox")
	})
}
