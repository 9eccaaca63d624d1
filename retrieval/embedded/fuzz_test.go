package embedded_test

import (
	"testing"
	"unicode/utf8"

	"concierge/retrieval"
	"concierge/viewer"
)

func authTenant(b *bundle) (id [16]byte, ok bool) { return viewer.FromContext(b.ctx).Tenant() }

// FuzzSearchText: no user text makes a search fail (FTS5 syntax is never
// interpreted). Seeds are in testdata/fuzz/FuzzSearchText.
func FuzzSearchText(f *testing.F) {
	for _, s := range []string{`"`, `refund*`, `NEAR(a b)`, `title:x`, `a AND OR NOT b`, `{title}:x`, `^x`, `-x +y`, "\x00", `'`, `(`, `é"*`} {
		f.Add(s)
	}
	b := setup(f)
	corpus(f, b)
	f.Fuzz(func(t *testing.T, q string) {
		_, err := b.svc.Search(b.ctx, q, 5, nil)
		if err == nil || err == retrieval.ErrEmptyQuery || (len(q) > retrieval.MaxQueryBytes) {
			return
		}
		if !utf8.ValidString(q) {
			t.Logf("invalid UTF-8 %q: %v", q, err)
		}
		t.Fatalf("search %q: %v", q, err)
	})
}
