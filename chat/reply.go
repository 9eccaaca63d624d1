package chat

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"concierge/assistant"
	"concierge/db"
	"concierge/ent"
	"concierge/ent/conversation"
	"concierge/ent/message"
	"concierge/ent/privacy"
	"concierge/fault"
	"concierge/observe"
	"concierge/viewer"
)

// The assistant's replies. A visitor message in a BOT conversation becomes
// the conversation's pending message (in the transaction that stores it).
// A process answers a conversation only while it holds its reply lease,
// taken by a conditional update, so two processes never answer the same
// message; the reply is stored only if the conversation is still with the
// bot, so a takeover silences it even mid-reply. A process that dies
// holding a lease leaves the message pending: the sweep answers it once the
// lease has expired. Nothing a visitor sent goes unanswered.

// kick answers the conversation's pending message in the background.
func (s *Service) kick(companyID, convID uuid.UUID) {
	if s.cfg.Assistant == nil {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.answer(s.ctx, companyID, convID)
	}()
}

// answer answers the conversation's pending messages until none is left,
// if it gets the lease.
func (s *Service) answer(ctx context.Context, companyID, convID uuid.UUID) {
	sys := viewer.SystemContext(ctx, companyID)
	for ctx.Err() == nil {
		claimed, err := s.claim(sys, convID)
		if err != nil {
			s.log.Warn("chat: claiming a reply", slog.Any("err", err))
			return
		}
		if !claimed {
			return // nothing pending, or another process is answering
		}
		if pending, err := s.replyOnce(sys, convID); err != nil && ctx.Err() == nil {
			s.log.Warn("chat: answering", slog.String("conversation", convID.String()), slog.Any("err", err))
			// Never silence: the visitor gets the polite fallback (and the
			// team, with auto-handoff). If even that cannot be stored, the
			// lease is released and the sweep tries again later.
			if pending == uuid.Nil || s.fallback(sys, convID, pending) != nil {
				s.release(sys, convID)
				return
			}
		}
	}
}

// claim takes the conversation's reply lease if a reply is due and nobody
// holds it.
func (s *Service) claim(sys context.Context, convID uuid.UUID) (bool, error) {
	now := s.now()
	n, err := s.client.Conversation.Update().
		Where(conversation.ID(convID), conversation.StatusIn(botStatuses...),
			conversation.PendingMessageIDNotNil(),
			conversation.Or(conversation.ReplyLeaseUntilIsNil(), conversation.ReplyLeaseUntilLT(now))).
		SetReplyLeaseUntil(now.Add(s.cfg.LeaseTTL)).Save(sys)
	return n == 1, err
}

func (s *Service) release(sys context.Context, convID uuid.UUID) {
	_ = s.client.Conversation.UpdateOneID(convID).ClearReplyLeaseUntil().Exec(context.WithoutCancel(sys))
}

// replyOnce writes the answer to the pending message, streaming it, and
// stores it unless the conversation left the bot meanwhile. It returns the
// message it answered (or tried to).
func (s *Service) replyOnce(sys context.Context, convID uuid.UUID) (uuid.UUID, error) {
	conv, err := s.client.Conversation.Get(sys, convID)
	if err != nil {
		return uuid.Nil, err
	}
	if conv.PendingMessageID == nil || !botAnswers(conv.Status) {
		s.release(sys, convID)
		return uuid.Nil, nil
	}
	pending := *conv.PendingMessageID
	return pending, s.reply(sys, conv, pending)
}

