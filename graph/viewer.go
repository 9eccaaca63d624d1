package graph

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/google/uuid"

	"concierge/account"
	"concierge/ent"
	"concierge/fault"
	"concierge/graph/model"
	"concierge/realtime"
	"concierge/viewer"
)

func (r *Resolver) me(ctx context.Context) (*model.Viewer, error) {
	v := viewerOf(ctx)
	out := &model.Viewer{Kind: "ANONYMOUS"}
	var err error
	switch v.Kind {
	case viewer.KindUser:
		out.Kind = "USER"
		out.User, err = r.Client.User.Get(ctx, v.ID)
	case viewer.KindSuperAdmin:
		out.Kind = "SUPER_ADMIN"
		out.SuperAdmin, err = r.Client.SuperAdmin.Get(ctx, v.ID)
	case viewer.KindVisitor:
		out.Kind = "VISITOR"
		out.Visitor, err = r.Client.Visitor.Get(ctx, v.ID)
	case viewer.KindAPIKey:
		out.Kind = "API_KEY"
		out.APIKey, err = r.Client.APIKey.Get(ctx, v.ID)
	}
	if err != nil {
		return nil, err
	}
	if cid, ok := v.Tenant(); ok && v.Kind != viewer.KindSystem {
		if out.Company, err = r.Client.Company.Get(ctx, cid); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (r *Resolver) company(ctx context.Context, id *uuid.UUID) (*ent.Company, error) {
	v := viewerOf(ctx)
	if id == nil {
		cid, ok := v.Tenant()
		if !ok {
			if v.SuperAdmin() {
				return nil, fault.Invalid("id", "id is required for super admins")
			}
			return nil, fault.Unauthenticated("log in first")
		}
		id = &cid
	}
	c, err := r.Client.Company.Get(ctx, *id)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return c, err
}

// companyEvents streams changes of the viewer's company (or, for a super
// admin, of the company asked for). The topic is derived from the viewer,
// and each event's entities are loaded with the subscriber's own viewer.
func (r *Resolver) companyEvents(ctx context.Context, companyID *uuid.UUID) (<-chan *model.CompanyEvent, error) {
	v := viewerOf(ctx)
	of := uuid.Nil
	if companyID != nil {
		// The company asked for, as the viewer sees it (NOT_FOUND for
		// another tenant's).
		if _, err := r.Client.Company.Get(ctx, *companyID); ent.IsNotFound(err) {
			return nil, fault.NotFound("company")
		} else if err != nil {
			return nil, err
		}
		of = *companyID
	}
	topic, err := realtime.CompanyTopic(v, realtime.FeedCompany, of)
	if err != nil {
		return nil, err
	}
	return realtime.Stream(ctx, realtime.Source[*model.CompanyEvent]{
		Broker: r.Broker, Topic: topic,
		Live: func(ctx context.Context, batch [][]byte, send func(*model.CompanyEvent) bool) bool {
			return r.companyEvent(ctx, batch[0], send)
		},
	})
}

// companyEvent loads one event's entities with the subscriber's viewer and
// sends it; false ends the stream.
func (r *Resolver) companyEvent(ctx context.Context, payload []byte, send func(*model.CompanyEvent) bool) bool {
	var e account.Event
	if err := json.Unmarshal(payload, &e); err != nil {
		slog.WarnContext(ctx, "bad company event", slog.Any("err", err))
		return true
	}
	ev := &model.CompanyEvent{Kind: model.CompanyEventKind(e.Kind), AgentID: e.AgentID}
	var err error
	if e.Kind == account.EventAgentRemoved {
		ev.Agent = nil
	} else if e.AgentID != nil {
		if ev.Agent, err = r.Client.User.Get(ctx, *e.AgentID); err != nil {
			return true // gone meanwhile, or not visible to this viewer
		}
	}
	if ev.Company, err = r.Client.Company.Get(ctx, e.CompanyID); err != nil {
		return false // the company is gone or the viewer lost access
	}
	return send(ev)
}
