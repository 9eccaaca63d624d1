package assistant_test

import (
	"context"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"

	"concierge/ingest/chunk"
	"concierge/retrieval"
	"concierge/retrieval/embed"
	"concierge/retrieval/embedded"
	"concierge/viewer"
)

// The Go specification (retrieval/eval/testdata, CC BY 3.0, see NOTICE
// there) is real documentation to test the offline answerer on: it is
// turned into one resource per <h2> chapter, split by the production
// chunker, and indexed into an embedded store with the local embedder.

const goSpecPath = "../retrieval/eval/testdata/go_spec.html"

var (
	h2RE      = regexp.MustCompile(`(?s)<h2 id="([^"]+)">(.*?)</h2>`)
	h3RE      = regexp.MustCompile(`(?s)<h[34] id="[^"]+">(.*?)</h[34]>`)
	preRE     = regexp.MustCompile(`(?s)<pre[^>]*>(.*?)</pre>`)
	liRE      = regexp.MustCompile(`(?s)<li>`)
	tagRE     = regexp.MustCompile(`(?s)<[^>]+>`)
	commentRE = regexp.MustCompile(`(?s)<!--.*?-->`)
)

type specChapter struct {
	id, title, text string
}

// goSpec returns the chapters of the Go spec as Markdown-ish text.
func goSpec(t testing.TB) []specChapter {
	t.Helper()
	b, err := os.ReadFile(goSpecPath)
	if err != nil {
		t.Fatal(err)
	}
	src := commentRE.ReplaceAllString(string(b), "")
	locs := h2RE.FindAllStringSubmatchIndex(src, -1)
	var out []specChapter
	for i, l := range locs {
		end := len(src)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		body := src[l[1]:end]
		body = h3RE.ReplaceAllString(body, "\n\n## $1\n\n")
		body = preRE.ReplaceAllStringFunc(body, func(m string) string {
			inner := preRE.FindStringSubmatch(m)[1]
			return "\n\n```\n" + strings.TrimSpace(inner) + "\n```\n\n"
		})
		body = liRE.ReplaceAllString(body, "\n\n- ")
		body = strings.NewReplacer("</p>", "\n\n", "<p>", "\n\n").Replace(body)
		body = html.UnescapeString(tagRE.ReplaceAllString(body, ""))
		title := html.UnescapeString(tagRE.ReplaceAllString(src[l[4]:l[5]], ""))
		out = append(out, specChapter{id: src[l[2]:l[3]], title: title, text: body})
	}
	return out
}

// index builds a fresh embedded index for one company from documents
// (title → markdown text) and returns the search service and a context
// bound to the company.
func index(t testing.TB, docs []doc) (*retrieval.Service, context.Context) {
	t.Helper()
	ctx := context.Background()
	store, err := embedded.Open(ctx, filepath.Join(t.TempDir(), embedded.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := retrieval.NewService(store, embed.NewLocal())
	ctx = viewer.SystemContext(ctx, uuid.New())
	for _, d := range docs {
		chunks := chunk.Split(chunk.Document{Title: d.title, Sections: []chunk.Section{{Heading: d.heading, URL: d.url, Text: d.text}}}, chunk.Options{})
		ps := make([]retrieval.Passage, len(chunks))
		for i, c := range chunks {
			ps[i] = retrieval.Passage{Ordinal: c.Ordinal, Title: d.title, Heading: c.Heading, URL: c.URL, Page: c.Page, Text: c.Text}
		}
		if err := svc.IndexResource(ctx, d.id, ps); err != nil {
			t.Fatalf("index %s: %v", d.title, err)
		}
	}
	return svc, ctx
}

type doc struct {
	id                        uuid.UUID
	title, heading, url, text string
}

func specDocs(t testing.TB) []doc {
	var out []doc
	for _, c := range goSpec(t) {
		out = append(out, doc{id: uuid.NewSHA1(uuid.NameSpaceURL, []byte("spec#"+c.id)), title: "The Go Programming Language Specification",
			heading: c.title, url: "https://go.dev/ref/spec#" + c.id, text: c.text})
	}
	return out
}
