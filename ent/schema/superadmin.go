package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// SuperAdmin runs the platform; it belongs to no company.
type SuperAdmin struct{ ent.Schema }

// Mixin of the SuperAdmin.
func (SuperAdmin) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, BaseMixin{}}
}

// Fields of the SuperAdmin.
func (SuperAdmin) Fields() []ent.Field {
	return []ent.Field{
		field.String("username").Unique().NotEmpty().MaxLen(100),
		field.String("email").Unique().MaxLen(254),
		field.String("hashed_password").Sensitive().Annotations(entgql.Skip()),
		field.String("full_name").Default("").MaxLen(200),
		field.Bool("is_active").Default(true),
		field.Int("session_version").Default(0).Annotations(entgql.Skip()),
		field.Time("last_login_at").Optional().Nillable(),
		field.Time("created_at").Default(time.Now).Immutable(),
	}
}

// Annotations of the SuperAdmin.
func (SuperAdmin) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput)}
}
