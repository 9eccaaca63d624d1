package fetch

import (
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
)

// MaxURLLength is the longest URL ValidateURL accepts (before and after
// normalisation).
const MaxURLLength = 2048

// ValidateURL parses and normalises a user-supplied URL. It accepts only
// absolute http and https URLs without credentials, with a host that is a DNS
// name (IDNA is converted to ASCII), a canonical dotted-quad IPv4 address or a
// bracketed IPv6 address without zone. Hosts that merely look numeric
// (2130706433, 0x7f.1, 0177.0.0.1, 127.1, 127.0.0.1.) are refused because
// resolvers and browsers disagree on what they mean. The fragment is dropped,
// scheme and host are lower-cased and the port is canonicalised.
//
// ValidateURL does not decide whether an address is allowed: that happens at
// dial time, against the address really connected to (see Policy).
func ValidateURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	shown := redactRaw(raw)
	bad := func(reason string) (*url.URL, error) {
		return nil, &InvalidURLError{URL: shown, Reason: reason}
	}
	if raw == "" {
		return bad("empty URL")
	}
	if len(raw) > MaxURLLength {
		return bad("URL is longer than " + strconv.Itoa(MaxURLLength) + " characters")
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 0x20 || c == 0x7f {
			return bad("URL contains control characters")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("cannot parse URL")
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "http", "https":
	case "":
		return bad("missing scheme: only http:// and https:// URLs can be fetched")
	default:
		return bad("scheme " + strconv.Quote(scheme) + " is not allowed: only http and https")
	}
	if u.Opaque != "" {
		return bad("malformed URL: expected " + scheme + "://host/...")
	}
	if u.User != nil {
		return bad("URLs with credentials (user:password@) are not allowed")
	}
	if strings.Contains(u.Host, "@") {
		return bad("URLs with credentials (user:password@) are not allowed")
	}
	host, reason := normalizeHost(u.Hostname(), strings.HasPrefix(u.Host, "["))
	if reason != "" {
		return bad(reason)
	}
	port := u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return bad("empty port")
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return bad("invalid port " + strconv.Quote(port))
		}
		port = strconv.Itoa(n)
	}
	u.Scheme = scheme
	if port != "" {
		u.Host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		u.Host = "[" + host + "]"
	} else {
		u.Host = host
	}
	u.Fragment, u.RawFragment = "", ""
	if len(u.String()) > MaxURLLength {
		return bad("URL is longer than " + strconv.Itoa(MaxURLLength) + " characters")
	}
	return u, nil
}

// normalizeHost returns the canonical host or a reason why it is refused.
func normalizeHost(h string, bracketed bool) (string, string) {
	if h == "" {
		return "", "missing host"
	}
	if bracketed {
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Is6() {
			return "", "invalid IPv6 address"
		}
		if a.Zone() != "" {
			return "", "IPv6 zone identifiers are not allowed"
		}
		return a.String(), ""
	}
	if strings.Contains(h, ":") {
		return "", "invalid host"
	}
	if !isASCII(h) {
		a, err := idna.Lookup.ToASCII(h)
		if err != nil {
			return "", "invalid international domain name"
		}
		h = a
	}
	h = strings.ToLower(h)
	if len(h) > 254 {
		return "", "host name too long"
	}
	trimmed := strings.TrimSuffix(h, ".")
	if trimmed == "" {
		return "", "missing host"
	}
	labels := strings.Split(trimmed, ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", "invalid host name"
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", "invalid character in host name"
			}
		}
	}
	if looksNumeric(labels[len(labels)-1]) {
		// WHATWG URL: a host whose last label is a number is an IPv4 address.
		// Only the canonical dotted quad is accepted.
		a, err := netip.ParseAddr(h)
		if err != nil || !a.Is4() || a.String() != h {
			return "", "numeric host " + strconv.Quote(h) + " is not a canonical IPv4 address (use dotted-quad form)"
		}
	}
	return h, ""
}

// looksNumeric reports whether a label is a decimal number or 0x-hex number,
// i.e. something an IPv4 parser (inet_aton, browsers) would read as a number.
func looksNumeric(l string) bool {
	if strings.HasPrefix(l, "0x") {
		for i := 2; i < len(l); i++ {
			c := l[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
		return true
	}
	for i := 0; i < len(l); i++ {
		if l[i] < '0' || l[i] > '9' {
			return false
		}
	}
	return l != ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// redactRaw hides credentials in a raw URL for error messages and truncates it.
func redactRaw(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		u.User = url.User("redacted")
		raw = u.String()
	} else if err != nil {
		if i := strings.Index(raw, "@"); i >= 0 && strings.Contains(raw[:i], "://") {
			raw = raw[:strings.Index(raw, "://")+3] + "redacted" + raw[i:]
		}
	}
	if len(raw) > 200 {
		raw = raw[:200] + "…"
	}
	return raw
}

// redactURL is redactRaw for a parsed URL.
func redactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	return redactRaw(u.String())
}
