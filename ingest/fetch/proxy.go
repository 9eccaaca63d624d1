package fetch

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// Proxy is a guarded HTTP forward proxy on 127.0.0.1 for Chromium: plain
// http:// requests are forwarded through NewTransport (redirects are passed
// back to the browser, whose next request comes through the proxy again), and
// CONNECT tunnels (https, wss) are opened only after the guarded dial accepts
// the target address. Refusals answer 403 with the reason.
//
// Chromium bypasses proxies for loopback by default; start it with
// --proxy-server=<URL()> --proxy-bypass-list="<-loopback>" so that nothing
// goes around the guard.
type Proxy struct {
	ln    net.Listener
	srv   *http.Server
	guard *guard
	rp    *httputil.ReverseProxy

	mu      sync.Mutex
	closed  bool
	tunnels map[net.Conn]struct{}
	wg      sync.WaitGroup
}

// GuardedProxy is an alias of Proxy.
type GuardedProxy = Proxy

// NewProxy starts a guarded forward proxy on 127.0.0.1 (random port).
func NewProxy(p Policy, opts ...Option) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	g := newGuard(p, opts)
	px := &Proxy{ln: ln, guard: g, tunnels: map[net.Conn]struct{}{}}
	px.rp = &httputil.ReverseProxy{
		Rewrite:      func(pr *httputil.ProxyRequest) {}, // Out.URL is already absolute
		Transport:    g.transport(),
		ErrorLog:     log.New(io.Discard, "", 0),
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) { fail(w, err) },
	}
	px.srv = &http.Server{
		Handler:           px,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = px.srv.Serve(ln) }()
	return px, nil
}

// Addr is the proxy's host:port on 127.0.0.1.
func (px *Proxy) Addr() string { return px.ln.Addr().String() }

// URL is the proxy URL, e.g. for Chromium's --proxy-server.
func (px *Proxy) URL() *url.URL { return &url.URL{Scheme: "http", Host: px.Addr()} }

// Close stops the proxy and cuts open tunnels.
func (px *Proxy) Close() error {
	err := px.srv.Close()
	px.mu.Lock()
	px.closed = true
	for c := range px.tunnels {
		_ = c.Close()
	}
	px.mu.Unlock()
	px.wg.Wait()
	return err
}

func (px *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		px.connect(w, r)
		return
	}
	if !r.URL.IsAbs() || r.URL.Host == "" {
		http.Error(w, "this is a forward proxy: absolute http:// URL or CONNECT expected", http.StatusBadRequest)
		return
	}
	if r.URL.Scheme != "http" {
		http.Error(w, "only http:// is forwarded; use CONNECT for https", http.StatusBadRequest)
		return
	}
	px.rp.ServeHTTP(w, r)
}

func fail(w http.ResponseWriter, err error) {
	if IsRefused(err) {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	http.Error(w, "upstream error: "+err.Error(), http.StatusBadGateway)
}

func (px *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	if _, _, err := net.SplitHostPort(r.Host); err != nil {
		http.Error(w, "CONNECT needs host:port", http.StatusBadRequest)
		return
	}
	u, err := ValidateURL("https://" + r.Host + "/")
	if err != nil {
		fail(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), px.guard.cfg.dialTimeout)
	defer cancel()
	upstream, err := px.guard.dialContext(ctx, "tcp", u.Host)
	if err != nil {
		var be *BlockedError
		if errors.As(err, &be) && be.URL == "" {
			be.URL = "CONNECT " + u.Host
		}
		fail(w, err)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		_ = upstream.Close()
		http.Error(w, "hijacking not supported", http.StatusInternalServerError)
		return
	}
	client, brw, err := hj.Hijack()
	if err != nil {
		_ = upstream.Close()
		return
	}
	if !px.track(client, upstream) {
		_ = client.Close()
		_ = upstream.Close()
		return
	}
	defer px.untrack(client, upstream)
	if _, err := client.Write([]byte("HTTP/1.1 200 Connection Established\r\n\r\n")); err != nil {
		return
	}
	if n := brw.Reader.Buffered(); n > 0 {
		if _, err := io.CopyN(upstream, brw.Reader, int64(n)); err != nil {
			return
		}
	}
	pipe(client, upstream)
}

func (px *Proxy) track(cs ...net.Conn) bool {
	px.mu.Lock()
	defer px.mu.Unlock()
	if px.closed {
		return false
	}
	for _, c := range cs {
		px.tunnels[c] = struct{}{}
	}
	px.wg.Add(1)
	return true
}

func (px *Proxy) untrack(cs ...net.Conn) {
	px.mu.Lock()
	for _, c := range cs {
		_ = c.Close()
		delete(px.tunnels, c)
	}
	px.mu.Unlock()
	px.wg.Done()
}

// pipe copies both ways until both directions are finished.
func pipe(a, b net.Conn) {
	var wg sync.WaitGroup
	cp := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			_ = dst.Close()
		}
	}
	wg.Add(2)
	go cp(a, b)
	go cp(b, a)
	wg.Wait()
}
