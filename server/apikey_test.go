package server_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/auth"
	"concierge/db"
	"concierge/dbtest"
)

const (
	createKeyQ = `mutation($in: CreateAPIKeyInput!) { createApiKey(input: $in) { secret apiKey { id name prefix scopes revokedAt companyID } } }`
	revokeKeyQ = `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`
)

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")

		r := e.Do(a.AdminToken, createKeyQ, map[string]any{"in": map[string]any{
			"name": "crm sync", "scopes": []string{"AGENTS_READ", "AGENTS_READ"}}}).OK(t)
		secret := r.Str("createApiKey.secret")
		keyID := r.Str("createApiKey.apiKey.id")
		prefix := r.Str("createApiKey.apiKey.prefix")
		require.True(t, strings.HasPrefix(secret, auth.APIKeyPrefix+prefix+"_"), secret)
		require.Equal(t, []any{"AGENTS_READ"}, r.Get("createApiKey.apiKey.scopes"), "scopes deduplicated")
		require.Equal(t, a.CompanyID.String(), r.Str("createApiKey.apiKey.companyID"))
		require.Nil(t, r.Get("createApiKey.apiKey.revokedAt"))

		// The secret is stored only as a hash and never shown again.
		k, err := e.DB.Client.APIKey.Get(apitest.Bypass(), uuid.MustParse(keyID))
		require.NoError(t, err)
		require.Equal(t, auth.HashToken(secret), k.Hash)
		require.NotContains(t, k.Hash, secret)

		var list struct {
			APIKeys []struct{ ID, Name, Prefix string }
		}
		raw := e.Do(a.AdminToken, `{ apiKeys { id name prefix scopes lastUsedAt revokedAt createdAt } }`, nil).OK(t)
		raw.Decode(t, &list)
		require.Len(t, list.APIKeys, 2)
		require.Equal(t, "crm sync", list.APIKeys[0].Name, "newest first")
		require.Equal(t, prefix, list.APIKeys[0].Prefix)
		require.NotContains(t, string(raw.Data), secret)
		require.NotContains(t, string(raw.Data), k.Hash)

		// The GraphQL type has no field that could leak a secret.
		var typ struct {
			Type struct{ Fields []struct{ Name string } } `json:"__type"`
		}
		e.Do(a.AdminToken, `{ __type(name: "APIKey") { fields { name } } }`, nil).OK(t).Decode(t, &typ)
		require.NotEmpty(t, typ.Type.Fields)
		for _, f := range typ.Type.Fields {
			require.NotContains(t, strings.ToLower(f.Name), "hash")
			require.NotContains(t, strings.ToLower(f.Name), "secret")
		}
		requireCode(t, e.Do(a.AdminToken, `{ apiKeys { hash } }`, nil), "GRAPHQL_VALIDATION_FAILED", "")

		// The key authenticates as itself, within its scopes.
		me := e.Do(secret, `{ me { kind apiKey { id scopes } company { id } } }`, nil).OK(t)
		require.Equal(t, "API_KEY", me.Str("me.kind"))
		require.Equal(t, keyID, me.Str("me.apiKey.id"))
		require.Equal(t, a.CompanyID.String(), me.Str("me.company.id"))
		r = e.Do(secret, `{ agents { totalCount } }`, nil).OK(t)
		require.Equal(t, float64(2), r.Get("agents.totalCount"))
		requireCode(t, e.Do(secret, `{ resources { totalCount } }`, nil), "FORBIDDEN", "resources")
		requireCode(t, e.Do(secret, `{ conversations { totalCount } }`, nil), "FORBIDDEN", "conversations")
		requireCode(t, e.Do(secret, `{ apiKeys { id } }`, nil), "FORBIDDEN", "apiKeys")
		requireCode(t, e.Do(secret, createKeyQ, map[string]any{"in": map[string]any{"name": "x", "scopes": []string{"AGENTS_READ"}}}), "FORBIDDEN", "createApiKey")
		requireCode(t, e.Do(secret, createAgentQ, map[string]any{"in": agentInput("k@acme.test")}), "FORBIDDEN", "createAgent")
		r = e.Do(secret, `mutation { logout }`, nil) // keys have no session to end
		require.Contains(t, []string{"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT"}, r.Code(), "%+v", r.Errors)
		require.Nil(t, r.Get("logout"))
		e.Do(secret, `{ me { kind } }`, nil).OK(t)
		// A key with knowledge:read does list resources.
		r = e.Do(a.APIKey, `{ resources { totalCount } }`, nil).OK(t)
		require.Equal(t, float64(0), r.Get("resources.totalCount"))

		k, err = e.DB.Client.APIKey.Get(apitest.Bypass(), uuid.MustParse(keyID))
		require.NoError(t, err)
		require.NotNil(t, k.LastUsedAt, "use is recorded")

		// Bad input and the wrong callers create nothing.
		before, err := e.DB.Client.APIKey.Query().Count(apitest.Bypass())
		require.NoError(t, err)
		for _, c := range []struct {
			name, token, code string
			in                map[string]any
		}{
			{"unknown scope", a.AdminToken, "GRAPHQL_VALIDATION_FAILED", map[string]any{"name": "x", "scopes": []string{"AGENTS_READ", "ADMIN"}}},
			{"stored spelling of a scope", a.AdminToken, "GRAPHQL_VALIDATION_FAILED", map[string]any{"name": "x", "scopes": []string{"agents:read"}}},
			{"no scopes", a.AdminToken, "BAD_USER_INPUT", map[string]any{"name": "x", "scopes": []string{}}},
			{"empty name", a.AdminToken, "BAD_USER_INPUT", map[string]any{"name": " ", "scopes": []string{"AGENTS_READ"}}},
			{"agent", a.AgentToken, "FORBIDDEN", map[string]any{"name": "x", "scopes": []string{"AGENTS_READ"}}},
			{"anonymous", "", "UNAUTHENTICATED", map[string]any{"name": "x", "scopes": []string{"AGENTS_READ"}}},
		} {
			r := e.Do(c.token, createKeyQ, map[string]any{"in": c.in})
			require.Equal(t, c.code, r.Code(), "%s: %+v", c.name, r.Errors)
			requireCode(t, r, c.code, "createApiKey")
		}
		after, err := e.DB.Client.APIKey.Query().Count(apitest.Bypass())
		require.NoError(t, err)
		require.Equal(t, before, after)
		requireCode(t, e.Do(a.AgentToken, `{ apiKeys { id } }`, nil), "FORBIDDEN", "apiKeys")

		// Revoked, it stops at once; other keys keep working.
		requireCode(t, e.Do(a.AgentToken, revokeKeyQ, map[string]any{"id": keyID}), "FORBIDDEN", "revokeApiKey")
		e.Do(secret, `{ me { kind } }`, nil).OK(t)
		r = e.Do(a.AdminToken, revokeKeyQ, map[string]any{"id": keyID}).OK(t)
		require.NotEmpty(t, r.Str("revokeApiKey.revokedAt"))
		requireRefused(t, e.Do(secret, `{ me { kind } }`, nil))
		requireRefused(t, e.Do(secret, `{ agents { totalCount } }`, nil))
		e.Do(a.APIKey, `{ me { kind } }`, nil).OK(t)
		again := e.Do(a.AdminToken, revokeKeyQ, map[string]any{"id": keyID}).OK(t)
		require.Equal(t, r.Str("revokeApiKey.revokedAt"), again.Str("revokeApiKey.revokedAt"), "revoking twice keeps the first time")
		requireCode(t, e.Do(a.AdminToken, revokeKeyQ, map[string]any{"id": uuid.New()}), "NOT_FOUND", "revokeApiKey")

		// A near miss of a real key is refused too.
		requireRefused(t, e.Do(flipLast(secret), `{ me { kind } }`, nil))
		requireRefused(t, e.Do(flipLast(a.APIKey), `{ me { kind } }`, nil))
		e.Do(a.APIKey, `{ me { kind } }`, nil).OK(t)
	})
}

// flipLast changes the last character of s.
// flipLast changes a character near the end of a token (its signature or
// secret). Not the very last one: in unpadded base64 its low bits are
// padding, so changing it may not change the decoded bytes.
func flipLast(s string) string {
	i := len(s) - 5
	c := byte('A')
	if s[i] == 'A' {
		c = 'B'
	}
	return s[:i] + string(c) + s[i+1:]
}
