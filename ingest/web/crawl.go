package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/temoto/robotstxt"
	"golang.org/x/net/html/charset"

	"concierge/ingest"
	"concierge/ingest/fetch"
)

// RobotsAgent is the user agent robots.txt groups are matched against.
const RobotsAgent = "ConciergeBot"

// Limits of sitemap reading.
const (
	maxSitemaps     = 20
	maxSitemapBytes = 10 << 20
)

// fetched is one fetched page.
type fetched struct {
	URL    *url.URL // after redirects
	Status int
	HTML   []byte // UTF-8
}

// statusError is a non-2xx answer.
type statusError struct{ code int }

func (e *statusError) Error() string {
	return fmt.Sprintf("answered %d %s", e.code, http.StatusText(e.code))
}

// pageFetcher fetches (and maybe renders) one page.
type pageFetcher interface {
	fetch(ctx context.Context, u *url.URL) (*fetched, error)
	close()
}

type item struct {
	u     *url.URL
	depth int
}

type crawler struct {
	x        *Extractor
	prm      Params
	progress ingest.Progress
	log      *slog.Logger

	start, base *url.URL
	robots      *robotstxt.Group
	sitemaps    []string
	delay       time.Duration
	site        *siteState

	seen  map[string]bool
	queue []item
	res   Result

	sheets       map[string]styleSheet // linked style sheets by URL; nil: failed
	sheetFetches int
}

// Crawl crawls a site. Errors that retrying cannot fix (a 404 start page,
// an address the guard refuses, robots.txt forbidding the start page, a
// redirect loop) are ingest.Permanent with a message for users.
func (x *Extractor) Crawl(ctx context.Context, prm Params, p ingest.Progress) (*Result, error) {
	start, err := fetch.ValidateURL(prm.URL)
	if err != nil {
		return nil, ingest.Permanent(err)
	}
	if prm.MaxPages <= 0 {
		prm.MaxPages = ingest.DefaultWebsiteMaxPages
	}
	prm.MaxDepth = max(prm.MaxDepth, 0)
	if p == nil {
		p = func(context.Context, int, int) {}
	}
	c := &crawler{x: x, prm: prm, progress: p, start: normalize(start), seen: map[string]bool{},
		log: x.log.With(slog.String("site", start.Host))}
	c.base = c.start
	c.site = x.site(siteKey(c.start))
	if err := c.readRobots(ctx); err != nil {
		return nil, err
	}
	if !c.allowed(c.start) {
		return nil, ingest.Permanentf("robots.txt of %s does not allow %s to crawl %s", c.start.Host, RobotsAgent, c.start)
	}

	// The start page is fetched with the guarded HTTP client first, in
	// both modes: its status, redirects and refusals give clear errors.
	var first *fetched
	err = c.site.polite(ctx, c.delay, func() error {
		var err error
		first, err = x.httpFetch(ctx, c.start)
		return err
	})
	if err != nil {
		return nil, c.startError(ctx, err)
	}
	c.base = normalize(first.URL)
	if !c.allowed(c.base) {
		return nil, ingest.Permanentf("robots.txt of %s does not allow %s to crawl %s", c.base.Host, RobotsAgent, c.base)
	}

	var pf pageFetcher = httpFetcher{x}
	if prm.RenderJavascript && x.chrome != "" {
		b, err := x.launch(ctx)
		if err != nil {
			return nil, fmt.Errorf("starting Chromium: %w", err)
		}
		defer b.close()
		pf = b
		c.res.Rendered = true
		// Rendered again in the browser, for the content scripts make.
		var rendered *fetched
		err = c.site.polite(ctx, c.delay, func() error {
			var err error
			rendered, err = pf.fetch(ctx, c.base)
			return err
		})
		if err != nil {
			return nil, c.startError(ctx, err)
		}
		first = rendered
	}
	c.seen[c.start.String()], c.seen[c.base.String()] = true, true
	c.res.Found, c.res.Crawled = 1, 1
	c.take(ctx, item{u: c.base}, first, true)
	if prm.MaxDepth >= 1 {
		c.readSitemaps(ctx)
	}
	c.report(ctx)

	for len(c.queue) > 0 && c.res.Crawled < prm.MaxPages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		it := c.queue[0]
		c.queue = c.queue[1:]
		var f *fetched
		err := c.site.polite(ctx, c.delay, func() error {
			var err error
			f, err = pf.fetch(ctx, it.u)
			return err
		})
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		c.res.Crawled++
		if err != nil {
			c.log.InfoContext(ctx, "web: page skipped", slog.String("url", it.u.String()), slog.Any("err", err))
		} else {
			c.take(ctx, it, f, false)
		}
		c.report(ctx)
	}
	if len(c.res.Pages) == 0 {
		return nil, ingest.Permanentf("no text could be extracted from %s (%d pages crawled)", c.start, c.res.Crawled)
	}
	return &c.res, nil
}

