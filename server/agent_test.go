package server_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent/user"
)

const (
	createAgentQ = `mutation($in: CreateAgentInput!) { createAgent(input: $in) { id email fullName role isActive companyID } }`
	updateAgentQ = `mutation($id: ID!, $in: UpdateAgentInput!) { updateAgent(id: $id, input: $in) { id email fullName role isActive } }`
	removeAgentQ = `mutation($id: ID!) { removeAgent(id: $id) }`
)

func agentInput(email string, kv ...any) map[string]any {
	return with(map[string]any{"email": email, "fullName": "Some One", "password": apitest.Password}, kv...)
}

func userCount(t *testing.T, e *apitest.Env) int {
	t.Helper()
	_, n := rows(t, e)
	return n
}

func TestCreateAgent(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")

		r := e.Do(a.AdminToken, createAgentQ, map[string]any{"in": agentInput(" Zoe@Acme.test ")}).OK(t)
		require.Equal(t, "AGENT", r.Str("createAgent.role"), "role defaults to AGENT")
		require.Equal(t, "zoe@acme.test", r.Str("createAgent.email"))
		require.Equal(t, true, r.Get("createAgent.isActive"))
		require.Equal(t, a.CompanyID.String(), r.Str("createAgent.companyID"))
		login(e, "zoe@acme.test", apitest.Password).OK(t)

		r = e.Do(a.AdminToken, createAgentQ, map[string]any{"in": agentInput("boss@acme.test", "role", "COMPANY_ADMIN")}).OK(t)
		require.Equal(t, "COMPANY_ADMIN", r.Str("createAgent.role"))
		// The new admin manages agents too.
		boss := login(e, "boss@acme.test", apitest.Password).OK(t).Str("login.token")
		e.Do(boss, createAgentQ, map[string]any{"in": agentInput("third@acme.test")}).OK(t)

		n := userCount(t, e)
		for _, c := range []struct {
			name, token, code string
			in                map[string]any
		}{
			{"duplicate email", a.AdminToken, "CONFLICT", agentInput("zoe@acme.test")},
			{"duplicate email, other case", a.AdminToken, "CONFLICT", agentInput("ZOE@acme.TEST")},
			{"admin's email", a.AdminToken, "CONFLICT", agentInput(a.AdminEmail)},
			{"bad email", a.AdminToken, "BAD_USER_INPUT", agentInput("zoe")},
			{"short password", a.AdminToken, "BAD_USER_INPUT", agentInput("new@acme.test", "password", "1234567")},
			{"empty name", a.AdminToken, "BAD_USER_INPUT", agentInput("new@acme.test", "fullName", " ")},
			{"unknown role", a.AdminToken, "GRAPHQL_VALIDATION_FAILED", agentInput("new@acme.test", "role", "SUPER_ADMIN")},
			{"agent", a.AgentToken, "FORBIDDEN", agentInput("new@acme.test")},
			{"agent making an admin", a.AgentToken, "FORBIDDEN", agentInput("new@acme.test", "role", "COMPANY_ADMIN")},
			{"API key", a.APIKey, "FORBIDDEN", agentInput("new@acme.test")},
			{"anonymous", "", "UNAUTHENTICATED", agentInput("new@acme.test")},
		} {
			r := e.Do(c.token, createAgentQ, map[string]any{"in": c.in})
			require.Equal(t, c.code, r.Code(), "%s: %+v", c.name, r.Errors)
			requireCode(t, r, c.code, "createAgent")
			require.Equal(t, n, userCount(t, e), "%s created a user", c.name)
		}

		// A super admin does not manage a company's agents.
		root := e.SuperAdmin("root")
		requireCode(t, e.Do(root, createAgentQ, map[string]any{"in": agentInput("new@acme.test")}), "FORBIDDEN", "createAgent")
		require.Equal(t, n, userCount(t, e))
	})
}

