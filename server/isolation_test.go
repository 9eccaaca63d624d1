package server_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/account"
	"concierge/apitest"
	"concierge/chat"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/ent/apikey"
	"concierge/ent/conversation"
	"concierge/ent/message"
	"concierge/ent/refreshtoken"
	"concierge/ent/resource"
	"concierge/ent/user"
	"concierge/ent/visitor"
	"concierge/ingest"
	"concierge/realtime"
	"concierge/retrieval"
	"concierge/viewer"
)

// The isolation matrix (DESIGN.md §6, issue 2): every caller of company A
// (and an anonymous one) runs every operation against company B's ids. Each
// cell is refused (an error code from isoRefusedCodes, or null data) or answers
// with the caller's own data only; no response ever carries a value of B;
// and afterwards B's rows in the database are exactly as before.
//
// Later issues add their operations to isolationOps (and new kinds of
// caller to setupIsolation). Package-level names carry an "iso" prefix: the
// package's other test files are written alongside.

// isoRefusedCodes are the error codes a refused cell may carry.
var isoRefusedCodes = []string{"NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED", "BAD_USER_INPUT"}

// isoVictim is company B as the matrix aims at it: its ids by kind and the
// values that must never show up in a response to someone else.
type isoVictim struct {
	*apitest.Tenant
	// id holds one id of B per kind: "company", "admin", "agent", "API key",
	// "visitor", "conversation", "message", "resource". Later issues add
	// the kinds they create.
	id map[string]uuid.UUID
}

// kinds lists the kinds of B's ids, sorted.
func (b *isoVictim) kinds() []string {
	return slices.Sorted(maps.Keys(b.id))
}

// secrets lists the strings of B that must never appear in a response.
func (b *isoVictim) secrets() []string {
	s := []string{b.AdminEmail, b.AgentEmail, "hello@bravo.test", "Company bravo", b.WidgetKey,
		"visitor@bravo.test", "Visitor of bravo", "Message of bravo", "Knowledge of bravo"}
	for _, id := range b.id {
		s = append(s, id.String())
	}
	return s
}

// The callers of the matrix.
const (
	isoAdminA   = "A admin"
	isoAgentA   = "A agent"
	isoKeyA     = "A API key"
	isoVisitorA = "A visitor"
	isoAnon     = "anonymous"
)

var (
	isoEveryone  = []string{isoAdminA, isoAgentA, isoKeyA, isoVisitorA, isoAnon}
	isoTenantOfA = []string{isoAdminA, isoAgentA, isoKeyA, isoVisitorA}
	isoStaffOfA  = []string{isoAdminA, isoAgentA, isoKeyA}
	isoUsersOfA  = []string{isoAdminA, isoAgentA}
)

// isoCaller is one principal of the matrix.
type isoCaller struct {
	name  string
	token string
	// fresh returns a token of a new session, for operations that end the
	// session they run in (logout); nil means token is reused.
	fresh func() string
}

// isoOp is one GraphQL operation aimed at B.
type isoOp struct {
	name  string
	query string
	vars  func(b *isoVictim, c isoCaller) map[string]any
	// answers: the operation may succeed with the caller's own data (me,
	// lists, creates in the caller's company). Otherwise it must be refused.
	answers bool
	// okFor names the callers that must get an answer without errors (so
	// an error cannot hide what the answer would carry).
	okFor []string
	// codes are error codes accepted besides isoRefusedCodes.
	codes []string
	// endsSession: run with a fresh session of the caller.
	endsSession bool
	// check makes further assertions on the response.
	check func(t *testing.T, m *isoMatrix, c isoCaller, r *apitest.Response)
}

// isoMatrix is the state the operations run in.
type isoMatrix struct {
	e     *apitest.Env
	a     *apitest.Tenant
	b     *isoVictim
	super string
}

func isoID(u uuid.UUID) string { return u.String() }

// isoVar builds the variables {"id": B's id of kind}.
func isoVar(kind string) func(*isoVictim, isoCaller) map[string]any {
	return func(b *isoVictim, _ isoCaller) map[string]any {
		id, ok := b.id[kind]
		if !ok {
			panic("isolation matrix: no id of kind " + kind)
		}
		return map[string]any{"id": id.String()}
	}
}

func isoNoVars(*isoVictim, isoCaller) map[string]any { return nil }

// isoWantEmpty checks that a connection the caller may list is empty.
func isoWantEmpty(path string) func(t *testing.T, m *isoMatrix, c isoCaller, r *apitest.Response) {
	return func(t *testing.T, _ *isoMatrix, _ isoCaller, r *apitest.Response) {
		if len(r.Errors) == 0 {
			require.EqualValues(t, 0, r.Get(path+".totalCount"), "%s must be empty", path)
		}
	}
}

// isoLandsInOwnCompany checks that a create either failed or created a row of
// the caller's company A.
func isoLandsInOwnCompany(path string, companyOf func(m *isoMatrix, id uuid.UUID) uuid.UUID) func(t *testing.T, m *isoMatrix, c isoCaller, r *apitest.Response) {
	return func(t *testing.T, m *isoMatrix, _ isoCaller, r *apitest.Response) {
		if len(r.Errors) > 0 {
			return
		}
		created := uuid.MustParse(r.Str(path))
		require.Equal(t, m.a.CompanyID, companyOf(m, created), "created in the caller's company")
	}
}

