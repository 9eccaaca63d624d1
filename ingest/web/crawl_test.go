package web_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/ingest"
	"concierge/ingest/web"
)

func pagesByPath(t *testing.T, res *web.Result) map[string]web.Page {
	t.Helper()
	out := map[string]web.Page{}
	for _, p := range res.Pages {
		u, err := url.Parse(p.URL)
		require.NoError(t, err)
		_, dup := out[u.RequestURI()]
		require.False(t, dup, "page %s crawled twice", p.URL)
		out[u.RequestURI()] = p
	}
	return out
}

func paths(m map[string]web.Page) []string {
	var out []string
	for p := range m {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func requireNoBoilerplate(t *testing.T, res *web.Result) {
	t.Helper()
	for _, p := range res.Pages {
		for _, w := range boilerWords {
			require.NotContains(t, p.Text, w, "boilerplate in %s", p.URL)
		}
	}
}

type progressLog struct {
	mu    sync.Mutex
	steps [][2]int
}

func (l *progressLog) fn(_ context.Context, done, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.steps = append(l.steps, [2]int{done, total})
}

// The whole site over plain HTTP: links three levels deep, the sitemap's
// orphan, robots.txt's disallowed path left alone, boilerplate dropped,
// tracking parameters and fragments normalised away, JavaScript content
// not seen without a browser.
func TestCrawlPlainHTTP(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	var pl progressLog
	res, err := extractor(t, s.host()).Crawl(context.Background(),
		web.Params{URL: s.URL + "/?utm_source=x#top", MaxPages: 50, MaxDepth: 3}, pl.fn)
	require.NoError(t, err)
	require.False(t, res.Rendered)
	got := pagesByPath(t, res)
	require.Equal(t, []string{"/", "/about", "/docs/", "/docs/setup", "/docs/setup/advanced", "/js", "/orphan"}, paths(got))
	require.Zero(t, s.hit("/private/secret"), "robots.txt disallows /private/")
	require.Equal(t, 1, s.hit("/about"), "/about?utm_source=footer#team is /about")
	require.Equal(t, 1, s.hit("/"), "the start page is fetched once")
	requireNoBoilerplate(t, res)
	require.Contains(t, got["/docs/setup/advanced"].Text, "citric quokkastone")
	require.Contains(t, got["/docs/setup/advanced"].Text, "## Descaling")
	require.Contains(t, got["/docs/setup"].Text, "# Setup guide", "an article's own header stays")
	require.Equal(t, "Acme – docs/setup", got["/docs/setup"].Title)
	require.Contains(t, got["/orphan"].Text, "marzipanic")
	require.NotContains(t, got["/js"].Text, "Quasarflux", "no JavaScript without a browser")
	require.Equal(t, 3, got["/docs/setup/advanced"].Depth)

	doc := res.Document()
	require.Len(t, doc.Sections, len(res.Pages))
	for _, sec := range doc.Sections {
		require.True(t, strings.HasPrefix(sec.URL, s.URL+"/"), sec.URL)
		require.NotEmpty(t, sec.Heading)
	}
	// Progress: pages crawled of pages found, ending complete.
	require.NotEmpty(t, pl.steps)
	last := pl.steps[len(pl.steps)-1]
	require.Equal(t, 7, last[0])
	require.Equal(t, last[0], last[1])
	for i, st := range pl.steps {
		require.LessOrEqual(t, st[0], st[1])
		if i > 0 {
			require.GreaterOrEqual(t, st[0], pl.steps[i-1][0])
		}
	}
}

func TestCrawlMaxDepth(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	x := extractor(t, s.host())
	res, err := x.Crawl(context.Background(), web.Params{URL: s.URL, MaxPages: 50, MaxDepth: 1}, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"/", "/about", "/docs/", "/js", "/orphan"}, paths(pagesByPath(t, res)))
	require.Zero(t, s.hit("/docs/setup"))

	s2 := newSite(t)
	res, err = extractor(t, s2.host()).Crawl(context.Background(), web.Params{URL: s2.URL, MaxPages: 50, MaxDepth: 0}, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"/"}, paths(pagesByPath(t, res)))
	require.Equal(t, 1, s2.totalHTMLHits())
	require.Zero(t, s2.hit("/sitemap.xml"), "depth 0: the start page only")
}

func TestCrawlMaxPages(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	res, err := extractor(t, s.host()).Crawl(context.Background(), web.Params{URL: s.URL, MaxPages: 3, MaxDepth: 5}, nil)
	require.NoError(t, err)
	require.Equal(t, 3, res.Crawled)
	require.Len(t, res.Pages, 3)
	require.Equal(t, 3, s.totalHTMLHits(), "no more than maxPages pages are fetched")
}

