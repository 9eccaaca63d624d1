package server_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/account"
	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
)

func TestRegisterLoginAndSubscribe(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		sub, err := e.Subscribe(a.AgentToken, `subscription { companyEvents { kind agent { email } company { slug } } }`, nil)
		require.NoError(t, err)
		e.WaitSubscribers(account.CompanyTopic(a.CompanyID), 1)
		e.Do(a.AdminToken, `mutation($in: CreateAgentInput!) { createAgent(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"email": "new@acme.test", "fullName": "New", "password": apitest.Password}}).OK(t)
		ev := sub.Next(5 * time.Second)
		require.NotNil(t, ev)
		require.Equal(t, "AGENT_CREATED", ev.Str("companyEvents.kind"))
		require.Equal(t, "new@acme.test", ev.Str("companyEvents.agent.email"))
	})
}
