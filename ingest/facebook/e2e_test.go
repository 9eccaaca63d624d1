package facebook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/ent/resource"
	"concierge/ingest"
	"concierge/ingest/facebook"
	"concierge/secretbox"
	"concierge/server"
	"concierge/viewer"
)

const addPage = `mutation($in: AddFacebookPageInput!) { addFacebookPage(input: $in) { id type status title sourceURL } }`

// allResourceFields is every field of Resource the API has.
const allResourceFields = `id companyID createdAt updatedAt type title sourceURL fileName status error isActive
	chunkCount progress company { id name }`

// rawDo posts a GraphQL request and returns the raw response body.
func rawDo(t *testing.T, url, token, query string, vars map[string]any) string {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func waitFinal(t *testing.T, d *db.DB, id uuid.UUID) *ent.Resource {
	t.Helper()
	var r *ent.Resource
	require.Eventually(t, func() bool {
		var err error
		r, err = d.Client.Resource.Get(apitest.Bypass(), id)
		require.NoError(t, err)
		return r.Status == resource.StatusCOMPLETED || r.Status == resource.StatusFAILED
	}, 60*time.Second, 20*time.Millisecond)
	return r
}

// addFacebookPage end to end: the page's about and posts (two pages of
// them) become searchable; an expired token, a bad page and a rate limit
// behave as users expect; the token is stored sealed and never returned.
func TestAddFacebookPageEndToEnd(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		f := newFakeGraph(t)
		key, err := secretbox.ParseKey(secretbox.NewKey())
		require.NoError(t, err)
		box, err := secretbox.New(key)
		require.NoError(t, err)
		ex := &facebook.Extractor{Client: f.client(t, facebook.Config{}), Secrets: box}
		e := apitest.NewWithConfig(t, d, server.Config{Ingest: ingest.Config{MaxAttempts: 2, Secrets: box,
			Extractors: map[resource.Type]ingest.Extractor{resource.TypeFACEBOOK: ex}}})
		a := e.Register("alpha")

		add := func(page, token string) uuid.UUID {
			r := e.Do(a.AdminToken, addPage, map[string]any{"in": map[string]any{"page": page, "accessToken": token}}).OK(t)
			require.Equal(t, "FACEBOOK", r.Str("addFacebookPage.type"))
			return uuid.MustParse(r.Str("addFacebookPage.id"))
		}
		good := add("https://www.facebook.com/profile.php?id=1234567890", goodToken)
		expired := add("acmebikes", "EAAExpiredToken")
		bad := add("https://www.facebook.com/nosuchpage", goodToken)
		busy := add("busypage", goodToken)

		r := waitFinal(t, d, good)
		require.Equal(t, resource.StatusCOMPLETED, r.Status, r.Error)
		require.Equal(t, 3, r.ChunkCount, "about and two posts")
		require.Equal(t, "https://www.facebook.com/profile.php?id=1234567890", r.SourceURL)
		find := func(q string) []string {
			hits, err := e.App.Retrieval.Search(viewer.SystemContext(context.Background(), a.CompanyID), q, 5, nil)
			require.NoError(t, err)
			var urls []string
			for _, h := range hits {
				if h.ResourceID == good {
					urls = append(urls, h.URL)
				}
			}
			return urls
		}
		require.Contains(t, find("tandem rental weekend"), "https://www.facebook.com/acmebikes/posts/113", "a post of the second page")
		require.Contains(t, find("winter opening hours December"), "https://www.facebook.com/acmebikes/posts/111")
		require.NotEmpty(t, find("free safety check repair"), "the page's description")

		r = waitFinal(t, d, expired)
		require.Equal(t, resource.StatusFAILED, r.Status)
		require.Equal(t, "the Facebook access token is invalid or expired", r.Error)
		r = waitFinal(t, d, bad)
		require.Equal(t, resource.StatusFAILED, r.Status)
		require.Contains(t, r.Error, facebook.MsgPageNotFound)
		r = waitFinal(t, d, busy)
		require.Equal(t, resource.StatusCOMPLETED, r.Status, "rate limited once, then read: %s", r.Error)

		// Stored sealed, bound to the resource.
		r, err = d.Client.Resource.Get(apitest.Bypass(), good)
		require.NoError(t, err)
		sealed, _ := r.Metadata[ingest.MetaFacebookToken].(string)
		require.NotEmpty(t, sealed)
		require.NotContains(t, sealed, goodToken)
		pt, err := box.Open(sealed, good[:])
		require.NoError(t, err)
		require.Equal(t, goodToken, string(pt))
		for _, col := range []string{"metadata", "extracted_content", "title", "source_url", "error"} {
			var n int
			require.NoError(t, d.SQL.QueryRow(`SELECT COUNT(*) FROM resources WHERE CAST(`+col+` AS TEXT) LIKE '%`+goodToken+`%'`).Scan(&n))
			require.Zero(t, n, "the token in plain text in resources."+col)
		}

		// Never returned: every field of every resource, through every read.
		for _, q := range []string{
			`{ resources(first: 50) { edges { node { ` + allResourceFields + ` } } } }`,
			`query($id: ID!) { resource(id: $id) { ` + allResourceFields + ` } }`,
			`query($id: ID!) { node(id: $id) { ... on Resource { ` + allResourceFields + ` } } }`,
			`mutation($id: ID!) { updateResource(id: $id, input: {title: "Acme"}) { ` + allResourceFields + ` } }`,
		} {
			raw := rawDo(t, e.URL, a.AdminToken, q, map[string]any{"id": good.String()})
			require.Contains(t, raw, good.String())
			require.NotContains(t, raw, `"errors"`)
			require.NotContains(t, raw, goodToken)
			require.NotContains(t, raw, "EAAExpiredToken")
			require.NotContains(t, raw, sealed)
		}

		// Bad input is refused before anything is stored.
		for _, in := range []map[string]any{
			{"page": "https://evil.example/acme", "accessToken": goodToken},
			{"page": "acmebikes", "accessToken": ""},
			{"page": "acmebikes", "accessToken": "two words"},
		} {
			res := e.Do(a.AdminToken, addPage, map[string]any{"in": in})
			require.Equal(t, "BAD_USER_INPUT", res.Code(), in)
		}
		// Agents may not add knowledge.
		res := e.Do(a.AgentToken, addPage, map[string]any{"in": map[string]any{"page": "acmebikes", "accessToken": goodToken}})
		require.NotEmpty(t, res.Errors)
	})
}
