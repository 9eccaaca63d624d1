// Package rule holds the privacy rules that isolate tenants. Each rule is a
// small constructor that ends in privacy.Skip unless it decides, so rules
// compose; entity policies in ent/schema list them. Resolvers never filter by
// company themselves: these rules do, once.
package rule

import (
	"context"
	"sync"

	"entgo.io/ent/entql"
	"github.com/google/uuid"

	"concierge/ent"
	"concierge/ent/conversation"
	"concierge/ent/privacy"
	"concierge/ent/resource"
	"concierge/ent/user"
	"concierge/ent/visitor"
	"concierge/viewer"
)

// DenyIfNoViewer denies every query and mutation made without a viewer.
func DenyIfNoViewer() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if v := viewer.FromContext(ctx); v == nil || v.Kind == viewer.KindNone {
			return privacy.Denyf("no viewer in context")
		}
		return privacy.Skip
	})
}

// AllowIfSuperAdmin allows everything to a super admin.
func AllowIfSuperAdmin() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx).SuperAdmin() {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// FilterTenant restricts queries, updates and deletes to rows of the
// viewer's company. Viewers without a company are denied.
func FilterTenant() privacy.QueryMutationRule {
	type tenantFilter interface{ WhereCompanyID(entql.ValueP) }
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		tid, ok := viewer.FromContext(ctx).Tenant()
		if !ok {
			return privacy.Denyf("viewer has no company")
		}
		tf, ok := f.(tenantFilter)
		if !ok {
			return privacy.Denyf("unexpected filter type %T", f)
		}
		tf.WhereCompanyID(entql.ValueEQ(tid))
		return privacy.Skip
	})
}

// AllowSchedulerDueResources lets the re-sync scheduler viewer
// (viewer.KindScheduler) read, across companies, the resources that are
// scheduled for re-sync: websites and Facebook pages with an interval and
// a next sync time. Every other query of the scheduler is denied; other
// viewers skip.
func AllowSchedulerDueResources() privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		if v := viewer.FromContext(ctx); v == nil || v.Kind != viewer.KindScheduler {
			return privacy.Skip
		}
		rf, ok := f.(*ent.ResourceFilter)
		if !ok {
			return privacy.Denyf("the re-sync scheduler reads only resources due for re-sync")
		}
		rf.WhereType(entql.StringOr(entql.StringEQ(resource.TypeWEBSITE.String()), entql.StringEQ(resource.TypeFACEBOOK.String())))
		rf.WhereSyncInterval(entql.StringNEQ(resource.SyncIntervalNEVER.String()))
		rf.WhereNextSyncAt(entql.TimeNotNil())
		return privacy.Allow
	})
}

// FilterOwnCompany restricts Company queries and updates to the viewer's
// own company row.
func FilterOwnCompany() privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		tid, ok := viewer.FromContext(ctx).Tenant()
		if !ok {
			return privacy.Denyf("viewer has no company")
		}
		cf, ok := f.(*ent.CompanyFilter)
		if !ok {
			return privacy.Denyf("unexpected filter type %T", f)
		}
		cf.WhereID(entql.ValueEQ(tid))
		return privacy.Skip
	})
}

// DenyMismatchedTenant denies creating a row for another company than the
// viewer's (filter rules do not restrict creates).
func DenyMismatchedTenant() privacy.MutationRule {
	type tenantMutation interface {
		CompanyID() (uuid.UUID, bool)
	}
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		tid, ok := viewer.FromContext(ctx).Tenant()
		if !ok {
			return privacy.Denyf("viewer has no company")
		}
		tm, ok := m.(tenantMutation)
		if !ok {
			return privacy.Denyf("unexpected mutation type %T", m)
		}
		cid, set := tm.CompanyID()
		if !set || cid != tid {
			return privacy.Denyf("create in another company")
		}
		return privacy.Skip
	})
}

// AllowQueryIf allows queries of viewers for which pred holds.
func AllowQueryIf(pred func(*viewer.Viewer) bool) privacy.QueryRule {
	return privacy.QueryRuleFunc(func(ctx context.Context, _ ent.Query) error {
		if pred(viewer.FromContext(ctx)) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// AllowMutationIf allows mutations of viewers for which pred holds.
func AllowMutationIf(pred func(*viewer.Viewer) bool) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
		if pred(viewer.FromContext(ctx)) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// allowVisitorFiltered lets a visitor viewer through after narrowing the
// query or mutation with filter; other viewers skip.
func allowVisitorFiltered(filter func(v *viewer.Viewer, f privacy.Filter) error) privacy.QueryMutationRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		if v == nil || v.Kind != viewer.KindVisitor {
			return privacy.Skip
		}
		if err := filter(v, f); err != nil {
			return err
		}
		return privacy.Allow
	})
}

