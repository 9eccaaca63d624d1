// Package web crawls a website into a document for the ingestion pipeline
// (WEBSITE resources).
//
// The crawl is breadth-first from the start URL within the same site: same
// scheme and host (port included), where www.example.com and example.com
// count as one site. It honours robots.txt (github.com/temoto/robotstxt,
// user agent ConciergeBot, Crawl-delay up to 10 s), seeds URLs from
// sitemap.xml and the sitemaps robots.txt lists (sitemap index files and
// gzip included), obeys maxDepth, maxPages (capped by the company's plan)
// and include/exclude path patterns, fetches one page at a time per site
// with a polite delay, skips non-HTML responses and pages over the size cap,
// and reports pages crawled / pages found as progress.
//
// What a person cannot see on a page is not knowledge (it is where prompt
// injections hide). Chromium marks what its computed styles hide. Without
// it, parsePage reads the page's inline styles, its <style> elements and
// its linked style sheets on the same site (at most 8 a page, 512 KB
// each, text/css, fetched once per crawl with the guarded client and
// robots.txt honoured; see css.go for the subset of CSS applied).
//
// Every fetch goes through the SSRF guard of package fetch. Plain HTTP uses
// fetch.NewClient. Chromium (go-rod, never downloaded: CHROME_BIN or
// /usr/bin/chromium) is started with --proxy-server pointing at a
// fetch.Proxy and --proxy-bypass-list=<-loopback>, so every request the
// browser makes (documents, redirects, iframes, images, scripts, XHR/fetch,
// WebSockets) is checked by the same guard; WebRTC is confined to the proxy
// and QUIC is off, so nothing leaves the browser another way.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"time"

	"concierge/ent"
	"concierge/ent/resource"
	"concierge/ingest"
	"concierge/ingest/chunk"
	"concierge/ingest/fetch"
)

// EnvChromeBin names the Chromium binary (default /usr/bin/chromium).
const EnvChromeBin = "CHROME_BIN"

// DefaultChromeBin is where Debian installs Chromium.
const DefaultChromeBin = "/usr/bin/chromium"

// Defaults of Config.
const (
	DefaultDelay         = 500 * time.Millisecond
	DefaultPageTimeout   = 30 * time.Second
	DefaultSettleTimeout = 3 * time.Second
	DefaultMaxPageBytes  = 5 << 20
	maxCrawlDelay        = 10 * time.Second
)

// Config configures an Extractor. Zero values take the defaults.
type Config struct {
	// Policy is the SSRF policy (default fetch.PolicyFromEnv(), i.e.
	// INGEST_ALLOW_HOSTS).
	Policy *fetch.Policy
	// AllowHosts are added to the policy's AllowHosts (host or host:port;
	// tests allow their 127.0.0.1:<port> here).
	AllowHosts []string
	// Delay between two page fetches of one site (default 500 ms; negative:
	// none). A longer Crawl-delay in robots.txt wins, up to 10 s.
	Delay time.Duration
	// PageTimeout bounds fetching and rendering one page (default 30 s).
	PageTimeout time.Duration
	// SettleTimeout caps how long a rendered page may keep loading after
	// its load event before its HTML is taken (default 3 s).
	SettleTimeout time.Duration
	// MaxPageBytes caps one page's body (default 5 MB); larger pages are
	// skipped.
	MaxPageBytes int64
	// ChromeBin is the Chromium binary (default CHROME_BIN, else
	// /usr/bin/chromium). DisableBrowser forces plain HTTP.
	ChromeBin      string
	DisableBrowser bool
	Logger         *slog.Logger
}

// Extractor crawls WEBSITE resources.
type Extractor struct {
	cfg    Config
	policy fetch.Policy
	client *http.Client
	chrome string // "" when no browser is available
	log    *slog.Logger

	mu    sync.Mutex
	sites map[string]*siteState
}

var _ ingest.Extractor = (*Extractor)(nil)

// siteState serialises the fetches of one site across crawls.
type siteState struct {
	mu   sync.Mutex
	last time.Time
}

