package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"concierge/db"
	"concierge/dbtest"
	"concierge/ent/privacy"
	"concierge/ent/resource"
	"concierge/filestore"
	"concierge/ingest"
	"concierge/realtime"
	"concierge/retrieval"
	"concierge/retrieval/embedded"
	"concierge/viewer"
)

// downStore is the knowledge index as an outage leaves it: its embedded
// store is closed, so every call fails, until back reopens it.
type downStore struct {
	mu   sync.Mutex
	cur  *embedded.Store
	path string
}

func (s *downStore) store() *embedded.Store { s.mu.Lock(); defer s.mu.Unlock(); return s.cur }

func (s *downStore) back(t *testing.T) {
	st, err := embedded.Open(context.Background(), s.path)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	s.mu.Lock()
	s.cur = st
	s.mu.Unlock()
}

func (s *downStore) ReplaceResource(ctx context.Context, c, r uuid.UUID, i retrieval.IndexInfo, ps []retrieval.Passage) error {
	return s.store().ReplaceResource(ctx, c, r, i, ps)
}
func (s *downStore) DeleteResource(ctx context.Context, c, r uuid.UUID) error {
	return s.store().DeleteResource(ctx, c, r)
}
func (s *downStore) DeleteCompany(ctx context.Context, c uuid.UUID) error {
	return s.store().DeleteCompany(ctx, c)
}
func (s *downStore) Info(ctx context.Context, c uuid.UUID) (retrieval.IndexInfo, bool, error) {
	return s.store().Info(ctx, c)
}
func (s *downStore) Search(ctx context.Context, c uuid.UUID, q retrieval.Query) ([]retrieval.Hit, error) {
	return s.store().Search(ctx, c, q)
}
func (s *downStore) Ping(ctx context.Context) error { return s.store().Ping(ctx) }
func (s *downStore) Close() error                   { return nil }

