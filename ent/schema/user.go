package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// User is a company's agent or company admin (the seed's AdminUser).
type User struct{ ent.Schema }

// Mixin of the User.
func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, BaseMixin{}, TenantMixin{}, TimeMixin{}}
}

// Fields of the User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").Unique().MaxLen(254).
			Annotations(entgql.OrderField("EMAIL")),
		field.String("hashed_password").Sensitive().Annotations(entgql.Skip()),
		field.String("full_name").NotEmpty().MaxLen(200).
			Annotations(entgql.OrderField("FULL_NAME")),
		field.Enum("role").Values("AGENT", "COMPANY_ADMIN").Default("AGENT").
			Annotations(entgql.Type("Role")),
		field.Bool("is_active").Default(true),
		// session_version is carried in access tokens; bumping it (logout,
		// password change, deactivation) invalidates every live token.
		field.Int("session_version").Default(0).Annotations(entgql.Skip()),
		field.Time("last_seen_at").Optional().Nillable(),
		// online_until is refreshed while the agent follows the inbox
		// (inboxEvents); conversations are assigned round-robin to online
		// agents, the one assigned longest ago first.
		field.Time("online_until").Optional().Nillable().Annotations(entgql.Skip()),
		field.Time("last_assigned_at").Optional().Nillable().Annotations(entgql.Skip()),
	}
}

// Annotations of the User.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField("agents"),
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}