func (c *crawler) report(ctx context.Context) {
	total := max(c.res.Crawled, min(c.res.Found, c.prm.MaxPages))
	c.progress(ctx, c.res.Crawled, total)
}

// take reads a fetched page: its content (when the patterns keep it) and
// its links (when depth allows).
func (c *crawler) take(ctx context.Context, it item, f *fetched, isStart bool) {
	final := normalize(f.URL)
	if !isStart {
		if !c.inSite(final) || !c.allowed(final) {
			return // redirected off the site, or into a disallowed path
		}
		if k := final.String(); k != it.u.String() {
			if c.seen[k] {
				return // a redirect to a page already crawled
			}
			c.seen[k] = true
		}
	}
	var load sheetLoader
	if !c.res.Rendered {
		// Without a browser, the page's linked sheets are read for what
		// they hide (the browser applied them already).
		load = func(urls []*url.URL) []styleSheet { return c.stylesheets(ctx, urls) }
	}
	pg := parsePage(final, f.HTML, load)
	if pg.text != "" && !pg.noindex && (isStart && c.keep(final) || !isStart) {
		c.res.Pages = append(c.res.Pages, Page{URL: final.String(), Title: pg.title, Text: pg.text, Depth: it.depth})
	}
	if it.depth >= c.prm.MaxDepth || pg.nofollow {
		return
	}
	for _, l := range pg.links {
		c.enqueue(l, it.depth+1)
	}
}

// enqueue adds a discovered URL if it is a new page of the site that
// robots.txt and the patterns allow.
func (c *crawler) enqueue(u *url.URL, depth int) {
	u = normalize(u)
	k := u.String()
	if c.seen[k] || !c.inSite(u) || skipExt(u.Path) || !c.keep(u) || !c.allowed(u) {
		return
	}
	c.seen[k] = true
	c.res.Found++
	c.queue = append(c.queue, item{u: u, depth: depth})
}

// keep applies the include/exclude patterns.
func (c *crawler) keep(u *url.URL) bool {
	p := u.Path
	if p == "" {
		p = "/"
	}
	for _, e := range c.prm.ExcludePaths {
		if MatchPath(e, p) {
			return false
		}
	}
	if len(c.prm.IncludePaths) == 0 {
		return true
	}
	for _, i := range c.prm.IncludePaths {
		if MatchPath(i, p) {
			return true
		}
	}
	return false
}

func (c *crawler) allowed(u *url.URL) bool {
	if c.robots == nil {
		return true
	}
	return c.robots.Test(u.RequestURI())
}

func (c *crawler) inSite(u *url.URL) bool {
	k := siteKey(u)
	return k == siteKey(c.base) || k == siteKey(c.start)
}

