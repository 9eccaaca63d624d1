package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
)

// RateBucket is one token bucket of the shared rate limiter (package
// ratelimit), keyed by what it limits ("msg:visitor:<id>"). Every replica
// reads and updates the same buckets with one atomic statement. Times are
// Unix seconds, so the arithmetic is the same on SQLite and PostgreSQL.
type RateBucket struct{ ent.Schema }

// Fields of the RateBucket.
func (RateBucket) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").MaxLen(200).Immutable(),
		field.Float("tokens"),
		field.Float("updated_at"),
	}
}

// Annotations of the RateBucket.
func (RateBucket) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
