package chat

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"concierge/assistant"
	"concierge/db"
	"concierge/ent"
	"concierge/ent/conversation"
	"concierge/ent/message"
	"concierge/fault"
	"concierge/observe"
	"concierge/viewer"
)

// The assistant's replies are River jobs (AnswerArgs). A visitor message
// in a BOT conversation becomes the conversation's pending message, and its
// answer job is inserted in the transaction that stores it: a committed
// message always has its job, a rolled-back one none. River runs one job
// per message at a time (uniqueness), retries a failed attempt, bounds
// one by a timeout, and rescues the job of a process that died mid-reply,
// so nothing a visitor sent goes unanswered. The job answers only while
// its message is still pending, and stores the reply only if the
// conversation is still with the bot, so a takeover silences it even
// mid-reply and a job run again after its answer was stored writes none.

// ReplyQueue is the River queue of the assistant's replies.
const ReplyQueue = "replies"

// Defaults of Config.
const (
	DefaultReplyTimeout  = 2 * time.Minute
	DefaultReplyAttempts = 3
	DefaultReplyWorkers  = 20
	// DefaultReplyPoll is how often a process looks for reply jobs: a
	// visitor waits for it before the reply starts.
	DefaultReplyPoll = 50 * time.Millisecond
)

// AnswerArgs is the job that answers one visitor message. Its company is
// the only one the job may act for.
type AnswerArgs struct {
	CompanyID      uuid.UUID `json:"company_id" river:"unique"`
	ConversationID uuid.UUID `json:"conversation_id" river:"unique"`
	MessageID      uuid.UUID `json:"message_id" river:"unique"`
}

// Kind of the job.
func (AnswerArgs) Kind() string { return "chat_answer" }

// InsertOpts make the job unique per message while it waits, runs or
// retries: one answer per message, whatever the number of processes.
func (AnswerArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue: ReplyQueue,
		UniqueOpts: river.UniqueOpts{
			ByArgs:  true,
			ByState: db.LiveJobStates,
		},
	}
}

// Jobs inserts jobs in a transaction (a *river.Client).
type Jobs interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// AddWorkers registers the reply worker in workers, for the River client
// that runs the process's jobs (ingest.Config.Register): a reply whose
// process died runs again grace after its ReplyTimeout (db.AttemptLimit).
func (s *Service) AddWorkers(workers *river.Workers, grace time.Duration) error {
	return river.AddWorkerSafely(workers, &answerWorker{s: s, limit: db.AttemptLimit{Limit: s.cfg.ReplyTimeout, Grace: grace}})
}

// Queues are the River queues of the reply jobs (ingest.Config.Queues):
// polled often, so that River adds no more than DefaultReplyPoll to a
// reply.
func (s *Service) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{ReplyQueue: {MaxWorkers: s.cfg.ReplyWorkers,
		FetchPollInterval: s.cfg.ReplyPoll, FetchCooldown: min(s.cfg.ReplyPoll, 10*time.Millisecond)}}
}

// UseJobs sets the job queue the answer jobs are inserted in, once the
// River client exists (it runs this Service's worker: AddWorkers).
func (s *Service) UseJobs(j Jobs) { s.jobs = j }

// enqueueAnswer inserts the answer job of the visitor message msgID on tx.
func (s *Service) enqueueAnswer(ctx context.Context, tx *sql.Tx, companyID, convID, msgID uuid.UUID) error {
	if s.cfg.Assistant == nil {
		return nil // nobody answers
	}
	if s.jobs == nil {
		return errors.New("chat: no job queue for the assistant's replies (UseJobs)")
	}
	if _, err := s.jobs.InsertTx(ctx, tx, AnswerArgs{CompanyID: companyID, ConversationID: convID, MessageID: msgID},
		&river.InsertOpts{MaxAttempts: s.cfg.ReplyAttempts}); err != nil {
		return fmt.Errorf("chat: enqueueing the reply: %w", err)
	}
	return nil
}

// answerWorker runs AnswerArgs jobs.
type answerWorker struct {
	river.WorkerDefaults[AnswerArgs]
	s     *Service
	limit db.AttemptLimit
}

// Timeout is River's bound of one attempt and its rescue horizon: the
// ReplyTimeout, plus the grace in which Work stores the fallback.
func (w *answerWorker) Timeout(*river.Job[AnswerArgs]) time.Duration { return w.limit.Timeout() }

// NextRetry tries a failed reply again soon: a visitor is waiting.
func (w *answerWorker) NextRetry(job *river.Job[AnswerArgs]) time.Time {
	return time.Now().Add(time.Duration(job.Attempt) * w.s.cfg.ReplyRetryDelay)
}

// Work answers the job's message with the system viewer of its company.
// An assistant that fails is tried again; on the last attempt, and when
// its answer cannot be stored, the visitor gets the polite fallback (and
// the team, with auto-handoff) rather than silence. Only when even that
// cannot be stored does the job fail, and River tries it again.
func (w *answerWorker) Work(ctx context.Context, job *river.Job[AnswerArgs]) error {
	s, a := w.s, job.Args
	if s.cfg.Assistant == nil {
		return nil
	}
	ctx, cancel := w.limit.Bound(ctx)
	defer cancel()
	sys := viewer.SystemContext(ctx, a.CompanyID)
	conv, err := s.client.Conversation.Get(sys, a.ConversationID)
	if ent.IsNotFound(err) {
		return nil // deleted with its company
	}
	if err != nil {
		return err
	}
	if conv.PendingMessageID == nil || *conv.PendingMessageID != a.MessageID || !botAnswers(conv.Status) {
		return nil // answered, superseded by a later message, or with the team
	}
	err = s.reply(sys, conv, a.MessageID)
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return err // stopping: another attempt answers
	}
	log := s.log.With(slog.String("conversation", a.ConversationID.String()), slog.Int("attempt", job.Attempt))
	var ae assistantError
	if errors.As(err, &ae) && job.Attempt < job.MaxAttempts {
		log.Warn("chat: the assistant failed; trying again", slog.Any("err", err))
		return err
	}
	log.Warn("chat: answering; the visitor gets the fallback", slog.Any("err", err))
	// The attempt's context may have timed out: the fallback gets its own.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(sys), 30*time.Second)
	defer cancel()
	if ferr := s.fallback(fctx, a.ConversationID, a.MessageID); ferr != nil {
		return errors.Join(err, ferr)
	}
	return nil
}

// assistantError is a failure of the assistant itself (its provider),
// worth another attempt.
type assistantError struct{ err error }

func (e assistantError) Error() string { return "the assistant: " + e.err.Error() }
func (e assistantError) Unwrap() error { return e.err }

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
			return nil // taken over: silent, and the takeover cleared the pending message
		}
		return assistantError{err}
	}
	if ans.Text == "" {
		return assistantError{errors.New("it returned an empty answer")}
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
		return s.client.Conversation.Update().
			Where(conversation.ID(convID), conversation.PendingMessageID(pending)).
			ClearPendingMessageID().Exec(sys)
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
