package chat

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"concierge/assistant"
	"concierge/auth"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/ent/message"
	"concierge/ent/privacy"
	"concierge/ingest"
	"concierge/viewer"
)

// replyService is a Service with assistant a whose reply jobs run in a
// River client of their own, as in a process (server.NewApp: the ingest
// client hosts them).
func replyService(t *testing.T, f fixture, d *db.DB, a Answerer) (*Service, *ingest.Service) {
	t.Helper()
	s, ing := unstartedReplyService(t, f, d, a, nil)
	if err := ing.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ing.Stop(5 * time.Second) })
	return s, ing
}

// unstartedReplyService is replyService before its River client starts,
// with configure (when not nil) changing both configurations first.
func unstartedReplyService(t *testing.T, f fixture, d *db.DB, a Answerer, configure func(*Config, *ingest.Config)) (*Service, *ingest.Service) {
	t.Helper()
	signer, err := auth.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{DB: d, Auth: auth.NewService(d.Client, signer), Broker: f.broker, Assistant: a,
		ReplyAttempts: 3, ReplyRetryDelay: 10 * time.Millisecond}
	icfg := ingest.Config{DB: d, Broker: f.broker, PollInterval: 100 * time.Millisecond}
	if configure != nil {
		configure(&cfg, &icfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	icfg.Register, icfg.Queues = s.AddWorkers, s.Queues()
	ing, err := ingest.New(icfg)
	if err != nil {
		t.Fatal(err)
	}
	s.UseJobs(ing.River())
	return s, ing
}

func (f fixture) visitor(ctx context.Context) context.Context {
	return viewer.NewContext(ctx, &viewer.Viewer{Kind: viewer.KindVisitor, ID: f.vis.ID, CompanyID: f.co.ID,
		ConversationID: f.conv.ID, Name: "Vera"})
}

func answerJobs(t *testing.T, ctx context.Context, ing *ingest.Service) []*rivertype.JobRow {
	t.Helper()
	res, err := ing.River().JobList(ctx, river.NewJobListParams().Kinds(AnswerArgs{}.Kind()).First(100))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}

// botReplies are the conversation's bot messages, oldest first.
func botReplies(t *testing.T, sys context.Context, d *db.DB, f fixture) []*ent.Message {
	t.Helper()
	ms, err := d.Client.Message.Query().Where(message.ConversationID(f.conv.ID), message.SenderTypeEQ(message.SenderTypeBOT)).
		Order(ent.Asc(message.FieldSeq)).All(sys)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
	}
}

// The answer job is inserted in the transaction that stores the visitor's
// message: a committed message has exactly its job, a rolled-back one none.
func TestAnswerJobCommitsWithItsMessage(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		f := newFixture(t, privacy.DecisionContext(ctx, privacy.Allow), d)
		sys := viewer.SystemContext(ctx, f.co.ID)
		stalled := make(chan struct{})
		s, ing := replyService(t, f, d, answerFunc(func(ctx context.Context) (assistant.Answer, error) {
			<-stalled // the job stays visible until the test is done with it
			return assistant.Answer{Text: "Yes.", Outcome: assistant.OutcomeAnswered}, nil
		}))
		defer close(stalled)

		// A transaction that stores a message and its job, then fails.
		boom := errors.New("boom")
		err := s.withTx(sys, func(tx *ent.Client, stx *sql.Tx) error {
			m, _, err := s.appendMessage(sys, tx, f.conv.ID, newMessage{senderType: message.SenderTypeVISITOR, body: "Lost?"}, nil)
			if err != nil {
				return err
			}
			if err := s.enqueueAnswer(sys, stx, f.co.ID, f.conv.ID, m.ID); err != nil {
				return err
			}
			if n := len(answerJobsTx(t, sys, ing, stx)); n != 1 {
				return fmt.Errorf("%d jobs inside the transaction, want 1", n)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if jobs := answerJobs(t, ctx, ing); len(jobs) != 0 {
			t.Fatalf("a rolled-back message left %d jobs", len(jobs))
		}
		if n := d.Client.Message.Query().Where(message.ConversationID(f.conv.ID)).CountX(sys); n != 0 {
			t.Fatalf("a rolled-back message left %d messages", n)
		}

		msg, err := s.Send(f.visitor(ctx), f.conv.ID, "Is it stored with its job?", nil)
		if err != nil {
			t.Fatal(err)
		}
		jobs := answerJobs(t, ctx, ing)
		if len(jobs) != 1 {
			t.Fatalf("%d jobs for one message, want 1", len(jobs))
		}
		var got AnswerArgs
		if err := json.Unmarshal(jobs[0].EncodedArgs, &got); err != nil {
			t.Fatal(err)
		}
		want := AnswerArgs{CompanyID: f.co.ID, ConversationID: f.conv.ID, MessageID: msg.ID}
		if got != want || jobs[0].Queue != ReplyQueue || jobs[0].MaxAttempts != 3 {
			t.Fatalf("job %+v on %s (%d attempts), want %+v on %s (3)", got, jobs[0].Queue, jobs[0].MaxAttempts, want, ReplyQueue)
		}
	})
}

func answerJobsTx(t *testing.T, ctx context.Context, ing *ingest.Service, tx *sql.Tx) []*rivertype.JobRow {
	t.Helper()
	res, err := ing.River().JobListTx(ctx, tx, river.NewJobListParams().Kinds(AnswerArgs{}.Kind()))
	if err != nil {
		t.Fatal(err)
	}
	return res.Jobs
}

// answerFunc answers with fn, ignoring the request.
type answerFunc func(ctx context.Context) (assistant.Answer, error)

func (fn answerFunc) Answer(ctx context.Context, _ assistant.Request, onDelta func(string)) (assistant.Answer, error) {
	return fn(ctx)
}

// A failing assistant is tried again (River's retries) and its answer is
// stored once; one that fails every attempt leaves the visitor the polite
// fallback, not silence.
func TestFailingAssistantIsRetried(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		f := newFixture(t, privacy.DecisionContext(ctx, privacy.Allow), d)
		sys := viewer.SystemContext(ctx, f.co.ID)
		var calls atomic.Int32
		var down atomic.Bool // for good
		s, ing := replyService(t, f, d, answerFunc(func(context.Context) (assistant.Answer, error) {
			if calls.Add(1) == 1 || down.Load() {
				return assistant.Answer{}, errors.New("the provider is down")
			}
			return assistant.Answer{Text: "Orders ship from Lyon.", Outcome: assistant.OutcomeAnswered, Language: "en"}, nil
		}))
		q, err := s.Send(f.visitor(ctx), f.conv.ID, "Where do orders ship from?", nil)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the retried reply was never stored", func() bool { return len(botReplies(t, sys, d, f)) == 1 })
		r := botReplies(t, sys, d, f)[0]
		if r.Body != "Orders ship from Lyon." || r.ReplyToID == nil || *r.ReplyToID != q.ID {
			t.Fatalf("reply %q to %v, want the second attempt's answer to %s", r.Body, r.ReplyToID, q.ID)
		}
		if n := calls.Load(); n != 2 {
			t.Fatalf("the assistant was asked %d times, want 2 (a failure, then the answer)", n)
		}
		waitFor(t, "the job did not complete", func() bool {
			jobs := answerJobs(t, ctx, ing)
			return len(jobs) == 1 && jobs[0].State == rivertype.JobStateCompleted && jobs[0].Attempt == 2
		})

		// Down for good: every attempt fails, and the last one stores the
		// fallback (which hands the conversation to the team).
		down.Store(true)
		calls.Store(0)
		q, err = s.Send(f.visitor(ctx), f.conv.ID, "And returns?", nil)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, "no fallback", func() bool { return len(botReplies(t, sys, d, f)) == 2 })
		r = botReplies(t, sys, d, f)[1]
		if r.Outcome == nil || *r.Outcome != message.OutcomeFAILED || *r.ReplyToID != q.ID ||
			r.Body != assistant.Text("en", assistant.TextFailedHandedOff) {
			t.Fatalf("reply %q (%v), want the fallback", r.Body, r.Outcome)
		}
		if n := calls.Load(); n != 3 {
			t.Fatalf("the assistant was asked %d times, want 3 (every attempt)", n)
		}
	})
}

