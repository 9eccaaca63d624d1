package chat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPreviewFitsTheColumn(t *testing.T) {
	for _, body := range []string{
		"short",
		strings.Repeat("a", 500),
		strings.Repeat("é", 500),   // 2 bytes each
		strings.Repeat("日本語", 200), // 3 bytes each
		strings.Repeat("🙂", 300),   // 4 bytes each
		"  many\\n\\n  spaces\\tand lines  ",
	} {
		p := preview(body)
		if len(p) > previewBytes || !utf8.ValidString(p) {
			t.Fatalf("preview of %.20q is %d bytes (valid UTF-8: %v)", body, len(p), utf8.ValidString(p))
		}
		if len(body) > previewBytes && !strings.HasSuffix(p, "…") {
			t.Fatalf("a cut preview ends with an ellipsis: %q", p)
		}
	}
	if got := preview("  a \\n b  "); got != "a \\n b" {
		t.Fatalf("preview collapses spaces: %q", got)
	}
}

func TestValidHash(t *testing.T) {
	m := hmac.New(sha256.New, []byte("secret"))
	m.Write([]byte("user-1"))
	good := hex.EncodeToString(m.Sum(nil))
	if !validHash("secret", "user-1", good) || !validHash("secret", "user-1", strings.ToUpper(good)) {
		t.Fatal("the HMAC of the external id is accepted, in either case")
	}
	for _, bad := range []string{"zz", "", strings.Repeat("0", 64), good[:62]} {
		if validHash("secret", "user-1", bad) {
			t.Fatalf("%q is refused", bad)
		}
	}
	if validHash("other", "user-1", good) || validHash("secret", "user-2", good) {
		t.Fatal("the hash binds the secret and the id")
	}
}

func TestOriginAllowed(t *testing.T) {
	allowed := []string{"https://shop.example", "http://localhost:3000"}
	for origin, want := range map[string]bool{
		"https://shop.example":      true,
		"HTTPS://SHOP.EXAMPLE/":     true,
		"http://localhost:3000":     true,
		"https://shop.example.evil": false,
		"http://shop.example":       false,
		"":                          false,
	} {
		if got := OriginAllowed(allowed, origin); got != want {
			t.Errorf("OriginAllowed(%q) = %v, want %v", origin, got, want)
		}
	}
	if !OriginAllowed(nil, "") {
		t.Error("no list allows any origin")
	}
}
