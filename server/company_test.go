package server_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent/apikey"
	"concierge/ent/company"
	"concierge/ent/refreshtoken"
	"concierge/ent/user"
)

const registerQ = `mutation($in: RegisterCompanyInput!) { registerCompany(input: $in) {
	token refreshToken user { id email role fullName } company { id name slug email subscriptionPlan isActive logoURL widgetKey } } }`

func registerInput(name, adminEmail string) map[string]any {
	return map[string]any{
		"name": name, "email": "hello@example.com",
		"adminFullName": "Ada Admin", "adminEmail": adminEmail, "adminPassword": apitest.Password,
	}
}

func with(in map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range in {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func tinyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.RGBA{G: 200, A: 255})
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

func TestRegisterCompany(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)

		r := e.Do("", registerQ, map[string]any{"in": registerInput("Globex Corp", "Hank@Globex.test")}).OK(t)
		require.NotEmpty(t, r.Str("registerCompany.token"))
		require.True(t, strings.HasPrefix(r.Str("registerCompany.refreshToken"), "rt_"))
		require.Equal(t, "Globex Corp", r.Str("registerCompany.company.name"))
		require.Equal(t, "globex-corp", r.Str("registerCompany.company.slug"))
		require.Equal(t, "FREE", r.Str("registerCompany.company.subscriptionPlan"))
		require.Equal(t, true, r.Get("registerCompany.company.isActive"))
		require.True(t, strings.HasPrefix(r.Str("registerCompany.company.widgetKey"), "wk_"))
		require.Equal(t, "hank@globex.test", r.Str("registerCompany.user.email"), "emails are normalised")
		require.Equal(t, "COMPANY_ADMIN", r.Str("registerCompany.user.role"))

		// The returned token is a working session of the new admin.
		me := e.Do(r.Str("registerCompany.token"), meQ, nil).OK(t)
		require.Equal(t, r.Str("registerCompany.user.id"), me.Str("me.user.id"))
		require.Equal(t, r.Str("registerCompany.company.id"), me.Str("me.company.id"))
		e.Do("", refreshQ, map[string]any{"t": r.Str("registerCompany.refreshToken")}).OK(t)
		login(e, "hank@globex.test", apitest.Password).OK(t)

		// Same name again: a distinct derived slug.
		r2 := e.Do("", registerQ, map[string]any{"in": with(registerInput("Globex Corp", "other@globex.test"),
			"subscriptionPlan", "PREMIUM", "phone", "+1 555 0100", "website", "globex.example")}).OK(t)
		slug2 := r2.Str("registerCompany.company.slug")
		require.NotEqual(t, "globex-corp", slug2)
		require.True(t, strings.HasPrefix(slug2, "globex-corp-"), slug2)
		require.Equal(t, "PREMIUM", r2.Str("registerCompany.company.subscriptionPlan"))
		require.NotEqual(t, r.Str("registerCompany.company.widgetKey"), r2.Str("registerCompany.company.widgetKey"))

		co, err := e.DB.Client.Company.Get(apitest.Bypass(), uuid.MustParse(r2.Str("registerCompany.company.id")))
		require.NoError(t, err)
		require.Equal(t, "https://globex.example", co.Website)
		require.Equal(t, "+1 555 0100", co.Phone)

		// An explicit slug is kept as given.
		r3 := e.Do("", registerQ, map[string]any{"in": with(registerInput("Initech", "bill@initech.test"), "slug", "initech-hq")}).OK(t)
		require.Equal(t, "initech-hq", r3.Str("registerCompany.company.slug"))

		// The password is stored hashed.
		u, err := e.DB.Client.User.Query().Where(user.Email("bill@initech.test")).Only(apitest.Bypass())
		require.NoError(t, err)
		require.NotContains(t, u.HashedPassword, apitest.Password)
		require.True(t, strings.HasPrefix(u.HashedPassword, "$argon2id$"))
	})
}