// Several processes (each its River client) answer every visitor message
// once: none twice, none not at all.
func TestOneAnswerPerMessageAcrossProcesses(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		f := newFixture(t, privacy.DecisionContext(ctx, privacy.Allow), d)
		sys := viewer.SystemContext(ctx, f.co.ID)
		answer := answerFunc(func(context.Context) (assistant.Answer, error) {
			time.Sleep(5 * time.Millisecond)
			return assistant.Answer{Text: "Noted.", Outcome: assistant.OutcomeAnswered, Language: "en"}, nil
		})
		var procs []*Service
		for range 3 {
			s, _ := replyService(t, f, d, answer)
			procs = append(procs, s)
		}
		const n = 9
		var sent []*ent.Message
		for i := range n {
			m, err := procs[i%len(procs)].Send(f.visitor(ctx), f.conv.ID, fmt.Sprintf("Question %d?", i), nil)
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, m)
			// The next one once this is answered: a visitor writing
			// faster is answered once for the latest message.
			waitFor(t, "unanswered", func() bool { return len(botReplies(t, sys, d, f)) == i+1 })
		}
		time.Sleep(300 * time.Millisecond) // a double answer, if one were written, would be stored by now
		replies := botReplies(t, sys, d, f)
		if len(replies) != n {
			t.Fatalf("%d replies to %d messages", len(replies), n)
		}
		for i, r := range replies {
			if *r.ReplyToID != sent[i].ID {
				t.Fatalf("reply %d answers %s, want %s", i, *r.ReplyToID, sent[i].ID)
			}
		}
	})
}

