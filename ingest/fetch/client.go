package fetch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// UserAgent is sent with every request that does not set its own.
const UserAgent = "ConciergeBot/1.0 (+https://concierge.example/bot)"

// Defaults for NewClient.
const (
	DefaultTimeout               = 60 * time.Second
	DefaultDialTimeout           = 10 * time.Second
	DefaultTLSHandshakeTimeout   = 10 * time.Second
	DefaultResponseHeaderTimeout = 20 * time.Second
	DefaultMaxRedirects          = 10
)

// LookupFunc resolves a host name to addresses.
type LookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

type config struct {
	timeout, dialTimeout, tlsTimeout, headerTimeout time.Duration
	maxRedirects                                    int
	userAgent                                       string
	lookup                                          LookupFunc
	control                                         func(network, address string) error
}

// Option configures NewClient, NewTransport and NewProxy.
type Option func(*config)

// WithTimeout sets the overall time limit of one fetch, redirects and body
// included (client only).
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithDialTimeout sets the TCP connect timeout.
func WithDialTimeout(d time.Duration) Option { return func(c *config) { c.dialTimeout = d } }

// WithTLSHandshakeTimeout sets the TLS handshake timeout.
func WithTLSHandshakeTimeout(d time.Duration) Option { return func(c *config) { c.tlsTimeout = d } }

// WithResponseHeaderTimeout sets how long to wait for response headers.
func WithResponseHeaderTimeout(d time.Duration) Option {
	return func(c *config) { c.headerTimeout = d }
}

// WithMaxRedirects sets how many redirects the client follows (default 10).
func WithMaxRedirects(n int) Option { return func(c *config) { c.maxRedirects = n } }

// WithUserAgent replaces the default User-Agent.
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// WithLookup replaces DNS resolution (net.DefaultResolver). The addresses it
// returns are still checked at dial time.
func WithLookup(f LookupFunc) Option { return func(c *config) { c.lookup = f } }

// WithDialControl adds a check run at dial time after the policy has accepted
// the address (address is "ip:port"). Returning an error aborts the connect
// before any packet is sent. Tests use it as a safety net.
func WithDialControl(f func(network, address string) error) Option {
	return func(c *config) { c.control = f }
}

func newConfig(opts []Option) config {
	c := config{
		timeout:       DefaultTimeout,
		dialTimeout:   DefaultDialTimeout,
		tlsTimeout:    DefaultTLSHandshakeTimeout,
		headerTimeout: DefaultResponseHeaderTimeout,
		maxRedirects:  DefaultMaxRedirects,
		userAgent:     UserAgent,
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// guard dials TCP connections under a Policy.
type guard struct {
	policy Policy
	cfg    config
}

// dialContext resolves addr's host and connects to the first address the
// policy accepts. The check runs in the dialer's Control func, on the address
// the socket is about to connect to, so it cannot be bypassed by resolution.
func (g *guard) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("invalid port in %q", addr)
	}
	allowed := g.policy.Allows(addr)
	d := net.Dialer{
		Timeout:   g.cfg.dialTimeout,
		KeepAlive: 30 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &BlockedError{Host: addr, Reason: "cannot verify the address " + address}
			}
			if !allowed {
				if reason, blocked := BlockReason(ap.Addr()); blocked {
					return &BlockedError{Host: addr, Addr: ap.Addr(), Reason: reason}
				}
			}
			if g.cfg.control != nil {
				return g.cfg.control(network, address)
			}
			return nil
		},
	}
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		lookup := g.cfg.lookup
		if lookup == nil {
			lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
				return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			}
		}
		ips, err = lookup(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("cannot resolve %s: %w", host, err)
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("cannot resolve %s: no addresses", host)
		}
	}
	var firstErr error
	for _, ip := range ips {
		conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}

// guardTransport validates every request URL, sets the User-Agent and fills
// in the URL of BlockedErrors raised while dialling.
type guardTransport struct {
	base http.RoundTripper
	ua   string
}

func (t *guardTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		closeBody(req)
		return nil, &InvalidURLError{Reason: "missing URL"}
	}
	if _, err := ValidateURL(req.URL.String()); err != nil {
		closeBody(req)
		return nil, err
	}
	if t.ua != "" && req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.ua)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		var be *BlockedError
		if errors.As(err, &be) && be.URL == "" {
			be.URL = redactURL(req.URL)
		}
	}
	return resp, err
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func newGuard(p Policy, opts []Option) *guard {
	return &guard{policy: p, cfg: newConfig(opts)}
}

func (g *guard) transport() *guardTransport {
	t := &http.Transport{
		Proxy:                  nil, // never a proxy from the environment
		DialContext:            g.dialContext,
		ForceAttemptHTTP2:      true,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    g.cfg.tlsTimeout,
		ResponseHeaderTimeout:  g.cfg.headerTimeout,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        30 * time.Second,
		MaxIdleConns:           16,
		MaxResponseHeaderBytes: 1 << 20,
	}
	return &guardTransport{base: t, ua: g.cfg.userAgent}
}

// NewTransport returns a RoundTripper that applies the policy to every
// connection and validates every request URL. It does not follow redirects
// (use NewClient for that); go-rod request hijacking can use it directly.
func NewTransport(p Policy, opts ...Option) http.RoundTripper {
	return newGuard(p, opts).transport()
}

// NewClient returns an http.Client for fetching user-supplied URLs: the policy
// is enforced on every connection, every redirect is validated again and at
// most 10 (WithMaxRedirects) are followed, no proxy is taken from the
// environment, and dial, TLS, response-header and overall timeouts apply.
// Read bodies with ReadLimited.
func NewClient(p Policy, opts ...Option) *http.Client {
	g := newGuard(p, opts)
	max := g.cfg.maxRedirects
	return &http.Client{
		Transport: g.transport(),
		Timeout:   g.cfg.timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > max {
				return fmt.Errorf("%w: gave up after %d redirects", ErrTooManyRedirects, max)
			}
			if _, err := ValidateURL(req.URL.String()); err != nil {
				return fmt.Errorf("redirect refused: %w", err)
			}
			return nil
		},
	}
}

// ReadLimited reads r to the end, but at most max bytes. When r holds more,
// it returns the first max bytes and a *BodyTooLargeError (ErrBodyTooLarge).
func ReadLimited(r io.Reader, max int64) ([]byte, error) {
	if max < 0 {
		return nil, fmt.Errorf("fetch: negative read limit %d", max)
	}
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if int64(len(data)) > max {
		return data[:max], &BodyTooLargeError{Limit: max}
	}
	return data, err
}

// Get validates raw with ValidateURL and fetches it with c (a client from
// NewClient). Errors never contain credentials, even those a hostile server
// puts in a redirect's Location header.
func Get(ctx context.Context, c *http.Client, raw string) (*http.Response, error) {
	u, err := ValidateURL(raw)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redactRaw(ue.URL)
		}
		return resp, err
	}
	return resp, nil
}