func TestRegisterCompanyBadInput(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		companies, users := rows(t, e)
		ok := registerInput("Fresh Co", "fresh@fresh.test")

		for _, c := range []struct {
			name, code string
			in         map[string]any
		}{
			{"duplicate slug", "CONFLICT", with(ok, "slug", "acme")},
			{"duplicate admin email", "CONFLICT", with(ok, "adminEmail", a.AgentEmail)},
			{"duplicate admin email, other case", "CONFLICT", with(ok, "adminEmail", " "+strings.ToUpper(a.AdminEmail))},
			{"malformed email", "BAD_USER_INPUT", with(ok, "email", "not-an-email")},
			{"malformed admin email", "BAD_USER_INPUT", with(ok, "adminEmail", "fresh@")},
			{"email with a name", "BAD_USER_INPUT", with(ok, "adminEmail", "Fresh <fresh@fresh.test>")},
			{"empty name", "BAD_USER_INPUT", with(ok, "name", "")},
			{"blank name", "BAD_USER_INPUT", with(ok, "name", "   ")},
			{"1 MB name", "BAD_USER_INPUT", with(ok, "name", strings.Repeat("n", 1_000_000))},
			{"name with NUL", "BAD_USER_INPUT", with(ok, "name", "Fresh\x00Co")},
			{"empty admin name", "BAD_USER_INPUT", with(ok, "adminFullName", "")},
			{"bad slug", "BAD_USER_INPUT", with(ok, "slug", "Bad Slug!")},
			{"slug with a path", "BAD_USER_INPUT", with(ok, "slug", "../acme")},
			{"slug of one char", "BAD_USER_INPUT", with(ok, "slug", "a")},
			{"short password", "BAD_USER_INPUT", with(ok, "adminPassword", "short")},
			{"huge password", "BAD_USER_INPUT", with(ok, "adminPassword", strings.Repeat("p", 300))},
			{"bad website", "BAD_USER_INPUT", with(ok, "website", "javascript:alert(1)")},
			{"bad phone", "BAD_USER_INPUT", with(ok, "phone", "<script>")},
			{"unknown plan", "GRAPHQL_VALIDATION_FAILED", with(ok, "subscriptionPlan", "GOLD")},
		} {
			r := e.Do("", registerQ, map[string]any{"in": c.in})
			require.Equal(t, c.code, r.Code(), "%s: %+v", c.name, r.Errors)
			require.NotEqual(t, http.StatusInternalServerError, r.Status, c.name)
			requireCode(t, r, c.code, "registerCompany")
			c2, u2 := rows(t, e)
			require.Equal(t, companies, c2, "%s: companies changed", c.name)
			require.Equal(t, users, u2, "%s: users changed", c.name)
		}

		// Inline enum literal: a validation error too.
		r := e.Do("", `mutation { registerCompany(input: {name: "X", email: "x@x.test", subscriptionPlan: GOLD,
			adminFullName: "X", adminEmail: "x@x.test", adminPassword: "password123"}) { token } }`, nil)
		requireCode(t, r, "GRAPHQL_VALIDATION_FAILED", "")
		c2, u2 := rows(t, e)
		require.Equal(t, companies, c2)
		require.Equal(t, users, u2)

		// The same input with the problems fixed goes through.
		e.Do("", registerQ, map[string]any{"in": ok}).OK(t)
		c2, u2 = rows(t, e)
		require.Equal(t, companies+1, c2)
		require.Equal(t, users+1, u2)
	})
}

