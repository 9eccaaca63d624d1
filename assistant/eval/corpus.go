package main

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/google/uuid"

	"concierge/ingest/chunk"
	"concierge/retrieval"
)

//go:embed testdata/helpcenter/*.md testdata/questions.json
var testdata embed.FS

// BaseURL is where the fictional help centre lives.
const BaseURL = "https://help.tidewise.example/articles/"

// namespace derives the eval's stable resource ids.
var namespace = uuid.MustParse("1b9d6f3e-2f0c-4c57-9a43-6a1f0e8c2d11")

// Doc is one help-centre article: a resource.
type Doc struct {
	Slug  string // file name without .md, the relevance key
	Title string // the "# " heading
	Text  string // the rest, Markdown
	ID    uuid.UUID
}

// Passages splits the article with the production chunker
// (ingest/chunk), as a text resource is split on ingestion.
func (d Doc) Passages() []retrieval.Passage {
	chunks := chunk.Split(chunk.Document{Title: d.Title, Sections: []chunk.Section{{URL: BaseURL + d.Slug, Text: d.Text}}}, chunk.Options{})
	ps := make([]retrieval.Passage, len(chunks))
	for i, c := range chunks {
		ps[i] = retrieval.Passage{
			ChunkID: uuid.NewSHA1(d.ID, fmt.Append(nil, i)), ResourceID: d.ID, Ordinal: c.Ordinal,
			Title: d.Title, Heading: c.Heading, URL: c.URL, Page: c.Page, Text: c.Text,
		}
	}
	return ps
}

// LoadCorpus reads the articles of testdata/helpcenter.
func LoadCorpus() ([]Doc, error) {
	files, err := fs.Glob(testdata, "testdata/helpcenter/*.md")
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var docs []Doc
	for _, f := range files {
		b, err := testdata.ReadFile(f)
		if err != nil {
			return nil, err
		}
		first, rest, _ := strings.Cut(string(b), "\n")
		title, ok := strings.CutPrefix(first, "# ")
		if !ok {
			return nil, fmt.Errorf("%s: the first line must be the \"# Title\"", f)
		}
		slug := strings.TrimSuffix(path.Base(f), ".md")
		docs = append(docs, Doc{Slug: slug, Title: strings.TrimSpace(title), Text: strings.TrimSpace(rest),
			ID: uuid.NewSHA1(namespace, []byte(slug))})
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("no article in testdata/helpcenter")
	}
	return docs, nil
}

// Question is one entry of testdata/questions.json.
type Question struct {
	Question string `json:"question"`
	// Type is direct, paraphrase, non-english or out-of-scope.
	Type string `json:"type"`
	// Expected are the slugs of the articles that answer it (none for
	// out-of-scope questions).
	Expected []string `json:"expected"`
	// Facts: the answer should contain one of them (case-insensitive).
	Facts []string `json:"facts"`
}

// QuestionTypes are the allowed types.
var QuestionTypes = []string{"direct", "paraphrase", "non-english", "out-of-scope"}

// LoadQuestions reads the questions and checks them against the corpus.
func LoadQuestions(docs []Doc) ([]Question, error) {
	b, err := testdata.ReadFile("testdata/questions.json")
	if err != nil {
		return nil, err
	}
	var qs []Question
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&qs); err != nil {
		return nil, fmt.Errorf("questions.json: %w", err)
	}
	slugs := map[string]bool{}
	for _, d := range docs {
		slugs[d.Slug] = true
	}
	seen := map[string]bool{}
	for i, q := range qs {
		switch {
		case strings.TrimSpace(q.Question) == "":
			return nil, fmt.Errorf("questions.json #%d: empty question", i+1)
		case seen[q.Question]:
			return nil, fmt.Errorf("questions.json #%d: duplicate %q", i+1, q.Question)
		case !slices.Contains(QuestionTypes, q.Type):
			return nil, fmt.Errorf("questions.json #%d %q: type %q is not one of %v", i+1, q.Question, q.Type, QuestionTypes)
		case (q.Type == "out-of-scope") != (len(q.Expected) == 0):
			return nil, fmt.Errorf("questions.json #%d %q: out-of-scope questions, and only they, expect no article", i+1, q.Question)
		}
		seen[q.Question] = true
		for _, e := range q.Expected {
			if !slugs[e] {
				return nil, fmt.Errorf("questions.json #%d %q: expected %q is no article", i+1, q.Question, e)
			}
		}
	}
	return qs, nil
}
