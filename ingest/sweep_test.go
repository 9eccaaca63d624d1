package ingest_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent/resource"
	"concierge/ingest"
)

// A resource left PENDING or PROCESSING with no job that will run it (its
// process died during the last attempt, and River discarded the job) is
// failed by the periodic sweep with a clear error and an event; resources
// whose job is still to run, and recent ones, are left alone.
func TestSweepFailsInterruptedResources(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a, b := e.Register("alpha"), e.Register("bravo")
		ctx := context.Background()
		rc := e.App.Ingest.River()

		// The sweep is registered as a periodic job: the leader inserts it
		// when it starts, and its ID is taken.
		require.Eventually(t, func() bool {
			res, err := rc.JobList(ctx, river.NewJobListParams().Kinds(ingest.SweepInterruptedArgs{}.Kind()))
			require.NoError(t, err)
			return len(res.Jobs) > 0
		}, 30*time.Second, 50*time.Millisecond, "the periodic sweep is inserted by the leader")
		_, err := rc.PeriodicJobs().AddSafely(river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return ingest.SweepInterruptedArgs{}, nil },
			&river.PeriodicJobOpts{ID: ingest.SweepPeriodicJobID}))
		require.Error(t, err, "a periodic job with the sweep's ID is already registered")

		subA, err := e.App.Broker.Subscribe(ctx, ingest.Topic(a.CompanyID))
		require.NoError(t, err)
		defer subA.Close()

		old := time.Now().Add(-24 * time.Hour)
		mk := func(cid uuid.UUID, title string, st resource.Status, updated time.Time) uuid.UUID {
			r, err := d.Client.Resource.Create().SetCompanyID(cid).SetType(resource.TypeTEXT).SetTitle(title).
				SetExtractedContent("Some text.").SetStatus(st).SetUpdatedAt(updated).Save(apitest.Bypass())
			require.NoError(t, err)
			return r.ID
		}
		lost := mk(a.CompanyID, "Lost", resource.StatusPROCESSING, old)            // no job at all
		lostB := mk(b.CompanyID, "Lost of bravo", resource.StatusPENDING, old)     // another company
		cancelled := mk(a.CompanyID, "Cancelled", resource.StatusPROCESSING, old)  // its job was cancelled
		waiting := mk(a.CompanyID, "Waiting", resource.StatusPENDING, old)         // its job is scheduled
		recent := mk(a.CompanyID, "Recent", resource.StatusPROCESSING, time.Now()) // too recent to judge

		later := &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}
		_, err = rc.Insert(ctx, ingest.IngestResourceArgs{CompanyID: a.CompanyID, ResourceID: waiting}, later)
		require.NoError(t, err)
		j, err := rc.Insert(ctx, ingest.IngestResourceArgs{CompanyID: a.CompanyID, ResourceID: cancelled}, later)
		require.NoError(t, err)
		_, err = rc.JobCancel(ctx, j.Job.ID)
		require.NoError(t, err)

		_, err = e.App.Ingest.SweepInterrupted(ctx)
		require.NoError(t, err)

		get := func(id uuid.UUID) (resource.Status, string) {
			r, err := d.Client.Resource.Get(apitest.Bypass(), id)
			require.NoError(t, err)
			return r.Status, r.Error
		}
		for _, id := range []uuid.UUID{lost, lostB, cancelled} {
			st, msg := get(id)
			require.Equal(t, resource.StatusFAILED, st)
			require.Equal(t, "processing was interrupted; reprocess to try again", msg)
		}
		st, _ := get(waiting)
		require.Equal(t, resource.StatusPENDING, st, "its job will still run")
		st, _ = get(recent)
		require.Equal(t, resource.StatusPROCESSING, st, "too recent")

		// A's subscribers heard of A's failures (and of nothing of B).
		failed := map[uuid.UUID]bool{}
		deadline := time.After(5 * time.Second)
		for len(failed) < 2 {
			select {
			case p := <-subA.C():
				var ev ingest.Event
				require.NoError(t, json.Unmarshal(p, &ev))
				require.Equal(t, a.CompanyID, ev.CompanyID)
				if ev.Status == resource.StatusFAILED {
					failed[ev.ResourceID] = true
				}
			case <-deadline:
				t.Fatalf("events of the failed resources: got %v", failed)
			}
		}
		require.True(t, failed[lost] && failed[cancelled])

		// Sweeping again changes nothing; reprocessing works as usual.
		n, err := e.App.Ingest.SweepInterrupted(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		r := e.Do(a.AdminToken, `mutation($id: ID!) { reprocessResource(id: $id) { id status } }`,
			map[string]any{"id": lost.String()}).OK(t)
		require.Contains(t, []string{"PENDING", "PROCESSING", "COMPLETED"}, r.Str("reprocessResource.status"), "queued; a worker may have started it before the answer")
		require.Equal(t, resource.StatusCOMPLETED, wait(t, d, lost).Status)
	})
}
