package server_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/auth"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/viewer"
)

// Shared helpers of the server tests.

const (
	loginQ = `mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
		token refreshToken expiresAt user { id email role } company { id slug } } }`
	refreshQ   = `mutation($t: String!) { refreshToken(token: $t) { token refreshToken user { id } superAdmin { id } } }`
	meQ        = `{ me { kind user { id email role } superAdmin { id username } visitor { id } apiKey { id scopes } company { id slug } } }`
	superLogin = `mutation($u: String!, $p: String!) { superAdminLogin(username: $u, password: $p) {
		token refreshToken superAdmin { username } user { id } company { id } } }`
)

func login(e *apitest.Env, email, password string) *apitest.Response {
	e.T.Helper()
	return e.Do("", loginQ, map[string]any{"e": email, "p": password})
}

// requireCode asserts a GraphQL error with code and no data for field.
func requireCode(t *testing.T, r *apitest.Response, code string, field string) {
	t.Helper()
	require.NotEmpty(t, r.Errors, "want %s, got data %s", code, r.Data)
	require.Equal(t, code, r.Code(), "errors: %+v", r.Errors)
	if field != "" {
		require.Nil(t, r.Get(field), "no data for %s on error", field)
	}
}

// requireRefused asserts an HTTP 401 with UNAUTHENTICATED: a credential the
// auth middleware refuses before GraphQL runs.
func requireRefused(t *testing.T, r *apitest.Response) {
	t.Helper()
	require.Equal(t, http.StatusUnauthorized, r.Status, "errors: %+v", r.Errors)
	require.Equal(t, "UNAUTHENTICATED", r.Code())
	require.Equal(t, "null", strings.TrimSpace(string(orNull(r.Data))))
}

func orNull(b json.RawMessage) json.RawMessage {
	if len(b) == 0 {
		return json.RawMessage("null")
	}
	return b
}

// rows counts companies and users, bypassing privacy.
func rows(t *testing.T, e *apitest.Env) (companies, users int) {
	t.Helper()
	ctx := apitest.Bypass()
	companies, err := e.DB.Client.Company.Query().Count(ctx)
	require.NoError(t, err)
	users, err = e.DB.Client.User.Query().Count(ctx)
	require.NoError(t, err)
	return companies, users
}

// get does a raw HTTP GET on the test server.
func get(t *testing.T, e *apitest.Env, path string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.Server.URL+path, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := e.Server.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, body
}

// postRaw posts a GraphQL query with a raw Authorization header.
func postRaw(t *testing.T, e *apitest.Env, authorization, query string) *apitest.Response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, e.URL, strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := e.Server.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	out := &apitest.Response{Status: res.StatusCode}
	require.NoError(t, json.Unmarshal(raw, out), "response: %s", raw)
	return out
}

func getUser(t *testing.T, e *apitest.Env, id uuid.UUID) *ent.User {
	t.Helper()
	u, err := e.DB.Client.User.Get(apitest.Bypass(), id)
	require.NoError(t, err)
	return u
}

func TestLogin(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")

		r := login(e, a.AdminEmail, apitest.Password).OK(t)
		require.NotEmpty(t, r.Str("login.token"))
		require.True(t, strings.HasPrefix(r.Str("login.refreshToken"), "rt_"))
		require.Equal(t, a.AdminID.String(), r.Str("login.user.id"))
		require.Equal(t, "COMPANY_ADMIN", r.Str("login.user.role"))
		require.Equal(t, a.CompanyID.String(), r.Str("login.company.id"))
		exp, err := time.Parse(time.RFC3339, r.Str("login.expiresAt"))
		require.NoError(t, err)
		require.WithinDuration(t, time.Now().Add(15*time.Minute), exp, time.Minute)
		me := e.Do(r.Str("login.token"), meQ, nil).OK(t)
		require.Equal(t, "USER", me.Str("me.kind"))
		require.Equal(t, a.AdminEmail, me.Str("me.user.email"))

		// Email is matched case-insensitively and trimmed.
		login(e, "  "+strings.ToUpper(a.AgentEmail)+" ", apitest.Password).OK(t)

		wrong := login(e, a.AdminEmail, "not the password")
		requireCode(t, wrong, "UNAUTHENTICATED", "login")
		unknown := login(e, "nobody@acme.test", apitest.Password)
		requireCode(t, unknown, "UNAUTHENTICATED", "login")
		require.Equal(t, wrong.Errors[0].Message, unknown.Errors[0].Message, "no account enumeration")

		requireCode(t, login(e, a.AdminEmail, ""), "BAD_USER_INPUT", "login")
		requireCode(t, login(e, a.AdminEmail, strings.Repeat("p", 10_000)), "UNAUTHENTICATED", "login")
	})
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")

		for i := range 5 {
			requireCode(t, login(e, a.AdminEmail, fmt.Sprint("wrong password ", i)), "UNAUTHENTICATED", "login")
		}
		r := login(e, a.AdminEmail, "wrong password again")
		requireCode(t, r, "RATE_LIMITED", "login")
		retry, ok := r.Errors[0].Extensions["retryAfterSeconds"].(float64)
		require.True(t, ok, "extensions: %v", r.Errors[0].Extensions)
		require.Greater(t, retry, 0.0)
		require.LessOrEqual(t, retry, 60.0)
		// The right password does not get through the limit either.
		requireCode(t, login(e, a.AdminEmail, apitest.Password), "RATE_LIMITED", "login")
		// Other accounts are not affected.
		login(e, a.AgentEmail, apitest.Password).OK(t)
	})
}