// startError turns a failure to fetch the start page into what users read.
func (c *crawler) startError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	u := c.start.String()
	var se *statusError
	var be *fetch.BlockedError
	var ie *fetch.InvalidURLError
	var ne net.Error
	switch {
	case errors.As(err, &se) && se.code >= 500:
		return fmt.Errorf("the start page %s %s", u, se) // transient: retried
	case errors.As(err, &se):
		return ingest.Permanentf("the start page %s %s", u, se)
	case errors.Is(err, fetch.ErrTooManyRedirects):
		return ingest.Permanentf("%s redirects too many times (a redirect loop?)", u)
	case errors.As(err, &be):
		return ingest.Permanentf("%s cannot be crawled: %s (ask the operator to allow the host in %s if this is intended)",
			u, be.Reason, fetch.EnvAllowHosts)
	case errors.As(err, &ie):
		return ingest.Permanentf("%s redirects to an address that cannot be crawled: %s", u, ie.Reason)
	case errors.Is(err, errNotHTML):
		return ingest.Permanentf("the start page %s is not an HTML page: %v", u, err)
	case errors.Is(err, fetch.ErrBodyTooLarge):
		return ingest.Permanentf("the start page %s is larger than %d MB", u, c.x.cfg.MaxPageBytes>>20)
	case errors.As(err, &ne) && ne.Timeout():
		return ingest.Permanentf("%s did not answer within %s", u, c.x.cfg.PageTimeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return ingest.Permanentf("%s cannot be reached: %v", u, err)
}

// readRobots fetches /robots.txt. A missing or unreachable robots.txt
// allows everything; a server error is retried later.
func (c *crawler) readRobots(ctx context.Context) error {
	c.delay = c.x.cfg.Delay
	ru := &url.URL{Scheme: c.start.Scheme, Host: c.start.Host, Path: "/robots.txt"}
	resp, err := c.x.get(ctx, ru)
	if err != nil {
		return nil // the start page's fetch reports the problem
	}
	defer resp.Body.Close()
	body, err := fetch.ReadLimited(resp.Body, 512<<10)
	if err != nil && !errors.Is(err, fetch.ErrBodyTooLarge) {
		return nil
	}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("robots.txt of %s answered %d; trying again later", c.start.Host, resp.StatusCode)
	}
	data, err := robotstxt.FromStatusAndBytes(resp.StatusCode, body)
	if err != nil {
		return nil
	}
	c.robots = data.FindGroup(RobotsAgent)
	if d := c.robots.CrawlDelay; d > c.delay {
		c.delay = min(d, maxCrawlDelay)
	}
	c.sitemaps = data.Sitemaps
	return nil
}

// readSitemaps seeds the queue (at depth 1) from sitemap.xml and the
// sitemaps robots.txt lists, following sitemap index files.
func (c *crawler) readSitemaps(ctx context.Context) {
	todo := []string{(&url.URL{Scheme: c.base.Scheme, Host: c.base.Host, Path: "/sitemap.xml"}).String()}
	todo = append(todo, c.sitemaps...)
	done := map[string]bool{}
	budget := 4*c.prm.MaxPages + 100
	for len(todo) > 0 && len(done) < maxSitemaps && budget > 0 && ctx.Err() == nil {
		raw := todo[0]
		todo = todo[1:]
		u, err := fetch.ValidateURL(raw)
		if err != nil || done[u.String()] || !c.inSite(u) {
			continue
		}
		done[u.String()] = true
		pages, children := c.sitemap(ctx, u)
		todo = append(todo, children...)
		for _, p := range pages {
			if pu, err := fetch.ValidateURL(p); err == nil {
				budget--
				c.enqueue(pu, 1)
			}
		}
	}
}

// sitemap reads one sitemap: page URLs of a urlset, sitemap URLs of an
// index.
func (c *crawler) sitemap(ctx context.Context, u *url.URL) (pages, children []string) {
	resp, err := c.x.get(ctx, u)
	if err != nil {
		return nil, nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil
	}
	body, err := fetch.ReadLimited(resp.Body, maxSitemapBytes)
	if err != nil {
		return nil, nil
	}
	if len(body) > 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, nil
		}
		if body, err = fetch.ReadLimited(zr, maxSitemapBytes); err != nil {
			return nil, nil
		}
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.CharsetReader = charset.NewReaderLabel
	var root, parent string
	var inLoc bool
	var loc strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch n := strings.ToLower(t.Name.Local); {
			case root == "":
				root = n
			case n == "url" || n == "sitemap":
				parent = n
			case n == "loc":
				inLoc = true
				loc.Reset()
			}
		case xml.CharData:
			if inLoc {
				loc.Write(t)
			}
		case xml.EndElement:
			if strings.EqualFold(t.Name.Local, "loc") && inLoc {
				inLoc = false
				l := strings.TrimSpace(loc.String())
				switch {
				case root == "sitemapindex" && parent == "sitemap":
					children = append(children, l)
				case root == "urlset" && parent == "url":
					pages = append(pages, l)
				}
			}
		}
	}
	return pages, children
}