func TestAgentsQuery(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		e.Do(a.AdminToken, createAgentQ, map[string]any{"in": agentInput("boss@acme.test", "role", "COMPANY_ADMIN")}).OK(t)

		type conn struct {
			Agents struct {
				TotalCount int
				Edges      []struct {
					Node struct{ ID, Email, Role string }
				}
			}
		}
		list := func(tok string, vars map[string]any) conn {
			t.Helper()
			var c conn
			e.Do(tok, `query($w: UserWhereInput) { agents(first: 50, where: $w) { totalCount edges { node { id email role } } } }`, vars).OK(t).Decode(t, &c)
			return c
		}
		emails := func(c conn) []string {
			var out []string
			for _, ed := range c.Agents.Edges {
				out = append(out, ed.Node.Email)
			}
			return out
		}

		all := list(a.AdminToken, nil)
		require.Equal(t, 3, all.Agents.TotalCount)
		require.ElementsMatch(t, []string{a.AdminEmail, a.AgentEmail, "boss@acme.test"}, emails(all))

		agents := list(a.AdminToken, map[string]any{"w": map[string]any{"role": "AGENT"}})
		require.Equal(t, 1, agents.Agents.TotalCount)
		require.Equal(t, a.AgentID.String(), agents.Agents.Edges[0].Node.ID)

		admins := list(a.AgentToken, map[string]any{"w": map[string]any{"role": "COMPANY_ADMIN"}})
		require.ElementsMatch(t, []string{a.AdminEmail, "boss@acme.test"}, emails(admins), "agents see their team too")

		byEmail := list(a.APIKey, map[string]any{"w": map[string]any{"emailContains": "boss"}})
		require.Equal(t, []string{"boss@acme.test"}, emails(byEmail), "an agents:read key lists them")

		requireCode(t, e.Do("", `{ agents { totalCount } }`, nil), "UNAUTHENTICATED", "agents")
	})
}

func TestUpdateAgent(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")

		r := e.Do(a.AdminToken, updateAgentQ, map[string]any{"id": a.AgentID, "in": map[string]any{"fullName": "Agent Renamed"}}).OK(t)
		require.Equal(t, "Agent Renamed", r.Str("updateAgent.fullName"))
		e.Do(a.AgentToken, meQ, nil).OK(t) // a rename keeps sessions

		r = e.Do(a.AdminToken, updateAgentQ, map[string]any{"id": a.AgentID, "in": map[string]any{"role": "COMPANY_ADMIN"}}).OK(t)
		require.Equal(t, "COMPANY_ADMIN", r.Str("updateAgent.role"))
		require.Equal(t, user.RoleCOMPANY_ADMIN, getUser(t, e, a.AgentID).Role)
		r = e.Do(a.AdminToken, updateAgentQ, map[string]any{"id": a.AgentID, "in": map[string]any{"role": "AGENT"}}).OK(t)
		require.Equal(t, "AGENT", r.Str("updateAgent.role"))

		// A new password ends the agent's sessions.
		agentLogin := login(e, a.AgentEmail, apitest.Password).OK(t)
		const newPass = "a brand new passphrase"
		e.Do(a.AdminToken, updateAgentQ, map[string]any{"id": a.AgentID, "in": map[string]any{"password": newPass}}).OK(t)
		requireRefused(t, e.Do(a.AgentToken, meQ, nil))
		requireRefused(t, e.Do(agentLogin.Str("login.token"), meQ, nil))
		requireCode(t, e.Do("", refreshQ, map[string]any{"t": agentLogin.Str("login.refreshToken")}), "UNAUTHENTICATED", "refreshToken")
		requireCode(t, login(e, a.AgentEmail, apitest.Password), "UNAUTHENTICATED", "login")
		tok := login(e, a.AgentEmail, newPass).OK(t).Str("login.token")
		e.Do(tok, meQ, nil).OK(t)
		e.Do(a.AdminToken, meQ, nil).OK(t) // only the agent's sessions ended

		// Bad input changes nothing.
		before := getUser(t, e, a.AgentID)
		for name, in := range map[string]map[string]any{
			"short password": {"password": "short", "fullName": "Not Applied"},
			"bad email":      {"email": "nope"},
			"taken email":    {"email": a.AdminEmail},
			"empty name":     {"fullName": ""},
		} {
			r := e.Do(a.AdminToken, updateAgentQ, map[string]any{"id": a.AgentID, "in": in})
			require.NotEmpty(t, r.Errors, name)
			require.Contains(t, []string{"BAD_USER_INPUT", "CONFLICT"}, r.Code(), name)
			after := getUser(t, e, a.AgentID)
			require.Equal(t, before.FullName, after.FullName, name)
			require.Equal(t, before.Email, after.Email, name)
			require.Equal(t, before.HashedPassword, after.HashedPassword, name)
		}

		// The last company admin can be neither demoted nor deactivated.
		for name, in := range map[string]map[string]any{
			"demote":     {"role": "AGENT"},
			"deactivate": {"isActive": false},
		} {
			r := e.Do(a.AdminToken, updateAgentQ, map[string]any{"id": a.AdminID, "in": in})
			require.Equal(t, "BAD_USER_INPUT", r.Code(), "%s: %+v", name, r.Errors)
			u := getUser(t, e, a.AdminID)
			require.Equal(t, user.RoleCOMPANY_ADMIN, u.Role, name)
			require.True(t, u.IsActive, name)
		}
		e.Do(a.AdminToken, meQ, nil).OK(t)

		// With a second admin, the first may step down.
		e.Do(a.AdminToken, updateAgentQ, map[string]any{"id": a.AgentID, "in": map[string]any{"role": "COMPANY_ADMIN"}}).OK(t)
		e.Do(a.AdminToken, updateAgentQ, map[string]any{"id": a.AdminID, "in": map[string]any{"role": "AGENT"}}).OK(t)
		require.Equal(t, user.RoleAGENT, getUser(t, e, a.AdminID).Role)
		// The old admin's token still says COMPANY_ADMIN, but rights follow the account.
		requireCode(t, e.Do(a.AdminToken, createAgentQ, map[string]any{"in": agentInput("sneaky@acme.test")}), "FORBIDDEN", "createAgent")
		sneaky, err := e.DB.Client.User.Query().Where(user.Email("sneaky@acme.test")).Exist(apitest.Bypass())
		require.NoError(t, err)
		require.False(t, sneaky)

		// Roles swapped: the first admin is now an agent and cannot change
		// anyone, itself included; nor can an API key. The new admin can,
		// and an id it cannot see is NOT_FOUND.
		requireCode(t, e.Do(a.AdminToken, updateAgentQ, map[string]any{"id": a.AgentID, "in": map[string]any{"fullName": "x"}}), "FORBIDDEN", "updateAgent")
		requireCode(t, e.Do(a.AdminToken, updateAgentQ, map[string]any{"id": a.AdminID, "in": map[string]any{"role": "COMPANY_ADMIN"}}), "FORBIDDEN", "updateAgent")
		requireCode(t, e.Do(a.APIKey, updateAgentQ, map[string]any{"id": a.AdminID, "in": map[string]any{"fullName": "x"}}), "FORBIDDEN", "updateAgent")
		require.Equal(t, user.RoleAGENT, getUser(t, e, a.AdminID).Role)
		requireCode(t, e.Do(tok, updateAgentQ, map[string]any{"id": uuid.New(), "in": map[string]any{"fullName": "x"}}), "NOT_FOUND", "updateAgent")
		e.Do(tok, updateAgentQ, map[string]any{"id": a.AdminID, "in": map[string]any{"fullName": "Former Admin"}}).OK(t)
	})
}

