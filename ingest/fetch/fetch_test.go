package fetch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// target is a listener on 127.0.0.1 (and ::1 when available) that must never
// receive a connection: it counts every accepted one.
type target struct {
	port     int
	accepted atomic.Int64
	lns      []net.Listener
}

func newTarget(t *testing.T) *target {
	t.Helper()
	tg := &target{}
	ln4, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	tg.port = ln4.Addr().(*net.TCPAddr).Port
	tg.lns = append(tg.lns, ln4)
	if ln6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(tg.port))); err == nil {
		tg.lns = append(tg.lns, ln6)
	} else {
		t.Logf("no ::1 listener on port %d: %v", tg.port, err)
	}
	for _, ln := range tg.lns {
		go func(ln net.Listener) {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				tg.accepted.Add(1)
				_ = c.Close()
			}
		}(ln)
	}
	t.Cleanup(func() {
		for _, ln := range tg.lns {
			_ = ln.Close()
		}
	})
	return tg
}

// testLookup is a resolver that never touches the network.
func testLookup(_ context.Context, host string) ([]netip.Addr, error) {
	switch strings.TrimSuffix(strings.ToLower(host), ".") {
	case "localhost":
		return []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, nil
	case "rebind.test":
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	case "mapped.test":
		return []netip.Addr{netip.MustParseAddr("::ffff:127.0.0.1")}, nil
	case "metadata.google.internal":
		return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
	case "intranet.test":
		return []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("192.168.0.7")}, nil
	}
	return nil, &net.DNSError{Err: "no such host (test resolver)", Name: host, IsNotFound: true}
}

// loopbackOnly is a safety net: if the guard ever let a non-loopback address
// through, the test fails and the connect is aborted before any packet leaves.
func loopbackOnly(t *testing.T) Option {
	return WithDialControl(func(_, address string) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().Unmap().IsLoopback() {
			t.Errorf("guard let a dial to %s through", address)
			return errors.New("test: non-loopback dial refused")
		}
		return nil
	})
}

type allowedSite struct {
	srv      *httptest.Server
	hostport string
	loopHits atomic.Int64
}

func newAllowedSite(t *testing.T, tg *target) *allowedSite {
	t.Helper()
	s := &allowedSite{}
	secret := fmt.Sprintf("http://127.0.0.1:%d/secret", tg.port)
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "welcome") })
	mux.HandleFunc("/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/b", http.StatusFound) })
	mux.HandleFunc("/b", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "landed") })
	mux.HandleFunc("/ua", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.UserAgent()) })
	mux.HandleFunc("/to-secret", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, secret, http.StatusFound) })
	mux.HandleFunc("/to-localhost", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("http://localhost:%d/secret", tg.port), http.StatusMovedPermanently)
	})
	mux.HandleFunc("/to-decimal", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, fmt.Sprintf("http://2130706433:%d/secret", tg.port), http.StatusFound)
	})
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "file:///etc/passwd")
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("/to-creds", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://admin:hunter2@"+s.hostport+"/b", http.StatusFound)
	})
	mux.HandleFunc("/to-metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		s.loopHits.Add(1)
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 3<<20)))
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	s.hostport = s.srv.Listener.Addr().String()
	return s
}

type hostile struct {
	name, url string
	want      string // "blocked" (*BlockedError), "invalid" (*InvalidURLError), "redirects"
}