func TestCrawlIncludeExclude(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	res, err := extractor(t, s.host()).Crawl(context.Background(),
		web.Params{URL: s.URL, MaxPages: 50, MaxDepth: 3, ExcludePaths: []string{"/docs/*"}}, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"/", "/about", "/js", "/orphan"}, paths(pagesByPath(t, res)))
	require.Zero(t, s.hit("/docs/")+s.hit("/docs/setup"), "excluded pages are not fetched")

	s2 := newSite(t)
	res, err = extractor(t, s2.host()).Crawl(context.Background(),
		web.Params{URL: s2.URL, MaxPages: 50, MaxDepth: 3, IncludePaths: []string{"/docs/*"}}, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"/docs/", "/docs/setup", "/docs/setup/advanced"}, paths(pagesByPath(t, res)),
		"the start page is read for its links but only included paths are kept")
	require.Zero(t, s2.hit("/about"))
}

// Crawls that cannot start fail permanently with a reason users can act
// on, and the guard's refusals reach nothing.
func TestCrawlStartErrors(t *testing.T) {
	t.Parallel()
	tr := newTrap(t)
	s := newSite(t)
	s.extra["/loop"] = func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop2", http.StatusFound) }
	s.extra["/loop2"] = func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) }
	s.extra["/to-trap"] = func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, tr.url()+"/x", http.StatusFound) }
	s.extra["/file"] = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	}
	s.extra["/pdf"] = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		w.Write([]byte("%PDF-1.4"))
	}
	forbidding := newSite(t)
	forbidding.extra["/robots.txt"] = func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("User-agent: *\nDisallow: /\n"))
	}
	closed := newTrap(t)
	closedHost := closed.ln.Addr().String()
	closed.ln.Close()

	for _, tc := range []struct{ name, url, want string }{
		{"404 start page", s.URL + "/nope", "answered 404 Not Found"},
		{"redirect loop", s.URL + "/loop", "redirects too many times"},
		{"redirect to a blocked address", s.URL + "/to-trap", "loopback address"},
		{"redirect to file:", s.URL + "/file", "redirects to an address that cannot be crawled"},
		{"not HTML", s.URL + "/pdf", "not an HTML page"},
		{"robots.txt forbids everything", forbidding.URL + "/", "robots.txt of"},
		{"unreachable", "http://" + closedHost + "/", "cannot be reached"},
		{"loopback not allowed", tr.url() + "/", "loopback address"},
		{"private address", "http://10.255.255.1:81/", "private network"},
		{"metadata address", "http://169.254.169.254/latest/meta-data/", "metadata"},
		{"credentials", "http://user:pw@" + s.host() + "/", "credentials"},
		{"javascript:", "javascript:alert(1)", "not allowed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := extractor(t, s.host(), forbidding.host(), closedHost)
			_, err := x.Crawl(context.Background(), web.Params{URL: tc.url, MaxPages: 5, MaxDepth: 1}, nil)
			require.Error(t, err)
			require.True(t, ingest.IsPermanent(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
			require.NotContains(t, err.Error(), "pw@")
		})
	}
	require.Zero(t, tr.conns.Load(), "the trap was reached")
	require.Zero(t, forbidding.totalHTMLHits())
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"http://a.example":           "http://a.example/",
		"http://a.example:80/x#frag": "http://a.example/x",
		"https://a.example:443/x?utm_source=a&b=2&utm_medium=c&a=1": "https://a.example/x?b=2&a=1",
		"https://a.example/x?fbclid=1":                              "https://a.example/x",
		"https://a.example:8443/x?z=1&a=2":                          "https://a.example:8443/x?z=1&a=2",
	} {
		u, err := url.Parse(in)
		require.NoError(t, err)
		require.Equal(t, want, web.Normalize(u).String(), in)
	}
}

func TestMatchPath(t *testing.T) {
	for _, tc := range []struct {
		pat, path string
		want      bool
	}{
		{"/docs/*", "/docs/a/b", true}, {"/docs/*", "/docs", true}, {"/docs/*", "/docsx", false},
		{"/docs", "/docs/a", false}, {"/blog/*/comments", "/blog/2024/x/comments", true},
		{"*.html", "/a/b.html", true}, {"/a*c", "/abbbd", false},
	} {
		require.Equal(t, tc.want, web.MatchPath(tc.pat, tc.path), "%s ~ %s", tc.pat, tc.path)
	}
}
