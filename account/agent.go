package account

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"concierge/audit"
	"concierge/auth"
	"concierge/db"
	"concierge/ent"
	"concierge/ent/apikey"
	"concierge/ent/refreshtoken"
	"concierge/ent/user"
	"concierge/fault"
	"concierge/realtime"
	"concierge/viewer"
)

// Event kinds published on a company's "company" topic.
const (
	EventCompanyUpdated = "COMPANY_UPDATED"
	EventAgentCreated   = "AGENT_CREATED"
	EventAgentUpdated   = "AGENT_UPDATED"
	EventAgentRemoved   = "AGENT_REMOVED"
)

// Event is a change of a company or its team.
type Event struct {
	Kind      string     `json:"kind"`
	CompanyID uuid.UUID  `json:"companyId"`
	AgentID   *uuid.UUID `json:"agentId,omitempty"`
}

// CompanyTopic is the realtime topic of a company's own changes, as its
// publisher (the system viewer of the company) derives it.
func CompanyTopic(companyID uuid.UUID) realtime.Topic {
	t, _ := realtime.CompanyTopic(viewer.System(companyID), realtime.FeedCompany, uuid.Nil)
	return t // zero (refused by the broker) only for uuid.Nil
}

func (s *Service) publish(ctx context.Context, companyID uuid.UUID, e Event) {
	if s.broker == nil {
		return
	}
	if err := realtime.PublishJSON(context.WithoutCancel(ctx), s.broker, CompanyTopic(companyID), e); err != nil {
		slog.WarnContext(ctx, "publishing company event", slog.Any("err", err))
	}
}

// AgentInput is what createAgent and updateAgent take.
type AgentInput struct {
	Email, FullName, Password *string
	Role                      *user.Role
	IsActive                  *bool
}

func requireCompanyAdmin(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil || v.Kind == viewer.KindNone:
		return nil, fault.Unauthenticated("log in first")
	case v.CompanyAdmin():
		return v, nil
	case v.SuperAdmin():
		return nil, fault.Forbidden("agents are managed by their company's admins")
	default:
		return nil, fault.Forbidden("only company admins manage agents")
	}
}

// CreateAgent adds an agent or company admin to the viewer's company.
func (s *Service) CreateAgent(ctx context.Context, in AgentInput) (*ent.User, error) {
	v, err := requireCompanyAdmin(ctx)
	if err != nil {
		return nil, err
	}
	email, err := cleanEmail("email", deref(in.Email))
	if err != nil {
		return nil, err
	}
	name, err := cleanName("fullName", deref(in.FullName), 200)
	if err != nil {
		return nil, err
	}
	if err := auth.CheckPasswordPolicy(deref(in.Password)); err != nil {
		return nil, fault.Invalid("password", "%v", err)
	}
	role := user.RoleAGENT
	if in.Role != nil {
		if err := user.RoleValidator(*in.Role); err != nil {
			return nil, fault.Invalid("role", "unknown role %q", *in.Role)
		}
		role = *in.Role
	}
	if err := s.emailFree(ctx, email); err != nil {
		return nil, err
	}
	hash, err := auth.HashPassword(*in.Password)
	if err != nil {
		return nil, err
	}
	u, err := s.client.User.Create().
		SetCompanyID(v.CompanyID).SetEmail(email).SetFullName(name).
		SetHashedPassword(hash).SetRole(role).
		Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, fault.Conflict("email", "an account with this email already exists")
	}
	if err != nil {
		return nil, err
	}
	s.publish(ctx, u.CompanyID, Event{Kind: EventAgentCreated, CompanyID: u.CompanyID, AgentID: &u.ID})
	s.audit(ctx, u.CompanyID, "agent.create", "user", u.ID, "role: "+string(u.Role))
	return u, nil
}

// emailFree checks global uniqueness of a user email. The check needs to
// see every company's users, so it is an explicit, read-only bypass that
// reveals nothing but "taken".
func (s *Service) emailFree(ctx context.Context, email string) error {
	taken, err := s.client.User.Query().Where(user.Email(email)).Exist(bypassRead(ctx))
	if err != nil {
		return err
	}
	if taken {
		return fault.Conflict("email", "an account with this email already exists")
	}
	return nil
}

// UpdateAgent changes an agent of the viewer's company. Changing the
// password or deactivating ends the agent's sessions.
func (s *Service) UpdateAgent(ctx context.Context, id uuid.UUID, in AgentInput) (*ent.User, error) {
	if _, err := requireCompanyAdmin(ctx); err != nil {
		return nil, err
	}
	var u *ent.User
	err := db.WithTx(ctx, s.client, func(tx *ent.Client) error {
		old, err := tx.User.Get(ctx, id)
		if err != nil {
			return err
		}
		upd := tx.User.UpdateOneID(id)
		endSessions := false
		if in.Email != nil {
			e, err := cleanEmail("email", *in.Email)
			if err != nil {
				return err
			}
			if e != old.Email {
				if err := s.emailFree(ctx, e); err != nil {
					return err
				}
				upd.SetEmail(e)
			}
		}
		if in.FullName != nil {
			n, err := cleanName("fullName", *in.FullName, 200)
			if err != nil {
				return err
			}
			upd.SetFullName(n)
		}
		if in.Password != nil {
			if err := auth.CheckPasswordPolicy(*in.Password); err != nil {
				return fault.Invalid("password", "%v", err)
			}
			h, err := auth.HashPassword(*in.Password)
			if err != nil {
				return err
			}
			upd.SetHashedPassword(h)
			endSessions = true
		}
		demoted := false
		if in.Role != nil {
			if err := user.RoleValidator(*in.Role); err != nil {
				return fault.Invalid("role", "unknown role %q", *in.Role)
			}
			upd.SetRole(*in.Role)
			demoted = old.Role == user.RoleCOMPANY_ADMIN && *in.Role != user.RoleCOMPANY_ADMIN
		}
		if in.IsActive != nil {
			upd.SetIsActive(*in.IsActive)
			if !*in.IsActive {
				endSessions = true
				demoted = demoted || old.Role == user.RoleCOMPANY_ADMIN
			}
		}
		if demoted {
			if err := keepOneAdmin(ctx, tx, old); err != nil {
				return err
			}
		}
		if u, err = upd.Save(ctx); err != nil {
			return err
		}
		if endSessions {
			return s.auth.RevokeUser(ctx, tx, id)
		}
		return nil
	})
	if ent.IsConstraintError(err) {
		return nil, fault.Conflict("email", "an account with this email already exists")
	}
	if err != nil {
		return nil, err
	}
	u = u.Unwrap() // from the finished transaction: its edges load on the pool
	s.publish(ctx, u.CompanyID, Event{Kind: EventAgentUpdated, CompanyID: u.CompanyID, AgentID: &u.ID})
	s.audit(ctx, u.CompanyID, "agent.update", "user", u.ID, audit.Fields(set(in.Email, "email"), set(in.FullName, "fullName"),
		set(in.Password, "password"), set(in.Role, "role"), set(in.IsActive, "isActive")))
	return u, nil
}