// gqlparser accepts enum variables case-insensitively ("free" for FREE);
// ent's UnmarshalGQL then refuses them, and the error must reach the caller
// as bad input, not as an internal error.
func TestEnumVariableWrongCase(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		companies, users := rows(t, e)
		r := e.Do("", registerQ, map[string]any{"in": with(registerInput("Fresh Co", "fresh@fresh.test"), "subscriptionPlan", "free")})
		require.Contains(t, []string{"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}, r.Code(), "%+v", r.Errors)
		r = e.Do(a.AdminToken, `mutation($in: CreateAgentInput!) { createAgent(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"email": "new@acme.test", "fullName": "New", "password": apitest.Password, "role": "company_admin"}})
		require.Contains(t, []string{"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}, r.Code(), "%+v", r.Errors)
		c2, u2 := rows(t, e)
		require.Equal(t, companies, c2)
		require.Equal(t, users, u2)
	})
}

func TestRegisterCompanyWithLogo(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		img := tinyPNG(t)

		r := e.Upload("", registerQ, map[string]any{"in": with(registerInput("Logo Co", "ada@logo.test"), "logo", nil)},
			map[string]apitest.File{"in.logo": {Name: "logo.png", Content: img}}).OK(t)
		logo := r.Str("registerCompany.company.logoURL")
		cid := r.Str("registerCompany.company.id")
		require.True(t, strings.HasPrefix(logo, "/files/logos/"+cid+"/"), logo)

		res, body := get(t, e, logo, nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "image/png", res.Header.Get("Content-Type"))
		require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
		require.Equal(t, img, body)

		// Not an image: refused, nothing created, nothing left on disk.
		companies, users := rows(t, e)
		for name, content := range map[string]string{
			"notes.png": "just some text",
			"logo.svg":  `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
			"page.html": `<!doctype html><html><script>alert(1)</script></html>`,
		} {
			r := e.Upload("", registerQ, map[string]any{"in": with(registerInput("Bad Logo Co", "bad@logo.test"), "logo", nil)},
				map[string]apitest.File{"in.logo": {Name: name, Content: []byte(content)}})
			requireCode(t, r, "BAD_USER_INPUT", "registerCompany")
			require.Equal(t, "logo", r.Errors[0].Extensions["field"])
		}
		c2, u2 := rows(t, e)
		require.Equal(t, companies, c2)
		require.Equal(t, users, u2)
		exists, err := e.DB.Client.Company.Query().Where(company.Name("Bad Logo Co")).Exist(apitest.Bypass())
		require.NoError(t, err)
		require.False(t, exists)
		entries, err := os.ReadDir(e.App.Files.Dir())
		require.NoError(t, err)
		require.Len(t, entries, 1, "only the first company has a files directory")
		require.Equal(t, cid, entries[0].Name())

		// A logo failing after a valid upload (duplicate admin email) leaves no file behind.
		r = e.Upload("", registerQ, map[string]any{"in": with(registerInput("Dup Co", "ada@logo.test"), "logo", nil)},
			map[string]apitest.File{"in.logo": {Name: "logo.png", Content: img}})
		requireCode(t, r, "CONFLICT", "registerCompany")
		entries, err = os.ReadDir(e.App.Files.Dir())
		require.NoError(t, err)
		require.Len(t, entries, 1)
	})
}

