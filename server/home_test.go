package server

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func TestDashboardServing(t *testing.T) {
	t.Parallel()
	app := fstest.MapFS{
		"index.html":          {Data: []byte(`<!doctype html><title>Concierge</title><div id="root"></div>`)},
		"graphiql.html":       {Data: []byte(`<!doctype html><title>Concierge · GraphiQL</title>`)},
		"favicon.svg":         {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		"assets/index-abc.js": {Data: []byte(`console.log("app")`)},
	}
	do := func(h http.Handler, method, path string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req := httptest.NewRequest(method, path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		res := w.Result()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	t.Run("pages of the app get index.html, revalidated", func(t *testing.T) {
		d := newDashboard(app, false)
		for _, p := range []string{"/", "/inbox", "/inbox/0b9c", "/settings/widget", "/admin/companies/x"} {
			res, body := do(d, http.MethodGet, p)
			require.Equal(t, http.StatusOK, res.StatusCode, p)
			require.Contains(t, body, `<div id="root">`, p)
			require.Equal(t, "no-cache", res.Header.Get("Cache-Control"), p)
			require.Contains(t, res.Header.Get("Content-Type"), "text/html", p)
		}
	})
	t.Run("hashed assets are cached for good, other files briefly", func(t *testing.T) {
		d := newDashboard(app, false)
		res, body := do(d, http.MethodGet, "/assets/index-abc.js")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, `console.log("app")`, body)
		require.Equal(t, "public, max-age=31536000, immutable", res.Header.Get("Cache-Control"))
		require.Contains(t, res.Header.Get("Content-Type"), "javascript")
		res, _ = do(d, http.MethodGet, "/favicon.svg")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "public, max-age=300", res.Header.Get("Cache-Control"))
	})
	t.Run("scripts and styles are sent gzipped to clients that take it", func(t *testing.T) {
		d := newDashboard(app, false)
		res, body := do(d, http.MethodGet, "/assets/index-abc.js", "Accept-Encoding", "gzip, deflate, br")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
		require.Contains(t, res.Header.Get("Vary"), "Accept-Encoding")
		require.Contains(t, res.Header.Get("Content-Type"), "javascript")
		require.Equal(t, "public, max-age=31536000, immutable", res.Header.Get("Cache-Control"))
		zr, err := gzip.NewReader(strings.NewReader(body))
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		require.Equal(t, `console.log("app")`, string(plain))
		// Not to a client that does not take it, or refuses it.
		for _, ae := range []string{"", "br", "gzip;q=0"} {
			res, body = do(d, http.MethodGet, "/assets/index-abc.js", "Accept-Encoding", ae)
			require.Empty(t, res.Header.Get("Content-Encoding"), ae)
			require.Equal(t, `console.log("app")`, body, ae)
		}
	})
	t.Run("a missing file, an API path or a write is never the app", func(t *testing.T) {
		d := newDashboard(app, false)
		for _, p := range []string{"/assets/index-old.js", "/nope.png", "/files/logos/x", "/files/", "/graphql/x", "/api/companies", "/widget/other", "/metrics/x"} {
			res, body := do(d, http.MethodGet, p)
			require.Equal(t, http.StatusNotFound, res.StatusCode, p)
			require.NotContains(t, body, `<div id="root">`, p)
		}
		res, _ := do(d, http.MethodPost, "/inbox")
		require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
		require.Equal(t, "GET, HEAD", res.Header.Get("Allow"))
	})
	t.Run("GraphiQL outside production only", func(t *testing.T) {
		res, body := do(newDashboard(app, false), http.MethodGet, "/graphiql")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, "GraphiQL")
		res, body = do(withGraphiQL(newDashboard(app, false), http.NotFoundHandler()), http.MethodGet, "/graphql", "Accept", "text/html")
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Contains(t, body, "GraphiQL")
		res, _ = do(newDashboard(app, true), http.MethodGet, "/graphiql")
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		// A query by GET is the API's, not GraphiQL's.
		res, _ = do(withGraphiQL(newDashboard(app, false), http.NotFoundHandler()), http.MethodGet, "/graphql?query=%7B__typename%7D", "Accept", "text/html")
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	})
	t.Run("a binary built without the dashboard says how to build it", func(t *testing.T) {
		for _, fsys := range []fstest.MapFS{nil, {}, {"assets/x.js": {Data: []byte("x")}}} {
			d := newDashboard(fsys, false)
			if fsys == nil {
				d = newDashboard(nil, false)
			}
			res, body := do(d, http.MethodGet, "/inbox")
			require.Equal(t, http.StatusOK, res.StatusCode)
			require.Contains(t, body, "make run")
			require.True(t, strings.Contains(body, "GraphiQL"))
		}
	})
}