const isoNodeFields = `id
	... on Company { name email slug widgetKey isActive }
	... on User { email fullName role companyID }
	... on APIKey { keyName: name prefix companyID }
	... on Visitor { visitorName: name visitorEmail: email companyID }
	... on Conversation { status companyID }
	... on Message { body companyID }
	... on Resource { title companyID }`

// isolationOps are the root operations of issue 2, aimed at B.
func isolationOps() []isoOp {
	ops := []isoOp{
		{name: "me", answers: true, okFor: isoEveryone, vars: isoNoVars, query: `{ me { kind
			user { id email companyID company { id name } } apiKey { id companyID }
			visitor { id companyID } company { id name email } } }`},
		{name: "company(B)", query: `query($id: ID) { company(id: $id) { id name email slug widgetKey isActive subscriptionPlan } }`,
			vars: isoVar("company")},
		{name: "company(own)", answers: true, okFor: isoTenantOfA, vars: isoNoVars, query: `{ company { id name } }`},
		{name: "companies", answers: true, okFor: isoTenantOfA, vars: isoNoVars,
			query: `{ companies(first: 100) { totalCount edges { node { id name email slug widgetKey } } } }`},
		{name: "companies(where id B)", answers: true, okFor: isoTenantOfA, check: isoWantEmpty("companies"),
			query: `query($id: ID) { companies(where: {id: $id}) { totalCount edges { node { id name } } } }`,
			vars:  isoVar("company")},
		{name: "agents", answers: true, okFor: isoStaffOfA, vars: isoNoVars,
			query: `{ agents(first: 100) { totalCount edges { node { id email fullName companyID company { id name } } } } }`},
		{name: "agents(where companyID B)", answers: true, okFor: isoStaffOfA, check: isoWantEmpty("agents"),
			query: `query($id: ID) { agents(where: {companyID: $id}) { totalCount edges { node { id email } } } }`,
			vars:  isoVar("company")},
		{name: "agents(where hasCompanyWith B)", answers: true, okFor: isoStaffOfA, check: isoWantEmpty("agents"),
			query: `query($id: ID) { agents(where: {hasCompanyWith: {id: $id}}) { totalCount edges { node { id email } } } }`,
			vars:  isoVar("company")},
		{name: "agents(where id B)", answers: true, okFor: isoStaffOfA, check: isoWantEmpty("agents"),
			query: `query($ids: [ID!]) { agents(where: {idIn: $ids}) { totalCount edges { node { id email } } } }`,
			vars: func(b *isoVictim, _ isoCaller) map[string]any {
				return map[string]any{"ids": []string{isoID(b.AdminID), isoID(b.AgentID)}}
			}},
		{name: "apiKeys", answers: true, okFor: []string{isoAdminA}, vars: isoNoVars,
			query: `{ apiKeys { id name prefix companyID company { id name } createdBy { id email } } }`},
		{name: "conversations", answers: true, okFor: isoTenantOfA, vars: isoNoVars,
			query: `{ conversations(first: 100) { totalCount edges { node { id companyID visitor { id name }
				messages(first: 100) { edges { node { id body } } } } } } }`},
		{name: "conversations(where companyID B)", answers: true, okFor: isoTenantOfA, check: isoWantEmpty("conversations"),
			query: `query($id: ID) { conversations(where: {companyID: $id}) { totalCount edges { node { id } } } }`,
			vars:  isoVar("company")},
		{name: "conversations(where id B)", answers: true, okFor: isoTenantOfA, check: isoWantEmpty("conversations"),
			query: `query($id: ID) { conversations(where: {id: $id}) { totalCount edges { node { id } } } }`,
			vars:  isoVar("conversation")},
		{name: "resources", answers: true, okFor: isoStaffOfA, vars: isoNoVars,
			query: `{ resources(first: 100) { totalCount edges { node { id title companyID company { id name } } } } }`},
		{name: "resources(where companyID B)", answers: true, okFor: isoStaffOfA, check: isoWantEmpty("resources"),
			query: `query($id: ID) { resources(where: {companyID: $id}) { totalCount edges { node { id } } } }`,
			vars:  isoVar("company")},
		{name: "nodes(all of B)", query: `query($ids: [ID!]!) { nodes(ids: $ids) { ` + isoNodeFields + ` } }`,
			vars: func(b *isoVictim, _ isoCaller) map[string]any {
				var ids []string
				for _, kind := range b.kinds() {
					ids = append(ids, isoID(b.id[kind]))
				}
				return map[string]any{"ids": ids}
			}},

		{name: "updateCompany(B)",
			query: `mutation($id: ID) { updateCompany(id: $id, input: {name: "Hacked", greeting: "pwned"}) { id name } }`,
			vars:  isoVar("company")},
		{name: "updateCompany(B plan)",
			query: `mutation($id: ID) { updateCompany(id: $id, input: {subscriptionPlan: ENTERPRISE}) { id subscriptionPlan } }`,
			vars:  isoVar("company")},
		{name: "deactivateCompany(B)", query: `mutation($id: ID) { deactivateCompany(id: $id) { id isActive } }`,
			vars: isoVar("company")},
		{name: "activateCompany(B)", query: `mutation($id: ID!) { activateCompany(id: $id) { id isActive } }`,
			vars: isoVar("company")},
		{name: "deleteCompany(B)", query: `mutation($id: ID!) { deleteCompany(id: $id) }`,
			vars: isoVar("company")},

		{name: "createAgent", answers: true, okFor: []string{isoAdminA},
			query: `mutation($in: CreateAgentInput!) { createAgent(input: $in) { id companyID company { id } } }`,
			vars: func(_ *isoVictim, c isoCaller) map[string]any {
				return map[string]any{"in": map[string]any{"email": "created-by-" + isoSlugOf(c) + "@alpha.test",
					"fullName": "Mole", "password": apitest.Password, "role": "COMPANY_ADMIN"}}
			},
			check: isoLandsInOwnCompany("createAgent.id", func(m *isoMatrix, id uuid.UUID) uuid.UUID {
				u, err := m.e.DB.Client.User.Get(apitest.Bypass(), id)
				require.NoError(m.e.T, err)
				return u.CompanyID
			})},
		{name: "createAgent(B agent's email)", codes: []string{"CONFLICT"}, // emails are unique platform-wide
			query: `mutation($in: CreateAgentInput!) { createAgent(input: $in) { id email companyID } }`,
			vars: func(b *isoVictim, _ isoCaller) map[string]any {
				return map[string]any{"in": map[string]any{"email": b.AgentEmail, "fullName": "Mole", "password": apitest.Password}}
			}},
		{name: "updateAgent(B agent)",
			query: `mutation($id: ID!) { updateAgent(id: $id, input: {fullName: "Hacked", role: COMPANY_ADMIN, isActive: false}) { id email } }`,
			vars:  isoVar("agent")},
		{name: "updateAgent(B admin)",
			query: `mutation($id: ID!, $email: String) { updateAgent(id: $id, input: {email: $email, password: "new password 123"}) { id email } }`,
			vars: func(b *isoVictim, c isoCaller) map[string]any {
				return map[string]any{"id": isoID(b.AdminID), "email": "taken-by-" + isoSlugOf(c) + "@alpha.test"}
			}},
		{name: "removeAgent(B agent)", query: `mutation($id: ID!) { removeAgent(id: $id) }`,
			vars: isoVar("agent")},
		{name: "removeAgent(B admin)", query: `mutation($id: ID!) { removeAgent(id: $id) }`,
			vars: isoVar("admin")},
		{name: "createApiKey", answers: true, okFor: []string{isoAdminA},
			query: `mutation { createApiKey(input: {name: "mole", scopes: [AGENTS_READ]}) { secret apiKey { id companyID } } }`,
			vars:  isoNoVars,
			check: isoLandsInOwnCompany("createApiKey.apiKey.id", func(m *isoMatrix, id uuid.UUID) uuid.UUID {
				k, err := m.e.DB.Client.APIKey.Get(apitest.Bypass(), id)
				require.NoError(m.e.T, err)
				return k.CompanyID
			})},
		{name: "revokeApiKey(B key)", query: `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`,
			vars: isoVar("API key")},

		{name: "refreshToken(garbage)", query: `mutation($t: String!) { refreshToken(token: $t) { token user { id } } }`,
			vars: func(*isoVictim, isoCaller) map[string]any { return map[string]any{"t": "garbage"} }},
		{name: "refreshToken(forged)", query: `mutation($t: String!) { refreshToken(token: $t) { token user { id } } }`,
			vars: func(*isoVictim, isoCaller) map[string]any {
				return map[string]any{"t": "rt_" + strings.Repeat("A", 43)}
			}},
		{name: "login(B admin, wrong password)", codes: []string{"RATE_LIMITED"},
			query: `mutation($e: String!) { login(email: $e, password: "not the password") { token user { id } } }`,
			vars:  func(b *isoVictim, _ isoCaller) map[string]any { return map[string]any{"e": b.AdminEmail} }},
		{name: "superAdminLogin(garbage)", codes: []string{"RATE_LIMITED"},
			query: `mutation { superAdminLogin(username: "root", password: "garbage") { token } }`, vars: isoNoVars},
		{name: "registerCompany(B's slug and admin)", codes: []string{"CONFLICT"},
			query: `mutation($in: RegisterCompanyInput!) { registerCompany(input: $in) { token company { id } user { id } } }`,
			vars: func(b *isoVictim, _ isoCaller) map[string]any {
				return map[string]any{"in": map[string]any{"name": "Company bravo", "slug": "bravo", "email": "hello@bravo.test",
					"adminFullName": "Mole", "adminEmail": b.AdminEmail, "adminPassword": apitest.Password}}
			}},
		{name: "logout", answers: true, okFor: isoUsersOfA, endsSession: true, query: `mutation { logout }`, vars: isoNoVars},

		// Issue 4: resources.
		{name: "resource(B)", query: `query($id: ID!) { resource(id: $id) { id title status companyID } }`,
			vars: isoVar("resource")},
		{name: "addText", answers: true, okFor: []string{isoAdminA, isoKeyA},
			query: `mutation($in: AddTextInput!) { addText(input: $in) { id title companyID company { id } } }`,
			vars: func(_ *isoVictim, c isoCaller) map[string]any {
				return map[string]any{"in": map[string]any{"title": "Text of " + isoSlugOf(c), "content": "Knowledge of alpha."}}
			},
			check: isoLandsInOwnCompany("addText.id", func(m *isoMatrix, id uuid.UUID) uuid.UUID {
				r, err := m.e.DB.Client.Resource.Get(apitest.Bypass(), id)
				require.NoError(m.e.T, err)
				return r.CompanyID
			})},
		{name: "addWebsite", answers: true, okFor: []string{isoAdminA, isoKeyA},
			query: `mutation($in: AddWebsiteInput!) { addWebsite(input: $in) { id title type sourceURL companyID company { id } } }`,
			vars: func(_ *isoVictim, c isoCaller) map[string]any {
				// A closed local port: the crawl fails, which is not the point here.
				return map[string]any{"in": map[string]any{"url": "http://127.0.0.1:9/" + isoSlugOf(c), "maxPages": 1,
					"renderJavascript": false}}
			},
			check: isoLandsInOwnCompany("addWebsite.id", func(m *isoMatrix, id uuid.UUID) uuid.UUID {
				r, err := m.e.DB.Client.Resource.Get(apitest.Bypass(), id)
				require.NoError(m.e.T, err)
				return r.CompanyID
			})},
		{name: "addFacebookPage", answers: true, okFor: []string{isoAdminA, isoKeyA},
			query: `mutation($in: AddFacebookPageInput!) { addFacebookPage(input: $in) { id title type sourceURL companyID company { id } } }`,
			vars: func(_ *isoVictim, c isoCaller) map[string]any {
				return map[string]any{"in": map[string]any{"page": "https://www.facebook.com/alphapage",
					"accessToken": "EAA-token-of-" + isoSlugOf(c)}}
			},
			check: func(t *testing.T, m *isoMatrix, c isoCaller, r *apitest.Response) {
				isoLandsInOwnCompany("addFacebookPage.id", func(m *isoMatrix, id uuid.UUID) uuid.UUID {
					r, err := m.e.DB.Client.Resource.Get(apitest.Bypass(), id)
					require.NoError(m.e.T, err)
					return r.CompanyID
				})(t, m, c, r)
				if len(r.Errors) == 0 {
					b, err := json.Marshal(r)
					require.NoError(t, err)
					require.NotContains(t, string(b), "EAA-token-of-", "the access token is never returned")
				}
			}},
		{name: "updateResource(B)",
			query: `mutation($id: ID!) { updateResource(id: $id, input: {title: "Hacked", isActive: false}) { id title isActive } }`,
			vars:  isoVar("resource")},
		{name: "updateResource(B title only)",
			query: `mutation($id: ID!) { updateResource(id: $id, input: {title: "Hacked"}) { id title } }`,
			vars:  isoVar("resource")},
		{name: "deleteResource(B)", query: `mutation($id: ID!) { deleteResource(id: $id) }`,
			vars: isoVar("resource")},
		{name: "reprocessResource(B)", query: `mutation($id: ID!) { reprocessResource(id: $id) { id status } }`,
			vars: isoVar("resource")},

		// Conversations (issue 5). widgetConfig and startConversation are
		// public by design (anyone on B's site uses B's widget key, which is
		// not an id) and are tested in conversation_test.go.
		{name: "conversation(B)", answers: true, vars: isoVar("conversation"),
			query: `query($id: ID!) { conversation(id: $id) { id status lastMessagePreview visitor { name email } messages(first: 10) { edges { node { body citations { title snippet } } } } } }`,
			check: func(t *testing.T, _ *isoMatrix, _ isoCaller, r *apitest.Response) {
				require.Nil(t, r.Get("conversation"), "B's conversation does not exist for A")
			}},
		{name: "sendMessage(B)", vars: isoVar("conversation"),
			query: `mutation($id: ID!) { sendMessage(conversationId: $id, body: "Hacked", clientMessageId: "x") { id body } }`},
		{name: "requestHuman(B)", vars: isoVar("conversation"),
			query: `mutation($id: ID!) { requestHuman(conversationId: $id) { id status } }`},
		{name: "takeOverConversation(B)", vars: isoVar("conversation"),
			query: `mutation($id: ID!) { takeOverConversation(id: $id) { id status } }`},
		{name: "handBackToBot(B)", vars: isoVar("conversation"),
			query: `mutation($id: ID!) { handBackToBot(id: $id) { id status } }`},
		{name: "closeConversation(B)", vars: isoVar("conversation"),
			query: `mutation($id: ID!) { closeConversation(id: $id) { id status } }`},
		{name: "setTyping(B)", vars: isoVar("conversation"),
			query: `mutation($id: ID!) { setTyping(conversationId: $id, typing: true) }`},
		{name: "rateConversation(B)", vars: isoVar("conversation"),
			query: `mutation($id: ID!) { rateConversation(conversationId: $id, rating: 1, comment: "bad") { id rating } }`},
		{name: "auditLogs", answers: true, okFor: []string{isoAdminA}, vars: isoNoVars,
			query: `{ auditLogs(first: 100) { totalCount edges { node { action actorName companyID targetID summary } } } }`},
		{name: "auditLogs(where companyID B)", answers: true, okFor: []string{isoAdminA}, check: isoWantEmpty("auditLogs"),
			query: `query($id: ID) { auditLogs(where: {companyID: $id}) { totalCount edges { node { action actorName } } } }`,
			vars:  isoVar("company")},
		{name: "analytics(B)", vars: isoVar("company"),
			query: `query($id: ID) { analytics(companyId: $id) { conversations messages knowledgeGaps { question count } } }`},
		{name: "analytics(own)", answers: true, okFor: isoStaffOfA, vars: isoNoVars,
			query: `{ analytics { conversations messages visitorMessages knowledgeGaps { question count } byDay { day conversations } } }`,
			check: func(t *testing.T, _ *isoMatrix, _ isoCaller, r *apitest.Response) {
				if len(r.Errors) == 0 {
					require.EqualValues(t, 1, r.Get("analytics.conversations"), "A's own conversation only")
				}
			}},

		// The dashboard's fields. B's knowledge is indexed (setupIsolation):
		// a test question never reaches it.
		{name: "agents(online)", answers: true, okFor: isoStaffOfA, vars: isoNoVars,
			query: `{ agents(first: 100) { edges { node { id email online } } } }`},
		{name: "resource(B) chunks", vars: isoVar("resource"),
			query: `query($id: ID!) { resource(id: $id) { id chunks(limit: 100) { totalCount chunks { id text heading } } } }`},
		{name: "node(B resource) chunks", vars: isoVar("resource"),
			query: `query($id: ID!) { node(id: $id) { id ... on Resource { chunks { totalCount chunks { id text } } } } }`},
		{name: "resources chunks", answers: true, okFor: isoStaffOfA, vars: isoNoVars,
			query: `{ resources(first: 100) { edges { node { id title chunks(limit: 100) { totalCount chunks { id text } } } } } }`},
		{name: "testQuestion(B)", vars: isoVar("company"),
			query: `query($id: ID) { testQuestion(question: "What is the recipe?", companyId: $id) { answer passages { resourceID title text } } }`},
		{name: "testQuestion(own)", answers: true, okFor: isoStaffOfA, vars: isoNoVars,
			query: `{ testQuestion(question: "What is the secret recipe of the knowledge?") { answer outcome
				citations { resourceID title snippet resource { id } } passages { resourceID resource { id title } title text score } } }`},
		{name: "rotateIdentitySecret(B)", vars: isoVar("company"),
			query: `mutation($id: ID) { rotateIdentitySecret(id: $id) { id identitySecret } }`},
	}
	// node(id) and nodes(ids) for each kind of B's ids.
	for _, kind := range []string{"company", "admin", "agent", "API key", "visitor", "conversation", "message", "resource"} {
		ops = append(ops,
			isoOp{name: "node(B " + kind + ")", vars: isoVar(kind),
				query: `query($id: ID!) { node(id: $id) { ` + isoNodeFields + ` } }`},
			isoOp{name: "nodes(B " + kind + ")", vars: isoVar(kind),
				query: `query($id: ID!) { nodes(ids: [$id]) { ` + isoNodeFields + ` } }`})
	}
	return ops
}

