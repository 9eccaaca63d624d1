package web

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"

	"concierge/ingest/fetch"
)

// browser is one Chromium for one crawl, all of whose traffic goes through
// a guarded proxy.
type browser struct {
	x       *Extractor
	l       *launcher.Launcher
	b       *rod.Browser
	px      *fetch.Proxy
	dataDir string
}

// launch starts Chromium with a fresh profile behind a fetch.Proxy under
// the extractor's policy. rod never downloads a browser: the binary is
// given.
func (x *Extractor) launch(ctx context.Context) (_ *browser, err error) {
	if x.chrome == "" {
		return nil, errors.New("no Chromium binary")
	}
	px, err := fetch.NewProxy(x.policy)
	if err != nil {
		return nil, err
	}
	bw := &browser{x: x, px: px}
	defer func() {
		if err != nil {
			bw.close()
		}
	}()
	if bw.dataDir, err = os.MkdirTemp("", "concierge-chromium-"); err != nil {
		return nil, err
	}
	bw.l = launcher.New().Context(context.WithoutCancel(ctx)).Bin(x.chrome).Leakless(false).
		Headless(true).NoSandbox(true).UserDataDir(bw.dataDir).
		Set("disable-gpu").Set("disable-dev-shm-usage").Set("disable-background-networking").
		Set("disable-component-update").Set("disable-sync").Set("no-first-run").Set("disable-quic").
		Set("disable-extensions").Set("mute-audio").Set("no-default-browser-check").
		// Everything, loopback included, through the guard.
		Set("proxy-server", px.URL().String()).Set("proxy-bypass-list", "<-loopback>").
		// WebRTC may not open UDP around the proxy.
		Set("force-webrtc-ip-handling-policy", "disable_non_proxied_udp").
		Set("webrtc-ip-handling-policy", "disable_non_proxied_udp").
		Set("user-agent", fetch.UserAgent)
	u, err := bw.l.Launch()
	if err != nil {
		return nil, err
	}
	bw.b = rod.New().ControlURL(u)
	if err = bw.b.Connect(); err != nil {
		bw.b = nil
		return nil, err
	}
	_ = proto.BrowserSetDownloadBehavior{Behavior: proto.BrowserSetDownloadBehaviorBehaviorDeny}.Call(bw.b)
	return bw, nil
}

func (bw *browser) close() {
	if bw.b != nil {
		_ = bw.b.Close()
	}
	if bw.l != nil {
		bw.l.Kill()
		bw.l.Cleanup()
	}
	if bw.px != nil {
		_ = bw.px.Close()
	}
	if bw.dataDir != "" {
		_ = os.RemoveAll(bw.dataDir)
	}
}

