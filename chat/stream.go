package chat

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"concierge/ent"
	"concierge/ent/conversation"
	"concierge/ent/message"
	"concierge/ent/privacy"
	"concierge/fault"
	"concierge/observe"
	"concierge/realtime"
	"concierge/viewer"
)

// Update is one event of a conversation as a subscriber sees it: rows are
// loaded with the subscriber's viewer.
type Update struct {
	Kind         string
	Conversation *ent.Conversation
	Message      *ent.Message
	MessageID    uuid.UUID
	Delta        string
	Typing       *Typing
}

// replayPage is how many stored messages are loaded at once.
const replayPage = 200

// gapPatience is how long a subscriber waits for the database to come back
// after a gap before it ends (the client then resubscribes with after).
var gapPatience = time.Minute // a variable for tests

// retrying runs load until it succeeds, fails for good (the row is gone or
// not visible to the subscriber, or the subscriber left), or the database
// has failed it for gapPatience: a passing failure (a restart, a broken
// connection) delays a subscriber's event, it does not drop it.
func retrying[R any](ctx context.Context, load func() (R, error)) (R, error) {
	start := time.Now()
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		r, err := load()
		if err == nil || ctx.Err() != nil || ent.IsNotFound(err) || errors.Is(err, privacy.Deny) ||
			time.Since(start) > gapPatience {
			return r, err
		}
		select {
		case <-ctx.Done():
			return r, err
		case <-time.After(wait):
		}
	}
}

// Events streams a conversation: first its stored messages after the
// message after (all when nil), as MESSAGE_CREATED, then live events, each
// converted by as (to the GraphQL layer's type) as it is sent, so no
// adapter goroutine is needed per subscriber. Messages arrive exactly once
// and in order (by seq): a live message past a gap is preceded by the gap,
// read from the database, and a subscriber that fell behind the broker is
// resubscribed and caught up the same way.
func Events[T any](s *Service, ctx context.Context, convID uuid.UUID, after *uuid.UUID, as func(*Update) T) (<-chan T, error) {
	v := viewer.FromContext(ctx)
	if v.Kind == viewer.KindNone {
		return nil, fault.Unauthenticated("log in first")
	}
	conv, err := s.conversation(ctx, convID)
	if err != nil {
		return nil, err
	}
	last := 0
	if after != nil {
		m, err := s.client.Message.Query().Where(message.ID(*after), message.ConversationID(convID)).Only(ctx)
		if ent.IsNotFound(err) {
			return nil, fault.Invalid("after", "after is not a message of this conversation")
		}
		if err != nil {
			return nil, err
		}
		last = m.Seq
	}
	topic := Topic(conv.CompanyID, convID)
	sub, err := s.broker.Subscribe(ctx, topic)
	if err != nil {
		return nil, err
	}
	st := &eventStream[T]{s: s, ctx: ctx, conv: conv, topic: topic, as: as, last: last,
		sub: sub, out: make(chan T, 16), waker: realtime.WakerFrom(ctx)}
	st.waker.Attach() // the channel is returned as is
	st.worker = realtime.NewWorker(st.run)
	sub.Notify(st.worker.Wake)
	return st.out, nil
}

// eventStream is one subscriber's conversation stream. It has no goroutine
// of its own while it waits (a widget's subscription mostly waits): the
// broker wakes it when an event is queued, and a goroutine started then
// handles what is queued and ends. The transport that reads out need not
// hold one either: the stream tells its waker of each value sent and of
// the end.
type eventStream[T any] struct {
	s     *Service
	ctx   context.Context
	conv  *ent.Conversation
	topic string
	as    func(*Update) T
	out   chan T
	waker *realtime.Waker // nil when the transport does not use one

	worker *realtime.Worker // runs the stream when the broker wakes it

	// Owned by the running worker.
	sub     *realtime.Subscription
	last    int // seq of the last message sent
	started bool
}

// run handles what is queued; false once the stream has ended.
func (st *eventStream[T]) run() bool {
	if st.drain() {
		return true
	}
	st.sub.Close()
	close(st.out)
	st.waker.Ready()
	return false
}

