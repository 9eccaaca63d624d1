package chat

import (
	"context"
	"database/sql"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"concierge/auth"
	"concierge/db"
	"concierge/ent"
	"concierge/ent/conversation"
	"concierge/ent/message"
	"concierge/ent/schema/schematype"
	"concierge/fault"
	"concierge/viewer"
)

// newMessage is a message about to be appended to a conversation.
type newMessage struct {
	id          uuid.UUID // zero: a new one
	senderType  message.SenderType
	senderID    *uuid.UUID
	senderName  string
	body        string
	clientMsgID string
	citations   []schematype.Citation
	outcome     *message.Outcome
	confidence  *float64
	replyTo     *uuid.UUID
}

// appendMessage numbers m in its conversation and stores it, in tx: the
// conversation's last_seq is incremented first, which serialises writers of
// one conversation, so seq order is commit order. update may change the
// conversation in the same statement; where may restrict it (no row: the
// conversation changed meanwhile, and ent's NotFound is returned).
func (s *Service) appendMessage(ctx context.Context, tx *ent.Client, convID uuid.UUID, m newMessage,
	update func(*ent.ConversationUpdateOne), where ...func(*ent.ConversationUpdateOne)) (*ent.Message, *ent.Conversation, error) {
	now := s.now()
	u := tx.Conversation.UpdateOneID(convID).AddLastSeq(1).SetLastMessageAt(now).
		SetLastMessagePreview(preview(m.body))
	for _, w := range where {
		w(u)
	}
	if update != nil {
		update(u)
	}
	conv, err := u.Save(ctx)
	if err != nil {
		return nil, nil, err
	}
	c := tx.Message.Create().SetCompanyID(conv.CompanyID).SetConversationID(convID).
		SetSenderType(m.senderType).SetNillableSenderID(m.senderID).SetSenderName(m.senderName).
		SetBody(m.body).SetSeq(conv.LastSeq).SetCreatedAt(now).
		SetNillableOutcome(m.outcome).SetNillableConfidence(m.confidence).SetNillableReplyToID(m.replyTo)
	if m.id != uuid.Nil {
		c.SetID(m.id)
	}
	if m.clientMsgID != "" {
		c.SetClientMessageID(m.clientMsgID)
	}
	if m.citations != nil {
		c.SetCitations(m.citations)
	}
	msg, err := c.Save(ctx)
	if err != nil {
		return nil, nil, err
	}
	return msg, conv, nil
}

// preview is the start of body on one line, at most previewBytes bytes
// (the column's limit counts bytes), cut at a character boundary.
func preview(body string) string {
	body = strings.Join(strings.Fields(body), " ")
	if len(body) <= previewBytes {
		return body
	}
	cut := previewBytes - len("…")
	for cut > 0 && !utf8.RuneStart(body[cut]) {
		cut--
	}
	return body[:cut] + "…"
}

const previewBytes = 200

// botAnswers reports whether the assistant answers visitors in a
// conversation of status st: with the bot, and while waiting for a human
// (then only what it can answer from the knowledge; the team answers the
// rest). Once a human has the conversation, the bot is silent.
func botAnswers(st conversation.Status) bool {
	return st == conversation.StatusBOT || st == conversation.StatusWAITING_HUMAN
}

// botStatuses are the statuses of botAnswers, for queries.
var botStatuses = []conversation.Status{conversation.StatusBOT, conversation.StatusWAITING_HUMAN}

// cleanBody checks a message's text, the input field.
func cleanBody(field, body string) (string, error) {
	if !utf8.ValidString(body) {
		return "", fault.Invalid(field, "%s is not valid UTF-8", field)
	}
	body = strings.TrimSpace(strings.ReplaceAll(body, "\x00", ""))
	if body == "" {
		return "", fault.Invalid(field, "%s is empty", field)
	}
	if n := utf8.RuneCountInString(body); n > MaxBodyRunes {
		return "", fault.Invalid(field, "%s is %d characters long; at most %d are allowed", field, n, MaxBodyRunes)
	}
	return body, nil
}

