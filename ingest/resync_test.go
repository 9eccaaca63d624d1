package ingest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/ent/chunk"
	"concierge/ent/privacy"
	"concierge/ent/resource"
	"concierge/ingest"
	ichunk "concierge/ingest/chunk"
	"concierge/server"
	"concierge/viewer"
)

// clock is the re-sync schedule's clock, moved by the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// fakeSites is a website extractor that counts the crawls of each resource
// and says which crawl it is in the text; fail makes crawls fail.
type fakeSites struct {
	mu    sync.Mutex
	calls map[uuid.UUID]int
	fail  bool
}

func (f *fakeSites) Extract(_ context.Context, r *ent.Resource, _ ingest.Progress) (ichunk.Document, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[r.ID]++
	if f.fail {
		return ichunk.Document{}, ingest.Permanentf("the site answered 503 Service Unavailable")
	}
	return ichunk.Document{Sections: []ichunk.Section{{URL: r.SourceURL,
		Text: fmt.Sprintf("Crawl %d of %s: refunds are accepted within 30 days.", f.calls[r.ID], r.SourceURL)}}}, nil
}

func (f *fakeSites) count(id uuid.UUID) int { f.mu.Lock(); defer f.mu.Unlock(); return f.calls[id] }

func (f *fakeSites) setFail(v bool) { f.mu.Lock(); defer f.mu.Unlock(); f.fail = v }

const (
	addSite = `mutation($in: AddWebsiteInput!) { addWebsite(input: $in) { id syncInterval nextSyncAt lastSyncedAt } }`
	setSync = `mutation($id: ID!, $iv: SyncInterval!) { updateResource(id: $id, input: {syncInterval: $iv}) { id syncInterval nextSyncAt lastSyncedAt } }`
	getRes  = `query($id: ID!) { resource(id: $id) { syncInterval nextSyncAt lastSyncedAt status error chunkCount } }`
)

type resyncEnv struct {
	e     *apitest.Env
	d     *db.DB
	clock *clock
	sites *fakeSites
}

func newResyncEnv(t *testing.T, d *db.DB) *resyncEnv {
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	sites := &fakeSites{calls: map[uuid.UUID]int{}}
	e := apitest.NewWithConfig(t, d, server.Config{Ingest: ingest.Config{
		Now: c.Now, ResyncScanInterval: time.Hour,
		Extractors: map[resource.Type]ingest.Extractor{resource.TypeWEBSITE: sites}}})
	// The scan is a periodic job: the leader runs it once when it starts
	// (nothing is due then); the test then drives it by hand.
	rc := e.App.Ingest.River()
	require.Eventually(t, func() bool {
		res, err := rc.JobList(context.Background(), river.NewJobListParams().Kinds(ingest.ResyncDueArgs{}.Kind()).
			States(rivertype.JobStateCompleted))
		require.NoError(t, err)
		return len(res.Jobs) > 0
	}, 30*time.Second, 50*time.Millisecond, "the leader runs the re-sync scan")
	_, err := rc.PeriodicJobs().AddSafely(river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
		func() (river.JobArgs, *river.InsertOpts) { return ingest.ResyncDueArgs{}, nil },
		&river.PeriodicJobOpts{ID: ingest.ResyncPeriodicJobID}))
	require.Error(t, err, "a periodic job with the scan's ID is already registered")
	return &resyncEnv{e: e, d: d, clock: c, sites: sites}
}

func (x *resyncEnv) addSite(t *testing.T, token, url string, iv any) uuid.UUID {
	t.Helper()
	in := map[string]any{"url": url}
	if iv != nil {
		in["syncInterval"] = iv
	}
	r := x.e.Do(token, addSite, map[string]any{"in": in}).OK(t)
	id := uuid.MustParse(r.Str("addWebsite.id"))
	require.Equal(t, resource.StatusCOMPLETED, wait(t, x.d, id).Status)
	return id
}

func timeAt(t *testing.T, r *apitest.Response, path string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, r.Str(path))
	require.NoError(t, err, "%s = %v", path, r.Get(path))
	return ts
}