func TestLoginRateLimitPerIP(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		// Every request of the harness comes from 127.0.0.1: twenty
		// attempts on twenty accounts, then the address is limited.
		start := time.Now()
		for i := range 20 {
			requireCode(t, login(e, fmt.Sprintf("guess%d@acme.test", i), "password1"), "UNAUTHENTICATED", "login")
		}
		// The bucket refills one attempt every 6 s: on a busy machine the
		// twenty may have taken that long.
		var r *apitest.Response
		for i := 0; ; i++ {
			r = login(e, fmt.Sprintf("guess-more%d@acme.test", i), "password1")
			if r.Code() == "RATE_LIMITED" {
				break
			}
			requireCode(t, r, "UNAUTHENTICATED", "login")
			require.Less(t, i, int(time.Since(start)/(6*time.Second))+1, "limited after twenty attempts and the refills")
		}
		require.NotNil(t, r.Errors[0].Extensions["retryAfterSeconds"])
		r = e.Do("", superLogin, map[string]any{"u": "root", "p": "password1"})
		requireCode(t, r, "RATE_LIMITED", "superAdminLogin")
	})
}

func TestDeactivatedUser(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		refresh := login(e, a.AgentEmail, apitest.Password).OK(t).Str("login.refreshToken")
		e.Do(a.AgentToken, meQ, nil).OK(t)

		e.Do(a.AdminToken, `mutation($id: ID!) { updateAgent(id: $id, input: {isActive: false}) { isActive } }`,
			map[string]any{"id": a.AgentID}).OK(t)
		require.False(t, getUser(t, e, a.AgentID).IsActive)

		requireRefused(t, e.Do(a.AgentToken, meQ, nil))
		requireCode(t, login(e, a.AgentEmail, apitest.Password), "FORBIDDEN", "login")
		requireCode(t, e.Do("", refreshQ, map[string]any{"t": refresh}), "UNAUTHENTICATED", "refreshToken")
		// A wrong password still says only "invalid email or password".
		requireCode(t, login(e, a.AgentEmail, "wrong password"), "UNAUTHENTICATED", "login")

		// Reactivated, the agent logs in again; the old token stays dead.
		e.Do(a.AdminToken, `mutation($id: ID!) { updateAgent(id: $id, input: {isActive: true}) { isActive } }`,
			map[string]any{"id": a.AgentID}).OK(t)
		tok := login(e, a.AgentEmail, apitest.Password).OK(t).Str("login.token")
		e.Do(tok, meQ, nil).OK(t)
		requireRefused(t, e.Do(a.AgentToken, meQ, nil))
	})
}

