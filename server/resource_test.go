package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent/chunk"
	"concierge/ent/resource"
	"concierge/ingest"
	"concierge/viewer"
)

const (
	addTextMutation = `mutation($in: AddTextInput!) { addText(input: $in) { id type title status isActive chunkCount progress companyID } }`
	resourceQuery   = `query($id: ID!) { resource(id: $id) { id title status error isActive chunkCount progress } }`
	refundText      = `Refund policy

Customers may return any zanzibarite kettle within 30 days of delivery for a full refund. The kettle must be unused and in its original box.

Shipping costs are refunded only when the kettle arrived damaged. Refunds go back to the original payment method within five business days.`
)

// waitResource polls resource(id) until its status is one of want.
func waitResource(t *testing.T, e *apitest.Env, token string, id uuid.UUID, want ...string) *apitest.Response {
	t.Helper()
	var r *apitest.Response
	require.Eventually(t, func() bool {
		r = e.Do(token, resourceQuery, map[string]any{"id": id.String()}).OK(t)
		for _, w := range want {
			if r.Str("resource.status") == w {
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "resource %s never reached %v", id, want)
	return r
}

// found reports whether a search of the company's knowledge returns a
// passage of resource id.
func found(t *testing.T, e *apitest.Env, companyID, id uuid.UUID, query string) bool {
	t.Helper()
	hits, err := e.App.Retrieval.Search(viewer.SystemContext(context.Background(), companyID), query, 10, nil)
	require.NoError(t, err)
	for _, h := range hits {
		if h.ResourceID == id {
			return true
		}
	}
	return false
}

func chunkCount(t *testing.T, d *db.DB, id uuid.UUID) int {
	t.Helper()
	n, err := d.Client.Chunk.Query().Where(chunk.ResourceID(id)).Count(apitest.Bypass())
	require.NoError(t, err)
	return n
}

// statuses reads a subscription's events for resource id until it reports
// one of the final statuses.
func statuses(t *testing.T, sub *apitest.Subscription, path string, id uuid.UUID) []string {
	t.Helper()
	var seen []string
	for {
		ev := sub.Next(30 * time.Second)
		require.NotNil(t, ev, "no final status; seen %v", seen)
		require.Empty(t, ev.Errors)
		if ev.Str(path+".id") != id.String() {
			continue
		}
		st := ev.Str(path + ".status")
		if len(seen) == 0 || seen[len(seen)-1] != st {
			seen = append(seen, st)
		}
		if st == "COMPLETED" || st == "FAILED" {
			return seen
		}
	}
}

// The TEXT resource end to end: added, processed by the job (status seen
// over a real WebSocket), searchable, deactivated (gone from answers),
// reactivated, reprocessed and deleted (row, chunks and passages gone).
func TestTextResourceLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("alpha")
		sub, err := e.Subscribe(a.AdminToken, `subscription { resourceEvents { id status progress chunkCount } }`, nil)
		require.NoError(t, err)
		e.WaitSubscribers(ingest.Topic(a.CompanyID), 1)

		r := e.Do(a.AdminToken, addTextMutation, map[string]any{"in": map[string]any{"title": "  Refunds  ", "content": refundText}}).OK(t)
		id := uuid.MustParse(r.Str("addText.id"))
		require.Equal(t, "TEXT", r.Str("addText.type"))
		require.Equal(t, "Refunds", r.Str("addText.title"))
		require.Contains(t, []string{"PENDING", "PROCESSING", "COMPLETED"}, r.Str("addText.status"), "queued; a worker may have started it before the answer")
		require.Equal(t, a.CompanyID.String(), r.Str("addText.companyID"))

		require.Equal(t, []string{"PENDING", "PROCESSING", "COMPLETED"}, statuses(t, sub, "resourceEvents", id))
		r = waitResource(t, e, a.AdminToken, id, "COMPLETED")
		require.EqualValues(t, 1, r.Get("resource.progress"))
		require.Nil(t, r.Get("resource.error"), "no error is null, not \"\"")
		require.Contains(t, string(r.Data), `"error":null`)
		n := chunkCount(t, d, id)
		require.Positive(t, n)
		require.EqualValues(t, n, r.Get("resource.chunkCount"))
		require.True(t, found(t, e, a.CompanyID, id, "can I return a zanzibarite kettle?"))

		// The connection lists it; an agent reads it too.
		r = e.Do(a.AgentToken, `{ resources(where: {status: COMPLETED, isActive: true}) { totalCount edges { node { id } } } }`, nil).OK(t)
		require.EqualValues(t, 1, r.Get("resources.totalCount"))

		update := `mutation($id: ID!, $in: UpdateResourceInput!) { updateResource(id: $id, input: $in) { id title isActive status } }`
		r = e.Do(a.AdminToken, update, map[string]any{"id": id.String(), "in": map[string]any{"isActive": false}}).OK(t)
		require.Equal(t, false, r.Get("updateResource.isActive"))
		require.False(t, found(t, e, a.CompanyID, id, "can I return a zanzibarite kettle?"), "an inactive resource is never searched")
		require.Equal(t, n, chunkCount(t, d, id), "its chunks are kept")

		r = e.Do(a.AdminToken, update, map[string]any{"id": id.String(), "in": map[string]any{"isActive": true, "title": "Kettle refunds"}}).OK(t)
		require.Equal(t, true, r.Get("updateResource.isActive"))
		require.Equal(t, "Kettle refunds", r.Str("updateResource.title"))
		require.True(t, found(t, e, a.CompanyID, id, "can I return a zanzibarite kettle?"), "reactivated: searchable again")
		r = e.Do(a.AdminToken, update, map[string]any{"id": id.String(), "in": map[string]any{"title": " "}})
		require.Equal(t, "BAD_USER_INPUT", r.Code())

		// Reprocessing runs the job again, followed through resourceEvents(id).
		one, err := e.Subscribe(a.AdminToken, `subscription($id: ID) { resourceEvents(id: $id) { id status } }`, map[string]any{"id": id.String()})
		require.NoError(t, err)
		e.WaitSubscribers(ingest.Topic(a.CompanyID), 2)
		r = e.Do(a.AdminToken, `mutation($id: ID!) { reprocessResource(id: $id) { id status } }`, map[string]any{"id": id.String()}).OK(t)
		require.Contains(t, []string{"PENDING", "PROCESSING", "COMPLETED"}, r.Str("reprocessResource.status"), "queued; a worker may have started it before the answer")
		require.Equal(t, []string{"PENDING", "PROCESSING", "COMPLETED"}, statuses(t, one, "resourceEvents", id))
		require.Equal(t, n, chunkCount(t, d, id), "reprocessing replaces the chunks")
		require.True(t, found(t, e, a.CompanyID, id, "can I return a zanzibarite kettle?"))

		r = e.Do(a.AdminToken, `mutation($id: ID!) { deleteResource(id: $id) }`, map[string]any{"id": id.String()}).OK(t)
		require.Equal(t, true, r.Get("deleteResource"))
		require.Zero(t, chunkCount(t, d, id))
		exists, err := d.Client.Resource.Query().Where(resource.ID(id)).Exist(apitest.Bypass())
		require.NoError(t, err)
		require.False(t, exists)
		require.False(t, found(t, e, a.CompanyID, id, "can I return a zanzibarite kettle?"))
		r = e.Do(a.AdminToken, resourceQuery, map[string]any{"id": id.String()}).OK(t)
		require.Nil(t, r.Get("resource"))
		r = e.Do(a.AdminToken, `mutation($id: ID!) { deleteResource(id: $id) }`, map[string]any{"id": id.String()})
		require.Equal(t, "NOT_FOUND", r.Code())
	})
}

