package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"concierge/viewer"
)

// APIKey lets a partner's server call the API for one company. Only the
// prefix is shown after creation; the secret is stored as a hash.
type APIKey struct{ ent.Schema }

// Mixin of the APIKey.
func (APIKey) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, BaseMixin{}, TenantMixin{}}
}

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.String("prefix").Unique().Immutable().MaxLen(32),
		field.String("hash").Sensitive().Immutable().Annotations(entgql.Skip()),
		// Stored as before (a JSON array of "knowledge:read", ...); the API
		// shows them as the APIKeyScope enum.
		field.JSON("scopes", []viewer.Scope{}).Annotations(entgql.Type("[APIKeyScope!]")),
		field.UUID("created_by_id", uuidType).Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Edges of the APIKey.
func (APIKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("created_by", User.Type).Field("created_by_id").Unique().Immutable(),
	}
}

// Annotations of the APIKey.
func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)}
}
