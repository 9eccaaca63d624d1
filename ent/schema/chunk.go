package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Chunk is one indexed passage of a resource.
type Chunk struct{ ent.Schema }

// Mixin of the Chunk.
func (Chunk) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, BaseMixin{}, TenantMixin{}}
}

// Fields of the Chunk.
func (Chunk) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("resource_id", uuidType).Immutable(),
		field.Int("ordinal"),
		field.Text("text"),
		field.String("heading").Optional().MaxLen(500),
		field.Int("page").Optional().Nillable(),
		field.String("url").Optional().MaxLen(2048),
		field.Int("token_count").Default(0),
	}
}

// Edges of the Chunk.
func (Chunk) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("resource", Resource.Type).Field("resource_id").Unique().Required().Immutable().
			Annotations(entsqlCascade()),
	}
}

// Indexes of the Chunk.
func (Chunk) Indexes() []ent.Index {
	return []ent.Index{index.Fields("resource_id", "ordinal")}
}

// Annotations of the Chunk.
func (Chunk) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip()}
}