func isoSlugOf(c isoCaller) string { return strings.ReplaceAll(c.name, " ", "-") }

// isoSeedChat adds, with the bypass, what the API of issue 2 cannot create
// yet: a visitor, a conversation with a message, and a resource.
func isoSeedChat(t *testing.T, d *db.DB, companyID uuid.UUID, slug string) (vis, conv, msg, res uuid.UUID) {
	t.Helper()
	ctx := apitest.Bypass()
	v, err := d.Client.Visitor.Create().SetCompanyID(companyID).SetName("Visitor of " + slug).
		SetEmail("visitor@" + slug + ".test").Save(ctx)
	require.NoError(t, err)
	c, err := d.Client.Conversation.Create().SetCompanyID(companyID).SetVisitorID(v.ID).Save(ctx)
	require.NoError(t, err)
	m, err := d.Client.Message.Create().SetCompanyID(companyID).SetConversationID(c.ID).SetSeq(nextSeq()).
		SetSenderType(message.SenderTypeVISITOR).SetBody("Message of " + slug).Save(ctx)
	require.NoError(t, err)
	r, err := d.Client.Resource.Create().SetCompanyID(companyID).SetType(resource.TypeTEXT).
		SetTitle("Knowledge of " + slug).Save(ctx)
	require.NoError(t, err)
	return v.ID, c.ID, m.ID, r.ID
}