// drain sends the stored messages first (once), then what the broker has
// queued; false ends the stream.
func (st *eventStream[T]) drain() bool {
	if !st.started {
		st.started = true
		if !st.catchUp(0) {
			return false
		}
	}
	for {
		var (
			p  []byte
			ok bool
		)
		select {
		case p, ok = <-st.sub.C():
		default:
			return true // until the next wake-up
		}
		if !ok {
			if !errors.Is(st.sub.Err(), realtime.ErrLagged) || st.ctx.Err() != nil {
				return false
			}
			if !st.resync() {
				return false
			}
			continue
		}
		if !st.handle(p) {
			return false
		}
	}
}

func (st *eventStream[T]) send(u *Update) bool {
	select {
	case st.out <- st.as(u):
		st.waker.Ready()
		return true
	case <-st.ctx.Done():
		return false
	}
}

// catchUp sends the stored messages after last, up to upTo (0: all).
func (st *eventStream[T]) catchUp(upTo int) bool {
	s, ctx := st.s, st.ctx
	for {
		ms, err := retrying(ctx, func() ([]*ent.Message, error) {
			q := s.client.Message.Query().Where(message.ConversationID(st.conv.ID), message.SeqGT(st.last))
			if upTo > 0 {
				q.Where(message.SeqLTE(upTo))
			}
			return q.Order(ent.Asc(message.FieldSeq)).Limit(replayPage).All(ctx)
		})
		if err != nil {
			if ctx.Err() == nil {
				s.log.WarnContext(ctx, "chat: replaying messages", slog.Any("err", err))
			}
			return false
		}
		for _, m := range ms {
			if !st.send(&Update{Kind: MessageCreated, Conversation: st.conv, Message: m, MessageID: m.ID}) {
				return false
			}
			st.last = m.Seq
		}
		if len(ms) < replayPage {
			return true
		}
	}
}

// resync follows the conversation again after the subscriber was too slow
// for the broker, or the broker lost events, and catches up from the
// database.
func (st *eventStream[T]) resync() bool {
	observe.SubscriberResynced(observe.StreamConversation)
	sub, err := st.s.broker.Subscribe(st.ctx, st.topic)
	if err != nil {
		return false
	}
	st.sub = sub
	sub.Notify(st.worker.Wake) // this run handles what it queues
	// The database may be coming back (the broker lost its connection
	// too): catchUp keeps trying for a while.
	return st.catchUp(0)
}

// handle sends one live event, loading its rows; false ends the stream.
func (st *eventStream[T]) handle(p []byte) bool {
	s, ctx := st.s, st.ctx
	var e Event
	if err := json.Unmarshal(p, &e); err != nil {
		return true
	}
	u := &Update{Kind: e.Kind, Conversation: st.conv, MessageID: e.MessageID, Delta: e.Delta, Typing: e.Typing}
	switch e.Kind {
	case MessageCreated, MessageCompleted:
		if e.Seq <= st.last {
			return true // replayed already
		}
		if e.Seq > st.last+1 && !st.catchUp(e.Seq-1) {
			return false
		}
		m, ok := s.writtenMessage(e.MessageID, st.conv.ID)
		if !ok {
			var err error
			if m, err = retrying(ctx, func() (*ent.Message, error) { return s.client.Message.Get(ctx, e.MessageID) }); err != nil {
				if ent.IsNotFound(err) || errors.Is(err, privacy.Deny) {
					return true // deleted meanwhile, or not this subscriber's
				}
				// The database has been away for long: the stream ends, and
				// the client's resubscription with after replays what it
				// missed. Skipping the message would lose it for good when
				// it is the conversation's last (an assistant's reply).
				return false
			}
		}
		u.Message, st.last = m, m.Seq
	case StatusChanged:
		c, err := retrying(ctx, func() (*ent.Conversation, error) { return s.client.Conversation.Get(ctx, st.conv.ID) })
		if err != nil {
			return false // gone, no longer visible, or the database is away for long
		}
		st.conv, u.Conversation = c, c
	case MessageDelta, TypingChanged:
	default:
		return true
	}
	return st.send(u)
}