// APIKeyOwnRow lets an API key viewer read its own key row only.
func APIKeyOwnRow() privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		if v == nil || v.Kind != viewer.KindAPIKey {
			return privacy.Skip
		}
		kf, ok := f.(*ent.APIKeyFilter)
		if !ok {
			return privacy.Denyf("unexpected filter type %T", f)
		}
		kf.WhereID(entql.ValueEQ(v.ID))
		return privacy.Allow
	})
}

// VisitorOwnRow lets a visitor read and update its own Visitor row only.
func VisitorOwnRow() privacy.QueryMutationRule {
	return allowVisitorFiltered(func(v *viewer.Viewer, f privacy.Filter) error {
		vf, ok := f.(*ent.VisitorFilter)
		if !ok {
			return privacy.Denyf("unexpected filter type %T", f)
		}
		vf.WhereID(entql.ValueEQ(v.ID))
		return nil
	})
}

// VisitorOwnConversation lets a visitor read and update its own
// conversation only.
func VisitorOwnConversation() privacy.QueryMutationRule {
	return allowVisitorFiltered(func(v *viewer.Viewer, f privacy.Filter) error {
		cf, ok := f.(*ent.ConversationFilter)
		if !ok {
			return privacy.Denyf("unexpected filter type %T", f)
		}
		cf.WhereID(entql.ValueEQ(v.ConversationID))
		return nil
	})
}

// VisitorOwnMessages lets a visitor read the messages of its own
// conversation only.
func VisitorOwnMessages() privacy.QueryRule {
	return allowVisitorFiltered(func(v *viewer.Viewer, f privacy.Filter) error {
		mf, ok := f.(*ent.MessageFilter)
		if !ok {
			return privacy.Denyf("unexpected filter type %T", f)
		}
		mf.WhereConversationID(entql.ValueEQ(v.ConversationID))
		return nil
	})
}

// AllowVisitorMessageCreate lets a visitor add visitor messages to its own
// conversation, and nothing else.
func AllowVisitorMessageCreate() privacy.MutationRule {
	return privacy.MessageMutationRuleFunc(func(ctx context.Context, m *ent.MessageMutation) error {
		v := viewer.FromContext(ctx)
		if v == nil || v.Kind != viewer.KindVisitor || !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		cid, _ := m.ConversationID()
		st, _ := m.SenderType()
		if cid != v.ConversationID || st != "VISITOR" {
			return privacy.Denyf("visitors only write visitor messages to their own conversation")
		}
		return privacy.Allow
	})
}

// DenyVisitorOps denies a visitor viewer the given mutation operations.
func DenyVisitorOps(op ent.Op) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if v := viewer.FromContext(ctx); v != nil && v.Kind == viewer.KindVisitor && m.Op().Is(op) {
			return privacy.Denyf("visitors cannot %s %s", m.Op(), m.Type())
		}
		return privacy.Skip
	})
}

// StaffOrSystem and AdminOrSystem are the predicates entity policies use.

// StaffOrSystem holds for company users and workers.
func StaffOrSystem(v *viewer.Viewer) bool { return v.Staff() || v.System() }

// AdminOrSystem holds for company admins and workers.
func AdminOrSystem(v *viewer.Viewer) bool { return v.CompanyAdmin() || v.System() }

// Scope decides for API keys: it allows those carrying scope and denies
// the others with a *viewer.MissingScopeError naming it (the decision
// depends on the key alone, never on rows, so it tells nothing about other
// companies). Other viewers skip.
func Scope(scope viewer.Scope) privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		v := viewer.FromContext(ctx)
		switch {
		case v == nil || v.Kind != viewer.KindAPIKey:
			return privacy.Skip
		case v.HasScope(scope):
			return privacy.Allow
		default:
			return privacy.Denyf("%w", &viewer.MissingScopeError{Scope: scope})
		}
	})
}

// owners remembers the company of the rows that writes pointed at, so that
// a conversation's every message does not look its conversation up again.
// It is sound because a row's company_id never changes (TenantMixin makes
// it immutable) and ids are random UUIDs, never reused: an owner once read
// stays right. A row deleted since (or rolled back) is refused by its
// foreign key instead.
var owners = newOwnerCache(1 << 16)

