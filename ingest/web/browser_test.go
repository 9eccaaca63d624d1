package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/ingest/web"
)

// Through Chromium: the JavaScript-made content is read (fetched by the
// page's script through the guarded proxy), boilerplate still dropped.
func TestCrawlChromium(t *testing.T) {
	t.Parallel()
	requireChrome(t)
	s := newSite(t)
	res, err := extractor(t, s.host()).Crawl(context.Background(),
		web.Params{URL: s.URL, MaxPages: 50, MaxDepth: 3, RenderJavascript: true}, nil)
	require.NoError(t, err)
	require.True(t, res.Rendered)
	got := pagesByPath(t, res)
	require.Equal(t, []string{"/", "/about", "/docs/", "/docs/setup", "/docs/setup/advanced", "/js", "/orphan"}, paths(got))
	require.Contains(t, got["/js"].Text, "Quasarflux boiler is operating normally")
	require.Zero(t, s.hit("/private/secret"))
	requireNoBoilerplate(t, res)
}

// A hostile page: an iframe, an image, a script's fetch(), XHR, a
// WebSocket, a form auto-submitted and a redirect, all aimed at a loopback
// listener that is not allowed. The browser reaches none of them.
func TestChromiumCannotReachBlockedAddresses(t *testing.T) {
	t.Parallel()
	requireChrome(t)
	t.Run("blocked", func(t *testing.T) { t.Parallel(); hostile(t, false) })
	// The control: with the listener allowed, the same page reaches it, so
	// the assertion above can fail.
	t.Run("control: allowed", func(t *testing.T) { t.Parallel(); hostile(t, true) })
}

func hostile(t *testing.T, allowTrap bool) {
	tr := newTrap(t)
	s := newSite(t)
	s.pages["/"] = fmt.Sprintf(`<h1>Hostile</h1><p>The hostile page mentions grumbleweed.</p>
		<iframe src="%[1]s/iframe"></iframe><img src="%[1]s/img.png">
		<a href="/redirect">more</a>
		<script>
			fetch('%[1]s/fetch').catch(() => {});
			fetch('http://localhost:%[2]s/fetch-by-name').catch(() => {});
			var x = new XMLHttpRequest(); x.open('GET', '%[1]s/xhr'); x.send();
			try { new WebSocket('ws://%[3]s/ws'); } catch (e) {}
			var f = document.createElement('iframe'); f.src = '%[1]s/iframe2'; document.body.appendChild(f);
			setTimeout(() => { var i = new Image(); i.src = '%[1]s/late.png'; }, 100);
		</script>`, tr.url(), portOf(tr.ln.Addr().String()), tr.ln.Addr().String())
	s.extra["/redirect"] = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, tr.url()+"/redirected", http.StatusFound)
	}
	hosts := []string{s.host()}
	if allowTrap {
		hosts = append(hosts, tr.ln.Addr().String())
	}
	res, err := extractor(t, hosts...).Crawl(context.Background(),
		web.Params{URL: s.URL, MaxPages: 10, MaxDepth: 1, RenderJavascript: true}, nil)
	require.NoError(t, err)
	got := pagesByPath(t, res)
	require.Contains(t, got["/"].Text, "grumbleweed")
	if allowTrap {
		require.Positive(t, tr.conns.Load(), "control: an allowed listener is reached")
		return
	}
	require.NotContains(t, got, "/redirect")
	require.Equal(t, 1, s.hit("/redirect"), "the redirect was followed by the browser, and refused")
	require.Zero(t, tr.conns.Load(), "the blocked listener was reached")
}

func portOf(hostport string) string {
	for i := len(hostport) - 1; i >= 0; i-- {
		if hostport[i] == ':' {
			return hostport[i+1:]
		}
	}
	return ""
}