// keepOneAdmin refuses a change that would leave the company without an
// active company admin.
func keepOneAdmin(ctx context.Context, tx *ent.Client, u *ent.User) error {
	others, err := tx.User.Query().Where(
		user.RoleEQ(user.RoleCOMPANY_ADMIN), user.IsActive(true), user.IDNEQ(u.ID),
	).Exist(ctx)
	if err != nil {
		return err
	}
	if !others {
		return fault.Invalid("id", "a company needs at least one active company admin")
	}
	return nil
}

// RemoveAgent deletes an agent of the viewer's company; their messages
// stay, without a sender.
func (s *Service) RemoveAgent(ctx context.Context, id uuid.UUID) error {
	if _, err := requireCompanyAdmin(ctx); err != nil {
		return err
	}
	var companyID uuid.UUID
	err := db.WithTx(ctx, s.client, func(tx *ent.Client) error {
		u, err := tx.User.Get(ctx, id)
		if err != nil {
			return err
		}
		companyID = u.CompanyID
		if u.Role == user.RoleCOMPANY_ADMIN {
			if err := keepOneAdmin(ctx, tx, u); err != nil {
				return err
			}
		}
		if _, err := tx.RefreshToken.Delete().Where(refreshtoken.UserID(id)).Exec(bypassRead(ctx)); err != nil {
			return err
		}
		return tx.User.DeleteOneID(id).Exec(ctx)
	})
	if err != nil {
		return err
	}
	s.publish(ctx, companyID, Event{Kind: EventAgentRemoved, CompanyID: companyID, AgentID: &id})
	s.audit(ctx, companyID, "agent.remove", "user", id, "")
	return nil
}

// CreateAPIKey creates a key for the viewer's company and returns it with
// its secret, which is never shown again.
func (s *Service) CreateAPIKey(ctx context.Context, name string, scopes []viewer.Scope) (*ent.APIKey, string, error) {
	v, err := requireCompanyAdmin(ctx)
	if err != nil {
		return nil, "", err
	}
	if name, err = cleanName("name", name, 200); err != nil {
		return nil, "", err
	}
	if len(scopes) == 0 {
		return nil, "", fault.Invalid("scopes", "at least one scope is required")
	}
	var clean []viewer.Scope
	for _, sc := range scopes {
		// The API's enum admits only known scopes; other callers may not
		// slip in another.
		if !slices.Contains(viewer.AllScopes, sc) {
			return nil, "", fault.Invalid("scopes", "unknown scope %q", sc)
		}
		if !slices.Contains(clean, sc) {
			clean = append(clean, sc)
		}
	}
	key, prefix, hash := auth.NewAPIKey()
	k, err := s.client.APIKey.Create().
		SetCompanyID(v.CompanyID).SetName(name).SetPrefix(prefix).SetHash(hash).
		SetScopes(clean).SetCreatedByID(v.ID).
		Save(ctx)
	if err != nil {
		return nil, "", err
	}
	s.audit(ctx, k.CompanyID, "apikey.create", "api_key", k.ID, "scopes: "+joinScopes(clean))
	return k, key, nil
}

// RevokeAPIKey revokes a key of the viewer's company; it stops working at once.
func (s *Service) RevokeAPIKey(ctx context.Context, id uuid.UUID) (*ent.APIKey, error) {
	if _, err := requireCompanyAdmin(ctx); err != nil {
		return nil, err
	}
	k, err := s.client.APIKey.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.RevokedAt != nil {
		return k, nil
	}
	k, err = s.client.APIKey.UpdateOneID(id).SetRevokedAt(time.Now()).Save(ctx)
	if err == nil {
		s.audit(ctx, k.CompanyID, "apikey.revoke", "api_key", k.ID, "")
	}
	return k, err
}

// APIKeys lists the viewer's company's keys, newest first.
func (s *Service) APIKeys(ctx context.Context) ([]*ent.APIKey, error) {
	if err := requireManager(ctx); err != nil {
		return nil, err
	}
	return s.client.APIKey.Query().Order(ent.Desc(apikey.FieldCreatedAt)).All(ctx)
}

// joinScopes lists scopes as the database stores them, as audit entries
// always have.
func joinScopes(scopes []viewer.Scope) string {
	names := make([]string, len(scopes))
	for i, sc := range scopes {
		names[i] = string(sc)
	}
	return strings.Join(names, ", ")
}