func TestSuperAdminManagesCompanies(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		b := e.Register("bravo")
		root := e.SuperAdmin("root")

		r := e.Do(root, `{ companies(first: 10) { totalCount edges { node { slug } } } }`, nil).OK(t)
		require.Equal(t, float64(2), r.Get("companies.totalCount"))
		r = e.Do(a.AdminToken, `{ companies { totalCount edges { node { id } } } }`, nil).OK(t)
		require.Equal(t, float64(1), r.Get("companies.totalCount"), "a company admin sees only its own")
		r = e.Do(root, `query($id: ID) { company(id: $id) { slug } }`, map[string]any{"id": b.CompanyID}).OK(t)
		require.Equal(t, "bravo", r.Str("company.slug"))
		requireCode(t, e.Do(root, `{ company { slug } }`, nil), "BAD_USER_INPUT", "company")

		// Update any company, plan included.
		r = e.Do(root, `mutation($id: ID) { updateCompany(id: $id, input: {subscriptionPlan: ENTERPRISE, name: "Acme Inc"}) {
			id name subscriptionPlan } }`, map[string]any{"id": a.CompanyID}).OK(t)
		require.Equal(t, "ENTERPRISE", r.Str("updateCompany.subscriptionPlan"))
		require.Equal(t, "Acme Inc", r.Str("updateCompany.name"))
		co, err := e.DB.Client.Company.Get(apitest.Bypass(), a.CompanyID)
		require.NoError(t, err)
		require.Equal(t, company.SubscriptionPlanENTERPRISE, co.SubscriptionPlan)
		requireCode(t, e.Do(root, `mutation { updateCompany(input: {name: "x"}) { id } }`, nil), "BAD_USER_INPUT", "updateCompany")

		// Deactivate and reactivate.
		r = e.Do(root, `mutation($id: ID) { deactivateCompany(id: $id) { isActive } }`, map[string]any{"id": b.CompanyID}).OK(t)
		require.Equal(t, false, r.Get("deactivateCompany.isActive"))
		requireRefused(t, e.Do(b.AdminToken, meQ, nil))
		r = e.Do(root, `mutation($id: ID!) { activateCompany(id: $id) { isActive deactivatedAt } }`, map[string]any{"id": b.CompanyID}).OK(t)
		require.Equal(t, true, r.Get("activateCompany.isActive"))
		require.Nil(t, r.Get("activateCompany.deactivatedAt"))
		e.Do(b.AdminToken, meQ, nil).OK(t)

		// A company admin can do none of the super admin's part.
		requireCode(t, e.Do(a.AdminToken, `mutation { updateCompany(input: {subscriptionPlan: PREMIUM}) { id } }`, nil), "FORBIDDEN", "updateCompany")
		requireCode(t, e.Do(a.AdminToken, `mutation($id: ID!) { activateCompany(id: $id) { id } }`, map[string]any{"id": a.CompanyID}), "FORBIDDEN", "activateCompany")
		requireCode(t, e.Do(a.AdminToken, `mutation($id: ID!) { deleteCompany(id: $id) }`, map[string]any{"id": a.CompanyID}), "FORBIDDEN", "deleteCompany")
		requireCode(t, e.Do(a.AgentToken, `mutation($id: ID!) { deleteCompany(id: $id) }`, map[string]any{"id": a.CompanyID}), "FORBIDDEN", "deleteCompany")
		requireCode(t, e.Do("", `mutation($id: ID!) { deleteCompany(id: $id) }`, map[string]any{"id": a.CompanyID}), "UNAUTHENTICATED", "deleteCompany")
		co, err = e.DB.Client.Company.Get(apitest.Bypass(), a.CompanyID)
		require.NoError(t, err)
		require.Equal(t, company.SubscriptionPlanENTERPRISE, co.SubscriptionPlan, "unchanged")

		// Give bravo files, then delete it.
		e.Upload(b.AdminToken, `mutation($in: UpdateCompanyInput!) { updateCompany(input: $in) { logoURL } }`,
			map[string]any{"in": map[string]any{"logo": nil}}, map[string]apitest.File{"in.logo": {Name: "l.png", Content: tinyPNG(t)}}).OK(t)
		bDir := filepath.Join(e.App.Files.Dir(), b.CompanyID.String())
		require.DirExists(t, bDir)

		r = e.Do(root, `mutation($id: ID!) { deleteCompany(id: $id) }`, map[string]any{"id": b.CompanyID}).OK(t)
		require.Equal(t, true, r.Get("deleteCompany"))
		ctx := apitest.Bypass()
		n, err := e.DB.Client.Company.Query().Where(company.ID(b.CompanyID)).Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		n, err = e.DB.Client.User.Query().Where(user.CompanyID(b.CompanyID)).Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "its users are gone")
		n, err = e.DB.Client.APIKey.Query().Where(apikey.CompanyID(b.CompanyID)).Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "its API keys are gone")
		n, err = e.DB.Client.RefreshToken.Query().Where(refreshtoken.UserIDIn(b.AdminID, b.AgentID)).Count(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "its sessions are gone")
		require.NoDirExists(t, bDir)
		requireRefused(t, e.Do(b.AdminToken, meQ, nil))
		requireRefused(t, e.Do(b.APIKey, meQ, nil))
		requireCode(t, login(e, b.AdminEmail, apitest.Password), "UNAUTHENTICATED", "login")

		// The other company is untouched; deleting again is NOT_FOUND.
		e.Do(a.AdminToken, meQ, nil).OK(t)
		r = e.Do(root, `{ companies { totalCount } }`, nil).OK(t)
		require.Equal(t, float64(1), r.Get("companies.totalCount"))
		requireCode(t, e.Do(root, `mutation($id: ID!) { deleteCompany(id: $id) }`, map[string]any{"id": b.CompanyID}), "NOT_FOUND", "deleteCompany")

		// Its slug and emails are free again.
		e.Register("bravo")
	})
}

