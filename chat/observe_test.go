package chat_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/assistant"
	"concierge/auth"
	"concierge/chat"
	"concierge/dbtest"
	"concierge/ent/privacy"
	"concierge/ingest"
	"concierge/observe/observetest"
	"concierge/realtime"
	"concierge/viewer"
)

// fixedAnswer answers every question with the same outcome.
type fixedAnswer struct{ outcome assistant.Outcome }

func (f fixedAnswer) Answer(context.Context, assistant.Request, func(string)) (assistant.Answer, error) {
	return assistant.Answer{Text: "A reply.", Outcome: f.outcome, Language: "en"}, nil
}

// TestReplyMetrics checks that a stored reply counts by outcome, and that
// a reply the assistant could not give hands off (the company's
// auto-handoff is on by default) and counts the handoff.
func TestReplyMetrics(t *testing.T) {
	d := dbtest.Open(t, "sqlite")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	signer, err := auth.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	require.NoError(t, err)
	authn := auth.NewService(d.Client, signer)
	co, err := d.Client.Company.Create().SetName("Acme").SetSlug("acme").SetEmail("acme@example.com").
		SetWidgetKey("wk_" + uuid.NewString()).SetIdentitySecret("s_" + uuid.NewString()).
		Save(privacy.DecisionContext(ctx, privacy.Allow))
	require.NoError(t, err)

	// ask sends a visitor's message answered with outcome, and waits for
	// done before stopping the service.
	ask := func(outcome assistant.Outcome, ip string, done func() bool) {
		t.Helper()
		broker := realtime.NewMemory()
		defer broker.Close()
		svc, err := chat.New(chat.Config{DB: d, Auth: authn, Broker: broker, Assistant: fixedAnswer{outcome}})
		require.NoError(t, err)
		defer svc.Close()
		// Its replies run in a River client, as in a process (server.NewApp).
		jobs, err := ingest.New(ingest.Config{DB: d, Broker: broker, Register: svc.AddWorkers, Queues: svc.Queues()})
		require.NoError(t, err)
		svc.UseJobs(jobs.River())
		require.NoError(t, jobs.Start(ctx))
		defer jobs.Stop(5 * time.Second)
		sess, err := svc.Start(ctx, chat.StartInput{CompanyKey: co.WidgetKey, IP: ip})
		require.NoError(t, err)
		v, err := authn.Authenticate(ctx, sess.Token)
		require.NoError(t, err)
		_, err = svc.Send(viewer.NewContext(ctx, v), sess.Conversation.ID, "Hello?", nil)
		require.NoError(t, err)
		require.Eventually(t, done, 10*time.Second, 10*time.Millisecond)
	}
	replies := func(outcome string) float64 {
		return observetest.Value(t, "concierge_assistant_replies_total", "outcome", outcome)
	}
	handoffs := func() float64 { return observetest.Value(t, "concierge_handoffs_total", "trigger", "assistant") }
	answered, declined, handedOff := replies("ANSWERED"), replies("DECLINED"), handoffs()

	ask(assistant.OutcomeAnswered, "192.0.2.1", func() bool { return replies("ANSWERED") == answered+1 })
	require.Equal(t, handedOff, handoffs(), "an answer is not handed off")

	ask(assistant.OutcomeDeclined, "192.0.2.2", func() bool { return handoffs() == handedOff+1 })
	require.Equal(t, declined+1, replies("DECLINED"))
}
