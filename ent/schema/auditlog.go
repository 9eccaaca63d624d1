package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AuditLog records who changed which company, agent, resource or key, and
// when. Entries are written by the audit package only and never change.
// company_id has no foreign key: a deleted company's entries stay.
type AuditLog struct{ ent.Schema }

// Mixin of the AuditLog.
func (AuditLog) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, BaseMixin{}}
}

// Fields of the AuditLog.
func (AuditLog) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("company_id", uuidType).Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.Enum("actor_type").Values("USER", "SUPER_ADMIN", "API_KEY", "SYSTEM", "ANONYMOUS").Immutable().
			Annotations(entgql.Type("AuditActorType")),
		field.UUID("actor_id", uuidType).Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.String("actor_name").Optional().MaxLen(254).Immutable(),
		// action is "<entity>.<verb>", e.g. "company.update", "agent.create".
		field.String("action").MaxLen(64).Immutable(),
		field.String("target_type").MaxLen(32).Immutable(),
		field.UUID("target_id", uuidType).Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		// summary says what changed (field names, never secrets).
		field.String("summary").Optional().MaxLen(1000).Immutable(),
		field.String("ip").Optional().MaxLen(64).Immutable(),
		field.Time("created_at").Default(time.Now).Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
	}
}

// Indexes of the AuditLog.
func (AuditLog) Indexes() []ent.Index {
	return []ent.Index{index.Fields("company_id", "created_at"), index.Fields("created_at")}
}

// Annotations of the AuditLog.
func (AuditLog) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField("auditLogs"),
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}