// New returns an Extractor.
func New(cfg Config) *Extractor {
	if cfg.Delay == 0 {
		cfg.Delay = DefaultDelay
	}
	if cfg.PageTimeout <= 0 {
		cfg.PageTimeout = DefaultPageTimeout
	}
	if cfg.SettleTimeout <= 0 {
		cfg.SettleTimeout = DefaultSettleTimeout
	}
	if cfg.MaxPageBytes <= 0 {
		cfg.MaxPageBytes = DefaultMaxPageBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := fetch.PolicyFromEnv()
	if cfg.Policy != nil {
		p = *cfg.Policy
	}
	p.AllowHosts = append(append([]string(nil), p.AllowHosts...), cfg.AllowHosts...)
	x := &Extractor{cfg: cfg, policy: p, log: cfg.Logger, sites: map[string]*siteState{},
		client: fetch.NewClient(p, fetch.WithTimeout(cfg.PageTimeout))}
	if !cfg.DisableBrowser {
		x.chrome = FindChrome(cfg.ChromeBin)
	}
	return x
}

// FindChrome returns the Chromium binary to use: bin, else CHROME_BIN, else
// /usr/bin/chromium, if it exists and is executable; "" otherwise.
func FindChrome(bin string) string {
	for _, c := range []string{bin, os.Getenv(EnvChromeBin), DefaultChromeBin} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}

// BrowserAvailable reports whether pages can be rendered with Chromium.
func (x *Extractor) BrowserAvailable() bool { return x.chrome != "" }

// Params are one crawl's options, with the defaults and the plan applied.
type Params struct {
	URL              string
	MaxPages         int // > 0
	MaxDepth         int // >= 0
	RenderJavascript bool
	IncludePaths     []string
	ExcludePaths     []string
}

// Extract implements ingest.Extractor: it reads the resource's options,
// caps maxPages by the company's plan, and crawls.
func (x *Extractor) Extract(ctx context.Context, r *ent.Resource, p ingest.Progress) (chunk.Document, error) {
	if r.Type != resource.TypeWEBSITE {
		return chunk.Document{}, ingest.Permanentf("not a website resource")
	}
	o, err := ingest.WebsiteOptionsOf(r)
	if err != nil {
		return chunk.Document{}, err
	}
	c, err := r.QueryCompany().Only(ctx)
	if err != nil {
		return chunk.Document{}, err
	}
	limit := ingest.PlanPageLimit(string(c.SubscriptionPlan))
	prm := Params{URL: o.URL, MaxPages: o.MaxPages, MaxDepth: ingest.DefaultWebsiteMaxDepth,
		RenderJavascript: x.BrowserAvailable(), IncludePaths: o.IncludePaths, ExcludePaths: o.ExcludePaths}
	if prm.MaxPages <= 0 {
		prm.MaxPages = ingest.DefaultWebsiteMaxPages
	}
	prm.MaxPages = min(prm.MaxPages, limit)
	if o.MaxDepth != nil {
		prm.MaxDepth = *o.MaxDepth
	}
	if o.RenderJavascript != nil {
		prm.RenderJavascript = *o.RenderJavascript
	}
	res, err := x.Crawl(ctx, prm, p)
	if err != nil {
		return chunk.Document{}, err
	}
	return res.Document(), nil
}

// Page is one crawled page.
type Page struct {
	URL   string
	Title string
	Text  string // main content; h1–h3 as "#" headings
	Depth int
}

// Result of a crawl.
type Result struct {
	Pages []Page
	// Crawled is how many pages were fetched (Pages holds those with text
	// that the include/exclude patterns keep); Found how many distinct
	// pages of the site were discovered.
	Crawled, Found int
	// Rendered reports whether Chromium rendered the pages.
	Rendered bool
}

// Document turns the pages into one section each, headed by the page
// title and carrying the page URL.
func (r *Result) Document() chunk.Document {
	d := chunk.Document{}
	for _, p := range r.Pages {
		d.Sections = append(d.Sections, chunk.Section{Heading: p.Title, URL: p.URL, Text: p.Text})
	}
	if len(r.Pages) > 0 {
		d.Title = r.Pages[0].Title
	}
	return d
}

// site returns the per-site state shared by all crawls of this Extractor.
func (x *Extractor) site(key string) *siteState {
	x.mu.Lock()
	defer x.mu.Unlock()
	s, ok := x.sites[key]
	if !ok {
		s = &siteState{}
		x.sites[key] = s
	}
	return s
}

// polite runs fn while holding the site's lock, at least delay after the
// site's previous fetch ended.
func (s *siteState) polite(ctx context.Context, delay time.Duration, fn func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if wait := time.Until(s.last.Add(delay)); delay > 0 && wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	defer func() { s.last = time.Now() }()
	return fn()
}

var errNotHTML = errors.New("not an HTML page")
