package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Conversation is one chat between a visitor and the company (the seed's ChatSession).
type Conversation struct{ ent.Schema }

// Mixin of the Conversation.
func (Conversation) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, BaseMixin{}, TenantMixin{}, TimeMixin{}}
}

// Fields of the Conversation.
func (Conversation) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("visitor_id", uuidType).Immutable().Annotations(entgql.Type("ID")),
		field.Enum("status").Values("BOT", "WAITING_HUMAN", "HUMAN", "CLOSED").Default("BOT").
			Annotations(entgql.Type("ConversationStatus"), entgql.OrderField("STATUS")),
		field.UUID("assignee_id", uuidType).Optional().Nillable().Annotations(entgql.Type("ID")),
		field.Int("rating").Optional().Nillable().Range(1, 5),
		field.String("rating_comment").Optional().MaxLen(2000),
		field.Time("last_message_at").Default(time.Now).
			Annotations(entgql.OrderField("LAST_MESSAGE_AT")),
		field.Time("closed_at").Optional().Nillable(),
		// last_seq numbers the conversation's messages (Message.seq): it is
		// incremented in the transaction that adds a message, so messages
		// are totally ordered and a replay "after" one misses nothing.
		field.Int("last_seq").Default(0).Annotations(entgql.Skip()),
		field.String("last_message_preview").Optional().MaxLen(200),
		// human_requested_at is when the conversation first went to a human.
		field.Time("human_requested_at").Optional().Nillable(),
		// pending_message_id is the latest visitor message the assistant
		// has not answered yet; its answer job (chat.AnswerArgs) writes the
		// reply only while it is still pending.
		field.UUID("pending_message_id", uuidType).Optional().Nillable().Annotations(entgql.Skip()),
		field.String("language").Optional().MaxLen(16),
	}
}

// Edges of the Conversation.
func (Conversation) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("visitor", Visitor.Type).Field("visitor_id").Unique().Required().Immutable(),
		edge.To("assignee", User.Type).Field("assignee_id").Unique(),
		edge.From("messages", Message.Type).Ref("conversation").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of the Conversation.
func (Conversation) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("company_id", "status"),
		index.Fields("visitor_id"),
		index.Fields("company_id", "created_at"),
		index.Fields("pending_message_id"),
	}
}

// Annotations of the Conversation.
func (Conversation) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}