// InboxUpdate is one inbox event as a subscriber sees it.
type InboxUpdate struct {
	Kind         string
	Conversation *ent.Conversation
	Message      *ent.Message
}

// Inbox streams the company's conversations created and changed, and their
// new messages, to its staff (and API keys with conversations:read), each
// converted by as. An agent following it is online: conversations waiting
// for a human are assigned to it.
func Inbox[T any](s *Service, ctx context.Context, as func(*InboxUpdate) T) (<-chan T, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v.Kind == viewer.KindNone:
		return nil, fault.Unauthenticated("log in first")
	case v.Staff(), v.HasScope(viewer.ScopeConversationsRead):
	case v.Kind == viewer.KindAPIKey:
		return nil, &viewer.MissingScopeError{Scope: viewer.ScopeConversationsRead}
	default:
		return nil, fault.Forbidden("only the company's agents follow its inbox")
	}
	sub, err := s.broker.Subscribe(ctx, InboxTopic(v.CompanyID), inboxBuffer)
	if err != nil {
		return nil, err
	}
	stop := s.Online(ctx)
	out := make(chan T, 16)
	// Staff of a company all read the same conversations: the rows loaded
	// for an event are shared by them (keys and other viewers load their
	// own).
	class := ""
	if v.Staff() {
		class = staffClass(v.CompanyID)
	}
	go func() {
		defer close(out)
		defer stop()
		defer func() { sub.Close() }()
		var (
			lastAt time.Time
			seen   = newRecent(4096)
		)
		emit := func(u *InboxUpdate) bool {
			if u.Message != nil {
				if seen.has(u.Message.ID) {
					return true
				}
				seen.add(u.Message.ID)
				lastAt = u.Message.CreatedAt
			}
			select {
			case out <- as(u):
				return true
			case <-ctx.Done():
				return false
			}
		}
		// take returns the events queued for the subscriber, up to
		// inboxBatch, waiting for the first; false once the subscription
		// is closed (after the events queued before).
		batch := make([]InboxEvent, 0, inboxBatch)
		take := func() ([]InboxEvent, bool) {
			batch = batch[:0]
			p, ok := <-sub.C()
			for ok {
				var e InboxEvent
				if json.Unmarshal(p, &e) == nil {
					batch = append(batch, e)
				}
				if len(batch) == inboxBatch {
					return batch, true
				}
				select {
				case p, ok = <-sub.C():
				default:
					return batch, true
				}
			}
			return batch, false
		}
		for {
			events, open := take()
			if len(events) > 0 {
				us, err := retrying(ctx, func() ([]*InboxUpdate, error) { return s.inboxRows(ctx, class, events) })
				if err != nil && ctx.Err() != nil {
					return
				}
				// Rows gone or not visible to this subscriber are nil. (A
				// database away for longer than gapPatience skips the
				// batch.)
				for _, u := range us {
					if u != nil && !emit(u) {
						return
					}
				}
			}
			if !open {
				if !errors.Is(sub.Err(), realtime.ErrLagged) || ctx.Err() != nil {
					return
				}
				observe.SubscriberResynced(observe.StreamInbox)
				if sub, err = s.broker.Subscribe(ctx, InboxTopic(v.CompanyID), inboxBuffer); err != nil {
					return
				}
				// Catch up on the messages published meanwhile.
				for _, u := range s.inboxSince(ctx, lastAt) {
					if !emit(u) {
						return
					}
				}
			}
		}
	}()
	return out, nil
}

// inboxBuffer: an inbox receives every message of its company, and there
// are few of them (one per agent's dashboard), so each gets a larger
// buffer than a conversation's subscriber (1,024 events with the server's
// broker).
var inboxBuffer = realtime.BufferFactor(16)

// staffClass names the inbox subscribers of a company's staff, who may all
// see the same rows.
func staffClass(companyID uuid.UUID) string { return "staff/" + companyID.String() }

// inboxBatch is how many inbox events a subscriber loads the rows of at
// once, at most: a subscriber that fell behind catches up in a few
// statements rather than two per event (each waiting for the database).
const inboxBatch = 64