// reply answers the pending message of conv.
func (s *Service) reply(sys context.Context, conv *ent.Conversation, pending uuid.UUID) error {
	convID := conv.ID
	question, err := s.client.Message.Get(sys, pending)
	if err != nil {
		return err
	}
	co, err := s.client.Company.Get(sys, conv.CompanyID)
	if err != nil {
		return err
	}
	history, err := s.client.Message.Query().
		Where(message.ConversationID(convID), message.SeqLTE(question.Seq)).
		Order(ent.Desc(message.FieldSeq)).Limit(historyMessages).All(sys)
	if err != nil {
		return err
	}
	slices.Reverse(history)
	var turns []assistant.Turn
	for _, m := range history {
		switch m.SenderType {
		case message.SenderTypeVISITOR:
			turns = append(turns, assistant.Turn{Role: assistant.RoleVisitor, Text: m.Body})
		case message.SenderTypeBOT:
			turns = append(turns, assistant.Turn{Role: assistant.RoleAssistant, Text: m.Body})
		case message.SenderTypeAGENT:
			turns = append(turns, assistant.Turn{Role: assistant.RoleAgent, Text: m.Body})
		}
	}
	req := assistantRequest(co, turns)

	// A takeover (on any replica) cancels the reply being written.
	gen, cancel := context.WithCancel(sys)
	defer cancel()
	if sub, err := s.broker.Subscribe(gen, Topic(conv.CompanyID, convID)); err == nil {
		go func() {
			defer sub.Close()
			for p := range sub.C() {
				var e Event
				if json.Unmarshal(p, &e) == nil && e.Kind == StatusChanged && !botAnswers(conversation.Status(e.Status)) {
					cancel()
					return
				}
			}
		}()
	}
	replyID := uuid.New()
	ans, err := s.cfg.Assistant.Answer(gen, req, func(delta string) {
		s.publish(gen, conv.CompanyID, Event{Kind: MessageDelta, ConversationID: convID, MessageID: replyID, Delta: delta})
	})
	if err != nil {
		if gen.Err() != nil && sys.Err() == nil {
			return nil // taken over: silent, and the takeover cleared the lease
		}
		return err
	}
	if ans.Text == "" {
		return errors.New("the assistant returned an empty answer")
	}
	return s.store(sys, conv, co, pending, replyID, ans)
}

// assistantRequest is what the assistant is asked in a conversation of co
// with turns (oldest first, the visitor's question last). Inactive
// resources need no ExcludeResources: they are kept out of the index
// (ingest.Service.UpdateResource).
func assistantRequest(co *ent.Company, turns []assistant.Turn) assistant.Request {
	return assistant.Request{CompanyName: co.Name, AssistantName: co.AssistantName, Tone: co.AssistantTone, History: turns}
}

// TestRequest is the request the assistant gets when a visitor of co
// opens a conversation with question, built as a reply's, so that the
// company's staff see what the bot would answer (testQuestion). question
// is checked as a visitor's message (field "question"), and counts
// against the company's message rate: an answer costs the same.
func (s *Service) TestRequest(ctx context.Context, co *ent.Company, question string) (assistant.Request, error) {
	q, err := cleanBody("question", question)
	if err != nil {
		return assistant.Request{}, err
	}
	if ok, wait := s.cfg.CompanyMessages.Allow(ctx, "msg:company:"+co.ID.String()); !ok {
		return assistant.Request{}, fault.RateLimited(wait)
	}
	return assistantRequest(co, []assistant.Turn{{Role: assistant.RoleVisitor, Text: q}}), nil
}

// fallback answers the pending message with the polite failure note when
// the answer itself could not be written.
func (s *Service) fallback(sys context.Context, convID, pending uuid.UUID) error {
	conv, err := s.client.Conversation.Get(sys, convID)
	if err != nil {
		return err
	}
	co, err := s.client.Company.Get(sys, conv.CompanyID)
	if err != nil {
		return err
	}
	return s.store(sys, conv, co, pending, uuid.New(), assistant.Answer{
		Text: textFor(conv.Language, assistant.TextFailed), Outcome: assistant.OutcomeFailed, Language: conv.Language,
		Key: assistant.TextFailed,
	})
}

