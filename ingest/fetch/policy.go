package fetch

import (
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
)

// Policy decides which addresses a fetch may connect to.
//
// AllowHosts lists host or host:port entries (as in INGEST_ALLOW_HOSTS) that
// may be reached even though their addresses are blocked; tests serve their
// sites on 127.0.0.1. An entry without a port allows every port of that host.
// The match is on the host as written in the URL being fetched, not on the
// address it resolves to.
type Policy struct {
	AllowHosts []string
}

// EnvAllowHosts is the environment variable read by PolicyFromEnv.
const EnvAllowHosts = "INGEST_ALLOW_HOSTS"

// PolicyFromEnv returns the policy configured by INGEST_ALLOW_HOSTS
// (comma-separated host or host:port entries).
func PolicyFromEnv() Policy {
	return Policy{AllowHosts: ParseAllowHosts(os.Getenv(EnvAllowHosts))}
}

// ParseAllowHosts splits a comma-separated list of host or host:port entries,
// dropping blanks. "http://host:port/" entries are accepted too.
func ParseAllowHosts(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

type hostPort struct{ host, port string }

// splitAllowEntry normalises an allow-list entry.
func splitAllowEntry(e string) hostPort {
	e = strings.TrimSpace(e)
	if strings.Contains(e, "://") {
		if u, err := url.Parse(e); err == nil {
			e = u.Host
		}
	}
	if h, p, err := net.SplitHostPort(e); err == nil {
		return hostPort{canonHost(h), p}
	}
	return hostPort{canonHost(e), ""}
}

func canonHost(h string) string {
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if a, err := netip.ParseAddr(h); err == nil {
		return a.String()
	}
	return h
}

// Allows reports whether hostport (host:port, or a bare host) is in AllowHosts.
func (p Policy) Allows(hostport string) bool {
	if len(p.AllowHosts) == 0 {
		return false
	}
	var target hostPort
	if h, port, err := net.SplitHostPort(hostport); err == nil {
		target = hostPort{canonHost(h), port}
	} else {
		target = hostPort{canonHost(hostport), ""}
	}
	if target.host == "" {
		return false
	}
	for _, e := range p.AllowHosts {
		a := splitAllowEntry(e)
		if a.host == target.host && (a.port == "" || a.port == target.port) {
			return true
		}
	}
	return false
}

// Blocked reports whether connecting to ip is refused (ignoring AllowHosts,
// which apply to host names, not addresses).
func (p Policy) Blocked(ip netip.Addr) bool {
	_, blocked := BlockReason(ip)
	return blocked
}

type blockRange struct {
	prefix netip.Prefix
	desc   string
}

func mustRanges(pairs ...string) []blockRange {
	out := make([]blockRange, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, blockRange{netip.MustParsePrefix(pairs[i]), pairs[i+1]})
	}
	return out
}

const (
	descPrivate   = "inside a private network"
	descLoopback  = "a loopback address (this machine)"
	descLinkLocal = "a link-local address"
	descMetadata  = "a cloud metadata service address"
	descMulticast = "a multicast address"
	descReserved  = "in a reserved range"
	descDoc       = "in a documentation range"
)

// Order matters: the first matching range gives the reason.
var v4Blocked = mustRanges(
	"0.0.0.0/32", "the unspecified address",
	"0.0.0.0/8", "in the \"this network\" range 0.0.0.0/8",
	"10.0.0.0/8", descPrivate,
	"100.100.100.200/32", descMetadata,
	"100.64.0.0/10", "in the carrier-grade NAT range (100.64.0.0/10)",
	"127.0.0.0/8", descLoopback,
	"168.63.129.16/32", descMetadata,
	"169.254.169.254/32", descMetadata,
	"169.254.170.2/32", descMetadata,
	"169.254.0.0/16", descLinkLocal,
	"172.16.0.0/12", descPrivate,
	"192.0.0.0/24", "in the IETF protocol assignments range",
	"192.0.2.0/24", descDoc,
	"192.88.99.0/24", "a 6to4 relay anycast address",
	"192.168.0.0/16", descPrivate,
	"198.18.0.0/15", "in the benchmarking range",
	"198.51.100.0/24", descDoc,
	"203.0.113.0/24", descDoc,
	"224.0.0.0/4", descMulticast,
	"255.255.255.255/32", "the broadcast address",
	"240.0.0.0/4", descReserved,
)