func ownerOf[T any](row *T, err error, company func(*T) uuid.UUID) (uuid.UUID, error) {
	if err != nil {
		return uuid.Nil, err
	}
	return company(row), nil
}

func userOwner(sys context.Context, c *ent.Client, id uuid.UUID) func() (uuid.UUID, error) {
	return func() (uuid.UUID, error) {
		u, err := c.User.Query().Where(user.ID(id)).Select(user.FieldCompanyID).Only(sys)
		return ownerOf(u, err, func(u *ent.User) uuid.UUID { return u.CompanyID })
	}
}

// ownerCache maps row ids to their company, holding at most max entries
// (when full, it starts over).
type ownerCache struct {
	mu  sync.RWMutex
	m   map[uuid.UUID]uuid.UUID
	max int
}

func newOwnerCache(max int) *ownerCache {
	return &ownerCache{m: make(map[uuid.UUID]uuid.UUID), max: max}
}

func (c *ownerCache) get(id uuid.UUID) (uuid.UUID, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	co, ok := c.m[id]
	return co, ok
}

func (c *ownerCache) put(id, company uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[id] = company
}

// DenyForeignReferences denies creating or updating a row that points at a
// row of another company (a conversation's visitor or assignee, a message's
// conversation or sender, a chunk's resource, a key's creator). The
// company_id filter alone would let a writer link to a foreign id.
func DenyForeignReferences() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !m.Op().Is(ent.OpCreate | ent.OpUpdate | ent.OpUpdateOne) {
			return privacy.Skip
		}
		tm, ok := m.(interface {
			CompanyID() (uuid.UUID, bool)
			OldCompanyID(context.Context) (uuid.UUID, error)
		})
		if !ok {
			return privacy.Skip
		}
		cid, set := tm.CompanyID()
		if !set {
			if t, ok := viewer.FromContext(ctx).Tenant(); ok {
				cid = t
			} else if m.Op().Is(ent.OpUpdateOne) {
				var err error
				if cid, err = tm.OldCompanyID(ctx); err != nil {
					return err
				}
			} else {
				return privacy.Skip // a super admin's bulk update sets no reference
			}
		}
		sys := privacy.DecisionContext(ctx, privacy.Allow)
		check := func(what string, id uuid.UUID, owner func() (uuid.UUID, error)) error {
			c, ok := owners.get(id)
			if !ok {
				var err error
				if c, err = owner(); ent.IsNotFound(err) {
					return privacy.Denyf("%s belongs to another company", what)
				} else if err != nil {
					return err
				}
				owners.put(id, c)
			}
			if c != cid {
				return privacy.Denyf("%s belongs to another company", what)
			}
			return nil
		}
		var err error
		switch m := m.(type) {
		case *ent.ConversationMutation:
			if id, ok := m.VisitorID(); ok {
				err = check("visitor", id, func() (uuid.UUID, error) {
					v, err := m.Client().Visitor.Query().Where(visitor.ID(id)).Select(visitor.FieldCompanyID).Only(sys)
					return ownerOf(v, err, func(v *ent.Visitor) uuid.UUID { return v.CompanyID })
				})
			}
			if id, ok := m.AssigneeID(); ok && err == nil {
				err = check("assignee", id, userOwner(sys, m.Client(), id))
			}
		case *ent.MessageMutation:
			if id, ok := m.ConversationID(); ok {
				err = check("conversation", id, func() (uuid.UUID, error) {
					c, err := m.Client().Conversation.Query().Where(conversation.ID(id)).Select(conversation.FieldCompanyID).Only(sys)
					return ownerOf(c, err, func(c *ent.Conversation) uuid.UUID { return c.CompanyID })
				})
			}
			if id, ok := m.SenderID(); ok && err == nil {
				err = check("sender", id, userOwner(sys, m.Client(), id))
			}
		case *ent.ChunkMutation:
			if id, ok := m.ResourceID(); ok {
				err = check("resource", id, func() (uuid.UUID, error) {
					r, err := m.Client().Resource.Query().Where(resource.ID(id)).Select(resource.FieldCompanyID).Only(sys)
					return ownerOf(r, err, func(r *ent.Resource) uuid.UUID { return r.CompanyID })
				})
			}
		case *ent.APIKeyMutation:
			if id, ok := m.CreatedByID(); ok {
				err = check("creator", id, userOwner(sys, m.Client(), id))
			}
		}
		if err != nil {
			return err
		}
		return privacy.Skip
	})
}