// The passages and file of a deleted resource, and a deleted company's
// index and files, are removed by a job committed with the deletion: while
// the index is down its attempts fail, and it retries until they are gone.
func TestCleanupRetriesUntilDone(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
		defer cancel()
		dir := t.TempDir()
		files, err := filestore.New(filepath.Join(dir, "files"))
		require.NoError(t, err)
		idx := &downStore{path: filepath.Join(dir, "index.db")}
		idx.back(t)

		all := privacy.DecisionContext(ctx, privacy.Allow)
		co := d.Client.Company.Create().SetName("Acme").SetSlug("acme-" + uuid.NewString()[:8]).
			SetEmail("acme@example.com").SetWidgetKey("wk_" + uuid.NewString()).
			SetIdentitySecret("s_" + uuid.NewString()).SaveX(all)
		sys := viewer.SystemContext(ctx, co.ID)
		rel := filepath.Join(co.ID.String(), "resources", "guide.pdf")
		require.NoError(t, os.MkdirAll(filepath.Join(files.Dir(), filepath.Dir(rel)), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(files.Dir(), rel), []byte("%PDF"), 0o600))
		r := d.Client.Resource.Create().SetCompanyID(co.ID).SetType(resource.TypePDF).SetTitle("Guide").
			SetFilePath(rel).SetStatus(resource.StatusCOMPLETED).SaveX(sys)
		info := retrieval.IndexInfo{Embedder: "test", Dimension: 2}
		passage := func(res uuid.UUID) []retrieval.Passage {
			return []retrieval.Passage{{ChunkID: uuid.New(), ResourceID: res, Text: "Orders ship from Lyon.", Vector: []float32{1, 0}}}
		}
		require.NoError(t, idx.store().ReplaceResource(ctx, co.ID, r.ID, info, passage(r.ID)))
		other := uuid.New() // another resource of the company, kept
		require.NoError(t, idx.store().ReplaceResource(ctx, co.ID, other, info, passage(other)))
		hits := func() map[uuid.UUID]bool {
			hs, err := idx.store().Search(ctx, co.ID, retrieval.Query{Text: "Lyon", Vector: []float32{1, 0}, K: 10})
			require.NoError(t, err)
			got := map[uuid.UUID]bool{}
			for _, h := range hs {
				got[h.ResourceID] = true
			}
			return got
		}
		require.Equal(t, map[uuid.UUID]bool{r.ID: true, other: true}, hits())

		broker := realtime.NewMemory()
		defer broker.Close()
		s, err := ingest.New(ingest.Config{DB: d, Broker: broker, Files: files, Index: retrieval.NewService(idx, nil),
			PollInterval: 100 * time.Millisecond})
		require.NoError(t, err)
		require.NoError(t, s.Start(ctx))
		defer s.Stop(5 * time.Second)
		cleanups := func() []*rivertype.JobRow {
			res, err := s.River().JobList(ctx, river.NewJobListParams().Kinds(ingest.CleanupArgs{}.Kind()).First(10))
			require.NoError(t, err)
			return res.Jobs
		}

		// The index goes down (a real, failing store), then the resource
		// is deleted: its rows go, its passages and file stay for now.
		require.NoError(t, idx.store().Close())
		admin := viewer.NewContext(ctx, &viewer.Viewer{Kind: viewer.KindUser, ID: uuid.New(), CompanyID: co.ID, Role: viewer.RoleCompanyAdmin})
		require.NoError(t, s.DeleteResource(admin, r.ID))
		require.Eventually(t, func() bool {
			jobs := cleanups()
			return len(jobs) == 1 && jobs[0].Attempt >= 1 && len(jobs[0].Errors) >= 1 && jobs[0].State == rivertype.JobStateRetryable
		}, 30*time.Second, 20*time.Millisecond, "the cleanup's first attempt fails while the index is down")
		require.FileExists(t, filepath.Join(files.Dir(), rel), "the file goes after the passages")

		// The index is back: the retry removes both.
		idx.back(t)
		require.Eventually(t, func() bool {
			jobs := cleanups()
			return len(jobs) == 1 && jobs[0].State == rivertype.JobStateCompleted
		}, 60*time.Second, 50*time.Millisecond, "the cleanup is retried until done")
		require.Equal(t, map[uuid.UUID]bool{other: true}, hits(), "the deleted resource's passages are gone, the other's stay")
		require.NoFileExists(t, filepath.Join(files.Dir(), rel))

		// A deleted company: its job, committed with the deletion, removes
		// its whole index and its files once the index is back.
		require.NoError(t, idx.store().Close())
		tx, err := d.SQL.BeginTx(ctx, nil)
		require.NoError(t, err)
		require.NoError(t, s.EnqueueCompanyCleanup(ctx, tx, co.ID))
		require.NoError(t, tx.Rollback())
		require.Len(t, cleanups(), 1, "a rolled-back deletion leaves no job")
		tx, err = d.SQL.BeginTx(ctx, nil)
		require.NoError(t, err)
		require.NoError(t, s.EnqueueCompanyCleanup(ctx, tx, co.ID))
		require.NoError(t, tx.Commit())
		require.Eventually(t, func() bool {
			for _, j := range cleanups() {
				if j.State == rivertype.JobStateRetryable && len(j.Errors) >= 1 {
					return true
				}
			}
			return false
		}, 30*time.Second, 20*time.Millisecond, "the company's cleanup fails while the index is down")
		idx.back(t)
		require.Eventually(t, func() bool {
			jobs := cleanups()
			return len(jobs) == 2 && jobs[0].State == rivertype.JobStateCompleted && jobs[1].State == rivertype.JobStateCompleted
		}, 60*time.Second, 50*time.Millisecond, "the company's cleanup is retried until done")
		_, ok, err := idx.store().Info(ctx, co.ID)
		require.NoError(t, err)
		require.False(t, ok, "the company's index is gone")
		require.NoDirExists(t, filepath.Join(files.Dir(), co.ID.String()))
	})
}