// Send adds a message from the viewer (the visitor of its conversation,
// or the company's staff) and returns it once it is stored. A retry with
// the same clientMessageID returns the stored message and changes nothing.
// A visitor's message in a BOT conversation is answered by the assistant;
// an agent's message in a conversation not yet with a human takes it over.
func (s *Service) Send(ctx context.Context, convID uuid.UUID, body string, clientMsgID *string) (*ent.Message, error) {
	v, err := participant(ctx)
	if err != nil {
		return nil, err
	}
	body, err = cleanBody("body", body)
	if err != nil {
		return nil, err
	}
	cmid := ""
	if clientMsgID != nil {
		cmid = strings.TrimSpace(*clientMsgID)
		if utf8.RuneCountInString(cmid) > MaxClientMessageID || !utf8.ValidString(cmid) {
			return nil, fault.Invalid("clientMessageId", "clientMessageId is longer than %d characters", MaxClientMessageID)
		}
	}
	conv, err := s.conversation(ctx, convID)
	if err != nil {
		return nil, err
	}
	// A retry of a stored message is answered with it whatever happened
	// since. It is looked for only where a new message would be refused
	// (closed, rate limited) or collides with the stored one (the unique
	// clientMessageId, below), not before every message.
	refuse := func(refusal error) (*ent.Message, error) {
		if cmid != "" {
			if m, err := s.byClientID(ctx, convID, cmid); m != nil || err != nil {
				return m, err
			}
		}
		return nil, refusal
	}
	if conv.Status == conversation.StatusCLOSED {
		return refuse(fault.Invalid("conversationId", "this conversation is closed; start a new one"))
	}
	// The visitor's and the company's tokens are taken together, or
	// neither is.
	takes := []auth.Take{{L: s.cfg.CompanyMessages, Key: "msg:company:" + conv.CompanyID.String()}}
	if v.Kind == viewer.KindVisitor {
		takes = append(takes, auth.Take{L: s.cfg.VisitorMessages, Key: "msg:visitor:" + v.ID.String()})
	}
	if ok, wait := auth.AllowEach(ctx, takes...); !ok {
		return refuse(fault.RateLimited(wait))
	}
	m := newMessage{body: body, clientMsgID: cmid}
	var takeOver bool
	switch {
	case v.Kind == viewer.KindVisitor:
		m.senderType, m.senderName = message.SenderTypeVISITOR, v.Name
	case v.Staff():
		name, err := s.staffName(ctx, v)
		if err != nil {
			return nil, err
		}
		id := v.ID
		m.senderType, m.senderID, m.senderName = message.SenderTypeAGENT, &id, name
		takeOver = conv.Status == conversation.StatusBOT || conv.Status == conversation.StatusWAITING_HUMAN
	case v.Kind == viewer.KindAPIKey:
		m.senderType = message.SenderTypeAGENT
		if k, err := s.client.APIKey.Get(ctx, v.ID); err == nil {
			m.senderName = k.Name
		}
	default:
		m.senderType = message.SenderTypeSYSTEM
	}
	sys := viewer.SystemContext(ctx, conv.CompanyID)
	id := uuid.New()
	m.id = id
	var msg *ent.Message
	answer := false
	err = s.withTx(sys, func(tx *ent.Client, stx *sql.Tx) error {
		var err error
		msg, conv, err = s.appendMessage(sys, tx, convID, m, func(u *ent.ConversationUpdateOne) {
			switch {
			case m.senderType == message.SenderTypeVISITOR && botAnswers(conv.Status):
				answer = true
				u.SetPendingMessageID(id)
				if conv.Language == "" {
					u.SetLanguage(detectLanguage(body))
				}
			case takeOver:
				s.toHumans(u.SetStatus(conversation.StatusHUMAN).SetAssigneeID(*m.senderID), conv)
			}
		})
		if err != nil || !answer {
			return err
		}
		// The answer job commits with the message, or neither does.
		return s.enqueueAnswer(sys, stx, conv.CompanyID, convID, id)
	})
	if ent.IsConstraintError(err) && cmid != "" {
		// Stored before: by an earlier try, or a concurrent retry. Nothing
		// of this try was written (the transaction rolled back).
		if m, err := s.byClientID(ctx, convID, cmid); m != nil || err != nil {
			return m, err
		}
	}
	if err != nil {
		return nil, fmtErr("sending a message", err)
	}
	msg, conv = msg.Unwrap(), conv.Unwrap() // written in the finished transaction
	events := []outgoing{s.messageEvent(MessageCreated, msg), s.writtenInboxEvent(InboxMessageCreated, conv, msg)}
	if takeOver {
		events = append(events,
			conversationEvent(conv.CompanyID, Event{Kind: StatusChanged, ConversationID: convID, Status: string(conv.Status)}),
			s.writtenInboxEvent(InboxConversationUpdated, conv, nil))
	}
	s.publishAll(ctx, events...)
	return msg, nil
}

func (s *Service) byClientID(ctx context.Context, convID uuid.UUID, cmid string) (*ent.Message, error) {
	m, err := s.client.Message.Query().
		Where(message.ConversationID(convID), message.ClientMessageID(cmid)).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return m, err
}

