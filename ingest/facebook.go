package ingest

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/google/uuid"

	"concierge/ent"
	"concierge/ent/resource"
	"concierge/fault"
)

// Keys of a FACEBOOK resource's metadata. The access token is kept only
// sealed (Config.Secrets, AES-256-GCM bound to the resource's id); metadata
// is never exposed by the API.
const (
	MetaFacebookPage  = "facebook_page"
	MetaFacebookToken = "facebook_token_sealed"
)

// MaxFacebookTokenLen bounds a page access token.
const MaxFacebookTokenLen = 2048

var (
	fbNumericID = regexp.MustCompile(`^[0-9]{1,25}$`)
	fbUsername  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`)
	// Paths of facebook.com that are not pages.
	fbReserved = map[string]bool{"profile.php": true, "groups": true, "events": true, "watch": true,
		"share": true, "sharer": true, "sharer.php": true, "login": true, "login.php": true, "marketplace": true,
		"photo.php": true, "permalink.php": true, "story.php": true, "hashtag": true, "help": true,
		"policies": true, "privacy": true, "settings": true, "home.php": true, "search": true, "people": true,
		"gaming": true, "reel": true, "reels": true, "stories": true, "messages": true, "notifications": true}
)

// ParseFacebookPage reads a Facebook page given as a numeric id, a page
// username (optionally with @), or a URL such as
// https://www.facebook.com/<name>, https://facebook.com/profile.php?id=<id>
// or https://www.facebook.com/pages/<name>/<id>, and returns the page id or
// username to ask the Graph API about.
func ParseFacebookPage(in string) (string, error) {
	s := strings.TrimSpace(in)
	bad := func(reason string) (string, error) {
		return "", fault.Invalid("page", "%s: give the page's id, its username or its facebook.com address", reason)
	}
	if s == "" {
		return bad("the page is required")
	}
	if len(s) > 2048 {
		return bad("the page is too long")
	}
	lower := strings.ToLower(s)
	if !strings.Contains(s, "/") && !strings.Contains(lower, "facebook.com") && !strings.Contains(lower, "fb.com") {
		s = strings.TrimPrefix(s, "@")
		if fbNumericID.MatchString(s) || fbUsername.MatchString(s) {
			return s, nil
		}
		return bad("that is not a page id or username")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return bad("that is not a facebook.com address")
	}
	if u.User != nil {
		return bad("the address must not carry credentials")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host != "facebook.com" && !strings.HasSuffix(host, ".facebook.com") && host != "fb.com" && host != "www.fb.com" {
		return bad("that is not a facebook.com address")
	}
	segs := strings.FieldsFunc(u.Path, func(r rune) bool { return r == '/' })
	switch {
	case len(segs) == 1 && segs[0] == "profile.php":
		if id := u.Query().Get("id"); fbNumericID.MatchString(id) {
			return id, nil
		}
		return bad("the profile address has no numeric id")
	case len(segs) >= 3 && segs[0] == "pages" && fbNumericID.MatchString(segs[2]):
		return segs[2], nil // /pages/<name>/<id>
	case len(segs) >= 2 && segs[0] == "pg" && fbUsername.MatchString(segs[1]):
		return segs[1], nil // /pg/<name>/posts
	case len(segs) >= 1 && !fbReserved[strings.ToLower(segs[0])]:
		name, err := url.PathUnescape(segs[0])
		if err == nil && (fbNumericID.MatchString(name) || fbUsername.MatchString(name)) {
			return name, nil
		}
	}
	return bad("that address does not name a page")
}

// FacebookPageURL is the public address of a page id or username.
func FacebookPageURL(page string) string {
	if fbNumericID.MatchString(page) {
		return "https://www.facebook.com/profile.php?id=" + page
	}
	return "https://www.facebook.com/" + url.PathEscape(page)
}

func checkFacebookToken(token string) (string, error) {
	t := strings.TrimSpace(token)
	switch {
	case t == "":
		return "", fault.Invalid("accessToken", "the page access token is required")
	case len(t) > MaxFacebookTokenLen:
		return "", fault.Invalid("accessToken", "the access token is longer than %d characters", MaxFacebookTokenLen)
	case strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r > '~' }):
		return "", fault.Invalid("accessToken", "the access token must be one word of printable characters")
	}
	return t, nil
}

// AddFacebookPage adds a FACEBOOK resource for a page (id, username or
// facebook.com address) read with a page access token, and enqueues its
// ingestion; it is read again every syncInterval (nil:
// DefaultSyncInterval). The token is stored sealed; it is never returned.
// Company admins and knowledge:write keys may.
func (s *Service) AddFacebookPage(ctx context.Context, page, accessToken string, syncIv *resource.SyncInterval) (*ent.Resource, error) {
	cid, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	pageID, err := ParseFacebookPage(page)
	if err != nil {
		return nil, err
	}
	token, err := checkFacebookToken(accessToken)
	if err != nil {
		return nil, err
	}
	iv, err := syncInterval(resource.TypeFACEBOOK, syncIv)
	if err != nil {
		return nil, err
	}
	if s.cfg.Secrets == nil {
		return nil, errors.New("ingest: no encryption key is configured for access tokens")
	}
	id := uuid.New()
	sealed := s.cfg.Secrets.Seal([]byte(token), id[:])
	return s.create(ctx, func(tx *ent.Client) *ent.ResourceCreate {
		return tx.Resource.Create().SetID(id).SetCompanyID(cid).SetType(resource.TypeFACEBOOK).
			SetTitle(truncate("Facebook page "+pageID, MaxTitleRunes)).SetSourceURL(FacebookPageURL(pageID)).
			SetMetadata(map[string]any{MetaFacebookPage: pageID, MetaFacebookToken: sealed}).
			SetStatus(resource.StatusPENDING).SetSyncInterval(iv).SetNillableNextSyncAt(nextSync(iv, s.now()))
	})
}

// Opener opens values sealed with Config.Secrets (a *secretbox.Box).
type Opener interface {
	Open(sealed string, ad []byte) ([]byte, error)
}

// FacebookCredentials returns the page and the access token of a FACEBOOK
// resource, opening the sealed token with box. Failures are permanent.
func FacebookCredentials(box Opener, r *ent.Resource) (page, token string, err error) {
	page, _ = r.Metadata[MetaFacebookPage].(string)
	sealed, _ := r.Metadata[MetaFacebookToken].(string)
	if page == "" || sealed == "" {
		return "", "", Permanentf("the Facebook page or its access token is missing; add the page again")
	}
	if box == nil {
		return "", "", Permanentf("no encryption key is configured to read the Facebook access token")
	}
	pt, err := box.Open(sealed, r.ID[:])
	if err != nil {
		return "", "", Permanentf("the stored Facebook access token cannot be decrypted (was the encryption key changed?); add the page again")
	}
	return page, string(pt), nil
}
