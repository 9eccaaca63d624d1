package server_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/account"
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

const rotateQ = `mutation($id: ID) { rotateIdentitySecret(id: $id) { id identitySecret } }`

// identityHash is the userHash a company's server computes for externalID.
func identityHash(secret, externalID string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(externalID))
	return hex.EncodeToString(mac.Sum(nil))
}

func storedSecret(t *testing.T, e *apitest.Env, tn *apitest.Tenant) string {
	t.Helper()
	co, err := e.DB.Client.Company.Get(apitest.Bypass(), tn.CompanyID)
	require.NoError(t, err)
	return co.IdentitySecret
}

// A company admin rotates its identity secret: the old one stops verifying
// visitors, the new one does; the change is audited without the value and
// published to the company's followers. Nobody else rotates it.
func TestRotateIdentitySecret(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a, b := e.Register("alpha"), e.Register("bravo")
		root := e.SuperAdmin("root")
		e.Do(a.AdminToken, `mutation { updateCompany(input: {requireIdentity: true}) { id } }`, nil).OK(t)
		start := func(externalID, hash string) *apitest.Response {
			t.Helper()
			return e.Do("", `mutation($in: StartConversationInput!) { startConversation(input: $in) { token conversation { id } } }`,
				map[string]any{"in": map[string]any{"companyKey": a.WidgetKey, "externalId": externalID, "userHash": hash}})
		}
		old := e.Do(a.AdminToken, `{ company { identitySecret } }`, nil).OK(t).Str("company.identitySecret")
		require.NotEmpty(t, old)
		start("user-42", identityHash(old, "user-42")).OK(t)

		events, err := e.Subscribe(a.AdminToken, `subscription { companyEvents { kind company { id } } }`, nil)
		require.NoError(t, err)
		e.WaitSubscribers(account.CompanyTopic(a.CompanyID), 1)

		r := e.Do(a.AdminToken, rotateQ, nil).OK(t)
		require.Equal(t, a.CompanyID.String(), r.Str("rotateIdentitySecret.id"))
		fresh := r.Str("rotateIdentitySecret.identitySecret")
		require.NotEmpty(t, fresh)
		require.NotEqual(t, old, fresh)
		require.Equal(t, fresh, storedSecret(t, e, a))
		require.Equal(t, "UNAUTHENTICATED", start("user-42", identityHash(old, "user-42")).Code(), "the old secret no longer verifies")
		start("user-42", identityHash(fresh, "user-42")).OK(t)

		ev := events.Next(5 * time.Second)
		require.NotNil(t, ev, "the company's followers hear of it")
		require.Equal(t, "COMPANY_UPDATED", ev.Str("companyEvents.kind"))
		require.NotContains(t, string(ev.Data), fresh)

		logs := e.Do(a.AdminToken, `{ auditLogs(first: 50) { edges { node { action actorName targetID summary } } } }`, nil).OK(t)
		require.Contains(t, string(logs.Data), `"action":"company.rotate_identity_secret"`)
		require.Contains(t, string(logs.Data), a.AdminEmail, "the actor is named")
		for _, secret := range []string{old, fresh} {
			require.NotContains(t, string(logs.Data), secret, "never the secret")
		}

		// Agents, API keys, visitors and anonymous callers cannot; another
		// company's staff cannot reach A's, with or without its id. Nothing
		// of A changes, nor leaks.
		visitor := start("user-43", identityHash(fresh, "user-43")).OK(t).Str("startConversation.token")
		for _, c := range []struct {
			name, token, code string
			id                any
		}{
			{"agent", a.AgentToken, "FORBIDDEN", nil},
			{"agent naming its company", a.AgentToken, "FORBIDDEN", a.CompanyID},
			{"API key", a.APIKey, "FORBIDDEN", nil},
			{"visitor", visitor, "FORBIDDEN", nil},
			{"anonymous", "", "UNAUTHENTICATED", a.CompanyID},
			{"B admin naming A", b.AdminToken, "NOT_FOUND", a.CompanyID},
			{"B agent naming A", b.AgentToken, "FORBIDDEN", a.CompanyID},
			{"B API key naming A", b.APIKey, "FORBIDDEN", a.CompanyID},
			{"super admin without id", root, "BAD_USER_INPUT", nil},
		} {
			r := e.Do(c.token, rotateQ, map[string]any{"id": c.id})
			requireCode(t, r, c.code, "rotateIdentitySecret")
			require.NotContains(t, string(r.Data), fresh, c.name)
			require.Equal(t, fresh, storedSecret(t, e, a), "%s changed A's secret", c.name)
		}

		// B's admin rotates B's own only.
		bOld := storedSecret(t, e, b)
		r = e.Do(b.AdminToken, rotateQ, nil).OK(t)
		require.Equal(t, b.CompanyID.String(), r.Str("rotateIdentitySecret.id"))
		require.NotEqual(t, bOld, storedSecret(t, e, b))
		require.Equal(t, fresh, storedSecret(t, e, a))

		// A super admin rotates any company's, naming it.
		r = e.Do(root, rotateQ, map[string]any{"id": a.CompanyID}).OK(t)
		require.NotEqual(t, fresh, r.Str("rotateIdentitySecret.identitySecret"))
		require.Equal(t, r.Str("rotateIdentitySecret.identitySecret"), storedSecret(t, e, a))
		require.Equal(t, "UNAUTHENTICATED", start("user-42", identityHash(fresh, "user-42")).Code())
	})
}
