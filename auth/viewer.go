// Package auth holds who is calling (the viewer), how callers prove it
// (passwords, JWTs, refresh tokens, API keys, visitor tokens) and the login
// rate limiter. It does not import the data layer: ent's privacy rules import
// this package to read the viewer.
package auth

import (
	"context"
	"slices"

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
	default:
		return "none"
	}
}

// Roles of company users; they match the ent enum values of user.Role.
const (
	RoleAgent        = "AGENT"
	RoleCompanyAdmin = "COMPANY_ADMIN"
)

// API key scopes.
const (
	ScopeKnowledgeRead      = "knowledge:read"
	ScopeKnowledgeWrite     = "knowledge:write"
	ScopeConversationsRead  = "conversations:read"
	ScopeConversationsWrite = "conversations:write"
	ScopeAgentsRead         = "agents:read"
)

// AllScopes lists every scope an API key may carry.
var AllScopes = []string{ScopeKnowledgeRead, ScopeKnowledgeWrite, ScopeConversationsRead, ScopeConversationsWrite, ScopeAgentsRead}

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
	Scopes []string
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
func (v *Viewer) HasScope(scope string) bool {
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
	return NewContext(ctx, &Viewer{Kind: KindSystem, CompanyID: companyID})
}

type ipKey struct{}

// WithClientIP returns ctx carrying the caller's IP address (for rate limits).
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, ipKey{}, ip)
}

// ClientIP returns the caller's IP address, or "".
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(ipKey{}).(string)
	return ip
}

type originKey struct{}

// WithOrigin returns ctx carrying the request's Origin header (the site a
// browser calls from; empty for other clients).
func WithOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey{}, origin)
}

// Origin returns the request's Origin header, or "".
func Origin(ctx context.Context) string {
	o, _ := ctx.Value(originKey{}).(string)
	return o
}

type sameOriginKey struct{}

// WithSameOrigin marks a request sent by a page of this server itself.
func WithSameOrigin(ctx context.Context, same bool) context.Context {
	return context.WithValue(ctx, sameOriginKey{}, same)
}

// SameOrigin reports whether the request came from a page of this server.
func SameOrigin(ctx context.Context) bool {
	same, _ := ctx.Value(sameOriginKey{}).(bool)
	return same
}