// inboxRows loads the rows of inbox events with the subscriber's viewer, or
// takes them from a subscriber of the same class that loaded them. Events
// whose rows are gone or not visible to the viewer have nil rows.
func (s *Service) inboxRows(ctx context.Context, class string, events []InboxEvent) ([]*InboxUpdate, error) {
	load := func(idx []int) ([]*InboxUpdate, error) {
		var convIDs, msgIDs []uuid.UUID
		for _, i := range idx {
			if id := events[i].ConversationID; !slices.Contains(convIDs, id) {
				convIDs = append(convIDs, id)
			}
			if id := events[i].MessageID; id != uuid.Nil {
				msgIDs = append(msgIDs, id)
			}
		}
		convs, err := s.client.Conversation.Query().Where(conversation.IDIn(convIDs...)).All(ctx)
		if err != nil {
			return nil, err
		}
		var msgs []*ent.Message
		if len(msgIDs) > 0 {
			if msgs, err = s.client.Message.Query().Where(message.IDIn(msgIDs...)).All(ctx); err != nil {
				return nil, err
			}
		}
		convByID := make(map[uuid.UUID]*ent.Conversation, len(convs))
		for _, c := range convs {
			convByID[c.ID] = c
		}
		msgByID := make(map[uuid.UUID]*ent.Message, len(msgs))
		for _, m := range msgs {
			msgByID[m.ID] = m
		}
		us := make([]*InboxUpdate, len(idx))
		for j, i := range idx {
			e := events[i]
			c, m := convByID[e.ConversationID], msgByID[e.MessageID]
			if c == nil || (e.MessageID != uuid.Nil && m == nil) {
				continue
			}
			us[j] = &InboxUpdate{Kind: e.Kind, Conversation: c, Message: m}
		}
		return us, nil
	}
	if class == "" {
		idx := make([]int, len(events))
		for i := range idx {
			idx[i] = i
		}
		return load(idx)
	}
	keys := make([]string, len(events))
	for i, e := range events {
		keys[i] = class + "/" + e.ID.String()
	}
	return s.rows.loadAll(ctx, keys, load)
}

// inboxSince returns the company's messages created since t (a little
// before, for clock and commit order), oldest first, as inbox events, in
// pages until none is left (at most inboxCatchUpMax).
func (s *Service) inboxSince(ctx context.Context, t time.Time) []*InboxUpdate {
	if t.IsZero() {
		return nil
	}
	from := t.Add(-2 * time.Second)
	var out []*InboxUpdate
	for len(out) < inboxCatchUpMax {
		ms, err := retrying(ctx, func() ([]*ent.Message, error) {
			return s.client.Message.Query().Where(message.CreatedAtGTE(from)).
				WithConversation().Order(ent.Asc(message.FieldCreatedAt), ent.Asc(message.FieldID)).Limit(inboxPage).All(ctx)
		})
		if err != nil {
			s.log.WarnContext(ctx, "chat: catching up the inbox", slog.Any("err", err))
			return out
		}
		for _, m := range ms {
			if m.Edges.Conversation != nil {
				out = append(out, &InboxUpdate{Kind: InboxMessageCreated, Conversation: m.Edges.Conversation, Message: m})
			}
		}
		if len(ms) < inboxPage {
			return out
		}
		// The next page starts at the last time seen (messages of that very
		// instant come again; the subscriber's recent ids drop them).
		next := ms[len(ms)-1].CreatedAt
		if !next.After(from) {
			return out // a page of one instant: as far as it goes
		}
		from = next
	}
	return out
}

const (
	inboxPage       = 500
	inboxCatchUpMax = 20000
)

// recent is a bounded set of the last ids seen.
type recent struct {
	ids  map[uuid.UUID]struct{}
	ring []uuid.UUID
	next int
}

func newRecent(n int) *recent {
	return &recent{ids: make(map[uuid.UUID]struct{}, n), ring: make([]uuid.UUID, n)}
}

func (r *recent) has(id uuid.UUID) bool { _, ok := r.ids[id]; return ok }

func (r *recent) add(id uuid.UUID) {
	delete(r.ids, r.ring[r.next])
	r.ring[r.next] = id
	r.ids[id] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}