func hostileTable(p int, site string) []hostile {
	P := strconv.Itoa(p)
	return []hostile{
		{"loopback", "http://127.0.0.1:" + P + "/", "blocked"},
		{"loopback other /8", "http://127.42.0.1:" + P + "/", "blocked"},
		{"short form 127.1", "http://127.1:" + P + "/", "invalid"},
		{"decimal", "http://2130706433:" + P + "/", "invalid"},
		{"hex", "http://0x7f000001:" + P + "/", "invalid"},
		{"hex short", "http://0x7f.1:" + P + "/", "invalid"},
		{"octal", "http://0177.0.0.1:" + P + "/", "invalid"},
		{"zero padded", "http://127.000.000.001:" + P + "/", "invalid"},
		{"trailing dot ip", "http://127.0.0.1.:" + P + "/", "invalid"},
		{"fullwidth digits", "http://１２７.０.０.１:" + P + "/", "blocked"},
		{"percent-encoded host", "http://%31%32%37.0.0.1:" + P + "/", "invalid"},
		{"upper-case scheme", "HTTP://127.0.0.1:" + P + "/", "blocked"},
		{"ipv6 loopback", "http://[::1]:" + P + "/", "blocked"},
		{"ipv4-mapped dotted", "http://[::ffff:127.0.0.1]:" + P + "/", "blocked"},
		{"ipv4-mapped hex", "http://[::ffff:7f00:1]:" + P + "/", "blocked"},
		{"ipv4-compatible", "http://[::127.0.0.1]:" + P + "/", "blocked"},
		{"nat64 loopback", "http://[64:ff9b::7f00:1]:" + P + "/", "blocked"},
		{"6to4 loopback", "http://[2002:7f00:1::]:" + P + "/", "blocked"},
		{"ipv6 zone", "http://[fe80::1%25lo]:" + P + "/", "invalid"},
		{"localhost", "http://localhost:" + P + "/", "blocked"},
		{"localhost dot", "http://localhost.:" + P + "/", "blocked"},
		{"LOCALHOST", "http://LOCALHOST:" + P + "/", "blocked"},
		{"name resolving to 127.0.0.1", "http://rebind.test:" + P + "/", "blocked"},
		{"name resolving to mapped loopback", "http://mapped.test:" + P + "/", "blocked"},
		{"unspecified v4", "http://0.0.0.0:" + P + "/", "blocked"},
		{"unspecified v6", "http://[::]:" + P + "/", "blocked"},
		{"metadata ip", "http://169.254.169.254/latest/meta-data/", "blocked"},
		{"metadata name", "http://metadata.google.internal/computeMetadata/v1/", "blocked"},
		{"name resolving to private", "http://intranet.test/", "blocked"},
		{"private 10/8", "http://10.0.0.1/", "blocked"},
		{"private 172.16/12", "http://172.16.0.1/", "blocked"},
		{"private 192.168/16", "http://192.168.1.1/", "blocked"},
		{"cgnat", "http://100.64.0.1/", "blocked"},
		{"mapped private", "http://[::ffff:a00:1]/", "blocked"},
		{"link-local v6", "http://[fe80::1]:" + P + "/", "blocked"},
		{"ula", "http://[fc00::1]/", "blocked"},
		{"multicast", "http://224.0.0.1/", "blocked"},
		{"broadcast", "http://255.255.255.255/", "blocked"},
		{"documentation", "http://192.0.2.1/", "blocked"},
		{"credentials", "http://user:pass@example.com/", "invalid"},
		{"credentials on loopback", "http://user@127.0.0.1:" + P + "/", "invalid"},
		{"credentials disguising host", "http://example.com@127.0.0.1:" + P + "/", "invalid"},
		{"file", "file:///etc/passwd", "invalid"},
		{"javascript", "javascript:alert(1)", "invalid"},
		{"data", "data:text/html,<script>alert(1)</script>", "invalid"},
		{"ftp", "ftp://x/", "invalid"},
		{"gopher", "gopher://x/", "invalid"},
		{"no host", "http:///etc/passwd", "invalid"},
		{"opaque http", "http:127.0.0.1:" + P, "invalid"},
		{"allowed host other port", "http://127.0.0.1:" + P + "/secret", "blocked"},
		{"redirect to secret", "http://" + site + "/to-secret", "blocked"},
		{"redirect to localhost", "http://" + site + "/to-localhost", "blocked"},
		{"redirect to decimal ip", "http://" + site + "/to-decimal", "invalid"},
		{"redirect to metadata", "http://" + site + "/to-metadata", "blocked"},
		{"redirect to file", "http://" + site + "/to-file", "invalid"},
		{"redirect with credentials", "http://" + site + "/to-creds", "invalid"},
		{"redirect loop", "http://" + site + "/loop", "redirects"},
	}
}

