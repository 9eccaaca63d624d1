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
// admin, of the company asked for). The topic is keyed by company, and each
// event's entities are loaded with the subscriber's own viewer.
func (r *Resolver) companyEvents(ctx context.Context, companyID *uuid.UUID) (<-chan *model.CompanyEvent, error) {
	v := viewerOf(ctx)
	var cid uuid.UUID
	switch {
	case v.Staff():
		cid = v.CompanyID
		if companyID != nil && *companyID != cid {
			return nil, fault.NotFound("company")
		}
	case v.SuperAdmin():
		if companyID == nil {
			return nil, fault.Invalid("companyId", "companyId is required for super admins")
		}
		if _, err := r.Client.Company.Get(ctx, *companyID); err != nil {
			return nil, err
		}
		cid = *companyID
	case v.Kind == viewer.KindNone:
		return nil, fault.Unauthenticated("log in first")
	default:
		return nil, fault.Forbidden("only company users follow company events")
	}
	sub, err := r.Broker.Subscribe(ctx, account.CompanyTopic(cid))
	if err != nil {
		return nil, err
	}
	// No goroutine while the company is quiet: the broker wakes a worker
	// for what is queued, and the transport is told of what it sends.
	st := &companyStream{r: r, ctx: ctx, sub: sub, out: make(chan *model.CompanyEvent, 1), waker: realtime.WakerFrom(ctx)}
	st.waker.Attach() // the channel is returned as is
	sub.Notify(realtime.NewWorker(st.run).Wake)
	return st.out, nil
}

// companyStream is one subscriber's stream of company events.
type companyStream struct {
	r     *Resolver
	ctx   context.Context
	sub   *realtime.Subscription
	out   chan *model.CompanyEvent
	waker *realtime.Waker // nil when the transport does not use one
}

// run sends what is queued; false once the stream has ended.
func (st *companyStream) run() bool {
	for {
		select {
		case payload, ok := <-st.sub.C():
			if ok && st.send(payload) {
				continue
			}
			st.sub.Close()
			close(st.out)
			st.waker.Ready()
			return false
		default:
			return true // until the next wake-up
		}
	}
}

// send loads one event's entities with the subscriber's viewer and sends
// it; false ends the stream.
func (st *companyStream) send(payload []byte) bool {
	ctx, r := st.ctx, st.r
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
	select {
	case st.out <- ev:
		st.waker.Ready()
		return true
	case <-ctx.Done():
		return false
	}
}