// A company admin sets how often a website or Facebook page is re-synced,
// on creation and by updateResource; PDFs and texts accept NEVER only; bad
// values and other companies' admins are refused with a code, and nothing
// changes.
func TestSyncIntervalAPI(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		x := newResyncEnv(t, d)
		e := x.e
		a, b := e.Register("alpha"), e.Register("bravo")
		start := x.clock.Now()

		// Created with an interval: due one interval after creation.
		r := e.Do(a.AdminToken, addSite, map[string]any{"in": map[string]any{"url": "https://docs.alpha.test/", "syncInterval": "DAILY"}}).OK(t)
		daily := uuid.MustParse(r.Str("addWebsite.id"))
		require.Equal(t, "DAILY", r.Str("addWebsite.syncInterval"))
		require.True(t, timeAt(t, r, "addWebsite.nextSyncAt").Equal(start.Add(24*time.Hour)))
		require.Nil(t, r.Get("addWebsite.lastSyncedAt"))
		wait(t, d, daily)
		r = e.Do(a.AdminToken, getRes, map[string]any{"id": daily.String()}).OK(t)
		require.True(t, timeAt(t, r, "resource.lastSyncedAt").Equal(start), "synced when its ingestion completed")
		require.True(t, timeAt(t, r, "resource.nextSyncAt").Equal(start.Add(24*time.Hour)))

		// The default of websites is WEEKLY; texts never re-sync.
		weekly := x.addSite(t, a.AdminToken, "https://blog.alpha.test/", nil)
		r = e.Do(a.AdminToken, getRes, map[string]any{"id": weekly.String()}).OK(t)
		require.Equal(t, "WEEKLY", r.Str("resource.syncInterval"))
		require.True(t, timeAt(t, r, "resource.nextSyncAt").Equal(start.Add(7*24*time.Hour)))
		text := add(t, e, a.AdminToken, "Hours", "We open at nine.")
		r = e.Do(a.AdminToken, getRes, map[string]any{"id": text.String()}).OK(t)
		require.Equal(t, "NEVER", r.Str("resource.syncInterval"))
		require.Nil(t, r.Get("resource.nextSyncAt"))

		// A text cannot re-sync.
		res := e.Do(a.AdminToken, setSync, map[string]any{"id": text.String(), "iv": "DAILY"})
		require.Equal(t, "BAD_USER_INPUT", res.Code())
		require.Contains(t, res.Errors[0].Message, "only NEVER")
		e.Do(a.AdminToken, setSync, map[string]any{"id": text.String(), "iv": "NEVER"}).OK(t)
		// Not an interval.
		// (gqlgen refuses a value outside the enum while coercing the
		// variables; which of the two codes it uses is its business.)
		invalid := []string{"GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}
		res = e.Do(a.AdminToken, setSync, map[string]any{"id": weekly.String(), "iv": "HOURLY"})
		require.Contains(t, invalid, res.Code(), "an unknown interval is refused with a code: %+v", res.Errors)
		res = e.Do(a.AdminToken, addSite, map[string]any{"in": map[string]any{"url": "https://x.alpha.test/", "syncInterval": "YEARLY"}})
		require.Contains(t, invalid, res.Code(), "%+v", res.Errors)
		n, err := d.Client.Resource.Query().Count(apitest.Bypass())
		require.NoError(t, err)
		require.Equal(t, 3, n, "no resource was added")
		// Another company's admin, and an agent, cannot change it.
		res = e.Do(b.AdminToken, setSync, map[string]any{"id": weekly.String(), "iv": "NEVER"})
		require.Equal(t, "NOT_FOUND", res.Code())
		res = e.Do(a.AgentToken, setSync, map[string]any{"id": weekly.String(), "iv": "NEVER"})
		require.Equal(t, "FORBIDDEN", res.Code(), "%+v", res.Errors)
		require.Nil(t, res.Get("updateResource"))
		r = e.Do(a.AdminToken, getRes, map[string]any{"id": weekly.String()}).OK(t)
		require.Equal(t, "WEEKLY", r.Str("resource.syncInterval"), "unchanged by the refused calls")
		require.Nil(t, e.Do(b.AdminToken, getRes, map[string]any{"id": weekly.String()}).OK(t).Get("resource"))

		// Changing it counts from the last sync; NEVER clears the next sync.
		x.clock.Advance(3 * time.Hour)
		r = e.Do(a.AdminToken, setSync, map[string]any{"id": weekly.String(), "iv": "MONTHLY"}).OK(t)
		require.Equal(t, "MONTHLY", r.Str("updateResource.syncInterval"))
		require.True(t, timeAt(t, r, "updateResource.nextSyncAt").Equal(start.Add(30*24*time.Hour)))
		r = e.Do(a.AdminToken, setSync, map[string]any{"id": weekly.String(), "iv": "NEVER"}).OK(t)
		require.Nil(t, r.Get("updateResource.nextSyncAt"))
		require.True(t, timeAt(t, r, "updateResource.lastSyncedAt").Equal(start))
	})
}