func TestHostileURLs(t *testing.T) {
	tg := newTarget(t)
	site := newAllowedSite(t, tg)
	policy := Policy{AllowHosts: []string{site.hostport}}
	client := NewClient(policy, WithLookup(testLookup), loopbackOnly(t), WithTimeout(5*time.Second))

	table := hostileTable(tg.port, site.hostport)
	require.GreaterOrEqual(t, len(table), 25)
	for _, tc := range table {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := Get(context.Background(), client, tc.url)
			if resp != nil {
				_ = resp.Body.Close()
			}
			require.Error(t, err, "fetch of %s must fail", tc.url)
			require.True(t, IsRefused(err), "want a guard refusal, got %v", err)
			switch tc.want {
			case "blocked":
				var be *BlockedError
				require.ErrorAs(t, err, &be)
				require.NotEmpty(t, be.Reason)
				require.Contains(t, be.Reason, "address ")
			case "invalid":
				var ie *InvalidURLError
				require.ErrorAs(t, err, &ie)
			case "redirects":
				require.ErrorIs(t, err, ErrTooManyRedirects)
				require.Contains(t, err.Error(), "too many redirects")
			}
			require.NotContains(t, err.Error(), "pass@", "credentials leaked into the error")
			require.NotContains(t, err.Error(), "hunter2", "credentials leaked into the error")
			t.Logf("%s -> %v", tc.url, err)
		})
	}
	time.Sleep(50 * time.Millisecond) // let any stray connection be accepted
	require.Zero(t, tg.accepted.Load(), "a hostile URL reached the target listener")
	// cap at 10: the first request plus 10 followed redirects, then refusal
	require.EqualValues(t, 11, site.loopHits.Load())
}

func TestBlockedErrorMessage(t *testing.T) {
	client := NewClient(Policy{}, loopbackOnly(t))
	_, err := client.Get("http://10.0.0.1/")
	var be *BlockedError
	require.ErrorAs(t, err, &be)
	require.Equal(t, "address 10.0.0.1 is inside a private network", be.Reason)
	require.Equal(t, "http://10.0.0.1/", be.URL)
	require.Equal(t, netip.MustParseAddr("10.0.0.1"), be.Addr)
}

