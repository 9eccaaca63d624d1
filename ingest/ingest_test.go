package ingest_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/ent/chunk"
	"concierge/ent/resource"
	"concierge/ingest"
	ichunk "concierge/ingest/chunk"
	"concierge/retrieval"
	"concierge/server"
	"concierge/viewer"
)

const addText = `mutation($in: AddTextInput!) { addText(input: $in) { id } }`

func add(t *testing.T, e *apitest.Env, token, title, content string) uuid.UUID {
	t.Helper()
	r := e.Do(token, addText, map[string]any{"in": map[string]any{"title": title, "content": content}}).OK(t)
	return uuid.MustParse(r.Str("addText.id"))
}

// wait polls the resource (with the bypass) until its status is final.
func wait(t *testing.T, d *db.DB, id uuid.UUID) *ent.Resource {
	t.Helper()
	var r *ent.Resource
	require.Eventually(t, func() bool {
		var err error
		r, err = d.Client.Resource.Get(apitest.Bypass(), id)
		require.NoError(t, err)
		return r.Status == resource.StatusCOMPLETED || r.Status == resource.StatusFAILED
	}, 60*time.Second, 20*time.Millisecond)
	return r
}

// A job acts for the company its args name only: a job naming company A
// with B's resource finds nothing and changes nothing of B.
func TestJobActsOnlyForItsCompany(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a, b := e.Register("alpha"), e.Register("bravo")
		bres := add(t, e, b.AdminToken, "Bravo's text", "Knowledge of bravo about invoices.")
		before := wait(t, d, bres)
		require.Equal(t, resource.StatusCOMPLETED, before.Status)
		chunks, err := d.Client.Chunk.Query().Where(chunk.ResourceID(bres)).All(apitest.Bypass())
		require.NoError(t, err)

		ctx := context.Background()
		job, err := e.App.Ingest.River().Insert(ctx, ingest.IngestResourceArgs{CompanyID: a.CompanyID, ResourceID: bres}, nil)
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			j, err := e.App.Ingest.River().JobGet(ctx, job.Job.ID)
			require.NoError(t, err)
			return j.State == rivertype.JobStateCancelled
		}, 30*time.Second, 20*time.Millisecond, "the job ends: the resource is not found for company A")

		after, err := d.Client.Resource.Get(apitest.Bypass(), bres)
		require.NoError(t, err)
		require.Equal(t, before.Status, after.Status)
		require.Equal(t, before.UpdatedAt.UnixMicro(), after.UpdatedAt.UnixMicro(), "B's resource untouched")
		again, err := d.Client.Chunk.Query().Where(chunk.ResourceID(bres)).All(apitest.Bypass())
		require.NoError(t, err)
		require.Equal(t, len(chunks), len(again))
		for i := range chunks {
			require.Equal(t, chunks[i].ID, again[i].ID)
		}
		n, err := d.Client.Resource.Query().Where(resource.CompanyID(a.CompanyID)).Count(apitest.Bypass())
		require.NoError(t, err)
		require.Zero(t, n, "nothing was created in A either")
	})
}

// A panicking extractor fails its resource with a clear error; the worker
// and the server go on.
func TestExtractorPanicFailsResource(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		boom := ingest.ExtractorFunc(func(_ context.Context, r *ent.Resource, _ ingest.Progress) (ichunk.Document, error) {
			if r.Title == "Boom" {
				var m map[string]int
				m["x"]++ // a nil-map panic
			}
			return ichunk.Document{Sections: []ichunk.Section{{Text: r.ExtractedContent}}}, nil
		})
		e := apitest.NewWithConfig(t, d, server.Config{Ingest: ingest.Config{
			Extractors: map[resource.Type]ingest.Extractor{resource.TypeTEXT: boom}}})
		a := e.Register("alpha")
		r := wait(t, d, add(t, e, a.AdminToken, "Boom", "This text makes the extractor panic."))
		require.Equal(t, resource.StatusFAILED, r.Status)
		require.Contains(t, r.Error, "internal error")
		require.Zero(t, r.ChunkCount)

		r = wait(t, d, add(t, e, a.AdminToken, "Fine", "The worker goes on after a panic."))
		require.Equal(t, resource.StatusCOMPLETED, r.Status)
		res := e.Do(a.AdminToken, `{ resources(where: {status: FAILED}) { totalCount edges { node { title error } } } }`, nil).OK(t)
		require.EqualValues(t, 1, res.Get("resources.totalCount"))
	})
}