// The scheduler re-ingests a due resource through the usual ingestion job
// and leaves the others; NEVER never re-syncs; a failed re-sync keeps the
// old chunks and records its error; overlapping scans start a resource
// once; the scan reads across companies only through privacy.
func TestScheduledResync(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		x := newResyncEnv(t, d)
		e, ctx := x.e, context.Background()
		a, b := e.Register("alpha"), e.Register("bravo")
		daily := x.addSite(t, a.AdminToken, "https://docs.alpha.test/", "DAILY")
		weekly := x.addSite(t, a.AdminToken, "https://blog.alpha.test/", "WEEKLY")
		never := x.addSite(t, a.AdminToken, "https://old.alpha.test/", "NEVER")
		dailyB := x.addSite(t, b.AdminToken, "https://docs.bravo.test/", "DAILY")
		text := add(t, e, a.AdminToken, "Hours", "We open at nine.")
		wait(t, d, text)
		// idle waits until River has recorded the end of every ingestion
		// job (its completer batches, so a job counts as running a moment
		// after its resource is COMPLETED, and a scan then leaves the
		// resource due for the next one).
		idle := func() {
			t.Helper()
			require.Eventually(t, func() bool {
				res, err := e.App.Ingest.River().JobList(ctx, river.NewJobListParams().
					Kinds(ingest.IngestResourceArgs{}.Kind()).States(rivertype.JobStateAvailable,
					rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled, rivertype.JobStatePending))
				require.NoError(t, err)
				return len(res.Jobs) == 0
			}, 30*time.Second, 10*time.Millisecond)
		}
		crawled := func(id uuid.UUID, n int) {
			t.Helper()
			require.Eventually(t, func() bool { return x.sites.count(id) == n }, 30*time.Second, 10*time.Millisecond)
			wait(t, d, id)
		}
		chunkText := func(id uuid.UUID) string {
			cs, err := d.Client.Chunk.Query().Where(chunk.ResourceID(id)).All(apitest.Bypass())
			require.NoError(t, err)
			require.Len(t, cs, 1)
			return cs[0].Text
		}

		// Nothing is due yet.
		idle()
		n, err := e.App.Ingest.ResyncDue(ctx)
		require.NoError(t, err)
		require.Zero(t, n)

		// A day later the daily ones of both companies are due, each scan
		// starting them once even when two run at the same time.
		x.clock.Advance(25 * time.Hour)
		var wg sync.WaitGroup
		counts := make([]int, 2)
		for i := range counts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				counts[i], err = e.App.Ingest.ResyncDue(ctx)
				require.NoError(t, err)
			}()
		}
		wg.Wait()
		require.Equal(t, 2, counts[0]+counts[1], "two due resources, each started once")
		crawled(daily, 2)
		crawled(dailyB, 2)
		require.Contains(t, chunkText(daily), "Crawl 2 of https://docs.alpha.test/")
		r := e.Do(a.AdminToken, getRes, map[string]any{"id": daily.String()}).OK(t)
		require.Equal(t, "COMPLETED", r.Str("resource.status"))
		require.True(t, timeAt(t, r, "resource.lastSyncedAt").Equal(x.clock.Now()))
		require.True(t, timeAt(t, r, "resource.nextSyncAt").Equal(x.clock.Now().Add(24*time.Hour)))
		n, err = e.App.Ingest.ResyncDue(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "not due again until tomorrow")
		require.Equal(t, 1, x.sites.count(weekly), "not due yet")
		require.Equal(t, 1, x.sites.count(never))

		// A failing re-sync: the error is recorded, the chunks stay.
		idle()
		x.sites.setFail(true)
		x.clock.Advance(25 * time.Hour)
		n, err = e.App.Ingest.ResyncDue(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		crawled(daily, 3)
		r = e.Do(a.AdminToken, getRes, map[string]any{"id": daily.String()}).OK(t)
		require.Equal(t, "FAILED", r.Str("resource.status"))
		require.Contains(t, r.Str("resource.error"), "503 Service Unavailable")
		require.EqualValues(t, 1, r.Get("resource.chunkCount"))
		require.Contains(t, chunkText(daily), "Crawl 2 of", "the last good crawl's chunks are kept")
		require.True(t, timeAt(t, r, "resource.nextSyncAt").Equal(x.clock.Now().Add(24*time.Hour)), "tried again tomorrow")

		// Much later: everything scheduled is re-synced, NEVER is not; an
		// inactive resource waits until it is active again.
		x.sites.setFail(false)
		idle()
		e.Do(b.AdminToken, `mutation($id: ID!) { updateResource(id: $id, input: {isActive: false}) { id } }`,
			map[string]any{"id": dailyB.String()}).OK(t)
		x.clock.Advance(400 * 24 * time.Hour)
		n, err = e.App.Ingest.ResyncDue(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		crawled(daily, 4)
		crawled(weekly, 2)
		require.Equal(t, "COMPLETED", e.Do(a.AdminToken, getRes, map[string]any{"id": daily.String()}).OK(t).Str("resource.status"))
		n, err = e.App.Ingest.ResyncDue(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Equal(t, 1, x.sites.count(never), "NEVER never re-syncs")
		require.Equal(t, 3, x.sites.count(dailyB), "inactive: not re-synced")

		// The scheduler viewer reads scheduled resources only, and writes
		// nothing.
		sched := viewer.SchedulerContext(ctx)
		rs, err := d.Client.Resource.Query().All(sched)
		require.NoError(t, err)
		ids := map[uuid.UUID]bool{}
		for _, r := range rs {
			ids[r.ID] = true
		}
		require.Equal(t, map[uuid.UUID]bool{daily: true, weekly: true, dailyB: true}, ids)
		_, err = d.Client.Chunk.Query().All(sched)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = d.Client.Company.Query().All(sched)
		require.ErrorIs(t, err, privacy.Deny)
		err = d.Client.Resource.UpdateOneID(daily).SetTitle("Hijacked").Exec(sched)
		require.ErrorIs(t, err, privacy.Deny)
	})
}