func TestAllowedHost(t *testing.T) {
	tg := newTarget(t)
	site := newAllowedSite(t, tg)
	t.Setenv(EnvAllowHosts, " , "+site.hostport+" ,")
	policy := PolicyFromEnv()
	require.Equal(t, []string{site.hostport}, policy.AllowHosts)
	client := NewClient(policy, loopbackOnly(t))

	get := func(path string) string {
		resp, err := client.Get("http://" + site.hostport + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		body, err := ReadLimited(resp.Body, 1<<20)
		require.NoError(t, err)
		return string(body)
	}
	require.Equal(t, "welcome", get("/"))
	require.Equal(t, "landed", get("/a"), "redirect within the allowed host")
	require.Equal(t, UserAgent, get("/ua"))

	// the allowance is per host:port: the same IP on another port stays blocked
	_, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", tg.port))
	var be *BlockedError
	require.ErrorAs(t, err, &be)

	// body cap
	resp, err := client.Get("http://" + site.hostport + "/big")
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := ReadLimited(resp.Body, 1<<20)
	require.ErrorIs(t, err, ErrBodyTooLarge)
	require.Contains(t, err.Error(), "larger than the limit of 1048576 bytes")
	require.Len(t, data, 1<<20)
	require.Zero(t, tg.accepted.Load())
}

func TestAllowHostWithoutPort(t *testing.T) {
	tg := newTarget(t)
	client := NewClient(Policy{AllowHosts: []string{"127.0.0.1"}}, loopbackOnly(t))
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", tg.port))
	if resp != nil {
		_ = resp.Body.Close()
	}
	require.Error(t, err) // the target closes the connection at once
	require.False(t, IsRefused(err), "allowed host must not be refused: %v", err)
	require.Eventually(t, func() bool { return tg.accepted.Load() > 0 }, 2*time.Second, 10*time.Millisecond)
}

func TestValidateURLNormalises(t *testing.T) {
	cases := map[string]string{
		"HTTP://Example.COM:0443/a/b?q=1#frag": "http://example.com:443/a/b?q=1",
		"https://bücher.example/x":             "https://xn--bcher-kva.example/x",
		"  https://example.com  ":              "https://example.com",
		"http://[2001:DB8::1]:8080/":           "http://[2001:db8::1]:8080/",
		"http://[::ffff:7f00:1]/":              "http://[::ffff:127.0.0.1]/",
		"https://0x7f.example.com/":            "https://0x7f.example.com/",
		"http://127.0.0.1/":                    "http://127.0.0.1/",
		"https://docs.example.com./x":          "https://docs.example.com./x",
	}
	for in, want := range cases {
		u, err := ValidateURL(in)
		require.NoError(t, err, in)
		require.Equal(t, want, u.String(), in)
	}
	for _, bad := range []string{
		"", "http://", "http://:80/", "http://a b.com/", "http://example.com:99999/",
		"http://example.com:/", "//example.com/", "example.com", "http://exa$mple.com/",
		"http://x\n.com/", "https://" + strings.Repeat("a", 2100) + ".com/",
		"http://example.com/" + strings.Repeat("a", 2048),
	} {
		_, err := ValidateURL(bad)
		var ie *InvalidURLError
		require.ErrorAs(t, err, &ie, "%q must be refused", bad)
	}
	_, err := ValidateURL("http://alice:s3cret@example.com/")
	require.ErrorContains(t, err, "credentials")
	require.NotContains(t, err.Error(), "s3cret")
}

func TestBlockReason(t *testing.T) {
	blocked := []string{
		"0.0.0.0", "0.1.2.3", "10.255.0.1", "100.64.0.1", "100.127.255.255", "127.0.0.1", "127.255.255.254",
		"169.254.0.1", "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1",
		"192.168.1.1", "198.18.0.1", "198.19.255.255", "198.51.100.1", "203.0.113.9", "224.0.0.1",
		"239.255.255.250", "240.0.0.1", "255.255.255.255", "168.63.129.16",
		"::", "::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::127.0.0.1", "::8.8.8.8", "::ffff:0:7f00:1",
		"64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", "2002:7f00:1::", "2002:a00:1::1",
		"2002:c0a8:101::", "2001::1", "2001:db8::1", "fc00::1", "fd12:3456::1", "fe80::1", "fe80::1%eth0",
		"fec0::1", "ff02::1", "100::1", "fd00:ec2::254", "::2", "1::",
	}
	for _, s := range blocked {
		ip := netip.MustParseAddr(s)
		reason, ok := BlockReason(ip)
		require.True(t, ok, "%s must be blocked", s)
		require.True(t, Policy{}.Blocked(ip))
		require.True(t, strings.HasPrefix(reason, "address "), reason)
	}
	allowed := []string{"8.8.8.8", "93.184.216.34", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111",
		"::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1", "2a00:1450:4001::1"}
	for _, s := range allowed {
		_, ok := BlockReason(netip.MustParseAddr(s))
		require.False(t, ok, "%s must be allowed", s)
	}
	r, _ := BlockReason(netip.MustParseAddr("10.0.0.1"))
	require.Equal(t, "address 10.0.0.1 is inside a private network", r)
	r, _ = BlockReason(netip.MustParseAddr("::ffff:127.0.0.1"))
	require.Contains(t, r, "127.0.0.1, which is a loopback address")
	r, _ = BlockReason(netip.MustParseAddr("169.254.169.254"))
	require.Contains(t, r, "metadata")
}

func TestPolicyAllows(t *testing.T) {
	p := Policy{AllowHosts: ParseAllowHosts("127.0.0.1:8080, Docs.Example.com ,[::1]:9000,http://intranet.test:81/")}
	require.True(t, p.Allows("127.0.0.1:8080"))
	require.False(t, p.Allows("127.0.0.1:8081"))
	require.True(t, p.Allows("docs.example.com:443"))
	require.True(t, p.Allows("docs.example.com.:80"))
	require.False(t, p.Allows("evil.docs.example.com:443"))
	require.True(t, p.Allows("[::1]:9000"))
	require.False(t, p.Allows("[::1]:9001"))
	require.True(t, p.Allows("intranet.test:81"))
	require.False(t, Policy{}.Allows("127.0.0.1:8080"))
}

func TestReadLimited(t *testing.T) {
	b, err := ReadLimited(strings.NewReader("hello"), 5)
	require.NoError(t, err)
	require.Equal(t, "hello", string(b))
	b, err = ReadLimited(strings.NewReader("hello!"), 5)
	require.ErrorIs(t, err, ErrBodyTooLarge)
	require.Equal(t, "hello", string(b))
}

func proxyConnect(t *testing.T, px *Proxy, authority string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", px.Addr(), 2*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	_, err = fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", authority, authority)
	require.NoError(t, err)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	require.NoError(t, err)
	return resp, c, br
}

