package web_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/ingest/web"
)

// Boilerplate markers: words that appear only in the site's navigation,
// header, footer and cookie banner, never in its main content.
var boilerWords = []string{"Navboilerword", "Headerboilerword", "Footerboilerword", "Cookieboilerword", "Asideboilerword", "Docbooknavword", "Sphinxnavword"}

// site is a local website on 127.0.0.1 that counts the requests it gets.
type site struct {
	*httptest.Server
	mu    sync.Mutex
	hits  map[string]int
	pages map[string]string // path -> main content HTML
	extra map[string]http.HandlerFunc
	// version is substituted for {v} in pages (re-crawl tests).
	version atomic.Value
}

func (s *site) host() string { return strings.TrimPrefix(s.URL, "http://") }

func (s *site) hit(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

func (s *site) totalHTMLHits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.hits {
		if _, ok := s.pages[p]; ok {
			n += c
		}
	}
	return n
}

const layout = `<!doctype html><html><head><meta charset="utf-8"><title>%s</title></head><body>
<header class="site-header"><a href="/">Acme Kettles Headerboilerword</a></header>
<nav><a href="/">Home</a> <a href="/docs/">Docs</a> <a href="/about">About</a> <a href="/private/secret">Staff</a> Navboilerword</nav>
<div class="cookie-banner">We use cookies Cookieboilerword. <button>Accept</button></div>
<main>%s<p>This is edition {v} of the site.</p></main>
<aside>Related Asideboilerword</aside>
<footer>© Acme Footerboilerword <a href="/about?utm_source=footer#team">About us</a></footer>
</body></html>`

// newSite serves the multi-page test site:
//
//	/ ─┬─ /docs/ ── /docs/setup ── /docs/setup/advanced   (3 levels deep)
//	   ├─ /about
//	   ├─ /js       (main content made by JavaScript from /api/content)
//	   └─ /private/secret   (disallowed by robots.txt)
//	/orphan          (only in sitemap.xml)
func newSite(t testing.TB) *site {
	s := &site{hits: map[string]int{}, extra: map[string]http.HandlerFunc{}}
	s.version.Store("one")
	s.pages = map[string]string{
		"/": `<h1>Acme Kettles</h1><p>Welcome to Acme, makers of the zanzibarite kettle since 1901.</p>
			<p><a href="/docs/">Read the documentation</a> or <a href="/js">see our live status</a>.</p>`,
		"/docs/": `<h1>Documentation</h1><p>The documentation explains how to use your kettle.</p><a href="/docs/setup">Setup guide</a>`,
		"/docs/setup": `<article><header><h1>Setup guide</h1></header><h2>Filling</h2>
			<p>Fill the kettle with fresh water up to the maximum line before switching it on.</p>
			<a href="/docs/setup/advanced">Advanced setup</a></article>`,
		// DocBook's and Sphinx's navigation bars are tables and divs, not <nav>.
		"/docs/setup/advanced": `<div class="navheader"><table width="100%" summary="Navigation header"><tr><th colspan="3">Docbooknavword Acme manual</th></tr>
			<tr><td><a href="/docs/setup">Prev</a></td><td>Chapter 2</td><td>Next</td></tr></table><hr></div>
			<div class="related" role="navigation"><ul><li>Sphinxnavword index</li></ul></div>
			<h1>Advanced setup</h1><h2>Descaling</h2><p>Descale the kettle monthly with citric quokkastone solution.</p>
			<div class="navfooter"><hr><table width="100%" summary="Navigation footer"><tr><td>Docbooknavword Prev</td><td>Home</td><td>Next</td></tr></table></div>`,
		"/about":          `<h1>About us</h1><p>Acme employs forty craftspeople in Bristol, version {v}.</p>`,
		"/orphan":         `<h1>Warranty</h1><p>The orphanage warranty covers marzipanic failures for ten years.</p>`,
		"/private/secret": `<h1>Staff</h1><p>Privatissimo salaries are confidential.</p>`,
		"/js": `<h1>Live status</h1><div id="app">Loading…</div>
			<script>fetch('/api/content').then(r => r.text()).then(t => {
				document.getElementById('app').innerHTML = '<p>' + t + '</p>'; });</script>`,
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		if h, ok := s.extra[r.URL.Path]; ok {
			h(w, r)
			return
		}
		switch r.URL.Path {
		case "/robots.txt":
			fmt.Fprintf(w, "User-agent: *\nDisallow: /private/\n\nUser-agent: OtherBot\nDisallow: /\n\nSitemap: %s/sitemap.xml\n", s.URL)
			return
		case "/sitemap.xml":
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>%[1]s/</loc></url><url><loc>%[1]s/orphan</loc></url><url><loc>https://elsewhere.example/x</loc></url>
</urlset>`, s.URL)
			return
		case "/api/content":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "The Quasarflux boiler is operating normally in all regions.")
			return
		case "/logo.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG\r\n\x1a\n"))
			return
		}
		body, ok := s.pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		title := strings.TrimPrefix(r.URL.Path, "/")
		if title == "" {
			title = "Home"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, strings.ReplaceAll(fmt.Sprintf(layout, "Acme – "+title, body), "{v}", s.version.Load().(string)))
	}))
	t.Cleanup(s.Close)
	return s
}

// trap is a loopback listener the crawler must never reach: it counts
// every connection, even one that never sends a request.
type trap struct {
	ln    net.Listener
	conns atomic.Int64
}

func newTrap(t testing.TB) *trap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	tr := &trap{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			tr.conns.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return tr
}

func (tr *trap) url() string { return "http://" + tr.ln.Addr().String() }

// extractor returns a crawler that may reach exactly the given hosts on
// loopback, without polite delays.
func extractor(t testing.TB, hosts ...string) *web.Extractor {
	return web.New(web.Config{AllowHosts: hosts, Delay: -1, PageTimeout: 15 * time.Second,
		SettleTimeout: 3 * time.Second})
}

// requireChrome fails in CI when Chromium is missing (.ci/run installs
// it) and skips elsewhere.
func requireChrome(t testing.TB) {
	t.Helper()
	if web.FindChrome("") != "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("Chromium is not installed in CI: .ci/run installs the chromium package")
	}
	t.Skip("Chromium is not installed (set CHROME_BIN or install chromium)")
}
