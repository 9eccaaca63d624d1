package chat

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/google/uuid"

	"concierge/ent"
	"concierge/realtime"
	"concierge/viewer"
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

// Topic is the realtime topic of one conversation's events, as its
// publisher (the system viewer of the company) derives it. Subscribers
// derive theirs from their own viewer.
func Topic(companyID, conversationID uuid.UUID) realtime.Topic {
	t, _ := realtime.ConversationTopic(viewer.System(companyID), uuid.Nil, conversationID)
	return t // zero (refused by the broker) only for nil ids
}

// InboxTopic is the realtime topic of a company's inbox, as its publisher
// derives it.
func InboxTopic(companyID uuid.UUID) realtime.Topic {
	t, _ := realtime.CompanyTopic(viewer.System(companyID), realtime.FeedInbox, uuid.Nil)
	return t // zero (refused by the broker) only for uuid.Nil
}

func (s *Service) publish(ctx context.Context, companyID uuid.UUID, e Event) {
	s.publishAll(ctx, conversationEvent(companyID, e))
}

// conversationEvent is e on its conversation's topic.
func conversationEvent(companyID uuid.UUID, e Event) outgoing {
	return outgoing{Topic(companyID, e.ConversationID), e.Kind, e}
}

// outgoing is an event about to be published.
type outgoing struct {
	topic realtime.Topic
	kind  string
	event any // marshalled to JSON
}

// publishAll publishes events in order, together (one statement with the
// PostgreSQL broker). A failure is logged: the rows are committed, and
// subscribers that missed an event catch up from the database.
func (s *Service) publishAll(ctx context.Context, events ...outgoing) {
	envs := make([]realtime.Envelope, 0, len(events))
	for _, e := range events {
		p, err := json.Marshal(e.event)
		if err != nil {
			s.log.ErrorContext(ctx, "chat: encoding an event", slog.String("kind", e.kind), slog.Any("err", err))
			continue
		}
		envs = append(envs, realtime.Envelope{Topic: e.topic, Payload: p})
	}
	if err := realtime.PublishAll(context.WithoutCancel(ctx), s.broker, envs...); err != nil {
		kinds := make([]string, len(events))
		for i, e := range events {
			kinds[i] = e.kind
		}
		s.log.WarnContext(ctx, "chat: publishing events", slog.Any("kinds", kinds), slog.Any("err", err))
	}
}

// messageEvent is the event of a message the caller has just written and
// committed (kind MessageCreated or MessageCompleted): this replica's
// subscribers of the conversation take the row as it is instead of loading
// it again. Whoever follows a conversation may read all of its messages:
// the visitor its own conversation's, the staff their company's.
func (s *Service) messageEvent(kind string, msg *ent.Message) outgoing {
	s.rows.put(writtenMessageKey(msg.ID), &InboxUpdate{Kind: kind, Message: msg})
	return conversationEvent(msg.CompanyID, Event{Kind: kind, ConversationID: msg.ConversationID, MessageID: msg.ID, Seq: msg.Seq})
}

// writtenMessage returns the message id of conversation convID if this
// replica has just written it (see messageEvent).
func (s *Service) writtenMessage(id, convID uuid.UUID) (*ent.Message, bool) {
	u, ok := s.rows.peek(writtenMessageKey(id))
	if !ok || u.Message == nil || u.Message.ConversationID != convID {
		return nil, false
	}
	return u.Message, true
}

func writtenMessageKey(id uuid.UUID) string { return "message/" + id.String() }

func (s *Service) inbox(ctx context.Context, companyID uuid.UUID, kind string, conversationID, messageID uuid.UUID) {
	s.publishAll(ctx, inboxEvent(companyID, kind, conversationID, messageID))
}

// inboxEvent is an inbox event whose subscribers load its rows.
func inboxEvent(companyID uuid.UUID, kind string, conversationID, messageID uuid.UUID) outgoing {
	return outgoing{InboxTopic(companyID), kind, InboxEvent{ID: uuid.New(), Kind: kind, ConversationID: conversationID, MessageID: messageID}}
}

// writtenInboxEvent is the inbox event of rows the caller has just written
// and committed: this replica's staff subscribers take them as they are
// instead of loading them again (subscribers on other replicas load them).
func (s *Service) writtenInboxEvent(kind string, conv *ent.Conversation, msg *ent.Message) outgoing {
	e := InboxEvent{ID: uuid.New(), Kind: kind, ConversationID: conv.ID}
	if msg != nil {
		e.MessageID = msg.ID
	}
	s.rows.put(staffClass(conv.CompanyID)+"/"+e.ID.String(), &InboxUpdate{Kind: kind, Conversation: conv, Message: msg})
	return outgoing{InboxTopic(conv.CompanyID), kind, e}
}
