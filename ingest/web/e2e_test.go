package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
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
	"concierge/ingest/web"
	"concierge/server"
	"concierge/viewer"
)

const addWebsite = `mutation($in: AddWebsiteInput!) { addWebsite(input: $in) { id type status title sourceURL } }`

func env(t testing.TB, d *db.DB, x *web.Extractor) *apitest.Env {
	return apitest.NewWithConfig(t, d, server.Config{Ingest: ingest.Config{MaxAttempts: 2,
		Extractors: map[resource.Type]ingest.Extractor{resource.TypeWEBSITE: x}}})
}

func waitFinal(t testing.TB, d *db.DB, id uuid.UUID) *ent.Resource {
	t.Helper()
	var r *ent.Resource
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		var err error
		r, err = d.Client.Resource.Get(apitest.Bypass(), id)
		require.NoError(t, err)
		if r.Status == resource.StatusCOMPLETED || r.Status == resource.StatusFAILED {
			return r
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("resource %s never finished (status %s)", id, r.Status)
	return nil
}

// addWebsite end to end: progress over a real WebSocket subscription,
// COMPLETED, a page's text searchable with the page URL in the hit; bad
// input refused with BAD_USER_INPUT; a 404 site FAILED with its reason.
func TestAddWebsiteEndToEnd(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		s := newSite(t)
		e := env(t, d, extractor(t, s.host()))
		a := e.Register("alpha")
		sub, err := e.Subscribe(a.AdminToken, `subscription { resourceEvents { id status progress chunkCount } }`, nil)
		require.NoError(t, err)
		e.WaitSubscribers(ingest.Topic(a.CompanyID), 1)

		r := e.Do(a.AdminToken, addWebsite, map[string]any{"in": map[string]any{"url": s.URL + "/", "maxDepth": 3,
			"renderJavascript": false, "excludePaths": []string{"/about"}}}).OK(t)
		require.Equal(t, "WEBSITE", r.Str("addWebsite.type"))
		require.Contains(t, []string{"PENDING", "PROCESSING", "COMPLETED"}, r.Str("addWebsite.status"), "queued; a worker may have started it before the answer")
		require.Equal(t, s.URL+"/", r.Str("addWebsite.sourceURL"))
		id := uuid.MustParse(r.Str("addWebsite.id"))

		var progress []float64
		var seen []string
		for {
			ev := sub.Next(60 * time.Second)
			require.NotNil(t, ev, "no final status; seen %v", seen)
			require.Empty(t, ev.Errors)
			if ev.Str("resourceEvents.id") != id.String() {
				continue
			}
			st := ev.Str("resourceEvents.status")
			if len(seen) == 0 || seen[len(seen)-1] != st {
				seen = append(seen, st)
			}
			progress = append(progress, ev.Get("resourceEvents.progress").(float64))
			if st == "COMPLETED" || st == "FAILED" {
				break
			}
		}
		require.Equal(t, []string{"PENDING", "PROCESSING", "COMPLETED"}, seen)
		partial := 0
		for _, p := range progress {
			if p > 0 && p < 0.8 {
				partial++
			}
		}
		require.GreaterOrEqual(t, partial, 3, "pages crawled / pages found reported as progress: %v", progress)

		hits, err := e.App.Retrieval.Search(viewer.SystemContext(context.Background(), a.CompanyID),
			"how often should I descale the kettle with citric quokkastone?", 5, nil)
		require.NoError(t, err)
		require.NotEmpty(t, hits)
		require.Equal(t, id, hits[0].ResourceID)
		require.Equal(t, s.URL+"/docs/setup/advanced", hits[0].URL)
		require.Contains(t, hits[0].Text, "quokkastone")
		chunks, err := d.Client.Chunk.Query().All(apitest.Bypass())
		require.NoError(t, err)
		for _, c := range chunks {
			require.NotContains(t, c.URL, "/about", "excluded")
			for _, w := range boilerWords {
				require.NotContains(t, c.Text, w)
			}
		}

		// Bad input: refused before anything is stored.
		for _, in := range []map[string]any{
			{"url": "file:///etc/passwd"}, {"url": "javascript:alert(1)"}, {"url": "http://user:pw@example.com/"},
			{"url": "ftp://example.com/"}, {"url": "example.com"}, {"url": "http://2130706433/"},
			{"url": "https://example.com/", "maxPages": 0}, {"url": "https://example.com/", "maxDepth": 11},
			{"url": "https://example.com/", "maxDepth": -1}, {"url": "https://example.com/", "includePaths": []string{"docs"}},
		} {
			r := e.Do(a.AdminToken, addWebsite, map[string]any{"in": in})
			require.Equal(t, "BAD_USER_INPUT", r.Code(), "%v", in)
		}
		n, err := d.Client.Resource.Query().Count(apitest.Bypass())
		require.NoError(t, err)
		require.Equal(t, 1, n)

		// An agent may not add knowledge.
		require.Equal(t, "FORBIDDEN", e.Do(a.AgentToken, addWebsite, map[string]any{"in": map[string]any{"url": s.URL}}).Code())

		// A 404 start page and a loopback address not allowed: FAILED, with the reason.
		tr := newTrap(t)
		for url, want := range map[string]string{s.URL + "/missing": "404 Not Found", tr.url() + "/": "loopback address"} {
			r = e.Do(a.AdminToken, addWebsite, map[string]any{"in": map[string]any{"url": url}}).OK(t)
			res := waitFinal(t, d, uuid.MustParse(r.Str("addWebsite.id")))
			require.Equal(t, resource.StatusFAILED, res.Status)
			require.Contains(t, res.Error, want)
		}
		require.Zero(t, tr.conns.Load())
	})
}

