package observe_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"concierge/dbtest"
	"concierge/observe"
	"concierge/observe/observetest"
	"concierge/realtime"
	"concierge/viewer"
)

func TestRegisterTwiceAndInSeveralRegistries(t *testing.T) {
	a, b := prometheus.NewRegistry(), prometheus.NewRegistry()
	require.NotPanics(t, func() {
		observe.Register(a)
		observe.Register(a)
		observe.Register(b)
	})
	observe.AssistantReply("ANSWERED")
	for _, reg := range []*prometheus.Registry{a, b, observe.Registry()} {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		found := false
		for _, mf := range mfs {
			found = found || mf.GetName() == "concierge_assistant_replies_total"
		}
		require.True(t, found)
	}
}

func TestLLMCall(t *testing.T) {
	dur := func(outcome string) float64 {
		return observetest.Value(t, "concierge_llm_duration_seconds", "provider", "test/model-1", "outcome", outcome)
	}
	tokens := func(kind string) float64 {
		return observetest.Value(t, "concierge_llm_tokens_total", "provider", "test/model-1", "kind", kind)
	}
	ttft := func() float64 {
		return observetest.Value(t, "concierge_llm_time_to_first_token_seconds", "provider", "test/model-1")
	}
	ok, failed, timeout, canceled := dur("ok"), dur("error"), dur("timeout"), dur("canceled")
	prompt, output, first := tokens("prompt"), tokens("output"), ttft()

	call := observe.StartLLM("test/model-1")
	var got []string
	onDelta := call.Stream(func(s string) { got = append(got, s) })
	onDelta("")
	onDelta("Hello")
	onDelta(" world")
	call.End(context.Background(), nil, 120, 7)
	require.Equal(t, []string{"", "Hello", " world"}, got, "deltas pass through")
	require.Equal(t, ok+1, dur("ok"))
	require.Equal(t, first+1, ttft(), "the first non-empty delta only")
	require.Equal(t, prompt+120, tokens("prompt"))
	require.Equal(t, output+7, tokens("output"))

	observe.StartLLM("test/model-1").End(context.Background(), errors.New("HTTP 500"), 10, 0)
	observe.StartLLM("test/model-1").End(context.Background(), context.DeadlineExceeded, 10, 0)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	observe.StartLLM("test/model-1").End(ctx, context.Canceled, 10, 0)
	require.Equal(t, failed+1, dur("error"))
	require.Equal(t, timeout+1, dur("timeout"))
	require.Equal(t, canceled+1, dur("canceled"))
	require.Equal(t, prompt+150, tokens("prompt"))

	// A nil onDelta is fine; an odd provider name is "other".
	weird := observetest.Value(t, "concierge_llm_duration_seconds", "provider", "other")
	c := observe.StartLLM("a provider with spaces")
	c.Stream(nil)("x")
	c.End(context.Background(), nil, 0, 0)
	require.Equal(t, weird+1, observetest.Value(t, "concierge_llm_duration_seconds", "provider", "other"))
}

func TestRepliesHandoffsResyncs(t *testing.T) {
	v := func(name string, labels ...string) float64 { return observetest.Value(t, name, labels...) }
	answered, other := v("concierge_assistant_replies_total", "outcome", "ANSWERED"), v("concierge_assistant_replies_total", "outcome", "other")
	observe.AssistantReply("ANSWERED")
	observe.AssistantReply("company-1234")
	require.Equal(t, answered+1, v("concierge_assistant_replies_total", "outcome", "ANSWERED"))
	require.Equal(t, other+1, v("concierge_assistant_replies_total", "outcome", "other"))

	h := v("concierge_handoffs_total", "trigger", "assistant")
	observe.Handoff(observe.HandoffAssistant)
	require.Equal(t, h+1, v("concierge_handoffs_total", "trigger", "assistant"))

	r := v("concierge_subscription_resyncs_total", "stream", "inbox")
	observe.SubscriberResynced(observe.StreamInbox)
	require.Equal(t, r+1, v("concierge_subscription_resyncs_total", "stream", "inbox"))
}

