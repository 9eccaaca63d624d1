package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Resource is one piece of a company's knowledge: a PDF, a website, a
// Facebook page or a text.
type Resource struct{ ent.Schema }

// Mixin of the Resource.
func (Resource) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, BaseMixin{}, TenantMixin{}, TimeMixin{}}
}

// Fields of the Resource.
func (Resource) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("type").Values("PDF", "WEBSITE", "FACEBOOK", "TEXT").Immutable().
			Annotations(entgql.Type("ResourceType")),
		field.String("title").MaxLen(500).Annotations(entgql.OrderField("TITLE")),
		field.String("source_url").Optional().MaxLen(2048),
		field.String("file_path").Optional().Annotations(entgql.Skip()),
		field.String("file_name").Optional().MaxLen(255),
		field.Text("extracted_content").Optional().Annotations(entgql.Skip()),
		field.JSON("metadata", map[string]any{}).Optional().Annotations(entgql.Skip()),
		field.Enum("status").Values("PENDING", "PROCESSING", "COMPLETED", "FAILED").Default("PENDING").
			Annotations(entgql.Type("ResourceStatus"), entgql.OrderField("STATUS")),
		field.String("error").Optional().MaxLen(2000),
		field.Bool("is_active").Default(true),
		field.Int("chunk_count").Default(0),
		field.Float("progress").Default(0),
		// Scheduled re-sync (websites and Facebook pages only): how often
		// the source is fetched again, when it last was successfully, and
		// when it is due next (nil: never).
		field.Enum("sync_interval").Values("NEVER", "DAILY", "WEEKLY", "MONTHLY").Default("NEVER").
			Comment("How often a website or Facebook page is fetched again (new ones: WEEKLY unless set); PDFs and texts: NEVER.").
			Annotations(entgql.Type("SyncInterval")),
		field.Time("last_synced_at").Optional().Nillable().
			Comment("When its source was last ingested successfully (null: not yet)."),
		field.Time("next_sync_at").Optional().Nillable().
			Comment("When its next scheduled re-sync is due (null: never). A failed re-sync keeps the previous passages and is tried again one interval later."),
	}
}

// Edges of the Resource.
func (Resource) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("chunks", Chunk.Type).Ref("resource").Annotations(entgql.Skip()),
	}
}

// Indexes of the Resource.
func (Resource) Indexes() []ent.Index {
	return []ent.Index{index.Fields("company_id", "status"), index.Fields("next_sync_at")}
}

// Annotations of the Resource.
func (Resource) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}
