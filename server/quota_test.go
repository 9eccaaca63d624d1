package server_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ingest"
	"concierge/server"
)

// Limits hold across replicas: two platforms on one database share the
// visitor's message bucket and the company's ingestion quota.
func TestLimitsAreSharedByReplicas(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		one := apitest.NewWithConfig(t, d, server.Config{ShareLimits: true})
		two := apitest.NewWithConfig(t, d, server.Config{ShareLimits: true})
		a := one.Register("alpha")
		r := one.Do("", `mutation($k: String!) { startConversation(input: {companyKey: $k}) { token conversation { id } } }`,
			map[string]any{"k": a.WidgetKey}).OK(t)
		token, conv := r.Str("startConversation.token"), r.Str("startConversation.conversation.id")
		one.Do(a.AgentToken, `mutation($c: ID!) { takeOverConversation(id: $c) { id } }`, map[string]any{"c": conv}).OK(t)
		send := `mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }`
		for i := range 10 { // the visitor's burst, alternating replicas
			env := one
			if i%2 == 1 {
				env = two
			}
			env.Do(token, send, map[string]any{"c": conv, "b": fmt.Sprint("m", i)}).OK(t)
		}
		for _, env := range []*apitest.Env{one, two} {
			r := env.Do(token, send, map[string]any{"c": conv, "b": "one too many"})
			require.Equal(t, "RATE_LIMITED", r.Code())
			require.NotEmpty(t, r.Errors[0].Extensions["retryAfterSeconds"])
		}

		// The FREE plan's ingestion quota, counted on both replicas.
		add := `mutation($t: String!) { addText(input: {title: $t, content: "Some text."}) { id } }`
		quota := ingest.JobsPerHour["FREE"]
		for i := range quota {
			env := one
			if i%2 == 1 {
				env = two
			}
			env.Do(a.AdminToken, add, map[string]any{"t": fmt.Sprint("doc ", i)}).OK(t)
		}
		r = two.Do(a.AdminToken, add, map[string]any{"t": "over quota"})
		require.Equal(t, "RATE_LIMITED", r.Code())
		require.Contains(t, r.Errors[0].Message, fmt.Sprintf("%d knowledge jobs per hour", quota))
	})
}