func TestBrokerStatsAtScrape(t *testing.T) {
	ctx := t.Context()
	b := realtime.NewMemory(realtime.WithBufferSize(1))
	defer b.Close()
	observe.WatchBroker(b)
	events := func(event string) float64 {
		return observetest.Value(t, "concierge_realtime_events_total", "broker", "memory", "event", event)
	}
	require.Zero(t, events("published"))

	topic, err := realtime.CompanyTopic(viewer.FromContext(viewer.SystemContext(ctx, uuid.New())), realtime.FeedInbox, uuid.Nil)
	require.NoError(t, err)
	require.NoError(t, b.Publish(ctx, topic, []byte("nobody listens")))
	fast, err := b.Subscribe(ctx, topic)
	require.NoError(t, err)
	slow, err := b.Subscribe(ctx, topic)
	require.NoError(t, err)
	require.NoError(t, b.Publish(ctx, topic, []byte("1")))
	<-fast.C()
	require.NoError(t, b.Publish(ctx, topic, []byte("2"))) // slow's buffer of 1 is full: dropped

	require.Equal(t, 3.0, events("published"))
	require.Equal(t, 3.0, events("delivered"))
	require.Equal(t, 1.0, events("dropped"))
	require.Zero(t, observetest.Series(t, "concierge_realtime_gaps_total"), "PostgreSQL series only for PostgreSQL")
	_ = slow

	// A newer broker of the same kind replaces the older one.
	b2 := realtime.NewMemory()
	defer b2.Close()
	observe.WatchBroker(b2)
	require.Zero(t, events("published"))
}

type okArgs struct{}

func (okArgs) Kind() string { return "observe_test_ok" }

type okWorker struct{ river.WorkerDefaults[okArgs] }

func (okWorker) Work(context.Context, *river.Job[okArgs]) error {
	time.Sleep(10 * time.Millisecond)
	return nil
}

type badArgs struct{}

func (badArgs) Kind() string { return "observe_test_bad" }

type badWorker struct{ river.WorkerDefaults[badArgs] }

func (badWorker) Work(context.Context, *river.Job[badArgs]) error {
	return river.JobCancel(errors.New("permanently broken"))
}

func TestWatchRiver(t *testing.T) {
	d := dbtest.Open(t, "sqlite")
	workers := river.NewWorkers()
	river.AddWorker(workers, &okWorker{})
	river.AddWorker(workers, &badWorker{})
	rc, err := river.NewClient(d.RiverDriver(), &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers:           workers,
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		Logger:            slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	jobs := func(kind, outcome string) float64 {
		return observetest.Value(t, "concierge_jobs_total", "kind", kind, "outcome", outcome)
	}
	durations := func(kind string) float64 {
		return observetest.Value(t, "concierge_job_duration_seconds", "kind", kind)
	}
	completed, cancelled, okRuns := jobs("observe_test_ok", "completed"), jobs("observe_test_bad", "cancelled"), durations("observe_test_ok")

	observe.WatchRiver(ctx, rc)
	require.NoError(t, rc.Start(ctx))
	defer func() {
		stop, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = rc.Stop(stop)
	}()
	for range 2 {
		_, err = rc.Insert(ctx, okArgs{}, nil)
		require.NoError(t, err)
	}
	_, err = rc.Insert(ctx, badArgs{}, nil)
	require.NoError(t, err)

	require.Eventually(t, func() bool {
		return jobs("observe_test_ok", "completed") == completed+2 && jobs("observe_test_bad", "cancelled") == cancelled+1
	}, 15*time.Second, 10*time.Millisecond)
	require.Equal(t, okRuns+2, durations("observe_test_ok"))
	require.Positive(t, observetest.Value(t, "concierge_job_queue_wait_seconds", "kind", "observe_test_bad"))
}
