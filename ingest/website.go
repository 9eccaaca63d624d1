package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"concierge/ent"
	"concierge/ent/resource"
	"concierge/fault"
	"concierge/ingest/fetch"
)

// MetaWebsite is the key of a WEBSITE resource's crawl options in its
// metadata (a WebsiteOptions).
const MetaWebsite = "website"

// Bounds of AddWebsite's options.
const (
	DefaultWebsiteMaxPages = 50
	DefaultWebsiteMaxDepth = 2
	MaxWebsiteMaxPages     = 5000
	MaxWebsiteMaxDepth     = 10
	MaxWebsitePatterns     = 50
	MaxWebsitePatternLen   = 200
)

// WebsiteOptions are a WEBSITE resource's crawl options, as given to
// addWebsite. Zero MaxPages / MaxDepth and a nil RenderJavascript mean the
// defaults (50 pages, capped by the company's plan; depth 2; rendering when
// Chromium is installed).
type WebsiteOptions struct {
	URL              string   `json:"url"`
	MaxPages         int      `json:"max_pages,omitempty"`
	MaxDepth         *int     `json:"max_depth,omitempty"`
	RenderJavascript *bool    `json:"render_javascript,omitempty"`
	IncludePaths     []string `json:"include_paths,omitempty"`
	ExcludePaths     []string `json:"exclude_paths,omitempty"`
	// SyncInterval is how often the site is crawled again (nil:
	// DefaultSyncInterval). It is a column of the resource, not a crawl
	// option.
	SyncInterval *resource.SyncInterval `json:"-"`
}

// PlanPageLimit is the most pages one website resource may crawl under a
// subscription plan.
func PlanPageLimit(plan string) int {
	switch strings.ToUpper(plan) {
	case "BASIC":
		return 200
	case "PREMIUM":
		return 1000
	case "ENTERPRISE":
		return 5000
	}
	return 50
}

// WebsiteOptionsOf reads a WEBSITE resource's crawl options.
func WebsiteOptionsOf(r *ent.Resource) (WebsiteOptions, error) {
	var o WebsiteOptions
	raw, ok := r.Metadata[MetaWebsite]
	if !ok {
		if r.SourceURL == "" {
			return o, Permanentf("the website's address is missing; add the website again")
		}
		return WebsiteOptions{URL: r.SourceURL}, nil
	}
	b, err := json.Marshal(raw)
	if err == nil {
		err = json.Unmarshal(b, &o)
	}
	if err != nil || o.URL == "" {
		return o, Permanentf("the website's crawl options are unreadable; add the website again")
	}
	return o, nil
}

// CheckPathPattern validates an include/exclude path pattern: a path
// starting with "/", where "*" matches any run of characters (slashes
// included), e.g. /docs/* or /blog/*/comments.
func CheckPathPattern(p string) (string, error) {
	p = strings.TrimSpace(p)
	switch {
	case p == "":
		return "", errors.New("a path pattern is empty")
	case !strings.HasPrefix(p, "/"):
		return "", errors.New("path pattern " + quote(p) + " must start with / (for example /docs/*)")
	case len(p) > MaxWebsitePatternLen:
		return "", errors.New("a path pattern is longer than 200 characters")
	case strings.ContainsFunc(p, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "", errors.New("path pattern " + quote(p) + " must not contain spaces or control characters")
	}
	return p, nil
}

func quote(s string) string { return "\"" + truncate(s, 60) + "\"" }

func checkPatterns(field string, ps []string) ([]string, error) {
	if len(ps) > MaxWebsitePatterns {
		return nil, fault.Invalid(field, "at most %d path patterns are accepted", MaxWebsitePatterns)
	}
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		c, err := CheckPathPattern(p)
		if err != nil {
			return nil, fault.Invalid(field, "%s", err.Error())
		}
		out = append(out, c)
	}
	return out, nil
}

// AddWebsite adds a WEBSITE resource and enqueues its crawl. The URL must
// be an http(s) URL without credentials (fetch.ValidateURL); whether its
// address may be reached is decided when it is fetched. Company admins and
// knowledge:write keys may.
func (s *Service) AddWebsite(ctx context.Context, in WebsiteOptions) (*ent.Resource, error) {
	cid, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	u, err := fetch.ValidateURL(in.URL)
	if err != nil {
		var ie *fetch.InvalidURLError
		if errors.As(err, &ie) {
			return nil, fault.Invalid("url", "the address cannot be crawled: %s", ie.Reason)
		}
		return nil, fault.Invalid("url", "the address cannot be crawled")
	}
	opts := WebsiteOptions{URL: u.String(), RenderJavascript: in.RenderJavascript}
	switch {
	case in.MaxPages < 0 || in.MaxPages > MaxWebsiteMaxPages:
		return nil, fault.Invalid("maxPages", "maxPages must be between 1 and %d", MaxWebsiteMaxPages)
	case in.MaxDepth != nil && (*in.MaxDepth < 0 || *in.MaxDepth > MaxWebsiteMaxDepth):
		return nil, fault.Invalid("maxDepth", "maxDepth must be between 0 and %d", MaxWebsiteMaxDepth)
	}
	opts.MaxPages, opts.MaxDepth = in.MaxPages, in.MaxDepth
	if opts.IncludePaths, err = checkPatterns("includePaths", in.IncludePaths); err != nil {
		return nil, err
	}
	if opts.ExcludePaths, err = checkPatterns("excludePaths", in.ExcludePaths); err != nil {
		return nil, err
	}
	iv, err := syncInterval(resource.TypeWEBSITE, in.SyncInterval)
	if err != nil {
		return nil, err
	}
	var meta map[string]any
	b, _ := json.Marshal(opts)
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, err
	}
	title := u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
	return s.create(ctx, func(tx *ent.Client) *ent.ResourceCreate {
		return tx.Resource.Create().SetCompanyID(cid).SetType(resource.TypeWEBSITE).
			SetTitle(truncate(title, MaxTitleRunes)).SetSourceURL(opts.URL).
			SetMetadata(map[string]any{MetaWebsite: meta}).SetStatus(resource.StatusPENDING).
			SetSyncInterval(iv).SetNillableNextSyncAt(nextSync(iv, s.now()))
	})
}