func TestRemoveAgent(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		agentSession := login(e, a.AgentEmail, apitest.Password).OK(t)

		requireCode(t, e.Do(a.AgentToken, removeAgentQ, map[string]any{"id": a.AdminID}), "FORBIDDEN", "removeAgent")
		requireCode(t, e.Do(a.APIKey, removeAgentQ, map[string]any{"id": a.AgentID}), "FORBIDDEN", "removeAgent")
		requireCode(t, e.Do(a.AdminToken, removeAgentQ, map[string]any{"id": a.AdminID}), "BAD_USER_INPUT", "removeAgent")
		requireCode(t, e.Do(a.AdminToken, removeAgentQ, map[string]any{"id": uuid.New()}), "NOT_FOUND", "removeAgent")
		require.Equal(t, 2, userCount(t, e))

		r := e.Do(a.AdminToken, removeAgentQ, map[string]any{"id": a.AgentID}).OK(t)
		require.Equal(t, true, r.Get("removeAgent"))
		exists, err := e.DB.Client.User.Query().Where(user.ID(a.AgentID)).Exist(apitest.Bypass())
		require.NoError(t, err)
		require.False(t, exists)
		requireRefused(t, e.Do(a.AgentToken, meQ, nil))
		requireCode(t, e.Do("", refreshQ, map[string]any{"t": agentSession.Str("login.refreshToken")}), "UNAUTHENTICATED", "refreshToken")
		requireCode(t, login(e, a.AgentEmail, apitest.Password), "UNAUTHENTICATED", "login")

		r = e.Do(a.AdminToken, `{ agents { totalCount } }`, nil).OK(t)
		require.Equal(t, float64(1), r.Get("agents.totalCount"))
		requireCode(t, e.Do(a.AdminToken, removeAgentQ, map[string]any{"id": a.AgentID}), "NOT_FOUND", "removeAgent")

		// The email is free again.
		e.Do(a.AdminToken, createAgentQ, map[string]any{"in": agentInput(a.AgentEmail)}).OK(t)
	})
}