// store saves the assistant's answer to pending, if the conversation is
// still with the bot, and hands off what it could not answer.
func (s *Service) store(sys context.Context, conv *ent.Conversation, co *ent.Company, pending, replyID uuid.UUID, ans assistant.Answer) error {
	convID := conv.ID
	if conv.Status == conversation.StatusWAITING_HUMAN && ans.Outcome != assistant.OutcomeAnswered {
		// The team is coming: what the bot cannot answer waits for them.
		if err := s.client.Conversation.Update().
			Where(conversation.ID(convID), conversation.PendingMessageID(pending)).
			ClearPendingMessageID().Exec(sys); err != nil {
			return err
		}
		return s.client.Conversation.UpdateOneID(convID).ClearReplyLeaseUntil().Exec(sys)
	}
	outcome := message.Outcome(ans.Outcome)
	conf := ans.Confidence
	handoff := ans.Outcome != assistant.OutcomeAnswered && co.AutoHandoff && conv.Status == conversation.StatusBOT
	if handoff {
		// The decline says what happens: the team has the question now,
		// so it does not ask whether the visitor wants a person.
		lang := ans.Language
		if lang == "" {
			lang = conv.Language
		}
		switch ans.Key {
		case assistant.TextDeclined:
			ans.Text = textFor(lang, assistant.TextDeclinedHandedOff)
		case assistant.TextFailed:
			ans.Text = textFor(lang, assistant.TextFailedHandedOff)
		}
	}
	var msg *ent.Message
	err := db.WithTx(sys, s.client, func(tx *ent.Client) error {
		var err error
		msg, conv, err = s.appendMessage(sys, tx, convID, newMessage{
			id: replyID, senderType: message.SenderTypeBOT, senderName: co.AssistantName, body: ans.Text,
			citations: ans.Citations, outcome: &outcome, confidence: &conf, replyTo: &pending,
		}, func(u *ent.ConversationUpdateOne) {
			u.ClearReplyLeaseUntil()
			if conv.Language == "" && ans.Language != "" {
				u.SetLanguage(ans.Language)
			}
		}, func(u *ent.ConversationUpdateOne) {
			u.Where(conversation.StatusIn(botStatuses...))
		})
		if err != nil {
			return err
		}
		// Answered: unless the visitor wrote again meanwhile.
		return tx.Conversation.Update().
			Where(conversation.ID(convID), conversation.PendingMessageID(pending)).
			ClearPendingMessageID().Exec(sys)
	})
	if ent.IsNotFound(err) {
		return nil // no longer with the bot: stay silent
	}
	if err != nil {
		return err
	}
	msg, conv = msg.Unwrap(), conv.Unwrap() // written in the finished transaction
	s.publishAll(sys, s.messageEvent(MessageCompleted, msg), inboxEvent(conv.CompanyID, InboxMessageCreated, convID, msg.ID))
	observe.AssistantReply(string(ans.Outcome))
	if handoff {
		if _, err := s.handOff(sys, conv); err != nil {
			return err
		}
		observe.Handoff(observe.HandoffAssistant)
	}
	return nil
}

// Run runs the sweep of unanswered visitor messages (their process died
// mid-reply, or no process was answering) until ctx ends or Close.
func (s *Service) Run(ctx context.Context) {
	if s.cfg.Assistant == nil {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(s.cfg.SweepInterval)
		defer t.Stop()
		for {
			s.Sweep(ctx)
			select {
			case <-ctx.Done():
				return
			case <-s.ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Sweep answers the conversations whose pending message nobody is
// answering: no lease, or an expired one, for a few seconds.
func (s *Service) Sweep(ctx context.Context) {
	now := s.now()
	// Every company's conversations: the sweep is platform work.
	all := privacy.DecisionContext(ctx, privacy.Allow)
	due, err := s.client.Conversation.Query().
		Where(conversation.StatusIn(botStatuses...), conversation.PendingMessageIDNotNil(),
			conversation.Or(conversation.ReplyLeaseUntilIsNil(), conversation.ReplyLeaseUntilLT(now)),
			conversation.LastMessageAtLT(now.Add(-5*time.Second))).
		Limit(100).All(all)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("chat: sweeping unanswered messages", slog.Any("err", err))
		}
		return
	}
	for _, c := range due {
		s.kick(c.CompanyID, c.ID)
	}
}