func TestDeactivatedCompany(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		visitor := e.Do("", `mutation($k: String!) { startConversation(input: {companyKey: $k}) { token } }`,
			map[string]any{"k": a.WidgetKey}).OK(t).Str("startConversation.token")
		r := e.Do(a.AdminToken, `mutation { deactivateCompany { id isActive deactivatedAt } }`, nil).OK(t)
		require.Equal(t, false, r.Get("deactivateCompany.isActive"))
		require.NotEmpty(t, r.Str("deactivateCompany.deactivatedAt"))

		for name, tok := range map[string]string{"admin": a.AdminToken, "agent": a.AgentToken, "api key": a.APIKey} {
			r := e.Do(tok, meQ, nil)
			require.Equal(t, http.StatusUnauthorized, r.Status, name)
			require.Equal(t, "UNAUTHENTICATED", r.Code(), name)
			if name != "api key" {
				require.Contains(t, r.Errors[0].Message, "deactivated", name)
			}
		}
		r = e.Do(visitor, meQ, nil)
		require.Equal(t, "UNAUTHENTICATED", r.Code(), "visitor")
		require.Contains(t, r.Errors[0].Message, "deactivated")
		requireCode(t, login(e, a.AdminEmail, apitest.Password), "FORBIDDEN", "login")
		requireCode(t, login(e, a.AgentEmail, apitest.Password), "FORBIDDEN", "login")
		requireCode(t, e.Do("", refreshQ, map[string]any{"t": a.Refresh}), "FORBIDDEN", "refreshToken")

		// A super admin reactivates it; its people log in again.
		root := e.SuperAdmin("root")
		e.Do(root, `mutation($id: ID!) { activateCompany(id: $id) { isActive } }`, map[string]any{"id": a.CompanyID}).OK(t)
		tok := login(e, a.AgentEmail, apitest.Password).OK(t).Str("login.token")
		e.Do(tok, meQ, nil).OK(t)
		e.Do(a.APIKey, `{ me { kind } }`, nil).OK(t)
		require.Equal(t, "VISITOR", e.Do(visitor, meQ, nil).OK(t).Str("me.kind"))
	})
}

// A visitor's token names its visitor: once the visitor is gone (its
// conversation and itself deleted), the token is refused.
func TestVisitorTokenOfDeletedVisitor(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		r := e.Do("", `mutation($k: String!) { startConversation(input: {companyKey: $k, name: "Vera"}) { token conversation { id } visitor { id } } }`,
			map[string]any{"k": a.WidgetKey}).OK(t)
		tok := r.Str("startConversation.token")
		require.Equal(t, r.Str("startConversation.visitor.id"), e.Do(tok, meQ, nil).OK(t).Str("me.visitor.id"))
		ctx := apitest.Bypass()
		require.NoError(t, d.Client.Conversation.DeleteOneID(uuid.MustParse(r.Str("startConversation.conversation.id"))).Exec(ctx))
		require.NoError(t, d.Client.Visitor.DeleteOneID(uuid.MustParse(r.Str("startConversation.visitor.id"))).Exec(ctx))
		r = e.Do(tok, meQ, nil)
		require.Equal(t, "UNAUTHENTICATED", r.Code())
		require.NotContains(t, r.Errors[0].Message, "deactivated")
	})
}

func TestRefreshToken(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		other := login(e, a.AdminEmail, apitest.Password).OK(t) // a second session of the same admin

		r1 := e.Do("", refreshQ, map[string]any{"t": a.Refresh}).OK(t)
		tok1, rt1 := r1.Str("refreshToken.token"), r1.Str("refreshToken.refreshToken")
		require.NotEqual(t, a.AdminToken, tok1)
		require.NotEqual(t, a.Refresh, rt1)
		require.Equal(t, a.AdminID.String(), r1.Str("refreshToken.user.id"))
		e.Do(tok1, meQ, nil).OK(t)
		e.Do(a.AdminToken, meQ, nil).OK(t) // rotation alone does not end the access token

		r2 := e.Do("", refreshQ, map[string]any{"t": rt1}).OK(t)
		tok2, rt2 := r2.Str("refreshToken.token"), r2.Str("refreshToken.refreshToken")
		require.NotEqual(t, rt1, rt2)
		e.Do(tok2, meQ, nil).OK(t)

		// The spent token again: a sign of theft, the whole session ends.
		requireCode(t, e.Do("", refreshQ, map[string]any{"t": a.Refresh}), "UNAUTHENTICATED", "refreshToken")
		requireCode(t, e.Do("", refreshQ, map[string]any{"t": rt2}), "UNAUTHENTICATED", "refreshToken")
		requireRefused(t, e.Do(tok2, meQ, nil))
		requireRefused(t, e.Do(a.AdminToken, meQ, nil))

		// Other sessions live on.
		e.Do(other.Str("login.token"), meQ, nil).OK(t)
		e.Do("", refreshQ, map[string]any{"t": other.Str("login.refreshToken")}).OK(t)

		for _, bad := range []string{"", "garbage", "rt_garbage", "rt_" + strings.Repeat("x", 200), a.AdminToken} {
			requireCode(t, e.Do("", refreshQ, map[string]any{"t": bad}), "UNAUTHENTICATED", "refreshToken")
		}

		// Refresh tokens are stored only as hashes.
		n, err := e.DB.Client.RefreshToken.Query().Count(apitest.Bypass())
		require.NoError(t, err)
		require.Positive(t, n)
		for _, rt := range e.DB.Client.RefreshToken.Query().AllX(apitest.Bypass()) {
			require.NotContains(t, []string{a.Refresh, rt1, rt2}, rt.TokenHash)
		}
	})
}

