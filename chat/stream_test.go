package chat

import (
	"context"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"concierge/db"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/ent/message"
	"concierge/ent/privacy"
	"concierge/viewer"
)

// A live message whose row cannot be loaded while the database stays away
// longer than gapPatience ends the stream, so the client resubscribes with
// after and replays it. Skipping it would lose it for good when it is the
// conversation's last message: the assistant's reply a widget waits for.
// Not parallel: it shortens gapPatience.
func TestUnloadableMessageEndsTheStream(t *testing.T) {
	defer func(p time.Duration) { gapPatience = p }(gapPatience)
	gapPatience = 300 * time.Millisecond
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		sys := privacy.DecisionContext(ctx, privacy.Allow)
		f := newFixture(t, sys, d)
		co, vis, conv, s := f.co, f.vis, f.conv, f.s

		var away atomic.Bool
		dbtest.OnQuery(d, func(_ context.Context, q ent.Query) error {
			if _, ok := q.(*ent.MessageQuery); ok && away.Load() {
				return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
			}
			return nil
		})
		vctx := viewer.NewContext(ctx, &viewer.Viewer{Kind: viewer.KindVisitor, ID: vis.ID, CompanyID: co.ID, ConversationID: conv.ID})
		out, err := Events(s, vctx, conv.ID, nil, func(u *Update) *Update { return u })
		if err != nil {
			t.Fatal(err)
		}
		// The stream has replayed the (empty) conversation and is live
		// once an event published now comes through; a reply written
		// before that would be replayed, not live.
		s.publishAll(sys, conversationEvent(co.ID, Event{Kind: TypingChanged, ConversationID: conv.ID, Typing: &Typing{SenderType: "AGENT", Typing: true}}))
		select {
		case u := <-out:
			if u.Kind != TypingChanged {
				t.Fatalf("got %s, want the typing event", u.Kind)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the stream did not go live")
		}
		// The reply is written by another replica (nothing of it is in
		// this one's row cache), then the database goes away.
		reply := d.Client.Message.Create().SetCompanyID(co.ID).SetConversationID(conv.ID).
			SetSenderType(message.SenderTypeBOT).SetBody("Here is your answer.").SetSeq(1).SaveX(sys)
		away.Store(true)
		s.publishAll(sys, conversationEvent(co.ID, Event{Kind: MessageCompleted, ConversationID: conv.ID, MessageID: reply.ID, Seq: 1}))
		select {
		case u, ok := <-out:
			if ok {
				t.Fatalf("got %s while the message could not be loaded", u.Kind)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the stream went on without the message it could not load: the reply is lost to this subscriber")
		}

		// The client's resubscription replays it once the database is back.
		away.Store(false)
		out, err = Events(s, vctx, conv.ID, nil, func(u *Update) *Update { return u })
		if err != nil {
			t.Fatal(err)
		}
		select {
		case u := <-out:
			if u.Message == nil || u.Message.ID != reply.ID {
				t.Fatalf("replayed %+v, want the reply", u)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the reply was not replayed")
		}
	})
}
