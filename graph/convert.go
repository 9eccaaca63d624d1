package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"

	"concierge/account"
	"concierge/auth"
	"concierge/ent/apikey"
	"concierge/ent/chunk"
	"concierge/ent/company"
	"concierge/ent/conversation"
	"concierge/ent/message"
	"concierge/ent/resource"
	"concierge/ent/superadmin"
	"concierge/ent/user"
	"concierge/ent/visitor"
	"concierge/fault"
	"concierge/graph/model"
	"concierge/viewer"
)

func authPayload(s *auth.Session) *model.AuthPayload {
	return &model.AuthPayload{
		Token: s.Token, ExpiresAt: s.ExpiresAt, RefreshToken: s.RefreshToken,
		User: s.User, SuperAdmin: s.SuperAdmin, Company: s.Company,
	}
}

func upload(u *graphql.Upload) *account.Upload {
	if u == nil {
		return nil
	}
	return &account.Upload{File: u.File, Filename: u.Filename, Size: u.Size}
}

// nodeType finds which entity an id belongs to, asking each table in turn
// with the caller's viewer, so an id the viewer may not see is NOT_FOUND.
func (r *Resolver) nodeType(ctx context.Context, id uuid.UUID) (string, error) {
	checks := []struct {
		table string
		exist func() (bool, error)
	}{
		{company.Table, func() (bool, error) { return r.Client.Company.Query().Where(company.ID(id)).Exist(ctx) }},
		{user.Table, func() (bool, error) { return r.Client.User.Query().Where(user.ID(id)).Exist(ctx) }},
		{conversation.Table, func() (bool, error) { return r.Client.Conversation.Query().Where(conversation.ID(id)).Exist(ctx) }},
		{message.Table, func() (bool, error) { return r.Client.Message.Query().Where(message.ID(id)).Exist(ctx) }},
		{resource.Table, func() (bool, error) { return r.Client.Resource.Query().Where(resource.ID(id)).Exist(ctx) }},
		{visitor.Table, func() (bool, error) { return r.Client.Visitor.Query().Where(visitor.ID(id)).Exist(ctx) }},
		{apikey.Table, func() (bool, error) { return r.Client.APIKey.Query().Where(apikey.ID(id)).Exist(ctx) }},
		{superadmin.Table, func() (bool, error) { return r.Client.SuperAdmin.Query().Where(superadmin.ID(id)).Exist(ctx) }},
	}
	for _, c := range checks {
		ok, err := c.exist()
		if err != nil && !isDenied(err) {
			return "", err
		}
		if ok {
			return c.table, nil
		}
	}
	_ = chunk.Table
	return "", fault.NotFound("node")
}

func viewerOf(ctx context.Context) *viewer.Viewer {
	if v := viewer.FromContext(ctx); v != nil {
		return v
	}
	return &viewer.Viewer{}
}