func TestLogout(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		other := login(e, a.AdminEmail, apitest.Password).OK(t)

		r := e.Do(a.AdminToken, `mutation { logout }`, nil).OK(t)
		require.Equal(t, true, r.Get("logout"))
		requireRefused(t, e.Do(a.AdminToken, meQ, nil))
		requireCode(t, e.Do("", refreshQ, map[string]any{"t": a.Refresh}), "UNAUTHENTICATED", "refreshToken")

		// Only that session ended.
		e.Do(other.Str("login.token"), meQ, nil).OK(t)
		e.Do(a.AgentToken, meQ, nil).OK(t)

		requireCode(t, e.Do("", `mutation { logout }`, nil), "UNAUTHENTICATED", "logout")

		// Super admins log out too.
		root := e.SuperAdmin("root")
		e.Do(root, `mutation { logout }`, nil).OK(t)
		requireRefused(t, e.Do(root, meQ, nil))
	})
}

func TestExpiredAndForgedTokens(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		_, usersBefore := rows(t, e)

		// Claims as the server would issue them for the agent, but claiming
		// to be a company admin.
		agent := getUser(t, e, a.AgentID)
		claims := auth.Claims{Type: auth.SubjectUser, CompanyID: a.CompanyID.String(), Role: viewer.RoleCompanyAdmin,
			Version: agent.SessionVersion, Session: uuid.NewString()}
		claims.Subject = a.AgentID.String()
		signer := e.App.Auth.Signer()

		// Control: with the server's secret and a valid lifetime they work,
		// so every refusal below is down to the one thing changed.
		valid, _, err := signer.Sign(claims, time.Minute)
		require.NoError(t, err)
		require.Equal(t, "USER", e.Do(valid, meQ, nil).OK(t).Str("me.kind"))

		expired, _, err := signer.Sign(claims, -time.Minute)
		require.NoError(t, err)
		r := e.Do(expired, meQ, nil)
		requireRefused(t, r)
		require.Contains(t, r.Errors[0].Message, "expired")

		otherSigner, err := auth.NewSigner([]byte(strings.Repeat("z", 40)))
		require.NoError(t, err)
		forged, _, err := otherSigner.Sign(claims, time.Minute)
		require.NoError(t, err)

		parts := strings.Split(a.AgentToken, ".")
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(payload, &m))
		m["role"] = viewer.RoleCompanyAdmin
		tp, err := json.Marshal(m)
		require.NoError(t, err)
		tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(tp) + "." + parts[2]

		c := claims
		c.Issuer = "concierge"
		c.ExpiresAt = jwt.NewNumericDate(time.Now().Add(time.Hour))
		none, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
		require.NoError(t, err)

		ghost := claims
		ghost.Subject = uuid.NewString()
		unknownUser, _, err := signer.Sign(ghost, time.Minute)
		require.NoError(t, err)

		oldVersion := claims
		oldVersion.Version = agent.SessionVersion - 1
		stale, _, err := signer.Sign(oldVersion, time.Minute)
		require.NoError(t, err)

		createAgent := `mutation { createAgent(input: {email: "mole@acme.test", fullName: "Mole", password: "password123"}) { id } }`
		for name, tok := range map[string]string{
			"expired": expired, "other secret": forged, "tampered payload": tampered, "alg none": none,
			"unknown user": unknownUser, "old session version": stale, "garbage": "garbage",
			"api key lookalike": "ck_000000000000_" + strings.Repeat("x", 43),
		} {
			for _, q := range []string{meQ, createAgent} {
				r := e.Do(tok, q, nil)
				require.Equal(t, http.StatusUnauthorized, r.Status, name)
				require.Equal(t, "UNAUTHENTICATED", r.Code(), name)
			}
		}
		for _, h := range []string{"Basic x", "Basic " + base64.StdEncoding.EncodeToString([]byte("admin:pw")), "Bearer", "Bearer   ", "Token " + a.AdminToken, a.AdminToken} {
			r := postRaw(t, e, h, meQ)
			require.Equal(t, http.StatusUnauthorized, r.Status, h)
			require.Equal(t, "UNAUTHENTICATED", r.Code(), h)
		}
		// The scheme is case-insensitive.
		require.Equal(t, "USER", postRaw(t, e, "bearer "+a.AdminToken, meQ).OK(t).Str("me.kind"))

		_, usersAfter := rows(t, e)
		require.Equal(t, usersBefore, usersAfter, "no refused request created anything")
	})
}