// get fetches u with the guarded client.
func (x *Extractor) get(ctx context.Context, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	return x.client.Do(req)
}

// httpFetcher fetches pages with the guarded HTTP client.
type httpFetcher struct{ x *Extractor }

func (h httpFetcher) fetch(ctx context.Context, u *url.URL) (*fetched, error) {
	return h.x.httpFetch(ctx, u)
}
func (httpFetcher) close() {}

func (x *Extractor) httpFetch(ctx context.Context, u *url.URL) (*fetched, error) {
	ctx, cancel := context.WithTimeout(ctx, x.cfg.PageTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")
	resp, err := x.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &statusError{code: resp.StatusCode}
	}
	ct := resp.Header.Get("Content-Type")
	if ct != "" && !isHTML(ct) {
		return nil, fmt.Errorf("%w (content type %s)", errNotHTML, ct)
	}
	body, err := fetch.ReadLimited(resp.Body, x.cfg.MaxPageBytes)
	if err != nil {
		return nil, err
	}
	if ct == "" {
		if ct = http.DetectContentType(body); !isHTML(ct) {
			return nil, fmt.Errorf("%w (content looks like %s)", errNotHTML, ct)
		}
	}
	if r, err := charset.NewReader(bytes.NewReader(body), ct); err == nil {
		if b, err := io.ReadAll(r); err == nil {
			body = b
		}
	}
	return &fetched{URL: resp.Request.URL, Status: resp.StatusCode, HTML: body}, nil
}

func isHTML(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "text/html" || mt == "application/xhtml+xml"
}

// tracking query parameters dropped by normalize (besides utm_*).
var tracking = map[string]bool{"gclid": true, "fbclid": true, "msclkid": true, "mc_cid": true, "mc_eid": true,
	"_ga": true, "yclid": true, "dclid": true}

// normalize returns u's canonical form: no fragment or credentials, the
// default port dropped, an empty path as "/", and tracking parameters
// (utm_*, gclid, fbclid, ...) removed; the other parameters keep their
// order.
func normalize(u *url.URL) *url.URL {
	v := *u
	v.User = nil
	v.Fragment, v.RawFragment = "", ""
	v.Scheme = strings.ToLower(v.Scheme)
	host := strings.ToLower(v.Host)
	if h, p, err := net.SplitHostPort(host); err == nil &&
		(v.Scheme == "http" && p == "80" || v.Scheme == "https" && p == "443") {
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	v.Host = host
	if v.Path == "" {
		v.Path, v.RawPath = "/", ""
	}
	if v.RawQuery != "" || v.ForceQuery {
		var keep []string
		for _, part := range strings.Split(v.RawQuery, "&") {
			if part == "" {
				continue
			}
			k, _, _ := strings.Cut(part, "=")
			if uk, err := url.QueryUnescape(k); err == nil {
				k = uk
			}
			k = strings.ToLower(k)
			if strings.HasPrefix(k, "utm_") || tracking[k] {
				continue
			}
			keep = append(keep, part)
		}
		v.RawQuery, v.ForceQuery = strings.Join(keep, "&"), false
	}
	return &v
}

// siteKey identifies a site: scheme and host:port, www. ignored.
func siteKey(u *url.URL) string {
	return u.Scheme + "://" + strings.TrimPrefix(strings.ToLower(u.Host), "www.")
}

// MatchPath reports whether a URL path matches an include/exclude pattern:
// "*" matches any run of characters, slashes included; a pattern ending
// in "/*" also matches the path without it (/docs/* matches /docs).
func MatchPath(pattern, p string) bool {
	if strings.HasSuffix(pattern, "/*") && p == strings.TrimSuffix(pattern, "/*") {
		return true
	}
	return glob(pattern, p)
}

// glob matches s against a pattern where '*' matches any run of bytes.
func glob(pat, s string) bool {
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pat) && pat[px] == '*':
			star, mark = px, sx
			px++
		case px < len(pat) && pat[px] == s[sx]:
			px++
			sx++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(pat) && pat[px] == '*' {
		px++
	}
	return px == len(pat)
}

