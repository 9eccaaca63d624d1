package chat

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"concierge/db"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/ent/message"
	"concierge/ent/privacy"
	"concierge/viewer"
)

// An agent's inbox that fell behind loads the rows of the events queued
// for it in a batch (two statements), not two statements per event, and
// sends them in order. Events whose rows are gone are skipped.
func TestInboxCatchesUpInBatches(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		sys := privacy.DecisionContext(ctx, privacy.Allow)
		f := newFixture(t, sys, d)
		co, conv, broker, s := f.co, f.conv, f.broker, f.s
		agent := d.Client.User.Create().SetCompanyID(co.ID).SetEmail("agent-" + uuid.NewString()[:8] + "@example.com").
			SetHashedPassword("x").SetFullName("Agent").SaveX(sys)
		const n = 40
		msgs := make([]*ent.Message, n)
		for i := range n {
			msgs[i] = d.Client.Message.Create().SetCompanyID(co.ID).SetConversationID(conv.ID).
				SetSenderType(message.SenderTypeVISITOR).SetBody(fmt.Sprint("message ", i)).SetSeq(i + 1).SaveX(sys)
		}

		var loads atomic.Int32
		dbtest.OnQuery(d, func(ctx context.Context, q ent.Query) error {
			if _, ok := q.(*ent.ConversationQuery); ok && viewer.FromContext(ctx).Staff() {
				loads.Add(1)
			}
			return nil
		})

		// The agent's dashboard takes the first event and then stalls
		// while the others are published.
		stalled, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		agentCtx, stop := context.WithCancel(viewer.NewContext(ctx,
			&viewer.Viewer{Kind: viewer.KindUser, ID: agent.ID, CompanyID: co.ID, Role: "agent"}))
		defer stop()
		out, err := Inbox(s, agentCtx, func(u *InboxUpdate) *InboxUpdate {
			once.Do(func() { close(stalled); <-release })
			return u
		})
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); broker.Subscribers(InboxTopic(co.ID)) == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the inbox did not subscribe")
			}
		}
		publish := func(m *ent.Message) {
			s.publishAll(ctx, inboxEvent(co.ID, InboxMessageCreated, conv.ID, m.ID))
		}
		publish(msgs[0])
		<-stalled
		for _, m := range msgs[1:] {
			publish(m)
			if m == msgs[n/2] {
				s.publishAll(ctx, inboxEvent(co.ID, InboxMessageCreated, conv.ID, uuid.New())) // gone
			}
		}
		close(release)
		for i := range n {
			select {
			case u := <-out:
				if u.Message.ID != msgs[i].ID || u.Conversation.ID != conv.ID {
					t.Fatalf("update %d is message %d (%q), want %q", i, u.Message.Seq, u.Message.Body, msgs[i].Body)
				}
			case <-ctx.Done():
				t.Fatalf("%d updates of %d", i, n)
			}
		}
		if got := loads.Load(); got > 3 {
			t.Errorf("%d loads of the conversation for %d events; want the events behind loaded together", got, n+1)
		}
		stop()
		for range out { // until the subscriber is gone (and the agent offline)
		}
	})
}
