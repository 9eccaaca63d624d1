package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"concierge/chat"
	"concierge/fault"
	"concierge/viewer"
)

// The content security policy of pages (the dashboard, GraphiQL, files):
// scripts and styles from this origin only (inline styles allowed: charts
// and the widget preview set them), images also from data: and blob: (a
// logo's preview before upload), the API and its WebSocket on this origin.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the response headers of each kind of route:
//   - /graphql API responses: nosniff and no-store (they carry tenant data);
//   - /widget.js and /widget/test: nothing more (the widget runs inside
//     customers' pages; the test page embeds it);
//   - everything else (the dashboard, GraphiQL, files): a strict CSP,
//     no framing, nosniff and a conservative referrer policy. GraphiQL
//     (graphiql: development) is served from this origin like the rest.
func securityHeaders(graphiql bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		switch p := r.URL.Path; {
		case p == "/widget.js" || p == "/widget/test":
		case p == "/graphql":
			if graphiql && isGraphiQLRequest(r) {
				setPageHeaders(h, pageCSP)
				break
			}
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Cache-Control", "no-store")
		default:
			setPageHeaders(h, pageCSP)
		}
		next.ServeHTTP(w, r)
	})
}

func setPageHeaders(h http.Header, csp string) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
}

// checkVisitorOrigin refuses a visitor credential used from an origin the
// visitor's company does not list. Only browsers send Origin, and they
// always do on cross-origin requests and WebSocket handshakes; a request
// without one is a non-browser client, which could forge any Origin, so
// it is not refused.
func (s *srv) checkVisitorOrigin(ctx context.Context, v *viewer.Viewer, origin string) error {
	if v == nil || v.Kind != viewer.KindVisitor || origin == "" || s.origins == nil {
		return nil
	}
	allowed, err := s.origins.get(ctx, v.CompanyID)
	if err != nil {
		return err
	}
	if !chat.OriginAllowed(allowed, origin) {
		return fault.Forbidden("this site may not use the company's chat widget (origin not allowed)")
	}
	return nil
}

// originCache remembers companies' allowed origins for a few seconds, so
// visitors' requests do not each cost a query; a change takes effect
// within originTTL.
type originCache struct {
	load func(ctx context.Context, companyID uuid.UUID) ([]string, error)

	mu      sync.Mutex
	entries map[uuid.UUID]originEntry
}

type originEntry struct {
	origins []string
	expires time.Time
}

const (
	originTTL        = 10 * time.Second
	originCacheLimit = 10000
)

func newOriginCache(load func(ctx context.Context, companyID uuid.UUID) ([]string, error)) *originCache {
	if load == nil {
		return nil
	}
	return &originCache{load: load, entries: map[uuid.UUID]originEntry{}}
}

func (c *originCache) get(ctx context.Context, company uuid.UUID) ([]string, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.entries[company]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.origins, nil
	}
	origins, err := c.load(ctx, company)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.entries) >= originCacheLimit {
		for k, v := range c.entries {
			if now.After(v.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= originCacheLimit {
			clear(c.entries)
		}
	}
	c.entries[company] = originEntry{origins: origins, expires: now.Add(originTTL)}
	c.mu.Unlock()
	return origins, nil
}
