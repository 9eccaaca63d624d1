package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Visitor is a person chatting through a company's widget (the seed's ClientInfo).
type Visitor struct{ ent.Schema }

// Mixin of the Visitor.
func (Visitor) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, BaseMixin{}, TenantMixin{}}
}

// Fields of the Visitor.
func (Visitor) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").Optional().MaxLen(200),
		field.String("email").Optional().MaxLen(254),
		field.String("external_id").Optional().MaxLen(255),
		field.JSON("metadata", map[string]any{}).Optional().Annotations(entgql.Skip()),
		field.Time("first_seen_at").Default(time.Now).Immutable(),
		field.Time("last_seen_at").Default(time.Now),
	}
}

// Indexes of the Visitor.
func (Visitor) Indexes() []ent.Index {
	return []ent.Index{index.Fields("company_id", "external_id").Unique()}
}

// Annotations of the Visitor.
func (Visitor) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}
