package server

import (
	"bytes"
	"compress/gzip"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"concierge/web/dashboard"
)

// The dashboard is a single-page app: files under assets/ carry a content
// hash in their names and are cached for a year; every other path that is
// not a file (/inbox, /settings/widget, ...) gets index.html, whose router
// shows the page. GraphiQL is the second entry, graphiql.html, served at
// /graphiql and to browsers opening /graphql (outside production).

// notBuiltPage is served when the binary was built without the dashboard.
var notBuiltPage = template.Must(template.New("not-built").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Concierge</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style>body{font:16px/1.55 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#1f2937}
code,pre{background:#f3f4f6;border-radius:.3rem}code{padding:.1rem .3rem}pre{padding:.8rem 1rem}a{color:#4F46E5}</style></head>
<body><h1>Concierge is running</h1>
<p>This binary was built without the web dashboard (and GraphiQL, which is part of it).
To build them, install Node 20 and run, from the repository:</p>
<pre>make run</pre>
<p>(or <code>make dashboard</code>, then <code>go run ./cmd/concierge serve</code> again).</p>
<p>The API works meanwhile:</p>
<ul>
<li><code>POST /graphql</code>: the GraphQL API (WebSocket subscriptions on the same path, <code>graphql-transport-ws</code>).</li>
<li><a href="/widget.js">/widget.js</a>, <a href="/healthz">/healthz</a>, <a href="/readyz">/readyz</a>, <a href="/metrics">/metrics</a></li>
</ul>
</body></html>`))

// apiPrefixes are paths that never fall back to the app's index.html: a
// mistyped API or file address gets a 404, not a web page.
var apiPrefixes = []string{"/graphql", "/files/", "/widget", "/healthz", "/readyz", "/metrics", "/api/"}

type dashboardHandler struct {
	app        fs.FS // nil: not built
	index      []byte
	graphiql   []byte
	production bool
	started    time.Time

	gzMu sync.Mutex
	gz   map[string][]byte // gzipped files, made on first request
}

func newDashboard(app fs.FS, production bool) *dashboardHandler {
	d := &dashboardHandler{app: app, production: production, started: time.Now()}
	if app != nil {
		d.index, _ = fs.ReadFile(app, "index.html")
		d.graphiql, _ = fs.ReadFile(app, "graphiql.html")
		if d.index == nil {
			d.app = nil
		}
	}
	return d
}

func (d *dashboardHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	for _, pre := range apiPrefixes {
		if p == strings.TrimSuffix(pre, "/") || strings.HasPrefix(p, pre) {
			http.NotFound(w, r)
			return
		}
	}
	if p == "/graphiql" {
		d.serveGraphiQL(w, r)
		return
	}
	if d.app == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_ = notBuiltPage.Execute(w, nil)
		return
	}
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name != "" && name != "index.html" && name != "graphiql.html" {
		if f, err := d.app.Open(name); err == nil {
			st, err := f.Stat()
			f.Close()
			if err == nil && !st.IsDir() {
				if strings.HasPrefix(name, "assets/") {
					w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
				} else {
					w.Header().Set("Cache-Control", "public, max-age=300")
				}
				if d.serveGzip(w, r, name) {
					return
				}
				http.ServeFileFS(w, r, d.app, name)
				return
			}
		}
		// A missing file (an old asset, a typo) is a 404; a path without
		// an extension is a page of the app.
		if path.Ext(name) != "" {
			http.NotFound(w, r)
			return
		}
	}
	d.page(w, r, d.index)
}

func (d *dashboardHandler) page(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Always revalidated: a new release's index names new assets.
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "index.html", d.started, bytes.NewReader(body))
}

// compressible are the kinds of files worth gzipping (scripts, styles,
// SVG; images and fonts are compressed already).
var compressible = map[string]bool{".js": true, ".css": true, ".svg": true, ".json": true, ".map": true, ".txt": true}

// serveGzip sends name gzipped when the client takes gzip and the file is
// worth it; the compressed bytes are made once and kept (the files never
// change while the binary runs). It reports whether it answered.
func (d *dashboardHandler) serveGzip(w http.ResponseWriter, r *http.Request, name string) bool {
	ext := path.Ext(name)
	if !compressible[ext] || r.Header.Get("Range") != "" || !acceptsGzip(r.Header.Get("Accept-Encoding")) {
		return false
	}
	d.gzMu.Lock()
	b, ok := d.gz[name]
	d.gzMu.Unlock()
	if !ok {
		raw, err := fs.ReadFile(d.app, name)
		if err != nil {
			return false
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		b = buf.Bytes()
		d.gzMu.Lock()
		if d.gz == nil {
			d.gz = map[string][]byte{}
		}
		d.gz[name] = b
		d.gzMu.Unlock()
	}
	h := w.Header()
	if ct := mime.TypeByExtension(ext); ct != "" {
		h.Set("Content-Type", ct)
	}
	h.Set("Content-Encoding", "gzip")
	h.Add("Vary", "Accept-Encoding")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
	return true
}

// acceptsGzip reports whether an Accept-Encoding value takes gzip.
func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
	}
	return false
}

// serveGraphiQL serves the offline GraphiQL page outside production.
func (d *dashboardHandler) serveGraphiQL(w http.ResponseWriter, r *http.Request) {
	if d.production {
		http.NotFound(w, r)
		return
	}
	if d.graphiql == nil {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = notBuiltPage.Execute(w, nil)
		return
	}
	d.page(w, r, d.graphiql)
}

// isGraphiQLRequest is a browser opening /graphql: it gets GraphiQL.
func isGraphiQLRequest(r *http.Request) bool {
	return r.Method == http.MethodGet && r.URL.RawQuery == "" && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// withGraphiQL serves GraphiQL to browsers asking /graphql for HTML.
func withGraphiQL(d *dashboardHandler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isGraphiQLRequest(r) {
			d.serveGraphiQL(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// dashboardFS is the app to serve: the one given, else the embedded build.
func dashboardFS(given fs.FS) fs.FS {
	if given != nil {
		return given
	}
	return dashboard.FS()
}
