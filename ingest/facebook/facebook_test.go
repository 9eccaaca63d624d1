package facebook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"concierge/ingest"
	"concierge/ingest/facebook"
	"concierge/ingest/fetch"
)

const goodToken = "EAAGood-Page-Token-7f3a9c"

// fakeGraph is a Graph API on 127.0.0.1 answering in the real JSON shapes.
type fakeGraph struct {
	srv      *httptest.Server
	requests atomic.Int32
	limited  atomic.Int32 // rate-limit answers given to page "busypage"
	mu       sync.Mutex
	paths    []string
}

func graphError(w http.ResponseWriter, status int, code, sub int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "code": code, "error_subcode": sub, "fbtrace_id": "AcX1yZ2fakeTrace"}})
}

func newFakeGraph(t *testing.T) *fakeGraph {
	f := &fakeGraph{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.requests.Add(1)
		f.mu.Lock()
		f.paths = append(f.paths, r.URL.String())
		f.mu.Unlock()
		if r.URL.Query().Has("access_token") {
			t.Errorf("the token must not travel in the URL: %s", r.URL)
		}
		token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if token != goodToken {
			graphError(w, http.StatusBadRequest, 190, 463, "OAuthException",
				"Error validating access token: Session has expired on Tuesday, 01-Oct-24 10:00:00 PDT.")
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, "/v23.0/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		page, edge, _ := strings.Cut(rest, "/")
		switch page {
		case "1234567890", "acmebikes":
		case "busypage":
			if f.limited.Add(1) == 1 {
				graphError(w, http.StatusForbidden, 4, 1349193, "OAuthException", "(#4) Application request limit reached")
				return
			}
		default:
			graphError(w, http.StatusBadRequest, 100, 33, "GraphMethodException", fmt.Sprintf(
				"Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", page))
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		switch edge {
		case "":
			require.Equal(t, "name,about,description,website,link", r.URL.Query().Get("fields"))
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "1234567890", "name": "Acme Bikes",
				"about":       "Acme Bikes repairs and sells city bicycles in Lyon.",
				"description": "Open Monday to Saturday, 9am to 7pm. Free safety check with every repair.",
				"website":     "https://acmebikes.example", "link": "https://www.facebook.com/acmebikes"})
		case "published_posts":
			require.Equal(t, "message,created_time,permalink_url", r.URL.Query().Get("fields"))
			base := f.srv.URL + "/v23.0/" + page + "/published_posts"
			if r.URL.Query().Get("after") == "" {
				_ = json.NewEncoder(w).Encode(map[string]any{
					"data": []map[string]any{
						{"id": "1234567890_111", "message": "Winter opening hours: we close at 5pm from December to February.",
							"created_time": "2024-11-30T09:15:00+0000", "permalink_url": "https://www.facebook.com/acmebikes/posts/111"},
						{"id": "1234567890_112", "created_time": "2024-11-20T09:15:00+0000",
							"permalink_url": "https://www.facebook.com/acmebikes/posts/112"}, // a photo without text
					},
					"paging": map[string]any{
						"cursors": map[string]any{"before": "QVFIUmJ", "after": "QVFIUkx"},
						"next":    base + "?fields=message%2Ccreated_time%2Cpermalink_url&limit=100&access_token=" + goodToken + "&after=QVFIUkx",
					}})
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{
				"data": []map[string]any{
					{"id": "1234567890_113", "message": "Our tandem rental is back: book a tandem for the weekend for 40 euros.",
						"created_time": "2024-10-02T18:00:00+0000", "permalink_url": "https://www.facebook.com/acmebikes/posts/113"},
				},
				"paging": map[string]any{"cursors": map[string]any{"before": "QVFIUkx", "after": "QVFIUmz"},
					"previous": base + "?before=QVFIUkx"}})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) client(t *testing.T, cfg facebook.Config) *facebook.Client {
	t.Helper()
	cfg.BaseURL = f.srv.URL + "/v23.0"
	cfg.Policy = &fetch.Policy{} // nothing allowed but the configured Graph API host
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = 10 * time.Millisecond
	}
	c, err := facebook.New(cfg)
	require.NoError(t, err)
	return c
}

func TestParsePage(t *testing.T) {
	for in, want := range map[string]string{
		"1234567890":                                    "1234567890",
		"acmebikes":                                     "acmebikes",
		"@acme.bikes":                                   "acme.bikes",
		"https://www.facebook.com/acmebikes":            "acmebikes",
		"https://www.facebook.com/acmebikes/":           "acmebikes",
		"https://facebook.com/acmebikes?ref=bookmarks":  "acmebikes",
		"www.facebook.com/acmebikes/posts":              "acmebikes",
		"https://m.facebook.com/acmebikes":              "acmebikes",
		"https://facebook.com/profile.php?id=100064":    "100064",
		"https://www.facebook.com/profile.php?id=42&sk": "42",
		"https://www.facebook.com/pages/Acme-Bikes/987": "987",
		"https://www.facebook.com/pg/acmebikes/posts/":  "acmebikes",
		"  https://www.facebook.com/Acme-Bikes-123  ":   "Acme-Bikes-123",
	} {
		got, err := ingest.ParseFacebookPage(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "   ", "acme bikes", "https://evil.example/acmebikes", "https://facebook.com.evil.example/x",
		"https://facebook.com/", "https://facebook.com/profile.php", "https://facebook.com/profile.php?id=abc",
		"https://facebook.com/groups/123", "ftp://facebook.com/acme", "https://user:pw@facebook.com/acme",
		"javascript:alert(1)", "../../etc/passwd", "acme/../x", strings.Repeat("a", 200)} {
		_, err := ingest.ParseFacebookPage(in)
		require.Error(t, err, in)
	}
}

// Page info, then two pages of posts through paging.next; the token goes
// in the header (never in a URL), posts without text are skipped.
func TestClientPagingAndDocument(t *testing.T) {
	f := newFakeGraph(t)
	c := f.client(t, facebook.Config{})
	ctx := context.Background()
	info, err := c.PageInfo(ctx, "1234567890", goodToken)
	require.NoError(t, err)
	require.Equal(t, "Acme Bikes", info.Name)
	var seen []int
	posts, err := c.Posts(ctx, "1234567890", goodToken, func(n int) { seen = append(seen, n) })
	require.NoError(t, err)
	require.Len(t, posts, 3)
	require.Equal(t, []int{2, 3}, seen)
	require.Equal(t, "https://www.facebook.com/acmebikes/posts/113", posts[2].PermalinkURL)

	doc := facebook.Document(info, posts, "")
	require.Equal(t, "Acme Bikes", doc.Title)
	require.Len(t, doc.Sections, 3, "about, and the two posts with text")
	require.Equal(t, "About Acme Bikes", doc.Sections[0].Heading)
	require.Contains(t, doc.Sections[0].Text, "city bicycles")
	require.Contains(t, doc.Sections[0].Text, "Free safety check")
	require.Equal(t, "Post of 30 November 2024", doc.Sections[1].Heading)
	require.Equal(t, "https://www.facebook.com/acmebikes/posts/111", doc.Sections[1].URL)
	require.Equal(t, "Post of 2 October 2024", doc.Sections[2].Heading)

	// MaxPosts bounds the posts read: one page is enough for two.
	before := f.requests.Load()
	posts, err = f.client(t, facebook.Config{MaxPosts: 2}).Posts(ctx, "acmebikes", goodToken, nil)
	require.NoError(t, err)
	require.Len(t, posts, 2)
	require.EqualValues(t, 1, f.requests.Load()-before)
	for _, p := range f.paths {
		require.NotContains(t, p, goodToken)
	}
}

func TestErrors(t *testing.T) {
	f := newFakeGraph(t)
	ctx := context.Background()
	c := f.client(t, facebook.Config{Retries: 2})

	_, err := c.PageInfo(ctx, "1234567890", "EAAExpired")
	require.True(t, ingest.IsPermanent(err), "an expired token is permanent: %v", err)
	require.Equal(t, facebook.MsgTokenInvalid, err.Error())

	_, err = c.PageInfo(ctx, "nosuchpage", goodToken)
	require.True(t, ingest.IsPermanent(err), "a bad page is permanent: %v", err)
	require.Contains(t, err.Error(), facebook.MsgPageNotFound)

	// A rate limit is retried with backoff; here the second try succeeds.
	info, err := c.PageInfo(ctx, "busypage", goodToken)
	require.NoError(t, err)
	require.Equal(t, "Acme Bikes", info.Name)
	require.EqualValues(t, 2, f.limited.Load())

	// Still limited after the retries: a transient error, for River to retry.
	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		graphError(w, http.StatusBadRequest, 32, 0, "OAuthException", "(#32) Page request limit reached")
	}))
	defer limited.Close()
	lc, err := facebook.New(facebook.Config{BaseURL: limited.URL + "/v23.0", Policy: &fetch.Policy{}, Retries: 1,
		RetryDelay: time.Millisecond})
	require.NoError(t, err)
	_, err = lc.PageInfo(ctx, "acmebikes", goodToken)
	require.Error(t, err)
	require.False(t, ingest.IsPermanent(err), "a rate limit is transient: %v", err)
	require.Contains(t, err.Error(), "rate limit")
}