// Re-crawling replaces the site's passages atomically: searches running
// all through the re-crawl see either the old edition or the new one,
// never a mix.
func TestRecrawlIsAtomic(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		s := newSite(t)
		e := env(t, d, extractor(t, s.host()))
		a := e.Register("alpha")
		r := e.Do(a.AdminToken, addWebsite, map[string]any{"in": map[string]any{"url": s.URL, "maxDepth": 3,
			"renderJavascript": false}}).OK(t)
		id := uuid.MustParse(r.Str("addWebsite.id"))
		require.Equal(t, resource.StatusCOMPLETED, waitFinal(t, d, id).Status)

		ctx := viewer.SystemContext(context.Background(), a.CompanyID)
		editions := func() map[string]int {
			hits, err := e.App.Retrieval.Search(ctx, "which edition of the site is this", 50, nil)
			require.NoError(t, err)
			out := map[string]int{}
			for _, h := range hits {
				for _, ed := range []string{"edition one", "edition two"} {
					if strings.Contains(h.Text, ed) {
						out[ed]++
					}
				}
			}
			return out
		}
		require.Equal(t, []string{"edition one"}, keys(editions()))

		s.version.Store("two")
		var stop atomic.Bool
		var wg sync.WaitGroup
		var searches atomic.Int64
		var mixed atomic.Value
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					if ed := editions(); len(ed) > 1 {
						mixed.Store(fmt.Sprint(ed))
					}
					searches.Add(1)
				}
			}()
		}
		e.Do(a.AdminToken, `mutation($id: ID!) { reprocessResource(id: $id) { id status } }`, map[string]any{"id": id.String()}).OK(t)
		require.Eventually(t, func() bool {
			res, err := d.Client.Resource.Get(apitest.Bypass(), id)
			require.NoError(t, err)
			return res.Status == resource.StatusCOMPLETED && keys(editions())[0] == "edition two"
		}, 60*time.Second, 5*time.Millisecond)
		stop.Store(true)
		wg.Wait()
		require.Nil(t, mixed.Load(), "a search saw both editions")
		require.Greater(t, searches.Load(), int64(10))
		require.Equal(t, []string{"edition two"}, keys(editions()))
	})
}

func keys(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	if len(out) == 0 {
		return []string{""}
	}
	return out
}

var _ = http.StatusOK
