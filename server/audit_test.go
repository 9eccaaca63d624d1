package server_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
)

func TestAuditLogRecordsAdminActions(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("alpha")
		b := e.Register("bravo")
		e.Do(a.AdminToken, `mutation { updateCompany(input: {name: "Alpha Inc", greeting: "Hello"}) { id } }`, nil).OK(t)
		e.Do(a.AdminToken, `mutation($id: ID!) { updateAgent(id: $id, input: {password: "a new long secret 123"}) { id } }`,
			map[string]any{"id": a.AgentID}).OK(t)
		e.Do(a.AdminToken, `mutation { addText(input: {title: "Doc", content: "Some text."}) { id } }`, nil).OK(t)

		q := `{ auditLogs(first: 50, orderBy: {field: CREATED_AT, direction: ASC}) { totalCount edges { node {
			action actorType actorName targetType targetID summary companyID ip createdAt } } } }`
		r := e.Do(a.AdminToken, q, nil).OK(t)
		raw := string(r.Data)
		for _, want := range []string{"agent.create", "apikey.create", "company.update", "agent.update", "resource.create"} {
			require.Contains(t, raw, `"action":"`+want+`"`)
		}
		require.Contains(t, raw, `"summary":"fields: name, greeting"`)
		require.Contains(t, raw, `"summary":"fields: password"`)
		require.Contains(t, raw, a.AdminEmail, "the actor is named")
		require.NotContains(t, raw, "a new long secret", "never a secret")
		require.NotContains(t, raw, b.AdminEmail, "only the company's own entries")
		require.NotContains(t, raw, b.CompanyID.String())

		// Agents do not read the audit log; the super admin reads everyone's.
		agent := e.Login(a.AgentEmail, "a new long secret 123") // the new password ended the old session
		r = e.Do(agent, q, nil)
		require.True(t, r.Code() == "FORBIDDEN" || r.Get("auditLogs.totalCount") == float64(0), "%s %+v", r.Data, r.Errors)
		root := e.SuperAdmin("root")
		e.Do(root, `mutation($id: ID!) { deactivateCompany(id: $id) { id } }`, map[string]any{"id": b.CompanyID}).OK(t)
		r = e.Do(root, q, nil).OK(t)
		all := string(r.Data)
		require.Contains(t, all, b.AdminEmail)
		require.Contains(t, all, `"action":"company.deactivate"`)
		require.Contains(t, all, `"actorType":"SUPER_ADMIN"`)
		require.Contains(t, all, `"actorName":"root"`)
		r = e.Do(root, `query($c: ID!) { auditLogs(where: {companyID: $c}) { totalCount } }`, map[string]any{"c": b.CompanyID}).OK(t)
		require.Greater(t, r.Get("auditLogs.totalCount"), float64(0))
		require.False(t, strings.Contains(string(e.Do(b.AdminToken, q, nil).Data), a.AdminEmail))
	})
}
