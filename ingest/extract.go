package ingest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"concierge/ent"
	"concierge/ingest/chunk"
)

// Extractor turns one resource into a document to chunk. It is the seam the
// PDF, website and Facebook extractors plug into (Config.Extractors, keyed
// by resource type).
//
// Extract runs inside a job with the system viewer of the resource's
// company in ctx. It reports progress through p (optional to call) and
// returns an error wrapped with Permanent for a fault that retrying cannot
// fix (a corrupt file, a 404 site, an expired token); any other error is
// treated as transient and retried with backoff. A panic is recovered by
// the worker and fails the resource.
type Extractor interface {
	Extract(ctx context.Context, r *ent.Resource, p Progress) (chunk.Document, error)
}

// ExtractorFunc adapts a function to Extractor.
type ExtractorFunc func(ctx context.Context, r *ent.Resource, p Progress) (chunk.Document, error)

// Extract calls f.
func (f ExtractorFunc) Extract(ctx context.Context, r *ent.Resource, p Progress) (chunk.Document, error) {
	return f(ctx, r, p)
}

// Progress reports how far an extraction got, for example pages crawled
// out of pages found. done <= total; total 0 means unknown. Extraction is
// shown as the first 80% of a resource's progress; chunking and indexing
// take the rest.
type Progress func(ctx context.Context, done, total int)

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as a failure that retrying cannot fix: the resource
// fails at once with err's message, which users read, so write it for them.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// Permanentf is Permanent(fmt.Errorf(format, args...)).
func Permanentf(format string, args ...any) error { return Permanent(fmt.Errorf(format, args...)) }

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe)
}

// textExtractor reads a TEXT resource: its content is stored in
// extracted_content when it is added.
func textExtractor(_ context.Context, r *ent.Resource, _ Progress) (chunk.Document, error) {
	if strings.TrimSpace(r.ExtractedContent) == "" {
		return chunk.Document{}, Permanentf("the text is empty")
	}
	return chunk.Document{Title: r.Title, Sections: []chunk.Section{{Text: r.ExtractedContent}}}, nil
}
