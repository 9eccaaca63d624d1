package main

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"concierge/retrieval"
)

//go:embed testdata/go_spec.html testdata/go_mem.html testdata/questions.json testdata/paraphrase.json
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

// Question is one entry of a question set (testdata/questions.json,
// testdata/paraphrase.json).
type Question struct {
	Question string `json:"question"`
	// Type is direct, paraphrase, variant (inflection or typo), needle (a
	// short answer inside a long section) or out-of-scope.
	Type string `json:"type"`
	// Expected are the relevance keys ("spec: Constant declarations") of
	// the sections that answer the question; none for out-of-scope.
	Expected []string `json:"expected"`
	// Set is the question set (its file name) the question comes from.
	Set string `json:"-"`
}

// Question types.
var questionTypes = []string{"direct", "paraphrase", "variant", "needle", "out-of-scope"}

// Question sets, each reported on its own rows.
const (
	// MainSet is the project's questions of every type; the quality bars
	// of eval_test hold for it.
	MainSet = "questions.json"
	// ParaphraseSet is the paraphrase-heavy set of issue 17: everyday
	// questions that avoid the words of the sections that answer them,
	// plus newcomers' questions the documents do not answer.
	ParaphraseSet = "paraphrase.json"
)

// questionSets are the sets in the order they are reported.
var questionSets = []string{MainSet, ParaphraseSet}

// LoadQuestions reads every question set and checks it against the corpus
// (see parseQuestions); a question may not appear twice, in one set or
// across sets.
func LoadQuestions(c *Corpus) ([]Question, error) {
	known := c.headings()
	seen := map[string]string{}
	var all []Question
	for _, set := range questionSets {
		b, err := testdata.ReadFile("testdata/" + set)
		if err != nil {
			return nil, err
		}
		qs, err := parseQuestions(set, b, known, seen)
		if err != nil {
			return nil, err
		}
		all = append(all, qs...)
	}
	return all, nil
}

// parseQuestions decodes one question set and checks it: every expected
// key must name a section of the corpus (known), only out-of-scope
// questions may expect nothing, and no question may be in seen (question
// to set), which it adds to.
func parseQuestions(set string, b []byte, known map[string]bool, seen map[string]string) ([]Question, error) {
	var qs []Question
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&qs); err != nil {
		return nil, fmt.Errorf("%s: %w", set, err)
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("%s: no questions", set)
	}
	for i := range qs {
		q := &qs[i]
		q.Set = set
		if strings.TrimSpace(q.Question) == "" {
			return nil, fmt.Errorf("%s #%d: empty question", set, i+1)
		}
		if other, ok := seen[q.Question]; ok {
			return nil, fmt.Errorf("%s #%d: duplicate %q (also in %s)", set, i+1, q.Question, other)
		}
		seen[q.Question] = set
		if !slices.Contains(questionTypes, q.Type) {
			return nil, fmt.Errorf("%s #%d %q: type %q is not one of %v", set, i+1, q.Question, q.Type, questionTypes)
		}
		if (q.Type == "out-of-scope") != (len(q.Expected) == 0) {
			return nil, fmt.Errorf("%s #%d %q: out-of-scope questions, and only they, expect nothing", set, i+1, q.Question)
		}
		for _, e := range q.Expected {
			if !known[e] {
				return nil, fmt.Errorf("%s #%d %q: expected %q is no section of the corpus", set, i+1, q.Question, e)
			}
		}
	}
	return qs, nil
}

// InSet returns the questions of one set.
func InSet(qs []Question, set string) []Question {
	var out []Question
	for _, q := range qs {
		if q.Set == set {
			out = append(out, q)
		}
	}
	return out
}