// Bad input is refused with BAD_USER_INPUT and writes nothing; callers
// who may not manage knowledge are refused.
func TestAddTextBadInput(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("alpha")
		for name, in := range map[string]map[string]any{
			"empty title":    {"title": "", "content": "Some text."},
			"blank title":    {"title": "   ", "content": "Some text."},
			"long title":     {"title": strings.Repeat("t", 501), "content": "Some text."},
			"two-line title": {"title": "a\nb", "content": "Some text."},
			"empty content":  {"title": "Empty", "content": ""},
			"blank content":  {"title": "Blank", "content": " \n\t "},
			"2 MB content":   {"title": "Huge", "content": strings.Repeat("All work and no play. ", 2<<20/22+1)},
			"NUL in content": {"title": "Binary", "content": "a\x00b"},
		} {
			r := e.Do(a.AdminToken, addTextMutation, map[string]any{"in": in})
			require.Equal(t, "BAD_USER_INPUT", r.Code(), "%s: %v", name, r.Errors)
			require.Nil(t, r.Get("addText"), name)
		}
		r := e.Do(a.AgentToken, addTextMutation, map[string]any{"in": map[string]any{"title": "By agent", "content": "Text."}})
		require.Equal(t, "FORBIDDEN", r.Code(), "agents do not manage knowledge")
		r = e.Do("", addTextMutation, map[string]any{"in": map[string]any{"title": "Anonymous", "content": "Text."}})
		require.Equal(t, "UNAUTHENTICATED", r.Code())

		n, err := d.Client.Resource.Query().Count(apitest.Bypass())
		require.NoError(t, err)
		require.Zero(t, n, "no resource row was written")

		// The limit itself is accepted, by an API key with knowledge:write.
		r = e.Do(a.APIKey, addTextMutation, map[string]any{"in": map[string]any{"title": "Exactly 1 MB",
			"content": strings.Repeat("x", ingest.MaxTextBytes-10) + " The end."}}).OK(t)
		waitResource(t, e, a.AdminToken, uuid.MustParse(r.Str("addText.id")), "COMPLETED")
	})
}

// The resource and its job are written in one transaction: when the job
// cannot be enqueued, no resource row is left behind.
func TestAddTextEnqueuesInSameTransaction(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		e := apitest.New(t, d)
		a := e.Register("alpha")
		ctx := context.Background()
		_, err := d.SQL.ExecContext(ctx, `ALTER TABLE river_job RENAME TO river_job_away`)
		require.NoError(t, err)
		r := e.Do(a.AdminToken, addTextMutation, map[string]any{"in": map[string]any{"title": "Lost", "content": "Never stored."}})
		require.Equal(t, "INTERNAL_SERVER_ERROR", r.Code())
		n, err := d.Client.Resource.Query().Count(apitest.Bypass())
		require.NoError(t, err)
		require.Zero(t, n, "a failed enqueue leaves no resource")

		_, err = d.SQL.ExecContext(ctx, `ALTER TABLE river_job_away RENAME TO river_job`)
		require.NoError(t, err)
		r = e.Do(a.AdminToken, addTextMutation, map[string]any{"in": map[string]any{"title": "Kept", "content": "Stored and processed."}}).OK(t)
		waitResource(t, e, a.AdminToken, uuid.MustParse(r.Str("addText.id")), "COMPLETED")
	})
}
