package observe

import (
	"context"
	"crypto/rand"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"concierge/viewer"

	"github.com/google/uuid"
)

// RequestIDHeader carries the request id, in requests and responses.
const RequestIDHeader = "X-Request-Id"

// MaxRequestIDLen bounds a request id taken from a request.
const MaxRequestIDLen = 64

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFrom returns the request id of ctx, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestID gives every request an id: the request's X-Request-Id when it
// is sane (1 to 64 characters of [A-Za-z0-9._-]), a new random one
// otherwise. It is set on the response's X-Request-Id and put in the
// request's context, where NewLogHandler's handler finds it.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !ValidRequestID(id) {
			id = rand.Text()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(WithRequestID(r.Context(), id)))
	})
}

// ValidRequestID reports whether id may be used as a request id as is.
func ValidRequestID(id string) bool {
	if id == "" || len(id) > MaxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// NewLogHandler wraps inner so that every record logged with a context
// (slog.InfoContext(ctx, ...)) carries the request id ("request_id") and
// the viewer's kind ("viewer") and company ("company_id"): ids only. It
// also keeps credentials out of the logs: attributes named like secrets
// (authorization, cookie, password, secret, token, api_key, ...) are
// replaced by "[REDACTED]", bearer tokens, API keys, refresh tokens and JWTs
// are masked in messages, strings and errors, requests are logged as their
// method and path only, and headers without their credentials.
//
// The added attributes go in the record, so under a logger's WithGroup
// they are in that group.
func NewLogHandler(inner slog.Handler) slog.Handler {
	return &logHandler{inner: inner}
}

type logHandler struct {
	inner slog.Handler
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, redactString(r.Message), r.PC)
	if ctx != nil {
		if id := RequestIDFrom(ctx); id != "" {
			nr.AddAttrs(slog.String("request_id", id))
		}
		if v := viewer.FromContext(ctx); v != nil && v.Kind != viewer.KindNone {
			nr.AddAttrs(slog.String("viewer", v.Kind.String()))
			if v.CompanyID != uuid.Nil {
				nr.AddAttrs(slog.String("company_id", v.CompanyID.String()))
			}
		}
	}
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(redactAttr(a))
		return true
	})
	return h.inner.Handle(ctx, nr)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = redactAttr(a)
	}
	return &logHandler{inner: h.inner.WithAttrs(out)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{inner: h.inner.WithGroup(name)}
}

const redacted = "[REDACTED]"

// sensitiveKeys are attribute and header names, lower case without
// separators, whose values are never logged.
var sensitiveKeys = map[string]bool{
	"authorization": true, "proxyauthorization": true, "cookie": true, "setcookie": true,
	"password": true, "passwd": true, "secret": true, "token": true, "bearer": true, "jwt": true,
	"apikey": true, "xapikey": true, "accesstoken": true, "refreshtoken": true, "idtoken": true,
	"clientsecret": true, "jwtsecret": true, "encryptionkey": true, "privatekey": true, "credentials": true,
}

// sensitiveKey reports whether an attribute or header named k holds a
// credential.
func sensitiveKey(k string) bool {
	var b strings.Builder
	for _, c := range strings.ToLower(k) {
		if c != '_' && c != '-' && c != '.' && c != ' ' {
			b.WriteRune(c)
		}
	}
	n := b.String()
	return sensitiveKeys[n] || strings.HasSuffix(n, "password") || strings.HasSuffix(n, "secret") ||
		strings.HasSuffix(n, "token") || strings.HasSuffix(n, "apikey")
}

func redactAttr(a slog.Attr) slog.Attr {
	if sensitiveKey(a.Key) {
		return slog.String(a.Key, redacted)
	}
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		if s := v.String(); mayHoldSecret(s) {
			return slog.String(a.Key, redactString(s))
		}
	case slog.KindGroup:
		as := v.Group()
		out := make([]slog.Attr, len(as))
		for i, g := range as {
			out[i] = redactAttr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case *http.Request:
			if x == nil {
				break
			}
			path := ""
			if x.URL != nil {
				path = x.URL.Path
			}
			return slog.Group(a.Key, slog.String("method", x.Method), slog.String("path", path))
		case http.Header:
			return slog.Any(a.Key, redactHeader(x))
		case *url.URL:
			if x == nil {
				break
			}
			u := *x
			u.User, u.RawQuery, u.Fragment = nil, "", ""
			return slog.String(a.Key, u.String())
		case map[string]string:
			return slog.Any(a.Key, redactMap(x))
		case map[string]any:
			return slog.Any(a.Key, redactAnyMap(x))
		case error:
			if s := x.Error(); mayHoldSecret(s) {
				return slog.String(a.Key, redactString(s))
			}
		case []byte:
			if s := string(x); mayHoldSecret(s) {
				return slog.String(a.Key, redactString(s))
			}
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

func redactHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if sensitiveKey(k) {
			out[k] = []string{redacted}
			continue
		}
		cp := make([]string, len(vs))
		for i, v := range vs {
			cp[i] = redactString(v)
		}
		out[k] = cp
	}
	return out
}

func redactMap(m map[string]string) map[string]string {
	out := maps.Clone(m)
	for k, v := range out {
		if sensitiveKey(k) {
			out[k] = redacted
		} else {
			out[k] = redactString(v)
		}
	}
	return out
}

func redactAnyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sensitiveKey(k) {
			out[k] = redacted
			continue
		}
		out[k] = redactAttr(slog.Any(k, v)).Value.Any()
	}
	return out
}

// secretRE matches credentials in free text: bearer tokens, API keys,
// refresh tokens and JWTs (visitor and user tokens).
var secretRE = regexp.MustCompile(`(?i:bearer)\s+[^\s"',;]+` +
	`|ck_[0-9a-f]{12}_[A-Za-z0-9_-]+` +
	`|\brt_[A-Za-z0-9_-]{16,}` +
	`|eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)

// mayHoldSecret is a cheap filter before secretRE.
func mayHoldSecret(s string) bool {
	return strings.Contains(s, "ck_") || strings.Contains(s, "rt_") || strings.Contains(s, "eyJ") ||
		strings.Contains(s, "earer") || strings.Contains(s, "EARER")
}

// redactString masks the credentials in s.
func redactString(s string) string {
	if !mayHoldSecret(s) {
		return s
	}
	return secretRE.ReplaceAllString(s, redacted)
}