// A paging link that leaves the configured Graph API host is refused
// before anything is fetched from it.
func TestPagingStaysOnBaseHost(t *testing.T) {
	var hit atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hit.Store(true) }))
	defer elsewhere.Close()
	for _, next := range []string{
		strings.Replace(elsewhere.URL, "127.0.0.1", "localhost", 1) + "/v23.0/x/published_posts?after=1",
		elsewhere.URL + "/v23.0/x/published_posts?after=1", // same IP, another port
		"file:///etc/passwd",
	} {
		graph := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_ = json.NewEncoder(w).Encode(map[string]any{"data": []map[string]any{{"id": "1", "message": "hi"}},
				"paging": map[string]any{"next": next}})
		}))
		c, err := facebook.New(facebook.Config{BaseURL: graph.URL + "/v23.0", Policy: &fetch.Policy{}})
		require.NoError(t, err)
		_, err = c.Posts(context.Background(), "x", goodToken, nil)
		graph.Close()
		require.Error(t, err, next)
		require.True(t, ingest.IsPermanent(err))
		require.Contains(t, err.Error(), "paging link outside")
	}
	require.False(t, hit.Load(), "no request left the Graph API host")
}

// Without the base URL's host being trusted configuration, the guard still
// refuses loopback addresses: only the configured host is let through.
func TestOnlyBaseHostTrusted(t *testing.T) {
	f := newFakeGraph(t)
	c := f.client(t, facebook.Config{})
	_, err := c.PageInfo(context.Background(), "acmebikes", goodToken)
	require.NoError(t, err)
	_, err = facebook.New(facebook.Config{BaseURL: "ftp://graph.example"})
	require.Error(t, err)
}
