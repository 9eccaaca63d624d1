package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/dbtest"
	"concierge/ent/resource"
	"concierge/retrieval"
	"concierge/viewer"
)

// newBigSite serves a 30-page site: a home page linking 29 pages of a few
// paragraphs each, each with a word of its own.
func newBigSite(tb testing.TB) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var main strings.Builder
		if r.URL.Path == "/" {
			// The layout's navigation links 3 more pages (404 here): 33 crawled.
			main.WriteString("<h1>Handbook</h1><p>The handbook of the Widget company.</p><ul>")
			for i := 1; i < 30; i++ {
				fmt.Fprintf(&main, `<li><a href="/page/%d">Chapter %d</a></li>`, i, i)
			}
			main.WriteString("</ul>")
		} else if n, ok := strings.CutPrefix(r.URL.Path, "/page/"); ok {
			fmt.Fprintf(&main, "<h1>Chapter %s</h1>", n)
			for p := range 6 {
				fmt.Fprintf(&main, "<h2>Part %d</h2><p>Chapter %s explains the uniqword%s procedure, step %d. "+
					"Operators check the gauge, record the reading and report anomalies to the shift lead. "+
					"The procedure is repeated every morning before the line starts.</p>", p, n, n, p)
			}
		} else if r.URL.Path == "/robots.txt" || r.URL.Path == "/sitemap.xml" {
			http.NotFound(w, r)
			return
		} else {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, layout, "Handbook", main.String())
	}))
	tb.Cleanup(srv.Close)
	return srv
}

func searchable(hits []retrieval.Hit, id uuid.UUID) bool {
	for _, h := range hits {
		if h.ResourceID == id && strings.Contains(h.Text, "uniqword29") {
			return true
		}
	}
	return false
}

// BenchmarkWebsiteToSearchable measures the time from addWebsite to the
// last page being searchable, for a 30-page local site, over plain HTTP
// and through Chromium (SQLite, embedded index).
func BenchmarkWebsiteToSearchable(b *testing.B) {
	for _, render := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "chromium"}[render]
		b.Run(name, func(b *testing.B) {
			if render {
				requireChrome(b)
			}
			srv := newBigSite(b)
			d := dbtest.Open(b, "sqlite")
			e := env(b, d, extractor(b, strings.TrimPrefix(srv.URL, "http://")))
			a := e.Register("bench")
			ctx := viewer.SystemContext(context.Background(), a.CompanyID)
			b.ResetTimer()
			for range b.N {
				r := e.Do(a.AdminToken, addWebsite, map[string]any{"in": map[string]any{"url": srv.URL,
					"renderJavascript": render}}).OK(b)
				id := uuid.MustParse(r.Str("addWebsite.id"))
				for {
					hits, err := e.App.Retrieval.Search(ctx, "uniqword29 procedure", 10, nil)
					require.NoError(b, err)
					if searchable(hits, id) {
						break
					}
					res, err := d.Client.Resource.Get(ctx, id)
					require.NoError(b, err)
					require.NotEqual(b, resource.StatusFAILED, res.Status, res.Error)
					if res.Status == resource.StatusCOMPLETED {
						hits, err := e.App.Retrieval.Search(ctx, "uniqword29 procedure", 10, nil)
						require.NoError(b, err)
						require.True(b, searchable(hits, id), "completed but the last page is not searchable")
						break
					}
					time.Sleep(5 * time.Millisecond)
				}
				b.StopTimer()
				res, err := d.Client.Resource.Get(ctx, id)
				require.NoError(b, err)
				b.ReportMetric(float64(res.ChunkCount), "chunks")
				// The next round starts from an empty index.
				e.Do(a.AdminToken, `mutation($id: ID!) { deleteResource(id: $id) }`, map[string]any{"id": id.String()}).OK(b)
				b.StartTimer()
			}
		})
	}
}
