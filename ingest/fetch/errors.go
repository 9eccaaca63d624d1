// Package fetch is the SSRF guard for every fetch of a user-supplied URL
// (websites, sitemaps, robots.txt, Chromium through the guarded proxy).
//
// The guard has three layers:
//
//  1. ValidateURL: only http/https, no credentials, a real host name or a
//     canonical IP literal (decimal, octal, hex and short IPv4 spellings are
//     refused), normalised (lower case, IDNA to ASCII, no fragment).
//  2. Dial time: every TCP connection made by NewClient, NewTransport and the
//     Proxy checks, in the net.Dialer's Control func, the IP address the
//     socket is really about to connect to. DNS rebinding, /etc/hosts entries
//     and resolver quirks therefore cannot bypass it. Hosts listed in
//     Policy.AllowHosts (INGEST_ALLOW_HOSTS) skip this check.
//  3. Redirects: every hop is validated again (and dialled through layer 2),
//     and at most 10 are followed.
package fetch

import (
	"errors"
	"fmt"
	"net/netip"
)

// BlockedError reports a fetch refused because the target address is inside
// the machine or a private network. Reason is a user-facing sentence, e.g.
// "address 10.0.0.1 is inside a private network".
type BlockedError struct {
	URL    string     // the URL being fetched, credentials redacted; empty when unknown
	Host   string     // host:port being dialled
	Addr   netip.Addr // the refused address, when known
	Reason string
}

func (e *BlockedError) Error() string {
	if e.URL != "" {
		return "refusing to fetch " + e.URL + ": " + e.Reason
	}
	if e.Host != "" {
		return "refusing to connect to " + e.Host + ": " + e.Reason
	}
	return "refused: " + e.Reason
}

// InvalidURLError reports a URL refused before any network activity:
// wrong scheme, credentials, malformed or non-canonical numeric host, too long.
type InvalidURLError struct {
	URL    string // the offending URL, credentials redacted and truncated
	Reason string
}

func (e *InvalidURLError) Error() string {
	return fmt.Sprintf("invalid URL %q: %s", e.URL, e.Reason)
}

// ErrTooManyRedirects is wrapped by the error returned when a fetch follows
// more redirects than allowed.
var ErrTooManyRedirects = errors.New("too many redirects")

// ErrBodyTooLarge is matched (errors.Is) by *BodyTooLargeError.
var ErrBodyTooLarge = errors.New("response body too large")

// BodyTooLargeError is returned by ReadLimited when the body exceeds Limit.
type BodyTooLargeError struct{ Limit int64 }

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("response body is larger than the limit of %d bytes", e.Limit)
}

func (e *BodyTooLargeError) Is(target error) bool { return target == ErrBodyTooLarge }

// IsRefused reports whether err (or anything it wraps) is a refusal by the
// guard: a *BlockedError, an *InvalidURLError or too many redirects.
func IsRefused(err error) bool {
	var b *BlockedError
	var v *InvalidURLError
	return errors.As(err, &b) || errors.As(err, &v) || errors.Is(err, ErrTooManyRedirects)
}
