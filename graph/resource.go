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
// resource). The topic is keyed by company; each resource is reloaded with
// the subscriber's own viewer, so privacy decides what it sees.
func (r *Resolver) resourceEvents(ctx context.Context, id *uuid.UUID) (<-chan *ent.Resource, error) {
	v := viewerOf(ctx)
	var cid uuid.UUID
	switch {
	case v.Kind == viewer.KindNone:
		return nil, fault.Unauthenticated("log in first")
	case v.Kind == viewer.KindVisitor:
		return nil, fault.Forbidden("visitors do not follow resources")
	case v.SuperAdmin():
		if id == nil {
			return nil, fault.Invalid("id", "id is required for super admins")
		}
	default:
		cid, _ = v.Tenant()
	}
	if id != nil {
		res, err := r.Client.Resource.Get(ctx, *id)
		if ent.IsNotFound(err) {
			return nil, fault.NotFound("resource")
		}
		if err != nil {
			return nil, err
		}
		cid = res.CompanyID
	} else if _, err := r.Client.Resource.Query().Limit(1).All(ctx); err != nil {
		return nil, err // the viewer may not read resources at all
	}
	sub, err := r.Broker.Subscribe(ctx, ingest.Topic(cid))
	if err != nil {
		return nil, err
	}
	out := make(chan *ent.Resource, 1)
	go func() {
		defer close(out)
		defer sub.Close()
		for payload := range sub.C() {
			var e ingest.Event
			if err := json.Unmarshal(payload, &e); err != nil {
				slog.WarnContext(ctx, "bad resource event", slog.Any("err", err))
				continue
			}
			if e.Deleted || (id != nil && e.ResourceID != *id) {
				continue
			}
			res, err := r.Client.Resource.Get(ctx, e.ResourceID)
			if err != nil {
				continue // gone meanwhile, or not visible to this viewer
			}
			// The event's own status and progress: a fast job may have
			// moved on since, and every step is reported.
			res.Status, res.Progress = e.Status, e.Progress
			select {
			case out <- res:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
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
