package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/account"
	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/realtime"
)

const companyEventsQ = `subscription($c: ID) { companyEvents(companyId: $c) {
	kind agentID agent { id email fullName role } company { id name } } }`

// next waits for the next event of sub, failing the test if none comes.
func next(t *testing.T, sub *apitest.Subscription) *apitest.Response {
	t.Helper()
	ev := sub.Next(5 * time.Second)
	require.NotNil(t, ev, "no event within 5s")
	require.Empty(t, ev.Errors)
	return ev
}

func TestCompanyEvents(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		root := e.SuperAdmin("root")
		topic := account.CompanyTopic(a.CompanyID)

		admin, err := e.Subscribe(a.AdminToken, companyEventsQ, nil)
		require.NoError(t, err)
		agent, err := e.Subscribe(a.AgentToken, companyEventsQ, nil)
		require.NoError(t, err)
		super, err := e.Subscribe(root, companyEventsQ, map[string]any{"c": a.CompanyID})
		require.NoError(t, err)
		e.WaitSubscribers(topic, 3)
		subs := map[string]*apitest.Subscription{"admin": admin, "agent": agent, "super admin": super}

		r := e.Do(a.AdminToken, createAgentQ, map[string]any{"in": agentInput("new@acme.test")}).OK(t)
		newID := r.Str("createAgent.id")
		for name, s := range subs {
			ev := next(t, s)
			require.Equal(t, "AGENT_CREATED", ev.Str("companyEvents.kind"), name)
			require.Equal(t, newID, ev.Str("companyEvents.agentID"), name)
			require.Equal(t, "new@acme.test", ev.Str("companyEvents.agent.email"), name)
			require.Equal(t, a.CompanyID.String(), ev.Str("companyEvents.company.id"), name)
		}

		e.Do(a.AdminToken, updateAgentQ, map[string]any{"id": newID, "in": map[string]any{"fullName": "Renamed", "role": "COMPANY_ADMIN"}}).OK(t)
		for name, s := range subs {
			ev := next(t, s)
			require.Equal(t, "AGENT_UPDATED", ev.Str("companyEvents.kind"), name)
			require.Equal(t, newID, ev.Str("companyEvents.agent.id"), name)
			require.Equal(t, "Renamed", ev.Str("companyEvents.agent.fullName"), name)
			require.Equal(t, "COMPANY_ADMIN", ev.Str("companyEvents.agent.role"), name)
		}

		e.Do(a.AdminToken, removeAgentQ, map[string]any{"id": newID}).OK(t)
		for name, s := range subs {
			ev := next(t, s)
			require.Equal(t, "AGENT_REMOVED", ev.Str("companyEvents.kind"), name)
			require.Equal(t, newID, ev.Str("companyEvents.agentID"), name)
			require.Nil(t, ev.Get("companyEvents.agent"), name)
		}

		e.Do(a.AdminToken, `mutation { updateCompany(input: {name: "Acme Two"}) { id } }`, nil).OK(t)
		for name, s := range subs {
			ev := next(t, s)
			require.Equal(t, "COMPANY_UPDATED", ev.Str("companyEvents.kind"), name)
			require.Equal(t, "Acme Two", ev.Str("companyEvents.company.name"), name)
			require.Nil(t, ev.Get("companyEvents.agentID"), name)
		}

		// Failed mutations publish nothing: the next event is the next success.
		requireCode(t, e.Do(a.AdminToken, `mutation { updateCompany(input: {brandColor: "red"}) { id } }`, nil), "BAD_USER_INPUT", "updateCompany")
		requireCode(t, e.Do(a.AgentToken, `mutation { updateCompany(input: {name: "Agent Co"}) { id } }`, nil), "FORBIDDEN", "updateCompany")
		e.Do(root, `mutation($id: ID) { deactivateCompany(id: $id) { id } }`, map[string]any{"id": a.CompanyID}).OK(t)
		ev := next(t, super)
		require.Equal(t, "COMPANY_UPDATED", ev.Str("companyEvents.kind"))
		require.Equal(t, "Acme Two", ev.Str("companyEvents.company.name"))
	})
}

func TestCompanyEventsRefused(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		root := e.SuperAdmin("root")

		// A bad credential in connection_init closes the connection.
		for name, tok := range map[string]string{"garbage": "garbage", "forged API key": flipLast(a.APIKey), "tampered JWT": flipLast(a.AgentToken)} {
			_, err := e.Subscribe(tok, companyEventsQ, nil)
			require.Error(t, err, name)
		}

		// Signed in but not allowed, or not signed in: an error, then the end.
		for _, c := range []struct {
			name, token, code string
			vars              map[string]any
		}{
			{"anonymous", "", "UNAUTHENTICATED", nil},
			{"API key", a.APIKey, "FORBIDDEN", nil},
			{"super admin without companyId", root, "BAD_USER_INPUT", nil},
		} {
			sub, err := e.Subscribe(c.token, companyEventsQ, c.vars)
			require.NoError(t, err, c.name)
			ev := sub.Next(5 * time.Second)
			require.NotNil(t, ev, c.name)
			require.Equal(t, c.code, ev.Code(), "%s: %+v", c.name, ev.Errors)
			require.Nil(t, sub.Next(5*time.Second), "%s: the subscription ends", c.name)
		}
		require.Zero(t, e.App.Broker.(interface{ Subscribers(realtime.Topic) int }).Subscribers(account.CompanyTopic(a.CompanyID)))

		// A logged-out token cannot open a connection any more.
		e.Do(a.AdminToken, `mutation { logout }`, nil).OK(t)
		_, err := e.Subscribe(a.AdminToken, companyEventsQ, nil)
		require.Error(t, err)
	})
}