// setStatus moves a conversation to status (with more changes in update)
// and posts the system message note (if any) in the same transaction.
func (s *Service) setStatus(ctx context.Context, conv *ent.Conversation, status conversation.Status, note string,
	update func(*ent.ConversationUpdateOne)) (*ent.Conversation, error) {
	sys := viewer.SystemContext(ctx, conv.CompanyID)
	var msg *ent.Message
	err := db.WithTx(sys, s.client, func(tx *ent.Client) error {
		set := func(u *ent.ConversationUpdateOne) {
			u.SetStatus(status)
			if update != nil {
				update(u)
			}
		}
		var err error
		if note == "" {
			u := tx.Conversation.UpdateOneID(conv.ID)
			set(u)
			conv, err = u.Save(sys)
			return err
		}
		msg, conv, err = s.appendMessage(sys, tx, conv.ID, newMessage{senderType: message.SenderTypeSYSTEM, body: note}, set)
		return err
	})
	if err != nil {
		return nil, fmtErr("changing a conversation", err)
	}
	conv = conv.Unwrap() // written in the finished transaction, like msg
	if msg != nil {
		msg = msg.Unwrap()
	}
	events := []outgoing{conversationEvent(conv.CompanyID, Event{Kind: StatusChanged, ConversationID: conv.ID, Status: string(status)})}
	if msg != nil {
		events = append(events, s.messageEvent(MessageCreated, msg))
	}
	s.publishAll(ctx, append(events, s.writtenInboxEvent(InboxConversationUpdated, conv, nil))...)
	return conv, nil
}

// RequestHuman asks for a human: the conversation waits for an agent and is
// assigned to the online agent who was assigned longest ago. The visitor is
// told whether someone is coming or the team is away.
func (s *Service) RequestHuman(ctx context.Context, convID uuid.UUID) (*ent.Conversation, error) {
	if _, err := participant(ctx); err != nil {
		return nil, err
	}
	conv, err := s.conversation(ctx, convID)
	if err != nil {
		return nil, err
	}
	switch conv.Status {
	case conversation.StatusCLOSED:
		return nil, fault.Invalid("conversationId", "this conversation is closed")
	case conversation.StatusWAITING_HUMAN, conversation.StatusHUMAN:
		return s.client.Conversation.Get(ctx, convID) // already with the team
	}
	return s.handOff(ctx, conv)
}

// handOff moves conv to WAITING_HUMAN, assigned to an online agent if there
// is one, with a note for the visitor.
func (s *Service) handOff(ctx context.Context, conv *ent.Conversation) (*ent.Conversation, error) {
	sys := viewer.SystemContext(ctx, conv.CompanyID)
	co, err := s.client.Company.Get(sys, conv.CompanyID)
	if err != nil {
		return nil, err
	}
	agent, err := s.nextAgent(sys)
	if err != nil {
		return nil, err
	}
	note := textFor(conv.Language, textHandoffWaiting)
	if agent == nil || !co.BusinessHours.OpenAt(s.now()) {
		note = co.AwayMessage
		if note == "" {
			note = textFor(conv.Language, textNoAgentOnline)
		}
	}
	return s.setStatus(ctx, conv, conversation.StatusWAITING_HUMAN, note, func(u *ent.ConversationUpdateOne) {
		s.toHumans(u, conv)
		if agent != nil {
			u.SetAssigneeID(agent.ID)
		}
	})
}

// TakeOver gives the conversation to the calling agent: the assistant stops
// at once, also a reply it is writing, and stays silent until handBackToBot.
func (s *Service) TakeOver(ctx context.Context, convID uuid.UUID) (*ent.Conversation, error) {
	v, err := staff(ctx)
	if err != nil {
		return nil, err
	}
	conv, err := s.conversation(ctx, convID)
	if err != nil {
		return nil, err
	}
	if conv.Status == conversation.StatusCLOSED {
		return nil, fault.Invalid("id", "this conversation is closed")
	}
	if conv.Status == conversation.StatusHUMAN && conv.AssigneeID != nil && *conv.AssigneeID == v.ID {
		return conv, nil
	}
	name, err := s.staffName(ctx, v)
	if err != nil {
		return nil, err
	}
	return s.setStatus(ctx, conv, conversation.StatusHUMAN, agentJoined(conv.Language, name),
		func(up *ent.ConversationUpdateOne) { s.toHumans(up.SetAssigneeID(v.ID), conv) })
}

// staffName is the name of the staff viewer v: the one its credential was
// checked with, or its user's (a viewer not made from a credential).
func (s *Service) staffName(ctx context.Context, v *viewer.Viewer) (string, error) {
	if v.Name != "" {
		return v.Name, nil
	}
	u, err := s.client.User.Get(ctx, v.ID)
	if err != nil {
		return "", err
	}
	return u.FullName, nil
}

// toHumans makes u hand conv to the team: the assistant's pending reply
// is dropped (its job, if running, stores nothing), and the first time
// humans were asked for is kept.
func (s *Service) toHumans(u *ent.ConversationUpdateOne, conv *ent.Conversation) {
	u.ClearPendingMessageID()
	if conv.HumanRequestedAt == nil {
		u.SetHumanRequestedAt(s.now())
	}
}