func setupIsolation(t *testing.T, d *db.DB) (*isoMatrix, []isoCaller) {
	t.Helper()
	e := apitest.New(t, d)
	m := &isoMatrix{e: e, a: e.Register("alpha"), b: &isoVictim{Tenant: e.Register("bravo")}}
	m.super = e.SuperAdmin("root")
	aVisitor, aConv, _, _ := isoSeedChat(t, d, m.a.CompanyID, "alpha")
	vis, conv, msg, res := isoSeedChat(t, d, m.b.CompanyID, "bravo")
	m.b.id = map[string]uuid.UUID{"company": m.b.CompanyID, "admin": m.b.AdminID, "agent": m.b.AgentID,
		"API key": m.b.APIKeyID, "visitor": vis, "conversation": conv, "message": msg, "resource": res}
	// B's knowledge is in its index (the seeded resource has no job).
	require.NoError(t, e.App.Retrieval.IndexResource(viewer.SystemContext(context.Background(), m.b.CompanyID), res,
		[]retrieval.Passage{{Title: "Knowledge of bravo", Text: "The secret recipe of the knowledge of bravo: Knowledge of bravo."}}))
	visitorToken, _, err := e.App.Auth.IssueVisitorToken(aVisitor, m.a.CompanyID, aConv)
	require.NoError(t, err)
	callers := []isoCaller{
		{name: isoAdminA, token: m.a.AdminToken, fresh: func() string { return e.Login(m.a.AdminEmail, apitest.Password) }},
		{name: isoAgentA, token: m.a.AgentToken, fresh: func() string { return e.Login(m.a.AgentEmail, apitest.Password) }},
		{name: isoKeyA, token: m.a.APIKey},
		{name: isoVisitorA, token: visitorToken},
		{name: isoAnon, token: ""},
	}
	return m, callers
}