func TestUpdateCompany(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("acme")
		q := `mutation($in: UpdateCompanyInput!) { updateCompany(input: $in) {
			id name email website brandColor greeting allowedOrigins requireIdentity slug subscriptionPlan } }`

		r := e.Do(a.AdminToken, q, map[string]any{"in": map[string]any{
			"name": "  Acme Rockets  ", "brandColor": "#FF6600", "greeting": "  Hi! How can we help?  ",
			"allowedOrigins": []string{"HTTPS://Acme.Example/", "http://localhost:3000"},
			"email":          "Support@Acme.test", "website": "acme.example", "requireIdentity": true,
		}}).OK(t)
		require.Equal(t, a.CompanyID.String(), r.Str("updateCompany.id"))
		require.Equal(t, "Acme Rockets", r.Str("updateCompany.name"))
		require.Equal(t, "#FF6600", r.Str("updateCompany.brandColor"))
		require.Equal(t, "Hi! How can we help?", r.Str("updateCompany.greeting"))
		require.Equal(t, []any{"https://acme.example", "http://localhost:3000"}, r.Get("updateCompany.allowedOrigins"))
		require.Equal(t, "support@acme.test", r.Str("updateCompany.email"))
		require.Equal(t, "https://acme.example", r.Str("updateCompany.website"))
		require.Equal(t, true, r.Get("updateCompany.requireIdentity"))
		require.Equal(t, "acme", r.Str("updateCompany.slug"), "the slug does not follow the name")
		require.Equal(t, "FREE", r.Str("updateCompany.subscriptionPlan"))

		before, err := e.DB.Client.Company.Get(apitest.Bypass(), a.CompanyID)
		require.NoError(t, err)
		for name, in := range map[string]map[string]any{
			"colour word":      {"brandColor": "red"},
			"short colour":     {"brandColor": "#F60"},
			"colour injected":  {"brandColor": "#FF6600;background:url(x)"},
			"origin with path": {"allowedOrigins": []string{"https://acme.example/app"}},
			"origin wildcard":  {"allowedOrigins": []string{"*"}},
			"origin no scheme": {"allowedOrigins": []string{"acme.example"}},
			"empty name":       {"name": ""},
			"1 MB name":        {"name": strings.Repeat("n", 1_000_000)},
			"long greeting":    {"greeting": strings.Repeat("g", 501)},
			"bad email":        {"email": "nope"},
			// One bad field spoils the whole update.
			"mixed": {"name": "Partly Applied", "brandColor": "blue"},
		} {
			r := e.Do(a.AdminToken, q, map[string]any{"in": in})
			requireCode(t, r, "BAD_USER_INPUT", "updateCompany")
			after, err := e.DB.Client.Company.Get(apitest.Bypass(), a.CompanyID)
			require.NoError(t, err)
			require.Equal(t, before.Name, after.Name, name)
			require.Equal(t, before.BrandColor, after.BrandColor, name)
			require.Equal(t, before.AllowedOrigins, after.AllowedOrigins, name)
			require.Equal(t, before.Greeting, after.Greeting, name)
			require.Equal(t, before.Email, after.Email, name)
		}

		// An empty list clears the origins.
		r = e.Do(a.AdminToken, q, map[string]any{"in": map[string]any{"allowedOrigins": []string{}}}).OK(t)
		require.Empty(t, r.Get("updateCompany.allowedOrigins"))

		// Agents, API keys and anonymous callers cannot.
		requireCode(t, e.Do(a.AgentToken, q, map[string]any{"in": map[string]any{"name": "Agent Co"}}), "FORBIDDEN", "updateCompany")
		requireCode(t, e.Do(a.APIKey, q, map[string]any{"in": map[string]any{"name": "Key Co"}}), "FORBIDDEN", "updateCompany")
		requireCode(t, e.Do("", q, map[string]any{"in": map[string]any{"name": "Anon Co"}}), "UNAUTHENTICATED", "updateCompany")
		requireCode(t, e.Do(a.AgentToken, `mutation { deactivateCompany { id } }`, nil), "FORBIDDEN", "deactivateCompany")
		after, err := e.DB.Client.Company.Get(apitest.Bypass(), a.CompanyID)
		require.NoError(t, err)
		require.Equal(t, "Acme Rockets", after.Name)
		require.True(t, after.IsActive)

		// A new logo replaces the old one on disk.
		logoQ := `mutation($in: UpdateCompanyInput!) { updateCompany(input: $in) { logoURL } }`
		upload := func() string {
			r := e.Upload(a.AdminToken, logoQ, map[string]any{"in": map[string]any{"logo": nil}},
				map[string]apitest.File{"in.logo": {Name: "logo.png", Content: tinyPNG(t)}}).OK(t)
			return r.Str("updateCompany.logoURL")
		}
		first := upload()
		res, _ := get(t, e, first, nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		second := upload()
		require.NotEqual(t, first, second)
		res, _ = get(t, e, first, nil)
		require.Equal(t, http.StatusNotFound, res.StatusCode, "the replaced logo is removed")
		res, _ = get(t, e, second, nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		r = e.Upload(a.AdminToken, logoQ, map[string]any{"in": map[string]any{"logo": nil}},
			map[string]apitest.File{"in.logo": {Name: "logo.svg", Content: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)}})
		requireCode(t, r, "BAD_USER_INPUT", "updateCompany")
		res, _ = get(t, e, second, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "a refused logo keeps the current one")
	})
}
