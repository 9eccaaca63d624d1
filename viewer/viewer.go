// Package viewer says who is calling: the principal of one request or job
// (its kind, company, role and scopes) and how it rides on a context. It is a
// leaf: it imports nothing of this module, so that the data layer's privacy
// rules (ent/schema) and everything above them (auth, the resolvers, the
// workers) can all read the same viewer, as ent's privacytenant example
// does. How a caller proves who it is lives in package auth.
package viewer

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/google/uuid"
)

// Kind says what sort of principal a Viewer is.
type Kind int

// The kinds of viewer. KindNone is the zero value and is denied everything.
const (
	KindNone Kind = iota
	KindSuperAdmin
	KindUser
	KindAPIKey
	KindVisitor
	KindSystem
	// KindScheduler is the re-sync scheduler scanning every company for
	// resources whose re-sync is due. It belongs to no company: privacy
	// lets it read only those resources (id, company, schedule) and write
	// nothing; it acts on each one as the system viewer of its company.
	KindScheduler
)

func (k Kind) String() string {
	switch k {
	case KindSuperAdmin:
		return "super_admin"
	case KindUser:
		return "user"
	case KindAPIKey:
		return "api_key"
	case KindVisitor:
		return "visitor"
	case KindSystem:
		return "system"
	case KindScheduler:
		return "scheduler"
	default:
		return "none"
	}
}

// Roles of company users; they match the ent enum values of user.Role.
const (
	RoleAgent        = "AGENT"
	RoleCompanyAdmin = "COMPANY_ADMIN"
)

// Scope is one thing an API key may do. Its value is how the database
// stores it ("knowledge:read"); Name is how the API spells it
// (KNOWLEDGE_READ, a value of the GraphQL enum APIKeyScope, which
// MarshalGQL and UnmarshalGQL translate).
type Scope string

// API key scopes.
const (
	ScopeKnowledgeRead      Scope = "knowledge:read"
	ScopeKnowledgeWrite     Scope = "knowledge:write"
	ScopeConversationsRead  Scope = "conversations:read"
	ScopeConversationsWrite Scope = "conversations:write"
	ScopeAgentsRead         Scope = "agents:read"
)

// AllScopes lists every scope an API key may carry.
var AllScopes = []Scope{ScopeKnowledgeRead, ScopeKnowledgeWrite, ScopeConversationsRead, ScopeConversationsWrite, ScopeAgentsRead}

var scopeNames = map[Scope]string{
	ScopeKnowledgeRead:      "KNOWLEDGE_READ",
	ScopeKnowledgeWrite:     "KNOWLEDGE_WRITE",
	ScopeConversationsRead:  "CONVERSATIONS_READ",
	ScopeConversationsWrite: "CONVERSATIONS_WRITE",
	ScopeAgentsRead:         "AGENTS_READ",
}

// Name is the scope's value in the API's APIKeyScope enum.
func (s Scope) Name() string {
	if n, ok := scopeNames[s]; ok {
		return n
	}
	return string(s)
}

// MarshalGQL writes the scope as its APIKeyScope enum value.
func (s Scope) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(s.Name()))
}

// UnmarshalGQL reads an APIKeyScope enum value (GraphQL validation has
// refused any other value before).
func (s *Scope) UnmarshalGQL(v any) error {
	name, ok := v.(string)
	if !ok {
		return fmt.Errorf("APIKeyScope must be a string, not %T", v)
	}
	for sc, n := range scopeNames {
		if n == name {
			*s = sc
			return nil
		}
	}
	return fmt.Errorf("%q is not an APIKeyScope", name)
}

// MissingScopeError says that an API key lacks the scope an operation
// needs. The privacy rules deny with it (wrapped in privacy.Deny), and so
// do the few checks outside them; the API reports it as FORBIDDEN with the
// scope's name in extensions.scope.
type MissingScopeError struct{ Scope Scope }

func (e *MissingScopeError) Error() string {
	return "this API key lacks the scope " + e.Scope.Name()
}

// Viewer is the authenticated caller of one request or job.
type Viewer struct {
	Kind Kind
	// ID is the user, super admin, API key or visitor id.
	ID uuid.UUID
	// CompanyID is the tenant of every kind but KindSuperAdmin.
	CompanyID uuid.UUID
	// Role is set for KindUser.
	Role string
	// Scopes is set for KindAPIKey.
	Scopes []Scope
	// ConversationID is the one conversation a KindVisitor may use.
	ConversationID uuid.UUID
	// Name is a KindVisitor's name, or a KindUser's full name, as it was
	// when the credential was checked (empty for viewers made otherwise).
	Name string
	// Session is the login session (refresh token family) of a user or
	// super admin; logging out revokes it.
	Session uuid.UUID
}

// SuperAdmin reports whether the viewer runs the platform.
func (v *Viewer) SuperAdmin() bool { return v != nil && v.Kind == KindSuperAdmin }

// Tenant returns the viewer's company, if it is bound to one.
func (v *Viewer) Tenant() (uuid.UUID, bool) {
	if v == nil || v.Kind == KindNone || v.Kind == KindSuperAdmin || v.CompanyID == uuid.Nil {
		return uuid.Nil, false
	}
	return v.CompanyID, true
}

// CompanyAdmin reports whether the viewer is an admin user of its company.
func (v *Viewer) CompanyAdmin() bool {
	return v != nil && v.Kind == KindUser && v.Role == RoleCompanyAdmin
}

// Staff reports whether the viewer is a user (agent or admin) of its company.
func (v *Viewer) Staff() bool { return v != nil && v.Kind == KindUser }

// System reports whether the viewer is a worker acting for one company.
func (v *Viewer) System() bool { return v != nil && v.Kind == KindSystem }

// HasScope reports whether an API key viewer carries scope.
func (v *Viewer) HasScope(scope Scope) bool {
	return v != nil && v.Kind == KindAPIKey && slices.Contains(v.Scopes, scope)
}

type ctxKey struct{}

// NewContext returns ctx carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer of ctx, or nil.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(ctxKey{}).(*Viewer)
	return v
}

// SystemContext returns ctx acting as the system viewer of one company. Only
// background workers and server-side flows that act for a known company (a
// visitor starting a conversation through a widget key) use it; grep for it.
func SystemContext(ctx context.Context, companyID uuid.UUID) context.Context {
	return NewContext(ctx, System(companyID))
}

// System returns the system viewer of one company (see SystemContext).
// Publishers of realtime events derive their topics from it.
func System(companyID uuid.UUID) *Viewer {
	return &Viewer{Kind: KindSystem, CompanyID: companyID}
}

// SchedulerContext returns ctx acting as the re-sync scheduler (see
// KindScheduler). Only the ingest service's periodic scan uses it.
func SchedulerContext(ctx context.Context) context.Context {
	return NewContext(ctx, &Viewer{Kind: KindScheduler})
}