// skipExt reports paths that are surely not HTML pages.
func skipExt(p string) bool {
	switch strings.ToLower(path.Ext(p)) {
	case ".pdf", ".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".ico", ".css", ".js", ".mjs", ".json",
		".xml", ".zip", ".gz", ".tgz", ".tar", ".rar", ".7z", ".mp3", ".mp4", ".webm", ".avi", ".mov",
		".woff", ".woff2", ".ttf", ".otf", ".eot", ".exe", ".dmg", ".apk", ".doc", ".docx", ".xls",
		".xlsx", ".ppt", ".pptx", ".csv", ".txt", ".rss", ".atom":
		return true
	}
	return false
}

// Limits of reading linked style sheets (plain HTTP only).
const (
	maxSheetsPerPage  = 8
	maxSheetsPerCrawl = 64
	maxSheetBytes     = 512 << 10
	maxSheetTimeout   = 10 * time.Second
)

var errOffSite = errors.New("redirected off the site")

// stylesheets returns the linked style sheets of a page (one per URL, nil
// for those not read): the first maxSheetsPerPage on the site that
// robots.txt allows, each fetched once per crawl (at most
// maxSheetsPerCrawl fetches) with the guarded client, in the site's turn
// but without the polite delay; a sheet that fails is skipped.
func (c *crawler) stylesheets(ctx context.Context, urls []*url.URL) []styleSheet {
	out := make([]styleSheet, len(urls))
	n := 0
	for i, u := range urls {
		u = normalize(u)
		if !c.inSite(u) || !c.allowed(u) {
			continue
		}
		if n++; n > maxSheetsPerPage {
			break
		}
		k := u.String()
		if sh, ok := c.sheets[k]; ok {
			out[i] = sh
			continue
		}
		if c.sheetFetches >= maxSheetsPerCrawl || ctx.Err() != nil {
			continue
		}
		c.sheetFetches++
		var sh styleSheet
		err := c.site.polite(ctx, 0, func() error {
			var err error
			sh, err = c.x.fetchSheet(ctx, u, c.inSite)
			return err
		})
		if err != nil {
			c.log.DebugContext(ctx, "web: style sheet skipped", slog.String("url", k), slog.Any("err", err))
		}
		if c.sheets == nil {
			c.sheets = map[string]styleSheet{}
		}
		c.sheets[k], out[i] = sh, sh
	}
	return out
}

// fetchSheet fetches and parses a style sheet (text/css, at most
// maxSheetBytes) with the guarded client, following redirects only within
// the site.
func (x *Extractor) fetchSheet(ctx context.Context, u *url.URL, inSite func(*url.URL) bool) (styleSheet, error) {
	ctx, cancel := context.WithTimeout(ctx, min(x.cfg.PageTimeout, maxSheetTimeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/css,*/*;q=0.1")
	cl := *x.client
	check := cl.CheckRedirect
	cl.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !inSite(normalize(req.URL)) {
			return errOffSite
		}
		if check != nil {
			return check(req, via)
		}
		return nil
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &statusError{code: resp.StatusCode}
	}
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "text/css" {
		return nil, fmt.Errorf("not a style sheet (content type %q)", resp.Header.Get("Content-Type"))
	}
	body, err := fetch.ReadLimited(resp.Body, maxSheetBytes)
	if err != nil {
		return nil, err
	}
	if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "utf8" {
		if r, err := charset.NewReaderLabel(cs, bytes.NewReader(body)); err == nil {
			if b, err := io.ReadAll(r); err == nil {
				body = b
			}
		}
	}
	return parseCSS(strings.TrimPrefix(string(body), "\uFEFF")), nil
}
