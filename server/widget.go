package server

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"concierge/web/widget"
)

// The embedded widget, with an ETag of its content so browsers revalidate
// cheaply once the short cache expires.
var (
	widgetJS   = widget.JS()
	widgetETag = func() string {
		sum := sha256.Sum256(widgetJS)
		return `"` + hex.EncodeToString(sum[:12]) + `"`
	}()
)

// widgetKeyPattern is what a widget key may look like on the test page.
var widgetKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// WidgetTestURL is the address of the widget test page of a company's
// widget key on a server at baseURL ("https://chat.example.com").
func WidgetTestURL(baseURL, key string) string {
	return strings.TrimRight(baseURL, "/") + "/widget/test?key=" + url.QueryEscape(key)
}

// widgetScript serves the widget to any site: it is public, carries no
// secret, and is cached for a few minutes (a new release reaches visitors
// quickly).
func widgetScript(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", widgetETag)
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "widget.js", time.Time{}, bytes.NewReader(widgetJS))
}

var widgetTestPage = template.Must(template.New("widget-test").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Widget test page</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<style nonce="{{.Nonce}}">body{font:16px/1.6 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem 8rem;color:#1f2937}
code,pre{background:#f3f4f6;border-radius:.3rem}code{padding:.1rem .3rem}pre{padding:.8rem 1rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all}
.hint{color:#6b7280;font-size:.9rem}</style></head>
<body><main>
<h1>Widget test page</h1>
<p>This is how the chat widget looks on your site: the button in the bottom right corner opens it.
Conversations started here are real and reach your team's inbox like any other.</p>
<h2>Add it to your site</h2>
<p>Paste this before <code>&lt;/body&gt;</code> on every page that should show the widget:</p>
<pre><code>&lt;script src="{{.ScriptURL}}" data-company-key="{{.Key}}" async&gt;&lt;/script&gt;</code></pre>
<p>To recognise signed-in visitors, also add <code>data-external-id</code> (their id in your system) and
<code>data-user-hash</code> (the hex HMAC-SHA256 of that id with your company's identity secret, computed on your server).</p>
<p class="hint">Nothing appears? Check the widget key and that the company is active. If the company restricts its allowed origins,
conversations can only start from those sites.</p>
</main>
<script src="/widget.js" data-company-key="{{.Key}}" async></script>
</body></html>
`))

// widgetTest serves a page that embeds the widget of ?key= as a customer's
// site would, under a strict Content-Security-Policy (the widget must work
// on such sites too).
func (s *srv) widgetTest(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	if !widgetKeyPattern.MatchString(key) {
		http.Error(w, "key must be a widget key (letters, digits, '_' and '-')", http.StatusBadRequest)
		return
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	nonce := base64.RawStdEncoding.EncodeToString(b[:])
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "+
		"style-src 'nonce-"+nonce+"'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
	_ = widgetTestPage.Execute(w, map[string]string{
		"Key": key, "Nonce": nonce, "ScriptURL": s.baseURL(r) + "/widget.js",
	})
}

// baseURL is the server's address as the client reached it.
func (s *srv) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if s.cfg.TrustProxy {
		if p := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("X-Forwarded-Proto"), ",")[0])); p == "http" || p == "https" {
			scheme = p
		}
	}
	return scheme + "://" + r.Host
}
