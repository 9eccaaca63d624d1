package server_test

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/viewer"
)

// requireMissingScope asserts a FORBIDDEN error that names the scope the
// API key lacks, and no data for field.
func requireMissingScope(t *testing.T, r *apitest.Response, scope, field string) {
	t.Helper()
	requireCode(t, r, "FORBIDDEN", field)
	require.Equal(t, "this API key lacks the scope "+scope, r.Errors[0].Message)
	require.Equal(t, scope, r.Errors[0].Extensions["scope"], "%+v", r.Errors)
}

// An API key without the scope an operation needs is told which scope that
// is, the same whether the rows are its company's, another's or none; other
// viewers' denials do not change.
func TestAPIKeyMissingScopeIsNamed(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a, b := e.Register("acme"), e.Register("globex")
		const addTextQ = `mutation($in: AddTextInput!) { addText(input: $in) { id title } }`
		text := map[string]any{"in": map[string]any{"title": "Returns", "content": "Returns are free within 30 days."}}
		reader := e.Do(a.AdminToken, createKeyQ, map[string]any{"in": map[string]any{
			"name": "reader", "scopes": apitest.ScopeNames(viewer.ScopeKnowledgeRead)}}).OK(t).Str("createApiKey.secret")
		resources := func() float64 {
			return e.Do(a.AdminToken, `{ resources { totalCount } }`, nil).OK(t).Get("resources.totalCount").(float64)
		}

		// A knowledge:read key reads the knowledge but may not add to it;
		// nothing is written.
		require.Equal(t, float64(0), e.Do(reader, `{ resources { totalCount } }`, nil).OK(t).Get("resources.totalCount"))
		requireMissingScope(t, e.Do(reader, addTextQ, text), "KNOWLEDGE_WRITE", "addText")
		require.Equal(t, float64(0), resources())

		// A key with knowledge:write may.
		r := e.Do(a.APIKey, addTextQ, text).OK(t)
		require.Equal(t, "Returns", r.Str("addText.title"))
		require.Equal(t, float64(1), resources())
		own := r.Str("addText.id")
		foreign := e.Do(b.AdminToken, addTextQ, text).OK(t).Str("addText.id")

		// Changing a resource: its own company's is refused for the scope;
		// another company's is not found, as an id that does not exist.
		const updateQ = `mutation($id: ID!) { updateResource(id: $id, input: {title: "Hacked"}) { id } }`
		requireMissingScope(t, e.Do(reader, updateQ, map[string]any{"id": own}), "KNOWLEDGE_WRITE", "updateResource")
		const deleteQ = `mutation($id: ID!) { deleteResource(id: $id) }`
		requireMissingScope(t, e.Do(reader, deleteQ, map[string]any{"id": own}), "KNOWLEDGE_WRITE", "deleteResource")
		gone := e.Do(reader, updateQ, map[string]any{"id": uuid.NewString()})
		other := e.Do(reader, updateQ, map[string]any{"id": foreign})
		require.Equal(t, gone.Code(), other.Code(), "another company's id reads as a missing one: %+v / %+v", gone.Errors, other.Errors)
		require.Equal(t, gone.Errors[0].Message, other.Errors[0].Message)
		require.Nil(t, other.Errors[0].Extensions["scope"])
		require.Equal(t, "Returns", e.Do(b.AdminToken, `query($id: ID!) { resource(id: $id) { title } }`, map[string]any{"id": foreign}).OK(t).Str("resource.title"))

		// Conversations need their own scopes: to list them, to take part.
		requireMissingScope(t, e.Do(reader, `{ conversations { totalCount } }`, nil), "CONVERSATIONS_READ", "conversations")
		requireMissingScope(t, e.Do(reader, `{ analytics { conversations } }`, nil), "CONVERSATIONS_READ", "analytics")
		require.Equal(t, float64(0), e.Do(a.APIKey, `{ conversations { totalCount } }`, nil).OK(t).Get("conversations.totalCount"))
		vis := e.Do("", `mutation($in: StartConversationInput!) { startConversation(input: $in) { token conversation { id } } }`,
			map[string]any{"in": map[string]any{"companyKey": a.WidgetKey, "name": "Vera"}}).OK(t)
		conv := vis.Str("startConversation.conversation.id")
		requireMissingScope(t, e.Do(reader, `query($id: ID!) { conversation(id: $id) { id } }`, map[string]any{"id": conv}), "CONVERSATIONS_READ", "conversation")
		requireMissingScope(t, e.Do(reader, `mutation($id: ID!) { sendMessage(conversationId: $id, body: "hello") { id } }`,
			map[string]any{"id": conv}), "CONVERSATIONS_WRITE", "sendMessage")
		requireMissingScope(t, e.Do(reader, `{ agents { totalCount } }`, nil), "AGENTS_READ", "agents")

		// Denials of other viewers stay as they were: no scope named.
		r = e.Do(a.AgentToken, addTextQ, text)
		requireCode(t, r, "FORBIDDEN", "addText")
		require.Nil(t, r.Errors[0].Extensions["scope"])
		require.NotContains(t, r.Errors[0].Message, "scope")
		r = e.Do(vis.Str("startConversation.token"), `{ resources { totalCount } }`, nil)
		requireCode(t, r, "FORBIDDEN", "resources")
		require.Nil(t, r.Errors[0].Extensions["scope"])
	})
}
