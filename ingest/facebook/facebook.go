// Package facebook reads a Facebook page through the Graph API (page info
// and published posts, with paging) using the page access token, and
// extracts it as a document for the ingestion pipeline.
//
// The Graph API base URL is configurable (FACEBOOK_GRAPH_URL) and is trusted
// configuration: its host is allowed through the SSRF guard, so tests serve a
// fake Graph API on 127.0.0.1. Every other address stays guarded, and paging
// links must stay on the base URL's scheme and host.
package facebook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"concierge/ent"
	"concierge/ent/resource"
	"concierge/ingest"
	"concierge/ingest/chunk"
	"concierge/ingest/fetch"
)

// EnvGraphURL is the environment variable of the Graph API base URL.
const EnvGraphURL = "FACEBOOK_GRAPH_URL"

// DefaultGraphURL is the Graph API base URL by default.
const DefaultGraphURL = "https://graph.facebook.com/v23.0"

// Defaults of Config.
const (
	DefaultMaxPosts   = 500
	DefaultRetries    = 3
	DefaultRetryDelay = 2 * time.Second
	maxBody           = 8 << 20
)

// Error messages users read.
const (
	MsgTokenInvalid = "the Facebook access token is invalid or expired"
	MsgPageNotFound = "the Facebook page does not exist or cannot be read with this access token"
)

// Config configures a Client.
type Config struct {
	// BaseURL of the Graph API, version included (default
	// FACEBOOK_GRAPH_URL, else DefaultGraphURL).
	BaseURL string
	// Policy is the SSRF policy (default fetch.PolicyFromEnv()); the base
	// URL's host is added to its AllowHosts.
	Policy *fetch.Policy
	// MaxPosts bounds the posts read per page (default 500).
	MaxPosts int
	// Retries after a rate-limit or server error before the attempt fails
	// as transient (River then retries the job with backoff), and the first
	// delay between them, doubled each time.
	Retries    int
	RetryDelay time.Duration
	// HTTPClient replaces the guarded client (tests).
	HTTPClient *http.Client
}

// Client reads pages from the Graph API.
type Client struct {
	base     *url.URL
	http     *http.Client
	maxPosts int
	retries  int
	delay    time.Duration
}

// BaseURLFromEnv returns FACEBOOK_GRAPH_URL or DefaultGraphURL.
func BaseURLFromEnv() string {
	if v := strings.TrimSpace(os.Getenv(EnvGraphURL)); v != "" {
		return v
	}
	return DefaultGraphURL
}

// New returns a Client.
func New(cfg Config) (*Client, error) {
	raw := cfg.BaseURL
	if raw == "" {
		raw = BaseURLFromEnv()
	}
	base, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.User != nil {
		return nil, fmt.Errorf("facebook: %s must be an http(s) URL without credentials, got %q", EnvGraphURL, raw)
	}
	base.RawQuery, base.Fragment = "", ""
	c := &Client{base: base, http: cfg.HTTPClient, maxPosts: cfg.MaxPosts, retries: cfg.Retries, delay: cfg.RetryDelay}
	if c.http == nil {
		pol := fetch.PolicyFromEnv()
		if cfg.Policy != nil {
			pol = *cfg.Policy
		}
		// The Graph API's host is configuration, not user input.
		pol.AllowHosts = append(append([]string(nil), pol.AllowHosts...), base.Host)
		c.http = fetch.NewClient(pol, fetch.WithTimeout(60*time.Second), fetch.WithMaxRedirects(3))
	}
	if c.maxPosts <= 0 {
		c.maxPosts = DefaultMaxPosts
	}
	if c.retries < 0 {
		c.retries = 0
	} else if c.retries == 0 {
		c.retries = DefaultRetries
	}
	if c.delay <= 0 {
		c.delay = DefaultRetryDelay
	}
	return c, nil
}

// Page is a page's info.
type Page struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	About       string `json:"about"`
	Description string `json:"description"`
	Website     string `json:"website"`
	Link        string `json:"link"`
}

// Post is one published post.
type Post struct {
	ID           string `json:"id"`
	Message      string `json:"message"`
	CreatedTime  string `json:"created_time"`
	PermalinkURL string `json:"permalink_url"`
}