func TestSuperAdminLogin(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		e.SuperAdmin("root")
		a := e.Register("acme")

		r := e.Do("", superLogin, map[string]any{"u": "root", "p": apitest.Password}).OK(t)
		require.Equal(t, "root", r.Str("superAdminLogin.superAdmin.username"))
		require.Nil(t, r.Get("superAdminLogin.user"))
		require.Nil(t, r.Get("superAdminLogin.company"))
		me := e.Do(r.Str("superAdminLogin.token"), meQ, nil).OK(t)
		require.Equal(t, "SUPER_ADMIN", me.Str("me.kind"))

		rr := e.Do("", refreshQ, map[string]any{"t": r.Str("superAdminLogin.refreshToken")}).OK(t)
		require.NotEmpty(t, rr.Str("refreshToken.superAdmin.id"))
		require.Equal(t, "SUPER_ADMIN", e.Do(rr.Str("refreshToken.token"), meQ, nil).OK(t).Str("me.kind"))

		wrong := e.Do("", superLogin, map[string]any{"u": "root", "p": "wrong password"})
		requireCode(t, wrong, "UNAUTHENTICATED", "superAdminLogin")
		unknown := e.Do("", superLogin, map[string]any{"u": "nobody", "p": apitest.Password})
		requireCode(t, unknown, "UNAUTHENTICATED", "superAdminLogin")
		require.Equal(t, wrong.Errors[0].Message, unknown.Errors[0].Message)
		// Company users are not super admins, and the other way round.
		requireCode(t, e.Do("", superLogin, map[string]any{"u": a.AdminEmail, "p": apitest.Password}), "UNAUTHENTICATED", "superAdminLogin")
		requireCode(t, login(e, "root@superadmin.local", apitest.Password), "UNAUTHENTICATED", "login")
	})
}

func TestMe(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		root := e.SuperAdmin("root")

		r := e.Do(a.AgentToken, meQ, nil).OK(t)
		require.Equal(t, "USER", r.Str("me.kind"))
		require.Equal(t, a.AgentID.String(), r.Str("me.user.id"))
		require.Equal(t, "AGENT", r.Str("me.user.role"))
		require.Equal(t, a.CompanyID.String(), r.Str("me.company.id"))
		require.Equal(t, "acme", r.Str("me.company.slug"))
		require.Nil(t, r.Get("me.superAdmin"))
		require.Nil(t, r.Get("me.apiKey"))

		r = e.Do(root, meQ, nil).OK(t)
		require.Equal(t, "SUPER_ADMIN", r.Str("me.kind"))
		require.Equal(t, "root", r.Str("me.superAdmin.username"))
		require.Nil(t, r.Get("me.user"))
		require.Nil(t, r.Get("me.company"))

		r = e.Do(a.APIKey, meQ, nil).OK(t)
		require.Equal(t, "API_KEY", r.Str("me.kind"))
		require.Equal(t, a.APIKeyID.String(), r.Str("me.apiKey.id"))
		require.ElementsMatch(t, []any{"KNOWLEDGE_READ", "KNOWLEDGE_WRITE", "CONVERSATIONS_READ", "CONVERSATIONS_WRITE", "AGENTS_READ"}, r.Get("me.apiKey.scopes"))
		require.Equal(t, a.CompanyID.String(), r.Str("me.company.id"))
		require.Nil(t, r.Get("me.user"))

		r = e.Do("", meQ, nil).OK(t)
		require.Equal(t, http.StatusOK, r.Status)
		require.Equal(t, "ANONYMOUS", r.Str("me.kind"))
		for _, f := range []string{"user", "superAdmin", "visitor", "apiKey", "company"} {
			require.Nil(t, r.Get("me."+f), f)
		}
	})
}

