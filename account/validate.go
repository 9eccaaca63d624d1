package account

import (
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"concierge/auth"
	"concierge/ent/schema"
	"concierge/fault"
)

func cleanName(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fault.Invalid(field, "%s is required", field)
	}
	if !utf8.ValidString(s) {
		return "", fault.Invalid(field, "%s is not valid UTF-8", field)
	}
	if utf8.RuneCountInString(s) > max {
		return "", fault.Invalid(field, "%s is longer than %d characters", field, max)
	}
	if strings.ContainsAny(s, "\x00\r\n") {
		return "", fault.Invalid(field, "%s contains control characters", field)
	}
	return s, nil
}

func cleanEmail(field, s string) (string, error) {
	s = auth.NormalizeEmail(s)
	if s == "" {
		return "", fault.Invalid(field, "%s is required", field)
	}
	if len(s) > 254 {
		return "", fault.Invalid(field, "%s is too long", field)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndex(s, "@"):], ".") {
		return "", fault.Invalid(field, "%s is not a valid email address", field)
	}
	return s, nil
}

func cleanURL(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > 2048 {
		return "", fault.Invalid(field, "%s is too long", field)
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fault.Invalid(field, "%s is not a valid http(s) URL", field)
	}
	return u.String(), nil
}

var phonePattern = regexp.MustCompile(`^\+?[0-9 ().\-]{3,50}$`)

func cleanPhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s != "" && !phonePattern.MatchString(s) {
		return "", fault.Invalid("phone", "phone is not a valid phone number")
	}
	return s, nil
}

// Slugify derives a URL-safe slug from a name.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range foldAccents(strings.ToLower(name)) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 56 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if len(s) < 2 {
		s = "company-" + strings.ToLower(auth.RandomHex(3))
	}
	return s
}

func cleanSlug(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !schema.SlugPattern.MatchString(s) || len(s) < 2 {
		return "", fault.Invalid("slug", "slug must be 2 to 63 lower-case letters, digits and dashes, not starting or ending with a dash")
	}
	return s, nil
}

var colorPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

func cleanOrigins(in []string) ([]string, error) {
	if len(in) > 50 {
		return nil, fault.Invalid("allowedOrigins", "at most 50 allowed origins")
	}
	out := make([]string, 0, len(in))
	for _, o := range in {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			return nil, fault.Invalid("allowedOrigins", "%q is not an origin like https://example.com", o)
		}
		out = append(out, strings.ToLower(u.Scheme+"://"+u.Host))
	}
	return out, nil
}

// foldAccents removes diacritics ("Café Zürich" → "Cafe Zurich").
func foldAccents(s string) string {
	out, _, err := transform.String(transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC), s)
	if err != nil {
		return s
	}
	return out
}
