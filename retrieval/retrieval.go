// Package retrieval finds the passages of one company's knowledge that
// answer a question: a Store (Weaviate in production, an embedded store by
// default) holds each company's passages with their vectors, an Embedder
// turns text into vectors, and Service ties them together with the tenant
// taken from the caller's viewer: there is no call without a company.
package retrieval

import (
	"context"
	"errors"

	"github.com/google/uuid"
)

// Passage is one indexed chunk of a resource, with what a citation needs.
type Passage struct {
	ChunkID    uuid.UUID
	ResourceID uuid.UUID
	Ordinal    int
	// Title is the resource's title; Heading the section the passage is in.
	Title   string
	Heading string
	URL     string
	Page    int
	Text    string
	// Vector is the passage's embedding (set by Service before indexing).
	Vector []float32
}

// Hit is a passage found by a search. Score is in [0, 1], higher is better,
// and comparable with the store's relevance threshold.
type Hit struct {
	Passage
	Score float64
}

// Query is a search of one company's index.
type Query struct {
	// Text is the visitor's question (at most MaxQueryBytes).
	Text string
	// Vector is Text's embedding (set by Service).
	Vector []float32
	// K is how many hits to return (default 5, at most 50).
	K int
	// ExcludeResources are never returned (inactive resources).
	ExcludeResources []uuid.UUID
}

// Limits of a query.
const (
	MaxQueryBytes = 8 << 10
	DefaultK      = 5
	MaxK          = 50
)

// IndexInfo records which embedder built a company's index.
type IndexInfo struct {
	Embedder  string
	Dimension int
}

// Store keeps each company's passages apart. Every method takes the
// company explicitly; implementations never search across companies.
// Package retrieval/storetest is the conformance suite every Store passes.
//
// A company has an index from its first ReplaceResource until
// DeleteCompany. Searching a company without an index is not an error: it
// returns no hits (nil, nil), exactly like an index with nothing relevant.
// A cancelled or expired ctx makes any method return promptly with an error
// matching ctx.Err() (errors.Is).
type Store interface {
	// ReplaceResource atomically replaces every passage of one resource:
	// once it returns, searches see the new passages and none of the old,
	// and never a mix. The first call for a company creates its index and
	// records info; later calls must carry the same info: another
	// Dimension (or a vector whose length is not info.Dimension) is
	// ErrDimensionMismatch, another Embedder is ErrEmbedderChanged, and
	// nothing is written. No passages is the same as DeleteResource.
	// Resource ids are scoped to the company: the same id in two companies
	// names two unrelated resources.
	ReplaceResource(ctx context.Context, companyID, resourceID uuid.UUID, info IndexInfo, passages []Passage) error
	// DeleteResource removes a resource's passages (no error if it has none).
	DeleteResource(ctx context.Context, companyID, resourceID uuid.UUID) error
	// DeleteCompany removes a company's whole index, including its
	// IndexInfo: afterwards Info reports ok == false, Search returns no
	// hits, and the next ReplaceResource starts a new index (with any
	// embedder). Deleting a company without an index is not an error.
	DeleteCompany(ctx context.Context, companyID uuid.UUID) error
	// Info returns the embedder a company's index was built with; ok is
	// false for a company without an index.
	Info(ctx context.Context, companyID uuid.UUID) (info IndexInfo, ok bool, err error)
	// Search returns the company's best passages for q, best first, with
	// scores in [0, 1]. K <= 0 means DefaultK and K > MaxK means MaxK. Any
	// text is accepted (query syntax is never interpreted). A q.Vector whose
	// length differs from the index's dimension is ErrDimensionMismatch.
	Search(ctx context.Context, companyID uuid.UUID, q Query) ([]Hit, error)
	// Ping reports whether the store can serve (for /readyz).
	Ping(ctx context.Context) error
	Close() error
}

// Kind says whether text is embedded as a document or as a query (some
// models embed the two differently).
type Kind int

// Embedding kinds.
const (
	KindDocument Kind = iota
	KindQuery
)

// Embedder turns texts into vectors.
type Embedder interface {
	// Name identifies the model and its settings ("local-v2",
	// "gemini/text-embedding-004"); vectors of different names never mix.
	Name() string
	Dimension() int
	// Embed returns one vector per text, in order.
	Embed(ctx context.Context, texts []string, kind Kind) ([][]float32, error)
}

// Errors callers can test with errors.Is.
var (
	// ErrNoCompany: the caller's viewer is not bound to a company.
	ErrNoCompany = errors.New("retrieval: no company in context")
	// ErrEmptyQuery: the query has no searchable text.
	ErrEmptyQuery = errors.New("retrieval: empty query")
	// ErrQueryTooLong: the query is over MaxQueryBytes.
	ErrQueryTooLong = errors.New("retrieval: query too long")
	// ErrDimensionMismatch: vectors do not fit the index.
	ErrDimensionMismatch = errors.New("retrieval: vector dimension does not match the index")
	// ErrEmbedderChanged: the company's index was built by another
	// embedder and must be rebuilt.
	ErrEmbedderChanged = errors.New("retrieval: index built with another embedder")
	// ErrUnavailable: the store cannot be reached.
	ErrUnavailable = errors.New("retrieval: store unavailable")
)

// ErrForbidden: the caller's viewer may not act on that company.
var ErrForbidden = errors.New("retrieval: not allowed for this viewer")