// isoRefused reports whether r refuses: errors with accepted codes only, or
// no data (every root field null, or a list of nulls).
func isoRefused(t *testing.T, r *apitest.Response, codes []string) bool {
	t.Helper()
	if len(r.Errors) > 0 {
		for _, e := range r.Errors {
			require.Contains(t, codes, e.Extensions["code"], "error %q", e.Message)
		}
		return true
	}
	var data map[string]any
	require.NoError(t, json.Unmarshal(r.Data, &data))
	for _, v := range data {
		switch v := v.(type) {
		case nil:
		case []any:
			for _, x := range v {
				if x != nil {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// isoLeaks returns the secrets the raw response carries.
func isoLeaks(t *testing.T, r *apitest.Response, secrets []string) []string {
	t.Helper()
	raw, err := json.Marshal(r)
	require.NoError(t, err)
	body := strings.ToLower(string(raw))
	var found []string
	for _, s := range secrets {
		if strings.Contains(body, strings.ToLower(s)) {
			found = append(found, s)
		}
	}
	return found
}

// isoRequireNoneOf fails if the raw response carries any of secrets.
func isoRequireNoneOf(t *testing.T, r *apitest.Response, secrets []string) {
	t.Helper()
	require.Empty(t, isoLeaks(t, r, secrets), "the response carries values of B: %s %v", r.Data, r.Errors)
}

// isoSnapshot returns B's rows, read with the bypass, in a comparable form.
func isoSnapshot(t *testing.T, d *db.DB, b *isoVictim) string {
	t.Helper()
	ctx := apitest.Bypass()
	c := d.Client
	co, err := c.Company.Get(ctx, b.CompanyID)
	require.NoError(t, err)
	users, err := c.User.Query().Where(user.CompanyID(b.CompanyID)).Order(ent.Asc(user.FieldID)).All(ctx)
	require.NoError(t, err)
	type userRow struct { // with what JSON leaves out
		*ent.User
		PasswordHash string
	}
	var userRows []userRow
	var userIDs []uuid.UUID
	for _, u := range users {
		userRows = append(userRows, userRow{u, u.HashedPassword})
		userIDs = append(userIDs, u.ID)
	}
	keys, err := c.APIKey.Query().Where(apikey.CompanyID(b.CompanyID)).Order(ent.Asc(apikey.FieldID)).All(ctx)
	require.NoError(t, err)
	tokens, err := c.RefreshToken.Query().Where(refreshtoken.UserIDIn(userIDs...)).Order(ent.Asc(refreshtoken.FieldID)).All(ctx)
	require.NoError(t, err)
	visitors, err := c.Visitor.Query().Where(visitor.CompanyID(b.CompanyID)).Order(ent.Asc(visitor.FieldID)).All(ctx)
	require.NoError(t, err)
	convs, err := c.Conversation.Query().Where(conversation.CompanyID(b.CompanyID)).Order(ent.Asc(conversation.FieldID)).All(ctx)
	require.NoError(t, err)
	msgs, err := c.Message.Query().Where(message.CompanyID(b.CompanyID)).Order(ent.Asc(message.FieldID)).All(ctx)
	require.NoError(t, err)
	resources, err := c.Resource.Query().Where(resource.CompanyID(b.CompanyID)).Order(ent.Asc(resource.FieldID)).All(ctx)
	require.NoError(t, err)
	out, err := json.MarshalIndent(map[string]any{
		"company": co, "identitySecret": co.IdentitySecret, "users": userRows, "apiKeys": keys, "refreshTokens": tokens,
		"visitors": visitors, "conversations": convs, "messages": msgs, "resources": resources,
	}, "", "  ")
	require.NoError(t, err)
	return string(out)
}

func TestIsolationMatrix(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		m, callers := setupIsolation(t, d)
		before := isoSnapshot(t, d, m.b)
		require.Contains(t, before, `"is_active": true`)
		require.Contains(t, before, m.b.AdminEmail)

		ops := isolationOps()
		for _, c := range callers {
			for _, o := range ops {
				t.Run(c.name+"/"+o.name, func(t *testing.T) {
					token := c.token
					if o.endsSession && c.fresh != nil {
						token = c.fresh()
					}
					r := m.e.Do(token, o.query, o.vars(m.b, c))
					codes := append(slices.Clone(isoRefusedCodes), o.codes...)
					if slices.Contains(o.okFor, c.name) {
						require.Empty(t, r.Errors, "%s must get an answer", c.name)
					}
					if o.answers {
						for _, e := range r.Errors {
							require.Contains(t, codes, e.Extensions["code"], "error %q", e.Message)
						}
					} else {
						require.True(t, isoRefused(t, r, codes), "must be refused, got %s", r.Data)
					}
					isoRequireNoneOf(t, r, m.b.secrets())
					t.Logf("%s: %s", r.Code(), r.Data)
					if o.check != nil {
						o.check(t, m, c, r)
					}
				})
			}
		}

		require.Equal(t, before, isoSnapshot(t, d, m.b), "nothing of B changed")
		t.Logf("isolation matrix: %d callers × %d operations", len(callers), len(ops))
	})
}

// The matrix must be able to fail: B's own view and the super admin's do
// show B, and the detector finds it.
func TestIsolationPositiveControl(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		m, _ := setupIsolation(t, d)
		vars := map[string]any{"id": isoID(m.b.CompanyID)}
		r := m.e.Do(m.super, `query($id: ID) { company(id: $id) { id name email } }`, vars).OK(t)
		require.Equal(t, isoID(m.b.CompanyID), r.Str("company.id"))
		require.Equal(t, "Company bravo", r.Str("company.name"))

		for _, kind := range m.b.kinds() {
			r = m.e.Do(m.super, `query($id: ID!) { node(id: $id) { `+isoNodeFields+` } }`, isoVar(kind)(m.b, isoCaller{})).OK(t)
			require.Equal(t, isoID(m.b.id[kind]), r.Str("node.id"), kind)
		}
		r = m.e.Do(m.super, `{ companies { totalCount } agents { totalCount } conversations { totalCount } resources { totalCount } }`, nil).OK(t)
		require.EqualValues(t, 2, r.Get("companies.totalCount"))
		require.EqualValues(t, 4, r.Get("agents.totalCount"))
		require.EqualValues(t, 2, r.Get("conversations.totalCount"))
		require.EqualValues(t, 2, r.Get("resources.totalCount"))

		// A's callers do get answers: the matrix does not pass by refusing everything.
		r = m.e.Do(m.a.AgentToken, `{ agents { totalCount } conversations { totalCount } company { id } }`, nil).OK(t)
		require.EqualValues(t, 2, r.Get("agents.totalCount"))
		require.EqualValues(t, 1, r.Get("conversations.totalCount"))
		require.Equal(t, isoID(m.a.CompanyID), r.Str("company.id"))

		// B's knowledge is indexed: B's own test question finds it.
		r = m.e.Do(m.b.AgentToken, `{ testQuestion(question: "What is the secret recipe of the knowledge?") { passages { resourceID title text } } }`, nil).OK(t)
		require.Equal(t, isoID(m.b.id["resource"]), r.Str("testQuestion.passages.0.resourceID"))
		require.NotEmpty(t, isoLeaks(t, r, m.b.secrets()))

		// B's admin reaching B is caught by the matrix's checks.
		r = m.e.Do(m.b.AdminToken, `query($id: ID!) { node(id: $id) { `+isoNodeFields+` } }`, vars)
		require.False(t, isoRefused(t, r, isoRefusedCodes))
		require.NotEmpty(t, isoLeaks(t, r, m.b.secrets()))
	})
}

// isoRequireSubscriptionRefused subscribes as c and checks that the
// subscription is refused with an accepted code and carries nothing of B.
func isoRequireSubscriptionRefused(t *testing.T, m *isoMatrix, c isoCaller, q string, vars map[string]any, what string) {
	t.Helper()
	sub, err := m.e.Subscribe(c.token, q, vars)
	require.NoError(t, err, "%s connects", c.name)
	defer sub.Close()
	r := sub.Next(5 * time.Second)
	require.NotNil(t, r, "%s: no answer", c.name)
	require.NotEmpty(t, r.Errors, what, c.name)
	require.True(t, isoRefused(t, r, isoRefusedCodes), c.name)
	isoRequireNoneOf(t, r, m.b.secrets())
}

// isoWaitSubscribed waits until n subscribers follow topic.
func isoWaitSubscribed(t *testing.T, e *apitest.Env, topic realtime.Topic, n int) {
	t.Helper()
	counter, ok := e.App.Broker.(interface{ Subscribers(realtime.Topic) int })
	require.True(t, ok, "the broker %T does not count subscribers", e.App.Broker)
	require.Eventually(t, func() bool { return counter.Subscribers(topic) == n }, 5*time.Second, 10*time.Millisecond)
}

func TestIsolationSubscriptions(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		m, callers := setupIsolation(t, d)
		const q = `subscription($id: ID) { companyEvents(companyId: $id) { kind company { id name } agent { id email } agentID } }`

		// Following B's events is refused to every caller of A.
		for _, c := range callers {
			isoRequireSubscriptionRefused(t, m, c, q, map[string]any{"id": isoID(m.b.CompanyID)}, "%s may not follow B")
		}

		// Positive control: the super admin may follow B.
		superSub, err := m.e.Subscribe(m.super, q, map[string]any{"id": isoID(m.b.CompanyID)})
		require.NoError(t, err)

		// A's agent follows its own company and hears nothing of B.
		sub, err := m.e.Subscribe(m.a.AgentToken, q, nil)
		require.NoError(t, err)
		isoWaitSubscribed(t, m.e, account.CompanyTopic(m.a.CompanyID), 1)
		isoWaitSubscribed(t, m.e, account.CompanyTopic(m.b.CompanyID), 1)

		createAgent := `mutation($in: CreateAgentInput!) { createAgent(input: $in) { id } }`
		m.e.Do(m.b.AdminToken, createAgent, map[string]any{"in": map[string]any{
			"email": "new@bravo.test", "fullName": "New B", "password": apitest.Password}}).OK(t)
		require.Nil(t, sub.Next(500*time.Millisecond), "A's agent must not hear of B's new agent")
		ev := superSub.Next(5 * time.Second)
		require.NotNil(t, ev, "the super admin following B hears it")
		require.Equal(t, "new@bravo.test", ev.Str("companyEvents.agent.email"))

		m.e.Do(m.a.AdminToken, createAgent, map[string]any{"in": map[string]any{
			"email": "new@alpha.test", "fullName": "New A", "password": apitest.Password}}).OK(t)
		ev = sub.Next(5 * time.Second)
		require.NotNil(t, ev, "A's own event arrives")
		require.Empty(t, ev.Errors)
		require.Equal(t, "AGENT_CREATED", ev.Str("companyEvents.kind"))
		require.Equal(t, "new@alpha.test", ev.Str("companyEvents.agent.email"), "the first event A hears is its own")
		isoRequireNoneOf(t, ev, m.b.secrets())
	})
}