// fetch renders u in a new tab: load, then up to SettleTimeout for the
// network to be idle for a moment, then the rendered HTML. The document's
// status and MIME type come from the browser's network events.
func (bw *browser) fetch(ctx context.Context, u *url.URL) (*fetched, error) {
	x := bw.x
	ctx, cancel := context.WithTimeout(ctx, x.cfg.PageTimeout)
	defer cancel()
	pg, err := bw.b.Context(ctx).Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		return nil, err
	}
	defer func() { _, _ = proto.TargetCloseTarget{TargetID: pg.TargetID}.Call(bw.b) }()

	var mu sync.Mutex
	var doc *proto.NetworkResponse
	evCtx, evCancel := context.WithCancel(ctx)
	defer evCancel()
	wait := pg.Context(evCtx).EachEvent(func(e *proto.NetworkResponseReceived) {
		if e.Type == proto.NetworkResourceTypeDocument && e.FrameID == pg.FrameID {
			mu.Lock()
			doc = e.Response
			mu.Unlock()
		}
	})
	go wait()
	idleCtx, idleCancel := context.WithCancel(ctx)
	defer idleCancel()
	idle := pg.Context(idleCtx).WaitRequestIdle(300*time.Millisecond, nil, nil, nil)

	if err := pg.Navigate(u.String()); err != nil {
		var ne *rod.NavigationError
		if errors.As(err, &ne) {
			return nil, fmt.Errorf("navigation failed: %s", ne.Reason)
		}
		return nil, err
	}
	if err := pg.WaitLoad(); err != nil {
		return nil, err
	}
	settled := make(chan struct{})
	go func() { idle(); close(settled) }()
	t := time.NewTimer(x.cfg.SettleTimeout)
	select {
	case <-settled:
	case <-t.C:
	case <-ctx.Done():
	}
	t.Stop()
	idleCancel()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	// What the page's styles hide from a person is marked, and parsePage
	// drops it: it is not knowledge, and it is where injections hide.
	if _, err := pg.Eval(markHiddenJS); err != nil {
		return nil, fmt.Errorf("reading the page's styles: %w", err)
	}
	h, err := pg.HTML()
	if err != nil {
		return nil, err
	}
	mu.Lock()
	resp := doc
	mu.Unlock()
	if resp == nil {
		return nil, errors.New("the browser got no response")
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, &statusError{code: resp.Status}
	}
	if mt := strings.ToLower(resp.MIMEType); mt != "" && mt != "text/html" && mt != "application/xhtml+xml" {
		return nil, fmt.Errorf("%w (content type %s)", errNotHTML, resp.MIMEType)
	}
	if int64(len(h)) > x.cfg.MaxPageBytes {
		return nil, &fetch.BodyTooLargeError{Limit: x.cfg.MaxPageBytes}
	}
	final, err := url.Parse(resp.URL)
	if err != nil {
		final = u
	}
	return &fetched{URL: final, Status: resp.Status, HTML: []byte(h)}, nil
}

// markHiddenJS marks (data-concierge-hidden) the elements of the rendered
// page a person cannot see: not displayed ("closed": parsePage keeps
// closed accordion panels), invisible, transparent, text under 2 px, off
// the page, clipped or shrunk to nothing, or text in its background's
// colour.
const markHiddenJS = `() => {
  const mark = (el, v) => el.setAttribute('data-concierge-hidden', v)
  const transparent = (c) => !c || c === 'transparent' || /^rgba\(.*,\s*0\)$/.test(c)
  const bgOf = (el) => {
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const b = getComputedStyle(n).backgroundColor
      if (!transparent(b)) return b
    }
    return 'rgb(255, 255, 255)'
  }
  const ownText = (el) => Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim() !== '')
  const docW = Math.max(document.documentElement.scrollWidth, window.innerWidth)
  const docH = Math.max(document.documentElement.scrollHeight, window.innerHeight)
  for (const el of document.body ? document.body.querySelectorAll('*') : []) {
    if (el.closest('[data-concierge-hidden]')) continue
    const cs = getComputedStyle(el)
    if (cs.display === 'none') { mark(el, 'closed'); continue }
    if (cs.visibility === 'hidden' || cs.visibility === 'collapse' || parseFloat(cs.opacity) < 0.05) { mark(el, '1'); continue }
    const r = el.getBoundingClientRect()
    const left = r.left + window.scrollX, top = r.top + window.scrollY
    if (r.width > 0 && r.height > 0 && (left + r.width <= 0 || top + r.height <= 0 || left >= docW + 500 || top >= docH + 500)) { mark(el, '1'); continue }
    if ((r.width <= 1 || r.height <= 1) && (cs.overflow === 'hidden' || cs.clip.startsWith('rect')) && ownText(el)) { mark(el, '1'); continue }
    if (cs.clipPath && /inset\((50|100)%/.test(cs.clipPath)) { mark(el, '1'); continue }
    if (ownText(el)) {
      if (parseFloat(cs.fontSize) < 2) { mark(el, '1'); continue }
      if (cs.color === bgOf(el)) { mark(el, '1'); continue }
    }
  }
}`