// Transient faults are retried with River's backoff; when the attempts
// run out the resource fails with the reason. Permanent faults fail at once.
func TestTransientFaultsRetried(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		var calls atomic.Int32
		flaky := ingest.ExtractorFunc(func(_ context.Context, r *ent.Resource, p ingest.Progress) (ichunk.Document, error) {
			switch r.Title {
			case "Flaky":
				if calls.Add(1) == 1 {
					return ichunk.Document{}, errors.New("upstream timed out")
				}
			case "Down":
				return ichunk.Document{}, errors.New("upstream is down")
			case "Gone":
				return ichunk.Document{}, ingest.Permanentf("the page no longer exists (404)")
			}
			p(context.Background(), 1, 2)
			return ichunk.Document{Sections: []ichunk.Section{{Text: r.ExtractedContent}}}, nil
		})
		e := apitest.NewWithConfig(t, d, server.Config{Ingest: ingest.Config{MaxAttempts: 2,
			Extractors: map[resource.Type]ingest.Extractor{resource.TypeTEXT: flaky}}})
		a := e.Register("alpha")
		flakyID := add(t, e, a.AdminToken, "Flaky", "Works the second time.")
		downID := add(t, e, a.AdminToken, "Down", "Never works.")
		gone := wait(t, d, add(t, e, a.AdminToken, "Gone", "Fails for good."))
		require.Equal(t, resource.StatusFAILED, gone.Status)
		require.Equal(t, "the page no longer exists (404)", gone.Error)

		r := wait(t, d, flakyID)
		require.Equal(t, resource.StatusCOMPLETED, r.Status)
		require.Empty(t, r.Error)
		require.EqualValues(t, 2, calls.Load())

		r = wait(t, d, downID)
		require.Equal(t, resource.StatusFAILED, r.Status)
		require.Equal(t, "processing failed: upstream is down", r.Error)
	})
}

// oldEmbedder stands for a model the company's index was built with before
// the configuration changed.
type oldEmbedder struct{}

func (oldEmbedder) Name() string   { return "old-model" }
func (oldEmbedder) Dimension() int { return 8 }
func (oldEmbedder) Embed(_ context.Context, texts []string, _ retrieval.Kind) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i := range out {
		out[i] = []float32{1, 0, 0, 0, 0, 0, 0, 0}
	}
	return out, nil
}

// When the embedder changes, the next job rebuilds the company's index
// with the new one: no vectors of two embedders in one index, and the
// company's other resources are searchable again.
func TestEmbedderChangeRebuildsIndex(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("alpha")
		first := add(t, e, a.AdminToken, "Returns", "Kettles may be returned within thirty days.")
		require.Equal(t, resource.StatusCOMPLETED, wait(t, d, first).Status)

		// The index as an older model left it.
		sys := viewer.SystemContext(context.Background(), a.CompanyID)
		old := retrieval.NewService(e.App.Retrieval.Store(), oldEmbedder{})
		require.NoError(t, old.ResetCompany(sys))
		require.NoError(t, old.IndexResource(sys, uuid.New(), []retrieval.Passage{{ChunkID: uuid.New(), Title: "Stale", Text: "stale passage"}}))

		second := add(t, e, a.AdminToken, "Shipping", "Orders ship from Rotterdam every Tuesday.")
		require.Equal(t, resource.StatusCOMPLETED, wait(t, d, second).Status)

		info, ok, err := e.App.Retrieval.Store().Info(context.Background(), a.CompanyID)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, e.App.Retrieval.Embedder().Name(), info.Embedder)
		for q, want := range map[string]uuid.UUID{"return a kettle": first, "when do orders ship": second} {
			hits, err := e.App.Retrieval.Search(sys, q, 5, nil)
			require.NoError(t, err)
			require.NotEmpty(t, hits, q)
			require.Equal(t, want, hits[0].ResourceID, q)
			for _, h := range hits {
				require.NotEqual(t, "stale passage", h.Text)
			}
		}
	})
}
