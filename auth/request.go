package auth

import "context"

// Request metadata that the login flows and rate limits read: where a call
// comes from. Who is calling is package viewer's.

type ipKey struct{}

// WithClientIP returns ctx carrying the caller's IP address (for rate limits).
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, ipKey{}, ip)
}

// ClientIP returns the caller's IP address, or "".
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(ipKey{}).(string)
	return ip
}

type originKey struct{}

// WithOrigin returns ctx carrying the request's Origin header (the site a
// browser calls from; empty for other clients).
func WithOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey{}, origin)
}

// Origin returns the request's Origin header, or "".
func Origin(ctx context.Context) string {
	o, _ := ctx.Value(originKey{}).(string)
	return o
}

type sameOriginKey struct{}

// WithSameOrigin marks a request sent by a page of this server itself.
func WithSameOrigin(ctx context.Context, same bool) context.Context {
	return context.WithValue(ctx, sameOriginKey{}, same)
}

// SameOrigin reports whether the request came from a page of this server.
func SameOrigin(ctx context.Context) bool {
	same, _ := ctx.Value(sameOriginKey{}).(bool)
	return same
}
