package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"concierge/apitest"
	"concierge/dbtest"
)

type httpAnswer struct {
	status int
	header http.Header
	body   map[string]json.RawMessage
	raw    string
}

// code is the first error's extensions.code.
func (a httpAnswer) code(t *testing.T) string {
	t.Helper()
	var errs []struct {
		Extensions map[string]any `json:"extensions"`
	}
	require.NoError(t, json.Unmarshal(a.body["errors"], &errs), a.raw)
	require.NotEmpty(t, errs, a.raw)
	c, _ := errs[0].Extensions["code"].(string)
	return c
}

func graphqlRequest(t *testing.T, e *apitest.Env, method, accept, body string) httpAnswer {
	t.Helper()
	u := e.URL
	var rd io.Reader
	if method == http.MethodGet {
		u += "?" + body
	} else {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	require.NoError(t, err)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := e.Server.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	a := httpAnswer{status: res.StatusCode, header: res.Header, raw: string(raw)}
	require.NoError(t, json.Unmarshal(raw, &a.body), "%s", raw)
	return a
}

// GraphQL over HTTP: a well-formed request refused before execution (it
// does not parse, validate, or its variables do not coerce, or it is over
// a limit) is answered 200 under application/json and 400 under
// application/graphql-response+json, with its errors, their codes, and no
// data entry; a body that is no GraphQL request, or has no query, is 400
// under both; an executed operation is 200 with data.
func TestGraphQLOverHTTPStatuses(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, dbtest.Open(t, "sqlite3"))
	deep := "{ " + strings.Repeat("me { company { ", 25) + "id" + strings.Repeat(" } }", 25) + " }"
	refused := []struct{ name, body, code string }{
		{"parse", `{"query": "{"}`, "GRAPHQL_PARSE_FAILED"},
		{"validation", `{"query": "{ noSuchField }"}`, "GRAPHQL_VALIDATION_FAILED"},
		{"unknown operation", `{"query": "query A { __typename }", "operationName": "B"}`, "GRAPHQL_VALIDATION_FAILED"},
		{"variable coercion", `{"query": "query ($b: Boolean!) { __typename @include(if: $b) }", "variables": {"b": "yes"}}`, "GRAPHQL_VALIDATION_FAILED"},
		{"depth limit", `{"query": ` + quote(deep) + `}`, "BAD_USER_INPUT"},
	}
	for _, media := range []string{"", "application/json", "application/graphql-response+json"} {
		want, ct := http.StatusOK, "application/json"
		if media == "application/graphql-response+json" {
			want, ct = http.StatusBadRequest, media
		}
		for _, c := range refused {
			a := graphqlRequest(t, e, http.MethodPost, media, c.body)
			require.Equal(t, want, a.status, "%s, Accept %q: %s", c.name, media, a.raw)
			require.Equal(t, ct, a.header.Get("Content-Type"), c.name)
			require.NotContains(t, a.body, "data", "%s, Accept %q: no data entry: %s", c.name, media, a.raw)
			require.Equal(t, c.code, a.code(t), "%s: %s", c.name, a.raw)
		}
		for _, body := range []string{`{}`, `{"query": ""}`, `{"variables": {}}`, `null`} {
			a := graphqlRequest(t, e, http.MethodPost, media, body)
			require.Equal(t, http.StatusBadRequest, a.status, "%s: %s", body, a.raw)
			require.NotContains(t, a.body, "data", a.raw)
			require.Equal(t, "BAD_REQUEST", a.code(t), a.raw)
			require.Contains(t, a.raw, "no query")
		}
		a := graphqlRequest(t, e, http.MethodPost, media, `{"query": "{ `)
		require.Equal(t, http.StatusBadRequest, a.status, a.raw)
		require.NotContains(t, a.body, "data", a.raw)
		require.Equal(t, "BAD_REQUEST", a.code(t), a.raw)

		a = graphqlRequest(t, e, http.MethodPost, media, `{"query": "{ __typename }"}`)
		require.Equal(t, http.StatusOK, a.status, a.raw)
		require.Equal(t, ct, a.header.Get("Content-Type"))
		require.JSONEq(t, `{"__typename": "Query"}`, string(a.body["data"]))
		// A resolver's error is no request error: executed, 200, data.
		a = graphqlRequest(t, e, http.MethodPost, media, `{"query": "{ apiKeys { id } }"}`)
		require.Equal(t, http.StatusOK, a.status, a.raw)
		require.Contains(t, a.body, "data", a.raw)
		require.Equal(t, "UNAUTHENTICATED", a.code(t), a.raw)
	}

	// GET: the same rules, and no mutation.
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	a := graphqlRequest(t, e, http.MethodGet, "", q("query", "{ __typename }"))
	require.Equal(t, http.StatusOK, a.status, a.raw)
	require.JSONEq(t, `{"__typename": "Query"}`, string(a.body["data"]))
	a = graphqlRequest(t, e, http.MethodGet, "", q("query", "{"))
	require.Equal(t, http.StatusOK, a.status, a.raw)
	require.NotContains(t, a.body, "data", a.raw)
	require.Equal(t, "GRAPHQL_PARSE_FAILED", a.code(t))
	a = graphqlRequest(t, e, http.MethodGet, "application/graphql-response+json", q("query", "{"))
	require.Equal(t, http.StatusBadRequest, a.status, a.raw)
	require.NotContains(t, a.body, "data", a.raw)
	a = graphqlRequest(t, e, http.MethodGet, "", q("query", "query ($b: Boolean!) { __typename @include(if: $b) }", "variables", "[1]"))
	require.Equal(t, http.StatusBadRequest, a.status, a.raw)
	require.Equal(t, "BAD_REQUEST", a.code(t))
	require.Contains(t, a.raw, "variables must be a JSON object")
	a = graphqlRequest(t, e, http.MethodGet, "", q("query", `mutation { logout }`))
	require.Equal(t, http.StatusMethodNotAllowed, a.status, a.raw)
	require.Equal(t, "POST", a.header.Get("Allow"))
	require.NotContains(t, a.body, "data", a.raw)
	require.Equal(t, "BAD_REQUEST", a.code(t))
}