// APIError is an error answered by the Graph API.
type APIError struct {
	Status    int    `json:"-"`
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	FBTraceID string `json:"fbtrace_id"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("Facebook Graph API error %d (%s): %s", e.Code, e.Type, e.Message)
}

// RateLimited reports an application, user, page or custom rate limit.
func (e *APIError) RateLimited() bool {
	switch e.Code {
	case 4, 17, 32, 613, 80001:
		return true
	}
	return false
}

// classify turns an API error into what the job should do: permanent
// errors carry a message for users; others are retried.
func classify(e *APIError) error {
	switch {
	case e.Code == 190 || e.Type == "OAuthException" && (e.Code == 102 || e.Subcode == 463 || e.Subcode == 467):
		return ingest.Permanent(errors.New(MsgTokenInvalid))
	case e.RateLimited():
		return fmt.Errorf("Facebook rate limit reached (code %d), retrying later: %w", e.Code, e)
	case e.Code == 100 || e.Code == 803:
		return ingest.Permanent(fmt.Errorf("%s (%s)", MsgPageNotFound, e.Message))
	case e.Code == 10 || e.Code == 200 || (e.Code >= 200 && e.Code < 300):
		return ingest.Permanent(fmt.Errorf("the access token lacks a permission to read the page (%s)", e.Message))
	case e.Code == 1 || e.Code == 2 || e.Status >= 500:
		return fmt.Errorf("Facebook is temporarily unavailable: %w", e)
	}
	return ingest.Permanent(fmt.Errorf("Facebook refused the request: %s (code %d)", e.Message, e.Code))
}

// get fetches one Graph API URL into out, retrying rate limits and server
// errors with backoff. The token is sent in the Authorization header, never
// in the URL, and transport errors are reported without the URL.
func (c *Client) get(ctx context.Context, u *url.URL, token string, out any) error {
	delay := c.delay
	for attempt := 0; ; attempt++ {
		err := c.getOnce(ctx, u, token, out)
		var ae *APIError
		retry := errors.As(err, &ae) && (ae.RateLimited() || ae.Status >= 500 || ae.Code == 1 || ae.Code == 2)
		if err == nil || !retry || attempt >= c.retries {
			if ae != nil {
				return classify(ae)
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
	}
}

func (c *Client) getOnce(ctx context.Context, u *url.URL, token string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message would carry the URL
		}
		var be *fetch.BlockedError
		if errors.As(err, &be) {
			return ingest.Permanent(fmt.Errorf("the Facebook Graph API address is refused: %s", be.Reason))
		}
		return fmt.Errorf("reaching the Facebook Graph API: %w", err)
	}
	defer resp.Body.Close()
	body, err := fetch.ReadLimited(resp.Body, maxBody)
	if err != nil {
		return fmt.Errorf("reading the Facebook Graph API's answer: %w", err)
	}
	if resp.StatusCode >= 400 {
		var env struct {
			Error *APIError `json:"error"`
		}
		if json.Unmarshal(body, &env) == nil && env.Error != nil {
			env.Error.Status = resp.StatusCode
			return env.Error
		}
		return &APIError{Status: resp.StatusCode, Code: -1, Type: "http",
			Message: fmt.Sprintf("HTTP %d", resp.StatusCode)}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("the Facebook Graph API answered something that is not JSON: %w", err)
	}
	return nil
}

func (c *Client) endpoint(path string, q url.Values) *url.URL {
	u := *c.base
	u.Path = strings.TrimRight(c.base.Path, "/") + "/" + path
	u.RawPath = ""
	u.RawQuery = q.Encode()
	return &u
}

// PageInfo reads the page's name, about, description, website and link.
func (c *Client) PageInfo(ctx context.Context, page, token string) (*Page, error) {
	var p Page
	q := url.Values{"fields": {"name,about,description,website,link"}}
	if err := c.get(ctx, c.endpoint(url.PathEscape(page), q), token, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Posts reads the page's published posts, newest first, following the
// paging links up to the client's MaxPosts. progress (optional) is called
// after each page of results.
func (c *Client) Posts(ctx context.Context, page, token string, progress func(n int)) ([]Post, error) {
	q := url.Values{"fields": {"message,created_time,permalink_url"}, "limit": {strconv.Itoa(min(100, c.maxPosts))}}
	next := c.endpoint(url.PathEscape(page)+"/published_posts", q)
	var posts []Post
	for pages := 0; next != nil && len(posts) < c.maxPosts; pages++ {
		if pages >= 1000 {
			return nil, ingest.Permanentf("the Facebook Graph API kept paging without an end")
		}
		var res struct {
			Data   []Post `json:"data"`
			Paging struct {
				Next string `json:"next"`
			} `json:"paging"`
		}
		if err := c.get(ctx, next, token, &res); err != nil {
			return nil, err
		}
		posts = append(posts, res.Data...)
		if progress != nil {
			progress(len(posts))
		}
		if res.Paging.Next == "" || len(res.Data) == 0 {
			break
		}
		u, err := c.checkNext(res.Paging.Next)
		if err != nil {
			return nil, err
		}
		next = u
	}
	if len(posts) > c.maxPosts {
		posts = posts[:c.maxPosts]
	}
	return posts, nil
}

// checkNext accepts a paging link on the base URL's scheme and host only,
// and removes an access_token from it (the token goes in the header).
func (c *Client) checkNext(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != c.base.Scheme || !strings.EqualFold(u.Host, c.base.Host) || u.User != nil {
		return nil, ingest.Permanentf("the Facebook Graph API returned a paging link outside %s", c.base.Host)
	}
	q := u.Query()
	if q.Has("access_token") {
		q.Del("access_token")
		u.RawQuery = q.Encode()
	}
	u.Fragment = ""
	return u, nil
}

// Extractor reads FACEBOOK resources: the page's info as one section and
// each post as one section headed by its date, with its permalink.
type Extractor struct {
	Client *Client
	// Secrets opens the sealed access token (ingest.Config.Secrets).
	Secrets ingest.Opener
}

var _ ingest.Extractor = (*Extractor)(nil)

// Extract implements ingest.Extractor.
func (x *Extractor) Extract(ctx context.Context, r *ent.Resource, p ingest.Progress) (chunk.Document, error) {
	if r.Type != resource.TypeFACEBOOK {
		return chunk.Document{}, ingest.Permanentf("not a Facebook resource")
	}
	page, token, err := ingest.FacebookCredentials(x.Secrets, r)
	if err != nil {
		return chunk.Document{}, err
	}
	info, err := x.Client.PageInfo(ctx, page, token)
	if err != nil {
		return chunk.Document{}, err
	}
	posts, err := x.Client.Posts(ctx, page, token, func(n int) {
		if p != nil {
			p(ctx, min(n, x.Client.maxPosts), x.Client.maxPosts)
		}
	})
	if err != nil {
		return chunk.Document{}, err
	}
	return Document(info, posts, r.SourceURL), nil
}

// Document turns a page and its posts into a document.
func Document(info *Page, posts []Post, fallbackURL string) chunk.Document {
	name := strings.TrimSpace(info.Name)
	link := info.Link
	if link == "" {
		link = fallbackURL
	}
	doc := chunk.Document{Title: name}
	var about []string
	for _, s := range []string{info.About, info.Description} {
		if s = strings.TrimSpace(s); s != "" && !contains(about, s) {
			about = append(about, s)
		}
	}
	if w := strings.TrimSpace(info.Website); w != "" {
		about = append(about, "Website: "+w)
	}
	if len(about) > 0 {
		h := "About"
		if name != "" {
			h = "About " + name
		}
		doc.Sections = append(doc.Sections, chunk.Section{Heading: h, URL: link, Text: strings.Join(about, "\n\n")})
	}
	for _, post := range posts {
		msg := strings.TrimSpace(post.Message)
		if msg == "" {
			continue
		}
		h := "Post"
		if t, err := parseTime(post.CreatedTime); err == nil {
			h = "Post of " + t.UTC().Format("2 January 2006")
		}
		u := post.PermalinkURL
		if u == "" {
			u = link
		}
		doc.Sections = append(doc.Sections, chunk.Section{Heading: h, URL: u, Text: msg})
	}
	return doc
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// parseTime reads the Graph API's times ("2024-01-02T15:04:05+0000").
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05-0700", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("bad time")
}