// HandBack returns the conversation to the assistant.
func (s *Service) HandBack(ctx context.Context, convID uuid.UUID) (*ent.Conversation, error) {
	if _, err := staff(ctx); err != nil {
		return nil, err
	}
	conv, err := s.conversation(ctx, convID)
	if err != nil {
		return nil, err
	}
	switch conv.Status {
	case conversation.StatusCLOSED:
		return nil, fault.Invalid("id", "this conversation is closed")
	case conversation.StatusBOT:
		return conv, nil
	}
	return s.setStatus(ctx, conv, conversation.StatusBOT, textFor(conv.Language, textBackToBot),
		func(u *ent.ConversationUpdateOne) { u.ClearAssigneeID() })
}

// CloseConversation ends the conversation (its visitor or the staff).
func (s *Service) CloseConversation(ctx context.Context, convID uuid.UUID) (*ent.Conversation, error) {
	if _, err := participant(ctx); err != nil {
		return nil, err
	}
	conv, err := s.conversation(ctx, convID)
	if err != nil {
		return nil, err
	}
	if conv.Status == conversation.StatusCLOSED {
		return conv, nil
	}
	return s.setStatus(ctx, conv, conversation.StatusCLOSED, textFor(conv.Language, textClosed),
		func(u *ent.ConversationUpdateOne) {
			u.SetClosedAt(s.now()).ClearPendingMessageID()
		})
}

// SetTyping tells the other side that the viewer is (or stopped) typing.
// Nothing is stored.
func (s *Service) SetTyping(ctx context.Context, convID uuid.UUID, typing bool) error {
	v, err := participant(ctx)
	if err != nil {
		return err
	}
	conv, err := s.conversation(ctx, convID)
	if err != nil {
		return err
	}
	t := &Typing{Typing: typing}
	switch {
	case v.Kind == viewer.KindVisitor:
		t.SenderType = string(message.SenderTypeVISITOR)
	case v.Staff():
		t.SenderType = string(message.SenderTypeAGENT)
		t.Name, _ = s.staffName(ctx, v)
	default:
		t.SenderType = string(message.SenderTypeAGENT)
	}
	s.publish(ctx, conv.CompanyID, Event{Kind: TypingChanged, ConversationID: convID, Typing: t})
	return nil
}

// Rate records the visitor's rating (1-5) and comment, once.
func (s *Service) Rate(ctx context.Context, convID uuid.UUID, rating int, comment *string) (*ent.Conversation, error) {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.KindVisitor {
		if v.Kind == viewer.KindNone {
			return nil, fault.Unauthenticated("log in first")
		}
		return nil, fault.Forbidden("only the visitor rates a conversation")
	}
	if rating < 1 || rating > 5 {
		return nil, fault.Invalid("rating", "rating must be 1 to 5")
	}
	text, err := optText("comment", comment, 2000)
	if err != nil {
		return nil, err
	}
	conv, err := s.conversation(ctx, convID)
	if err != nil {
		return nil, err
	}
	if conv.Rating != nil {
		return nil, fault.Conflict("rating", "this conversation is already rated")
	}
	sys := viewer.SystemContext(ctx, conv.CompanyID)
	n, err := s.client.Conversation.Update().
		Where(conversation.ID(convID), conversation.RatingIsNil()).
		SetRating(rating).SetRatingComment(text).Save(sys)
	if err != nil {
		return nil, fmtErr("rating", err)
	}
	if n == 0 {
		return nil, fault.Conflict("rating", "this conversation is already rated")
	}
	s.inbox(ctx, conv.CompanyID, InboxConversationUpdated, convID, uuid.Nil)
	return s.client.Conversation.Get(sys, convID)
}

// Get returns a conversation the viewer may read, or nil.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*ent.Conversation, error) {
	c, err := s.client.Conversation.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return c, err
}

// withTx runs fn in one database transaction, on an ent client bound to it
// and on the transaction itself (for River's InsertTx): committed when fn
// returns nil, rolled back otherwise. Without DB (no assistant), it is an
// ent transaction and stx is nil.
func (s *Service) withTx(ctx context.Context, fn func(tx *ent.Client, stx *sql.Tx) error) error {
	if s.cfg.DB == nil {
		return db.WithTx(ctx, s.client, func(tx *ent.Client) error { return fn(tx, nil) })
	}
	stx, err := s.cfg.DB.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer stx.Rollback() //nolint:errcheck // a no-op after Commit; also on panic
	if err := fn(s.cfg.DB.TxClient(stx), stx); err != nil {
		return err
	}
	return stx.Commit()
}
