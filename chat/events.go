package chat

import (
	"context"
	"log/slog"

	"github.com/google/uuid"

	"concierge/ent"
	"concierge/realtime"
)

// Kinds of conversation events.
const (
	MessageCreated   = "MESSAGE_CREATED"
	MessageDelta     = "MESSAGE_DELTA"
	MessageCompleted = "MESSAGE_COMPLETED"
	TypingChanged    = "TYPING"
	StatusChanged    = "STATUS_CHANGED"
)

// Kinds of inbox events.
const (
	InboxConversationCreated = "CONVERSATION_CREATED"
	InboxConversationUpdated = "CONVERSATION_UPDATED"
	InboxMessageCreated      = "MESSAGE_CREATED"
)

// Event is what travels on a conversation's topic. It carries ids, not
// rows (subscribers load them with their own viewer), so it stays small
// enough for any broker.
type Event struct {
	Kind           string    `json:"kind"`
	ConversationID uuid.UUID `json:"conversationId"`
	// MessageID and Seq are set for message events (Seq not for deltas).
	MessageID uuid.UUID `json:"messageId,omitzero"`
	Seq       int       `json:"seq,omitempty"`
	Delta     string    `json:"delta,omitempty"`
	// Status is set for STATUS_CHANGED.
	Status string  `json:"status,omitempty"`
	Typing *Typing `json:"typing,omitempty"`
}

// Typing says who is typing in a conversation.
type Typing struct {
	SenderType string `json:"senderType"`
	Name       string `json:"name,omitempty"`
	Typing     bool   `json:"typing"`
}

// InboxEvent is what travels on a company's inbox topic.
type InboxEvent struct {
	// ID names the event, so that the rows loaded for it can be shared by
	// the subscribers that may see the same rows.
	ID             uuid.UUID `json:"id"`
	Kind           string    `json:"kind"`
	ConversationID uuid.UUID `json:"conversationId"`
	MessageID      uuid.UUID `json:"messageId,omitzero"`
}

// Topic is the realtime topic of one conversation's events.
func Topic(companyID, conversationID uuid.UUID) string {
	return realtime.ConversationTopic(companyID, conversationID)
}

// InboxTopic is the realtime topic of a company's inbox.
func InboxTopic(companyID uuid.UUID) string { return realtime.CompanyTopic(companyID, "inbox") }

func (s *Service) publish(ctx context.Context, companyID uuid.UUID, e Event) {
	if err := realtime.PublishJSON(context.WithoutCancel(ctx), s.broker, Topic(companyID, e.ConversationID), e); err != nil {
		s.log.WarnContext(ctx, "chat: publishing conversation event", slog.String("kind", e.Kind), slog.Any("err", err))
	}
}

// publishMessage publishes the event of a message the caller has just
// written and committed (kind MessageCreated or MessageCompleted): this
// replica's subscribers of the conversation take the row as it is instead
// of loading it again. Whoever follows a conversation may read all of its
// messages: the visitor its own conversation's, the staff their company's.
func (s *Service) publishMessage(ctx context.Context, kind string, msg *ent.Message) {
	s.rows.put(writtenMessageKey(msg.ID), &InboxUpdate{Kind: kind, Message: msg})
	s.publish(ctx, msg.CompanyID, Event{Kind: kind, ConversationID: msg.ConversationID, MessageID: msg.ID, Seq: msg.Seq})
}

// writtenMessage returns the message id of conversation convID if this
// replica has just written it (see publishMessage).
func (s *Service) writtenMessage(id, convID uuid.UUID) (*ent.Message, bool) {
	u, ok := s.rows.peek(writtenMessageKey(id))
	if !ok || u.Message == nil || u.Message.ConversationID != convID {
		return nil, false
	}
	return u.Message, true
}

func writtenMessageKey(id uuid.UUID) string { return "message/" + id.String() }

func (s *Service) inbox(ctx context.Context, companyID uuid.UUID, kind string, conversationID, messageID uuid.UUID) {
	s.publishInbox(ctx, companyID, InboxEvent{ID: uuid.New(), Kind: kind, ConversationID: conversationID, MessageID: messageID})
}

// inboxWritten publishes the inbox event of rows the caller has just
// written and committed: this replica's staff subscribers take them as
// they are instead of loading them again (subscribers on other replicas
// load them).
func (s *Service) inboxWritten(ctx context.Context, kind string, conv *ent.Conversation, msg *ent.Message) {
	e := InboxEvent{ID: uuid.New(), Kind: kind, ConversationID: conv.ID}
	if msg != nil {
		e.MessageID = msg.ID
	}
	s.rows.put(staffClass(conv.CompanyID)+"/"+e.ID.String(), &InboxUpdate{Kind: kind, Conversation: conv, Message: msg})
	s.publishInbox(ctx, conv.CompanyID, e)
}

func (s *Service) publishInbox(ctx context.Context, companyID uuid.UUID, e InboxEvent) {
	if err := realtime.PublishJSON(context.WithoutCancel(ctx), s.broker, InboxTopic(companyID), e); err != nil {
		s.log.WarnContext(ctx, "chat: publishing inbox event", slog.String("kind", e.Kind), slog.Any("err", err))
	}
}
