package graph

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/google/uuid"

	"concierge/assistant"
	"concierge/ent"
	"concierge/fault"
	"concierge/graph/model"
	"concierge/ingest"
	"concierge/realtime"
	"concierge/viewer"
)

func (r *Resolver) resource(ctx context.Context, id uuid.UUID) (*ent.Resource, error) {
	res, err := r.Client.Resource.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return res, err
}

// resourceChunks is one page of the resource's chunks, in order.
func (r *Resolver) resourceChunks(ctx context.Context, res *ent.Resource, offset, limit *int) (*model.ChunkPage, error) {
	cs, total, err := r.Ingest.Chunks(ctx, res.ID, offset, limit)
	if err != nil {
		return nil, err
	}
	return &model.ChunkPage{TotalCount: total, Chunks: cs}, nil
}

// resourceEvents streams status and progress changes of one resource or
// of all the viewer's company's resources (a super admin names the
// resource). The topic is derived from the viewer (and the resource's
// company, for a super admin); each resource is reloaded with the
// subscriber's own viewer, so privacy decides what it sees.
func (r *Resolver) resourceEvents(ctx context.Context, id *uuid.UUID) (<-chan *ent.Resource, error) {
	v := viewerOf(ctx)
	of := uuid.Nil
	if id != nil && v.Kind != viewer.KindNone {
		res, err := r.Client.Resource.Get(ctx, *id)
		if ent.IsNotFound(err) {
			return nil, fault.NotFound("resource")
		}
		if err != nil {
			return nil, err
		}
		of = res.CompanyID
	}
	topic, err := realtime.CompanyTopic(v, realtime.FeedResources, of)
	if err != nil {
		return nil, err
	}
	if id == nil {
		if _, err := r.Client.Resource.Query().Limit(1).All(ctx); err != nil {
			return nil, err // the viewer may not read resources at all
		}
	}
	return realtime.Stream(ctx, realtime.Source[*ent.Resource]{
		Broker: r.Broker, Topic: topic,
		Live: func(ctx context.Context, batch [][]byte, send func(*ent.Resource) bool) bool {
			var e ingest.Event
			if err := json.Unmarshal(batch[0], &e); err != nil {
				slog.WarnContext(ctx, "bad resource event", slog.Any("err", err))
				return true
			}
			if e.Deleted || (id != nil && e.ResourceID != *id) {
				return true
			}
			res, err := r.Client.Resource.Get(ctx, e.ResourceID)
			if err != nil {
				return true // gone meanwhile, or not visible to this viewer
			}
			// The event's own status and progress: a fast job may have
			// moved on since, and every step is reported.
			res.Status, res.Progress = e.Status, e.Progress
			return send(res)
		},
	})
}

// chunkLeftOut is what of a chunk no answer quotes (never nil).
func (r *Resolver) chunkLeftOut(c *ent.Chunk) []string { return leftOut(c.Text) }

// leftOut is what of a passage's text no answer quotes (never nil).
func leftOut(text string) []string {
	left := assistant.LeftOut(text)
	if left == nil {
		left = []string{}
	}
	return left
}