func TestProxy(t *testing.T) {
	tg := newTarget(t)
	site := newAllowedSite(t, tg)
	px, err := NewProxy(Policy{AllowHosts: []string{site.hostport}}, WithLookup(testLookup), loopbackOnly(t))
	require.NoError(t, err)
	defer px.Close()
	require.True(t, strings.HasPrefix(px.Addr(), "127.0.0.1:"))
	P := strconv.Itoa(tg.port)

	// CONNECT to blocked targets: 403, no connection
	for _, a := range []string{"127.0.0.1:" + P, "localhost:" + P, "[::1]:" + P, "[::ffff:127.0.0.1]:" + P,
		"rebind.test:" + P, "2130706433:" + P, "0.0.0.0:" + P, "169.254.169.254:443", "10.0.0.1:443",
		"user:pw@127.0.0.1:" + P} {
		resp, _, _ := proxyConnect(t, px, a)
		if strings.Contains(a, "@") { // Go's server already rejects userinfo in the authority
			require.Contains(t, []int{http.StatusBadRequest, http.StatusForbidden}, resp.StatusCode, a)
		} else {
			require.Equal(t, http.StatusForbidden, resp.StatusCode, a)
		}
		_ = resp.Body.Close()
	}

	// CONNECT to the allowed host, then speak HTTP through the tunnel
	resp, c, br := proxyConnect(t, px, site.hostport)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = fmt.Fprintf(c, "GET /b HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", site.hostport)
	require.NoError(t, err)
	inner, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	body, err := io.ReadAll(inner.Body)
	require.NoError(t, err)
	require.Equal(t, "landed", string(body))

	// plain HTTP proxying
	client := &http.Client{
		Transport:     &http.Transport{Proxy: http.ProxyURL(px.URL())},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       5 * time.Second,
	}
	get := func(u string) (int, string) {
		resp, err := client.Get(u)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body2 := get("http://" + site.hostport + "/")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "welcome", body2)
	code, body2 = get("http://" + site.hostport + "/ua")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body2, "Go-http-client") // the browser's own agent is kept
	code, _ = get("http://" + site.hostport + "/to-secret")
	require.Equal(t, http.StatusFound, code, "redirects go back to the browser")
	for _, u := range []string{"http://127.0.0.1:" + P + "/secret", "http://localhost:" + P + "/",
		"http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:" + P + "/"} {
		code, msg := get(u)
		require.Equal(t, http.StatusForbidden, code, u)
		require.Contains(t, msg, "address", u)
	}
	time.Sleep(50 * time.Millisecond)
	require.Zero(t, tg.accepted.Load(), "the proxy let a connection reach the target")

	require.NoError(t, px.Close())
	_, err = net.DialTimeout("tcp", px.Addr(), time.Second)
	require.Error(t, err)
}
