package account

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/ent/schema"
	"concierge/fault"
)

func requireInvalid(t *testing.T, err error, field string, msgAndArgs ...any) {
	t.Helper()
	fe, ok := fault.As(err)
	require.True(t, ok, append([]any{"want a *fault.Error, got %v"}, err)...)
	require.Equal(t, fault.CodeBadUserInput, fe.Code, msgAndArgs...)
	require.Equal(t, field, fe.Field, msgAndArgs...)
}

func TestSlugify(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Globex Corp":             "globex-corp",
		"  Hello,   World!!  ":    "hello-world",
		"ACME":                    "acme",
		"Foo & Bar -- Baz":        "foo-bar-baz",
		"Café Zürich":             "cafe-zurich",
		"3M":                      "3m",
		"already-a-slug":          "already-a-slug",
		"--dashes--everywhere--":  "dashes-everywhere",
		"Tab\tNew\nLine":          "tab-new-line",
		"O'Reilly Media, Inc.":    "o-reilly-media-inc",
		"company with 2024 in it": "company-with-2024-in-it",
	} {
		require.Equal(t, want, Slugify(in), "Slugify(%q)", in)
	}

	// Names without enough ASCII get a random, valid slug.
	for _, in := range []string{"", "日本", "!!!", "a", "é"} {
		s := Slugify(in)
		require.True(t, strings.HasPrefix(s, "company-"), "Slugify(%q) = %q", in, s)
		require.NotEqual(t, s, Slugify(in), "random suffix")
	}

	// Whatever the name, the slug is one the schema accepts.
	for _, in := range []string{
		strings.Repeat("a", 1000),
		strings.Repeat("ab ", 400),
		strings.Repeat("x-", 100) + "!",
		strings.Repeat("日", 300) + "z",
		"Globex Corp", "a b", "-x-", "Café Zürich", "Ünïcode Ltd",
	} {
		s := Slugify(in)
		_, err := cleanSlug(s)
		require.NoError(t, err, "Slugify(%.20q...) = %q", in, s)
		require.True(t, schema.SlugPattern.MatchString(s), s)
		require.LessOrEqual(t, len(s), 63, s)
	}
}

func TestCleanSlug(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"ab", "acme", "globex-corp", "a1", strings.Repeat("a", 63), " acme "} {
		got, err := cleanSlug(ok)
		require.NoError(t, err, ok)
		require.Equal(t, strings.TrimSpace(ok), got)
	}
	for _, bad := range []string{"", "a", "-acme", "acme-", "Acme", "ac me", "ac_me", "ac/me", "../x", "acmé", strings.Repeat("a", 64)} {
		_, err := cleanSlug(bad)
		requireInvalid(t, err, "slug", bad)
	}
}

func TestCleanEmail(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"a@b.co":                    "a@b.co",
		"  Jane.Doe@Example.COM ":   "jane.doe@example.com",
		"first+tag@sub.example.org": "first+tag@sub.example.org",
	} {
		got, err := cleanEmail("email", in)
		require.NoError(t, err, in)
		require.Equal(t, want, got)
	}
	for _, bad := range []string{
		"", "   ", "plain", "@example.com", "a@", "a@localhost", "a@@b.com",
		"Jane <jane@example.com>", "jane@example.com, joe@example.com",
		"a b@example.com", "a@exa mple.com", "a@b.com\nBcc: x@y.com",
		strings.Repeat("a", 250) + "@b.com",
	} {
		_, err := cleanEmail("adminEmail", bad)
		requireInvalid(t, err, "adminEmail", "%q", bad)
	}
}

func TestCleanOrigins(t *testing.T) {
	t.Parallel()
	got, err := cleanOrigins([]string{"HTTPS://Example.COM/", " http://localhost:3000 ", "https://shop.example.com:8443"})
	require.NoError(t, err)
	require.Equal(t, []string{"https://example.com", "http://localhost:3000", "https://shop.example.com:8443"}, got)

	got, err = cleanOrigins([]string{})
	require.NoError(t, err)
	require.Empty(t, got)

	for _, bad := range []string{
		"", "*", "example.com", "//example.com", "ftp://example.com", "javascript:alert(1)",
		"https://example.com/path", "https://example.com?q=1", "https://user:pw@example.com", "https://",
	} {
		_, err := cleanOrigins([]string{"https://ok.example", bad})
		requireInvalid(t, err, "allowedOrigins", "%q", bad)
	}

	many := make([]string, 51)
	for i := range many {
		many[i] = "https://example.com"
	}
	_, err = cleanOrigins(many)
	requireInvalid(t, err, "allowedOrigins")
	_, err = cleanOrigins(many[:50])
	require.NoError(t, err)
}

func TestCleanURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                            "",
		"   ":                         "",
		"example.com":                 "https://example.com",
		" https://example.com/about ": "https://example.com/about",
		"http://example.com/a?b=c":    "http://example.com/a?b=c",
		"www.example.com/path":        "https://www.example.com/path",
	} {
		got, err := cleanURL("website", in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{
		"ftp://example.com", "javascript:alert(1)", "https://", "file:///etc/passwd",
		"http://exa mple.com", "https://" + strings.Repeat("a", 2050) + ".com",
	} {
		_, err := cleanURL("website", bad)
		requireInvalid(t, err, "website", "%q", bad)
	}
}

func TestCleanName(t *testing.T) {
	t.Parallel()
	got, err := cleanName("name", "  Globex  ", 200)
	require.NoError(t, err)
	require.Equal(t, "Globex", got)
	got, err = cleanName("name", strings.Repeat("é", 200), 200)
	require.NoError(t, err, "the limit counts characters, not bytes")
	require.Equal(t, strings.Repeat("é", 200), got)

	for _, bad := range []string{"", "   ", strings.Repeat("a", 201), strings.Repeat("a", 1_000_000), "a\x00b", "a\nb", "\xff\xfe"} {
		_, err := cleanName("name", bad, 200)
		requireInvalid(t, err, "name", "%.20q", bad)
	}
}

func TestCleanPhoneAndColour(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "+1 (555) 010-0199", "0123.456.789"} {
		_, err := cleanPhone(ok)
		require.NoError(t, err, ok)
	}
	for _, bad := range []string{"call me", "12", "+1<script>", strings.Repeat("1", 51)} {
		_, err := cleanPhone(bad)
		requireInvalid(t, err, "phone", bad)
	}
	for c, ok := range map[string]bool{"#1A2B3C": true, "#abcdef": true, "#abc": false, "1A2B3C": false, "#GGGGGG": false, "#1A2B3C;x": false, "red": false} {
		require.Equal(t, ok, colorPattern.MatchString(c), c)
	}
}