// resourceEvents: nobody of A follows B's resources, and A's stream of all
// its resources carries nothing of B.
func TestIsolationResourceEvents(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		m, callers := setupIsolation(t, d)
		const q = `subscription($id: ID) { resourceEvents(id: $id) { id title status companyID } }`
		for _, c := range callers {
			isoRequireSubscriptionRefused(t, m, c, q, map[string]any{"id": isoID(m.b.id["resource"])}, "%s may not follow B's resource")
		}
		// Visitors and anonymous callers do not follow resources at all.
		for _, c := range callers[3:] {
			isoRequireSubscriptionRefused(t, m, c, q, nil, "%s may not subscribe")
		}

		// A's admin and key follow all of A's resources.
		var subs []*apitest.Subscription
		for _, c := range callers[:3] {
			sub, err := m.e.Subscribe(c.token, q, nil)
			require.NoError(t, err)
			subs = append(subs, sub)
		}
		isoWaitSubscribed(t, m.e, ingest.Topic(m.a.CompanyID), 3)
		add := `mutation($in: AddTextInput!) { addText(input: $in) { id } }`
		m.e.Do(m.b.AdminToken, add, map[string]any{"in": map[string]any{"title": "Knowledge of bravo 2", "content": "Secret of bravo."}}).OK(t)
		for _, sub := range subs {
			require.Nil(t, sub.Next(500*time.Millisecond), "A must not hear of B's resources")
		}
		r := m.e.Do(m.a.AdminToken, add, map[string]any{"in": map[string]any{"title": "Alpha's own", "content": "Alpha text."}}).OK(t)
		for _, sub := range subs {
			ev := sub.Next(5 * time.Second)
			require.NotNil(t, ev, "A's own event arrives")
			require.Empty(t, ev.Errors)
			require.Equal(t, r.Str("addText.id"), ev.Str("resourceEvents.id"))
			isoRequireNoneOf(t, ev, m.b.secrets())
		}
	})
}