// A reply whose process died mid-attempt (its job left running) is run
// again its ReplyTimeout plus the rescue grace after it started, however
// long another kind's attempts may take (ingestion's hour here), and an
// ingestion job left running as long, within its own limit, is left alone.
func TestStrandedReplyIsRescuedAfterItsOwnLimit(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
		defer cancel()
		f := newFixture(t, privacy.DecisionContext(ctx, privacy.Allow), d)
		sys := viewer.SystemContext(ctx, f.co.ID)
		s, ing := unstartedReplyService(t, f, d, answerFunc(func(context.Context) (assistant.Answer, error) {
			return assistant.Answer{Text: "Orders ship from Lyon.", Outcome: assistant.OutcomeAnswered, Language: "en"}, nil
		}), func(c *Config, ic *ingest.Config) {
			c.ReplyTimeout, ic.JobTimeout, ic.RescueGrace = time.Second, time.Hour, time.Second
		})
		if _, err := s.Send(f.visitor(ctx), f.conv.ID, "Where do orders ship from?", nil); err != nil {
			t.Fatal(err)
		}
		ingestion, err := ing.River().Insert(ctx, ingest.IngestResourceArgs{CompanyID: f.co.ID, ResourceID: uuid.New()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		jobs := answerJobs(t, ctx, ing)
		if len(jobs) != 1 {
			t.Fatalf("%d answer jobs, want 1", len(jobs))
		}
		// Both taken 5 s ago by a process that died since: past the reply's
		// 1 s + 1 s, well within ingestion's hour.
		began := time.Now().Add(-5 * time.Second)
		for _, id := range []int64{jobs[0].ID, ingestion.Job.ID} {
			if _, err := ing.River().Driver().GetExecutor().JobUpdateFull(ctx, &riverdriver.JobUpdateFullParams{ID: id,
				StateDoUpdate: true, State: rivertype.JobStateRunning, AttemptDoUpdate: true, Attempt: 1,
				AttemptedAtDoUpdate: true, AttemptedAt: &began, AttemptedByDoUpdate: true, AttemptedBy: []string{"dead"}}); err != nil {
				t.Fatal(err)
			}
		}

		if err := ing.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ing.Stop(5 * time.Second) })
		waitFor(t, "the stranded reply was never answered", func() bool { return len(botReplies(t, sys, d, f)) == 1 })
		if r := botReplies(t, sys, d, f)[0]; r.Body != "Orders ship from Lyon." {
			t.Fatalf("reply %q", r.Body)
		}
		// The rescuer decided on both in the pass that rescued the reply.
		j, err := ing.River().JobGet(ctx, ingestion.Job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if j.State != rivertype.JobStateRunning || j.Attempt != 1 {
			t.Fatalf("the ingestion job within its limit is %s (attempt %d), want running (1)", j.State, j.Attempt)
		}
	})
}
