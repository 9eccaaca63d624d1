package schema

import (
	"entgo.io/ent"

	"concierge/ent/privacy"
	"concierge/ent/schema/rule"
	"concierge/viewer"
)

// Access in one place. Every entity lists BaseMixin (no viewer: denied;
// super admin: allowed) and tenant-owned ones TenantMixin (rows of the
// viewer's company only; creates only in it). Entity policies then say which
// kinds of viewer of that company may read and write, and end in a deny.
// API keys pass with the scope an entity needs (rule.Scope); without it they
// are denied with an error naming the scope.

// Policy of the BaseMixin. No writer, super admins included, links a row to
// another company's rows.
func (BaseMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.DenyIfNoViewer(), rule.AllowIfSuperAdmin()},
		Mutation: privacy.MutationPolicy{rule.DenyIfNoViewer(), rule.DenyForeignReferences(), rule.AllowIfSuperAdmin()},
	}
}

// Policy of the TenantMixin. The re-sync scheduler, which belongs to no
// company, reads resources scheduled for re-sync of every company and
// nothing else; it writes nothing (FilterTenant denies it).
func (TenantMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowSchedulerDueResources(), rule.FilterTenant()},
		Mutation: privacy.MutationPolicy{rule.DenyMismatchedTenant(), rule.FilterTenant()},
	}
}

// Policy of the Company: its own users, keys, workers and visitors see their
// company's row; company admins and workers update it; only super admins
// create or delete companies.
func (Company) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.FilterOwnCompany(),
			privacy.AlwaysAllowRule(),
		},
		Mutation: privacy.MutationPolicy{
			privacy.OnMutationOperation(rule.FilterOwnCompany(), ent.OpUpdate|ent.OpUpdateOne),
			privacy.OnMutationOperation(rule.AllowMutationIf(rule.AdminOrSystem), ent.OpUpdate|ent.OpUpdateOne),
			privacy.AlwaysDenyRule(),
		},
	}
}

// Policy of the SuperAdmin: super admins only.
func (SuperAdmin) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
	}
}

// Policy of the RefreshToken (which does not list BaseMixin): nobody, not
// even a super admin, reads tokens; only the auth service does, through an
// explicit privacy.DecisionContext bypass. Super admins' writes pass:
// deleteCompany removes the company's tokens.
func (RefreshToken) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.DenyIfNoViewer(), rule.AllowIfSuperAdmin(), privacy.AlwaysDenyRule()},
	}
}

// Policy of the User: the company's users read, keys with agents:read read;
// company admins manage.
func (User) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.AllowQueryIf(rule.StaffOrSystem),
			rule.Scope(viewer.ScopeAgentsRead),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			rule.AllowMutationIf(rule.AdminOrSystem),
			privacy.AlwaysDenyRule(),
		},
	}
}

// Policy of the APIKey: company admins only; a key reads its own row.
func (APIKey) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowQueryIf(rule.AdminOrSystem), rule.APIKeyOwnRow(), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowMutationIf(rule.AdminOrSystem), privacy.AlwaysDenyRule()},
	}
}

// Policy of the Visitor: staff read and write; a visitor sees and edits only
// its own row.
func (Visitor) Policy() ent.Policy {
	self := rule.VisitorOwnRow()
	return privacy.Policy{
		Query: privacy.QueryPolicy{rule.AllowQueryIf(rule.StaffOrSystem), rule.Scope(viewer.ScopeConversationsRead), self, privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{
			rule.AllowMutationIf(rule.StaffOrSystem),
			rule.Scope(viewer.ScopeConversationsWrite),
			rule.DenyVisitorOps(ent.OpCreate | ent.OpDelete | ent.OpDeleteOne),
			self,
			privacy.AlwaysDenyRule(),
		},
	}
}

// Policy of the Conversation: staff read and write; a visitor sees and
// updates only its own conversation and cannot create or delete one.
func (Conversation) Policy() ent.Policy {
	own := rule.VisitorOwnConversation()
	return privacy.Policy{
		Query: privacy.QueryPolicy{rule.AllowQueryIf(rule.StaffOrSystem), rule.Scope(viewer.ScopeConversationsRead), own, privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{
			rule.AllowMutationIf(rule.StaffOrSystem),
			rule.Scope(viewer.ScopeConversationsWrite),
			rule.DenyVisitorOps(ent.OpCreate | ent.OpDelete | ent.OpDeleteOne),
			own,
			privacy.AlwaysDenyRule(),
		},
	}
}

// Policy of the Message: staff read and write; a visitor reads its
// conversation's messages and only adds visitor messages to it.
func (Message) Policy() ent.Policy {
	own := rule.VisitorOwnMessages()
	return privacy.Policy{
		Query: privacy.QueryPolicy{rule.AllowQueryIf(rule.StaffOrSystem), rule.Scope(viewer.ScopeConversationsRead), own, privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{
			rule.AllowMutationIf(rule.StaffOrSystem),
			rule.Scope(viewer.ScopeConversationsWrite),
			rule.DenyVisitorOps(ent.OpUpdate | ent.OpUpdateOne | ent.OpDelete | ent.OpDeleteOne),
			rule.AllowVisitorMessageCreate(),
			privacy.AlwaysDenyRule(),
		},
	}
}

// Policy of the Resource: staff and knowledge:read keys read; company admins
// and knowledge:write keys manage.
func (Resource) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowQueryIf(rule.StaffOrSystem), rule.Scope(viewer.ScopeKnowledgeRead), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowMutationIf(rule.AdminOrSystem), rule.Scope(viewer.ScopeKnowledgeWrite), privacy.AlwaysDenyRule()},
	}
}

// Policy of the Chunk: as its resource.
func (Chunk) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{rule.AllowQueryIf(rule.StaffOrSystem), rule.Scope(viewer.ScopeKnowledgeRead), privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{rule.AllowMutationIf(rule.AdminOrSystem), rule.Scope(viewer.ScopeKnowledgeWrite), privacy.AlwaysDenyRule()},
	}
}

// Policy of the AuditLog: super admins read everything; company admins
// read their company's entries. Nobody writes through ent but the audit
// package, with an explicit decision; nobody changes or deletes entries.
func (AuditLog) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			rule.FilterTenant(),
			rule.AllowQueryIf(rule.AdminOrSystem),
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
	}
}

// Policy of the RateBucket: only the rate limiter's SQL touches buckets.
func (RateBucket) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
	}
}