// conversationEvents and inboxEvents: nobody of A follows B's
// conversation (with or without after), and A's inbox hears nothing of B.
func TestIsolationConversationEvents(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		m, callers := setupIsolation(t, d)
		const q = `subscription($id: ID!, $after: ID) { conversationEvents(conversationId: $id, after: $after) {
			kind conversation { id } message { id body } } }`
		for _, c := range callers {
			for _, after := range []any{nil, isoID(m.b.id["message"])} {
				isoRequireSubscriptionRefused(t, m, c, q, map[string]any{"id": isoID(m.b.id["conversation"]), "after": after}, "%s may not follow B's conversation")
			}
		}
		// Visitors and anonymous callers have no inbox.
		const inbox = `subscription { inboxEvents { kind conversation { id lastMessagePreview } message { body } } }`
		for _, c := range callers[3:] {
			isoRequireSubscriptionRefused(t, m, c, inbox, nil, "%s may not subscribe")
		}
		var subs []*apitest.Subscription
		for _, c := range callers[:3] {
			sub, err := m.e.Subscribe(c.token, inbox, nil)
			require.NoError(t, err)
			subs = append(subs, sub)
		}
		isoWaitSubscribed(t, m.e, chat.InboxTopic(m.a.CompanyID), 3)
		start := `mutation($in: StartConversationInput!) { startConversation(input: $in) { token conversation { id } } }`
		r := m.e.Do("", start, map[string]any{"in": map[string]any{"companyKey": m.b.WidgetKey, "name": "Visitor of bravo"}}).OK(t)
		m.e.Do(r.Str("startConversation.token"), `mutation($c: ID!) { sendMessage(conversationId: $c, body: "Message of bravo 2") { id } }`,
			map[string]any{"c": r.Str("startConversation.conversation.id")}).OK(t)
		for _, sub := range subs {
			require.Nil(t, sub.Next(500*time.Millisecond), "A must not hear of B's conversations")
		}
		r = m.e.Do("", start, map[string]any{"in": map[string]any{"companyKey": m.a.WidgetKey}}).OK(t)
		for _, sub := range subs {
			ev := sub.Next(5 * time.Second)
			require.NotNil(t, ev, "A's own event arrives")
			require.Empty(t, ev.Errors)
			require.Equal(t, r.Str("startConversation.conversation.id"), ev.Str("inboxEvents.conversation.id"))
			isoRequireNoneOf(t, ev, m.b.secrets())
		}
	})
}

var seqCounter atomic.Int64

// nextSeq numbers messages written directly (never twice in the process).
func nextSeq() int { return int(seqCounter.Add(1)) }
