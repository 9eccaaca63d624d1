package main

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"concierge/retrieval"
)

//go:embed testdata/go_spec.html testdata/go_mem.html testdata/questions.json
var testdata embed.FS

// sources are the corpus documents (see testdata/NOTICE).
var sources = []struct{ key, file, url string }{
	{"spec", "testdata/go_spec.html", "https://go.dev/ref/spec"},
	{"mem", "testdata/go_mem.html", "https://go.dev/ref/mem"},
}

// namespace derives the eval's stable resource and chunk ids.
var namespace = uuid.MustParse("6f0c1c2e-8d0b-4b8e-9d55-1f3f2d1a7e01")

// Resource is one indexed resource: by default a top-level (<h2>) section
// of a document, with all its <h3> subsections (-resources section makes
// every section its own resource, to see what diversification costs). Treating top-level sections as
// resources (rather than whole documents) is what a help centre looks
// like (many articles of a few pages), and lets the store's per-resource
// diversification work as designed; with two huge resources it would cap
// most of the top 5 at two passages per document.
type Resource struct {
	ID       uuid.UUID
	Doc      string // document key
	Name     string // the <h2> heading
	Passages []retrieval.Passage
}

// Corpus is the parsed corpus.
type Corpus struct {
	Docs      []Document
	Resources []Resource
	// titles maps a document title to its key.
	titles map[string]string
}

// Passages is the number of passages.
func (c *Corpus) Passages() int {
	n := 0
	for _, r := range c.Resources {
		n += len(r.Passages)
	}
	return n
}

// Key is the relevance key of a passage: "<doc>: <heading>".
func (c *Corpus) Key(p retrieval.Passage) string {
	return c.titles[p.Title] + ": " + p.Heading
}

// headings is the set of every relevance key in the corpus.
func (c *Corpus) headings() map[string]bool {
	out := map[string]bool{}
	for _, r := range c.Resources {
		for _, p := range r.Passages {
			out[c.Key(p)] = true
		}
	}
	return out
}

// Resource granularities: a resource is a top-level section (<h2>, the
// default) or every <h2>/<h3> section on its own.
const (
	ByChapter = "chapter"
	BySection = "section"
)

// LoadCorpus parses the embedded documents, making resources by
// granularity (ByChapter when empty).
func LoadCorpus(granularity string) (*Corpus, error) {
	if granularity == "" {
		granularity = ByChapter
	}
	if granularity != ByChapter && granularity != BySection {
		return nil, fmt.Errorf("resource granularity %q: want %s or %s", granularity, ByChapter, BySection)
	}
	c := &Corpus{titles: map[string]string{}}
	for _, src := range sources {
		b, err := testdata.ReadFile(src.file)
		if err != nil {
			return nil, err
		}
		doc, err := ParseDocument(src.key, src.url, b)
		if err != nil {
			return nil, err
		}
		c.Docs = append(c.Docs, doc)
		c.titles[doc.Title] = doc.Key
		var res *Resource
		for _, s := range doc.Sections {
			name := s.Top
			if granularity == BySection {
				name = s.Heading
			}
			if res == nil || res.Name != name {
				c.Resources = append(c.Resources, Resource{
					ID:   uuid.NewSHA1(namespace, []byte(doc.Key+"/"+name)),
					Doc:  doc.Key,
					Name: name,
				})
				res = &c.Resources[len(c.Resources)-1]
			}
			for _, text := range s.Passages {
				ord := len(res.Passages)
				res.Passages = append(res.Passages, retrieval.Passage{
					ChunkID:    uuid.NewSHA1(res.ID, []byte(fmt.Sprint(ord))),
					ResourceID: res.ID,
					Ordinal:    ord,
					Title:      doc.Title,
					Heading:    s.Heading,
					URL:        doc.URL + "#" + s.Anchor,
					Text:       text,
				})
			}
		}
	}
	return c, nil
}

// Question is one entry of testdata/questions.json.
type Question struct {
	Question string `json:"question"`
	// Type is direct, paraphrase, variant (inflection or typo), needle (a
	// short answer inside a long section) or out-of-scope.
	Type string `json:"type"`
	// Expected are the relevance keys ("spec: Constant declarations") of
	// the sections that answer the question; none for out-of-scope.
	Expected []string `json:"expected"`
}

// Question types.
var questionTypes = []string{"direct", "paraphrase", "variant", "needle", "out-of-scope"}

// LoadQuestions reads the questions and checks them against the corpus:
// every expected key must name a section, and only out-of-scope questions
// may expect nothing.
func LoadQuestions(c *Corpus) ([]Question, error) {
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
	known := c.headings()
	seen := map[string]bool{}
	for i, q := range qs {
		if strings.TrimSpace(q.Question) == "" {
			return nil, fmt.Errorf("questions.json #%d: empty question", i+1)
		}
		if seen[q.Question] {
			return nil, fmt.Errorf("questions.json #%d: duplicate %q", i+1, q.Question)
		}
		seen[q.Question] = true
		okType := false
		for _, t := range questionTypes {
			okType = okType || q.Type == t
		}
		if !okType {
			return nil, fmt.Errorf("questions.json #%d %q: type %q is not one of %v", i+1, q.Question, q.Type, questionTypes)
		}
		if (q.Type == "out-of-scope") != (len(q.Expected) == 0) {
			return nil, fmt.Errorf("questions.json #%d %q: out-of-scope questions, and only they, expect nothing", i+1, q.Question)
		}
		for _, e := range q.Expected {
			if !known[e] {
				return nil, fmt.Errorf("questions.json #%d %q: expected %q is no section of the corpus", i+1, q.Question, e)
			}
		}
	}
	return qs, nil
}
