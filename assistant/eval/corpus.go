package main

import (
	"embed"
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

// Question is one entry of a question file.
type Question struct {
	Question string `json:"question"`
	// Type is one of the corpus's Types: for the help centre direct,
	// paraphrase, non-english or out-of-scope.
	Type string `json:"type"`
	// Expected are the keys of the sources that answer it (none for
	// adversarial questions): article slugs in the help centre.
	Expected []string `json:"expected"`
	// Facts: the answer should contain one of them (case-insensitive).
	Facts []string `json:"facts,omitempty"`
	// AllFacts: the answer should contain every one of them (a
	// multi-part question); each may list alternatives separated by " | ".
	AllFacts []string `json:"all_facts,omitempty"`
	// Forbidden: the answer must contain none of them (besides the
	// corpus's Forbidden).
	Forbidden []string `json:"forbidden,omitempty"`
	// Note says why the question is there (not used by the eval).
	Note string `json:"note,omitempty"`
}

// QuestionTypes are the help centre's question types.
var QuestionTypes = []string{"direct", "paraphrase", "non-english", "out-of-scope"}

// Source is one resource of a corpus: a help-centre article, a website
// (its pages told apart by URLKeys) or a PDF.
type Source struct {
	Key   string // the relevance key of its citations (without URLKeys)
	Kind  string // what it is, for the summary
	Title string
	ID    uuid.UUID
	// URLKeys, for a website, give each page's key by URL.
	URLKeys  map[string]string
	Passages []retrieval.Passage
}

// Corpus is a set of sources indexed for one company and the questions
// asked of it.
type Corpus struct {
	Name                       string
	CompanyName, AssistantName string
	Sources                    []Source
	// Others are indexed in the same store for another company: no answer
	// may cite one.
	Others    []Source
	Questions []Question
	// Types are the allowed question types, in report order; Adversarial
	// those whose questions must be declined.
	Types, Adversarial []string
	// Forbidden strings must appear in no answer.
	Forbidden []string
	Note      string
}

// IsAdversarial reports whether questions of type t must be declined.
func (c *Corpus) IsAdversarial(t string) bool { return contains(c.Adversarial, t) }

// Keys are the relevance keys of the corpus's sources.
func (c *Corpus) Keys() map[string]bool {
	keys := map[string]bool{}
	for _, s := range c.Sources {
		keys[s.Key] = true
		for _, k := range s.URLKeys {
			keys[k] = true
		}
	}
	return keys
}

// KeyOf is the relevance key of a citation: its page's for a website,
// else its source's; "other:<key>" for another company's source, "" for
// an unknown one.
func (c *Corpus) KeyOf(resource uuid.UUID, url string) string {
	for _, s := range c.Sources {
		if s.ID != resource {
			continue
		}
		if k, ok := s.URLKeys[url]; ok {
			return k
		}
		return s.Key
	}
	for _, s := range c.Others {
		if s.ID == resource {
			return "other:" + s.Key
		}
	}
	return ""
}

// Passages counts the corpus's passages.
func (c *Corpus) Passages() int {
	n := 0
	for _, s := range c.Sources {
		n += len(s.Passages)
	}
	return n
}

func helpCenterSources(docs []Doc) []Source {
	var ss []Source
	for _, d := range docs {
		ss = append(ss, Source{Key: d.Slug, Kind: "article", Title: d.Title, ID: d.ID, Passages: d.Passages()})
	}
	return ss
}

// HelpCenter is the help-centre corpus with its questions.
func HelpCenter() (*Corpus, error) {
	docs, err := LoadCorpus()
	if err != nil {
		return nil, err
	}
	c := &Corpus{Name: "helpcenter", CompanyName: "Tidewise", AssistantName: "Tidy", Sources: helpCenterSources(docs),
		Types: QuestionTypes, Adversarial: []string{"out-of-scope"}}
	b, err := testdata.ReadFile("testdata/questions.json")
	if err != nil {
		return nil, err
	}
	if c.Questions, err = c.parseQuestions("questions.json", b); err != nil {
		return nil, err
	}
	return c, nil
}