// An API key asking about itself through me.apiKey gets its own row.
func TestMeAPIKeyFields(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		r := e.Do(a.APIKey, `{ me { apiKey { id name prefix company { id } } } }`, nil).OK(t)
		require.Equal(t, "partner", r.Str("me.apiKey.name"))
		require.True(t, strings.HasPrefix(a.APIKey, auth.APIKeyPrefix+r.Str("me.apiKey.prefix")+"_"))
		require.Equal(t, a.CompanyID.String(), r.Str("me.apiKey.company.id"))
	})
}

func TestNode(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		q := `query($id: ID!) { node(id: $id) { id __typename ... on Company { slug } ... on User { email } } }`

		r := e.Do(a.AgentToken, q, map[string]any{"id": a.CompanyID}).OK(t)
		require.Equal(t, "Company", r.Str("node.__typename"))
		require.Equal(t, "acme", r.Str("node.slug"))

		r = e.Do(a.AgentToken, q, map[string]any{"id": a.AdminID}).OK(t)
		require.Equal(t, "User", r.Str("node.__typename"))
		require.Equal(t, a.AdminEmail, r.Str("node.email"))

		r = e.Do(a.AdminToken, q, map[string]any{"id": a.AgentID}).OK(t)
		require.Equal(t, a.AgentEmail, r.Str("node.email"))

		r = e.Do(a.AdminToken, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			map[string]any{"ids": []any{a.CompanyID, a.AgentID}}).OK(t)
		var nodes struct{ Nodes []struct{ ID string } }
		r.Decode(t, &nodes)
		require.Len(t, nodes.Nodes, 2)

		// An id nobody has: NOT_FOUND, no data.
		r = e.Do(a.AdminToken, q, map[string]any{"id": uuid.NewString()})
		requireCode(t, r, "NOT_FOUND", "node")
		// Anonymous callers see no node at all.
		r = e.Do("", q, map[string]any{"id": a.CompanyID})
		requireCode(t, r, "NOT_FOUND", "node")
	})
}

func TestNodeMalformedID(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		for _, id := range []string{"nope", "", "1", "00000000-0000-0000-0000-00000000000g"} {
			requireCode(t, e.Do(a.AdminToken, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}), "BAD_USER_INPUT", "node")
			requireCode(t, e.Do(a.AdminToken, `mutation($id: ID!) { removeAgent(id: $id) }`, map[string]any{"id": id}), "BAD_USER_INPUT", "removeAgent")
		}
	})
}

func TestHealthMetricsAndGET(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)

		res, body := get(t, e, "/healthz", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "ok\n", string(body))
		res, body = get(t, e, "/readyz", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "ready\n", string(body))

		res, body = get(t, e, "/graphql?query="+url.QueryEscape("{me{kind}}"), nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)
		require.JSONEq(t, `{"data":{"me":{"kind":"ANONYMOUS"}}}`, string(body))

		root := e.SuperAdmin("root")
		res, body = get(t, e, "/graphql?query="+url.QueryEscape("{me{kind}}"), map[string]string{"Authorization": "Bearer " + root})
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.JSONEq(t, `{"data":{"me":{"kind":"SUPER_ADMIN"}}}`, string(body))

		// GET never runs mutations.
		res, _ = get(t, e, "/graphql?query="+url.QueryEscape(`mutation { logout }`), map[string]string{"Authorization": "Bearer " + root})
		require.NotEqual(t, http.StatusOK, res.StatusCode)
		e.Do(root, meQ, nil).OK(t)

		// Introspection is on outside production.
		r := e.Do("", `{ __schema { queryType { name } mutationType { name } subscriptionType { name } } }`, nil).OK(t)
		require.Equal(t, "Query", r.Str("__schema.queryType.name"))
		require.Equal(t, "Mutation", r.Str("__schema.mutationType.name"))
		require.Equal(t, "Subscription", r.Str("__schema.subscriptionType.name"))

		// GraphiQL for browsers.
		res, body = get(t, e, "/graphql", map[string]string{"Accept": "text/html"})
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, strings.ToLower(string(body)), "graphiql")

		res, body = get(t, e, "/metrics", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, string(body), "concierge_http_requests_total")
		require.Contains(t, string(body), `concierge_http_requests_total{code="200",route="/healthz"}`)
		require.Contains(t, string(body), `route="/graphql"`)
	})
}