var v6Blocked = mustRanges(
	"::/128", "the unspecified address",
	"::1/128", descLoopback,
	"64:ff9b:1::/48", "a local-use NAT64 address",
	"100::/64", "in the discard-only range",
	"2001::/32", "a Teredo tunnel address",
	"2001:2::/48", "in the benchmarking range",
	"2001:10::/28", descReserved,
	"2001:20::/28", descReserved,
	"2001:db8::/32", descDoc,
	"3fff::/20", descDoc,
	"fd00:ec2::254/128", descMetadata,
	"fc00::/7", descPrivate+" (unique local address)",
	"fe80::/10", descLinkLocal,
	"fec0::/10", "a site-local address",
	"ff00::/8", descMulticast,
)

var (
	v4CompatPrefix  = netip.MustParsePrefix("::/96")
	v4TransPrefix   = netip.MustParsePrefix("::ffff:0:0:0/96")
	nat64Prefix     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFourPrefix = netip.MustParsePrefix("2002::/16")
	globalV6        = netip.MustParsePrefix("2000::/3")
)

// BlockReason reports whether ip must not be connected to and, if so, a
// user-facing reason such as "address 10.0.0.1 is inside a private network".
// IPv4-mapped, IPv4-compatible, IPv4-translated, NAT64 (64:ff9b::/96) and
// 6to4 (2002::/16) IPv6 addresses are judged by the IPv4 address they embed.
func BlockReason(ip netip.Addr) (string, bool) {
	if !ip.IsValid() {
		return "the address is invalid", true
	}
	ip = ip.WithZone("")
	if ip.Is4In6() {
		v4 := ip.Unmap()
		if d, bad := v4Desc(v4); bad {
			return "address " + ip.String() + " is an IPv4-mapped form of " + v4.String() + ", which is " + d, true
		}
		return "", false
	}
	if ip.Is4() {
		if d, bad := v4Desc(ip); bad {
			return "address " + ip.String() + " is " + d, true
		}
		return "", false
	}
	b := ip.As16()
	embedded := func(kind string, v4 netip.Addr) (string, bool) {
		if d, bad := v4Desc(v4); bad {
			return "address " + ip.String() + " is " + kind + " embedding " + v4.String() + ", which is " + d, true
		}
		return "", false
	}
	for _, r := range v6Blocked[:2] { // :: and ::1 before the ::/96 check
		if r.prefix.Contains(ip) {
			return "address " + ip.String() + " is " + r.desc, true
		}
	}
	switch {
	case v4CompatPrefix.Contains(ip):
		if r, bad := embedded("an IPv4-compatible IPv6 address", netip.AddrFrom4([4]byte(b[12:16]))); bad {
			return r, true
		}
		return "address " + ip.String() + " is a deprecated IPv4-compatible IPv6 address", true
	case v4TransPrefix.Contains(ip):
		if r, bad := embedded("an IPv4-translated IPv6 address", netip.AddrFrom4([4]byte(b[12:16]))); bad {
			return r, true
		}
		return "address " + ip.String() + " is an IPv4-translated IPv6 address", true
	case nat64Prefix.Contains(ip):
		return embedded("a NAT64 address", netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFourPrefix.Contains(ip):
		return embedded("a 6to4 address", netip.AddrFrom4([4]byte(b[2:6])))
	}
	for _, r := range v6Blocked {
		if r.prefix.Contains(ip) {
			return "address " + ip.String() + " is " + r.desc, true
		}
	}
	if !globalV6.Contains(ip) {
		return "address " + ip.String() + " is not a global unicast address", true
	}
	return "", false
}

func v4Desc(ip netip.Addr) (string, bool) {
	for _, r := range v4Blocked {
		if r.prefix.Contains(ip) {
			return r.desc, true
		}
	}
	return "", false
}
