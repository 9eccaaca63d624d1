package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"concierge/ent/schema/schematype"
)

var uuidType = uuid.UUID{}

// Message is one message of a conversation.
type Message struct{ ent.Schema }

// Mixin of the Message.
func (Message) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, BaseMixin{}, TenantMixin{}}
}

// Fields of the Message.
func (Message) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("conversation_id", uuidType).Immutable().Annotations(entgql.Type("ID")),
		field.Enum("sender_type").Values("VISITOR", "BOT", "AGENT", "SYSTEM").Immutable().
			Annotations(entgql.Type("SenderType")),
		field.UUID("sender_id", uuidType).Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
		field.Text("body").MaxLen(20000),
		field.JSON("citations", []schematype.Citation{}).Optional().Annotations(entgql.Skip()),
		field.String("client_message_id").Optional().Nillable().Immutable().MaxLen(100),
		field.Time("created_at").Default(time.Now).Immutable().
			Annotations(entgql.OrderField("CREATED_AT")),
		// seq is the message's place in its conversation (1, 2, ...).
		field.Int("seq").Immutable().Annotations(entgql.OrderField("SEQ")),
		// sender_name is shown to the visitor (agent's name, assistant's name).
		field.String("sender_name").Optional().MaxLen(200),
		// For the assistant's messages: what it made of the question it
		// answered (reply_to), and how sure it was.
		field.Enum("outcome").Values("ANSWERED", "DECLINED", "FAILED").Optional().Nillable().Immutable().
			Annotations(entgql.Type("AnswerOutcome")),
		field.Float("confidence").Optional().Nillable().Immutable(),
		field.UUID("reply_to_id", uuidType).Optional().Nillable().Immutable().Annotations(entgql.Type("ID")),
	}
}

// Edges of the Message.
func (Message) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("conversation", Conversation.Type).Field("conversation_id").Unique().Required().Immutable().
			Annotations(entsqlCascade()),
		edge.To("sender", User.Type).Field("sender_id").Unique().Immutable(),
	}
}

// Indexes of the Message.
func (Message) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("conversation_id", "client_message_id").Unique(),
		index.Fields("conversation_id", "created_at"),
		index.Fields("conversation_id", "seq").Unique(),
		index.Fields("company_id", "created_at"),
	}
}

// Annotations of the Message.
func (Message) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}
