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
// resubscribed and caught up the same way (realtime.Stream).
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
	topic, err := realtime.ConversationTopic(v, conv.CompanyID, convID)
	if err != nil {
		return nil, err
	}
	c := &convCursor[T]{s: s, conv: conv, as: as, last: last}
	return realtime.Stream(ctx, realtime.Source[T]{
		Broker: s.broker, Topic: topic, Buffer: 16,
		Replay:   func(ctx context.Context, send func(T) bool) bool { return c.catchUp(ctx, 0, send) },
		Live:     c.live,
		Resynced: func() { observe.SubscriberResynced(observe.StreamConversation) },
	})
}

// convCursor is where one subscriber's conversation stream is: the
// conversation as it last saw it and the seq of the last message sent.
// realtime.Stream runs its methods one at a time.
type convCursor[T any] struct {
	s    *Service
	conv *ent.Conversation
	as   func(*Update) T
	last int
}

// catchUp sends the stored messages after last, up to upTo (0: all).
func (c *convCursor[T]) catchUp(ctx context.Context, upTo int, send func(T) bool) bool {
	s := c.s
	for {
		ms, err := retrying(ctx, func() ([]*ent.Message, error) {
			q := s.client.Message.Query().Where(message.ConversationID(c.conv.ID), message.SeqGT(c.last))
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
			if !send(c.as(&Update{Kind: MessageCreated, Conversation: c.conv, Message: m, MessageID: m.ID})) {
				return false
			}
			c.last = m.Seq
		}
		if len(ms) < replayPage {
			return true
		}
	}
}

// live sends the live events of a batch; false ends the stream.
func (c *convCursor[T]) live(ctx context.Context, batch [][]byte, send func(T) bool) bool {
	for _, p := range batch {
		if !c.handle(ctx, p, send) {
			return false
		}
	}
	return true
}

// handle sends one live event, loading its rows; false ends the stream.
func (c *convCursor[T]) handle(ctx context.Context, p []byte, send func(T) bool) bool {
	s := c.s
	var e Event
	if err := json.Unmarshal(p, &e); err != nil {
		return true
	}
	u := &Update{Kind: e.Kind, Conversation: c.conv, MessageID: e.MessageID, Delta: e.Delta, Typing: e.Typing}
	switch e.Kind {
	case MessageCreated, MessageCompleted:
		if e.Seq <= c.last {
			return true // replayed already
		}
		if e.Seq > c.last+1 && !c.catchUp(ctx, e.Seq-1, send) {
			return false
		}
		m, ok := s.writtenMessage(e.MessageID, c.conv.ID)
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
		u.Message, c.last = m, m.Seq
	case StatusChanged:
		conv, err := retrying(ctx, func() (*ent.Conversation, error) { return s.client.Conversation.Get(ctx, c.conv.ID) })
		if err != nil {
			return false // gone, no longer visible, or the database is away for long
		}
		c.conv, u.Conversation = conv, conv
	case MessageDelta, TypingChanged:
	default:
		return true
	}
	return send(c.as(u))
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
	topic, err := realtime.CompanyTopic(v, realtime.FeedInbox, uuid.Nil)
	if err != nil {
		return nil, err
	}
	c := &inboxCursor[T]{s: s, as: as, seen: newRecent(4096)}
	// Staff of a company all read the same conversations: the rows loaded
	// for an event are shared by them (keys and other viewers load their
	// own).
	if v.Staff() {
		c.class = staffClass(v.CompanyID)
	}
	stop := s.Online(ctx)
	out, err := realtime.Stream(ctx, realtime.Source[T]{
		Broker: s.broker, Topic: topic, Options: []realtime.SubscribeOption{inboxBuffer},
		Batch: inboxBatch, Buffer: 16,
		// Nothing is replayed at first; after a lag, the messages
		// published meanwhile are caught up on.
		Replay:   c.catchUp,
		Live:     c.live,
		Resynced: func() { observe.SubscriberResynced(observe.StreamInbox) },
		Done:     stop,
	})
	if err != nil {
		stop()
		return nil, err
	}
	return out, nil
}

// inboxCursor is where one subscriber's inbox is: the time of the last
// message sent and the ids of the last ones (a catch-up overlaps).
// realtime.Stream runs its methods one at a time.
type inboxCursor[T any] struct {
	s      *Service
	as     func(*InboxUpdate) T
	class  string
	lastAt time.Time
	seen   *recent
	events []InboxEvent
}

func (c *inboxCursor[T]) emit(u *InboxUpdate, send func(T) bool) bool {
	if u.Message != nil {
		if c.seen.has(u.Message.ID) {
			return true
		}
		c.seen.add(u.Message.ID)
		c.lastAt = u.Message.CreatedAt
	}
	return send(c.as(u))
}

// live loads the rows of a batch of events at once (a subscriber that fell
// behind catches up in a few statements rather than two per event) and
// sends them.
func (c *inboxCursor[T]) live(ctx context.Context, batch [][]byte, send func(T) bool) bool {
	c.events = c.events[:0]
	for _, p := range batch {
		var e InboxEvent
		if json.Unmarshal(p, &e) == nil {
			c.events = append(c.events, e)
		}
	}
	if len(c.events) == 0 {
		return true
	}
	us, err := retrying(ctx, func() ([]*InboxUpdate, error) { return c.s.inboxRows(ctx, c.class, c.events) })
	if err != nil && ctx.Err() != nil {
		return false
	}
	// Rows gone or not visible to this subscriber are nil. (A database
	// away for longer than gapPatience skips the batch.)
	for _, u := range us {
		if u != nil && !c.emit(u, send) {
			return false
		}
	}
	return true
}

// catchUp sends the messages published since the last one sent.
func (c *inboxCursor[T]) catchUp(ctx context.Context, send func(T) bool) bool {
	for _, u := range c.s.inboxSince(ctx, c.lastAt) {
		if !c.emit(u, send) {
			return false
		}
	}
	return true
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