// /schema.graphql is the served schema as SDL: it parses, it has every
// type introspection shows, none of the code generator's directives, and
// it is revalidated with its ETag.
func TestSchemaSDL(t *testing.T) {
	t.Parallel()
	e := apitest.New(t, dbtest.Open(t, "sqlite3"))
	res, err := e.Server.Client().Get(e.Server.URL + "/schema.graphql")
	require.NoError(t, err)
	sdl, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", sdl)
	require.Equal(t, "text/plain; charset=utf-8", res.Header.Get("Content-Type"))
	etag := res.Header.Get("ETag")
	require.NotEmpty(t, etag)

	text := string(sdl)
	require.Contains(t, text, "type Query {")
	require.Contains(t, text, "type Mutation {")
	require.Contains(t, text, "type Subscription {")
	require.NotContains(t, text, "@goModel")
	require.NotContains(t, text, "@goField")
	require.NotContains(t, text, "concierge/")
	schema, gerr := gqlparser.LoadSchema(&ast.Source{Name: "schema.graphql", Input: text})
	require.Nil(t, gerr, "the SDL parses and validates: %v", gerr)
	require.NotNil(t, schema.Query.Fields.ForName("me"))

	// Every type the endpoint introspects is in the SDL.
	r := e.Do("", `{ __schema { types { name } } }`, nil).OK(t)
	var intro struct {
		Schema struct {
			Types []struct{ Name string } `json:"types"`
		} `json:"__schema"`
	}
	require.NoError(t, json.Unmarshal(r.Data, &intro))
	var missing []string
	for _, ty := range intro.Schema.Types {
		if _, ok := schema.Types[ty.Name]; !ok {
			missing = append(missing, ty.Name)
		}
	}
	require.Empty(t, missing)
	require.Greater(t, len(intro.Schema.Types), 30)

	req, err := http.NewRequest(http.MethodGet, e.Server.URL+"/schema.graphql", nil)
	require.NoError(t, err)
	req.Header.Set("If-None-Match", etag)
	res, err = e.Server.Client().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusNotModified, res.StatusCode)
	require.Equal(t, etag, res.Header.Get("ETag"))
}
