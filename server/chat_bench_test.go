package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/assistant/llmtest"
	"concierge/auth"
	"concierge/chat"
	"concierge/dbtest"
	"concierge/ent/conversation"
	"concierge/retrieval"
	"concierge/server"
	"concierge/viewer"
)

// Benchmarks of issue 5, over real WebSockets on SQLite (the embedded
// default). Latency percentiles are reported as metrics:
//
//	go test ./server -run '^$' -bench 'Delivery|FirstBotToken' -benchtime 2000x

// unlimited lifts the message limits so a benchmark measures the path, not
// the limiter.
func unlimited() server.Config {
	return server.Config{Chat: chat.Config{
		VisitorMessages: auth.NewLimiter(1<<30, time.Nanosecond),
		CompanyMessages: auth.NewLimiter(1<<30, time.Nanosecond),
		Conversations:   auth.NewLimiter(1<<30, time.Nanosecond),
	}, WSMaxConnsPerIP: 1 << 20}
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func reportLatency(b *testing.B, d []time.Duration, name string) {
	b.ReportMetric(float64(percentile(d, 0.50).Microseconds())/1000, name+"-p50-ms")
	b.ReportMetric(float64(percentile(d, 0.99).Microseconds())/1000, name+"-p99-ms")
}

// BenchmarkVisitorToAgentDelivery: 1,000 open conversations, each with its
// visitor's WebSocket subscription; an agent follows the inbox. Each op is
// one visitor message, from the start of its sendMessage request to its
// arrival on the agent's inbox subscription.
func BenchmarkVisitorToAgentDelivery(b *testing.B) {
	for _, dl := range dbtest.Dialects {
		b.Run(dl, func(b *testing.B) { benchDelivery(b, dl) })
	}
}

func benchDelivery(b *testing.B, dialect string) {
	const open = 1000
	d := dbtest.Open(b, dialect)
	e := apitest.NewWithConfig(b, d, unlimited())
	a := e.Register("alpha")
	type visitor struct {
		token string
		conv  uuid.UUID
	}
	visitors := make([]visitor, open)
	for i := range visitors {
		r := e.Do("", `mutation($k: String!) { startConversation(input: {companyKey: $k}) { token conversation { id } } }`,
			map[string]any{"k": a.WidgetKey}).OK(b)
		visitors[i] = visitor{r.Str("startConversation.token"), uuid.MustParse(r.Str("startConversation.conversation.id"))}
		sub, err := e.Subscribe(visitors[i].token, `subscription($c: ID!) { conversationEvents(conversationId: $c) { kind message { id } } }`,
			map[string]any{"c": visitors[i].conv})
		require.NoError(b, err)
		go func() { // drain
			for sub.Next(time.Hour) != nil {
			}
		}()
	}
	// With humans: no bot replies in the way.
	require.NoError(b, d.Client.Conversation.Update().Where(conversation.CompanyID(a.CompanyID)).
		SetStatus(conversation.StatusHUMAN).Exec(apitest.Bypass()))
	inbox, err := e.Subscribe(a.AgentToken, `subscription { inboxEvents { kind message { body } } }`, nil)
	require.NoError(b, err)
	e.WaitSubscribers(chat.InboxTopic(a.CompanyID), 1)

	var (
		mu      sync.Mutex
		sent    = map[string]time.Time{}
		arrived = make(chan time.Duration, 1)
	)
	go func() {
		for r := inbox.Next(time.Hour); r != nil; r = inbox.Next(time.Hour) {
			if r.Str("inboxEvents.kind") != "MESSAGE_CREATED" {
				continue
			}
			now := time.Now()
			mu.Lock()
			t0, ok := sent[r.Str("inboxEvents.message.body")]
			mu.Unlock()
			if ok {
				arrived <- now.Sub(t0)
			}
		}
	}()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		v := visitors[i%open]
		body := fmt.Sprintf("message %d", i)
		mu.Lock()
		sent[body] = time.Now()
		mu.Unlock()
		e.Do(v.token, `mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }`,
			map[string]any{"c": v.conv, "b": body}).OK(b)
		select {
		case d := <-arrived:
			lat = append(lat, d)
		case <-time.After(10 * time.Second):
			b.Fatalf("message %d never reached the agent", i)
		}
	}
	b.StopTimer()
	reportLatency(b, lat, "deliver")
}

// BenchmarkFirstBotToken: the time from a visitor's sendMessage to the first
// token of the bot's reply on the visitor's subscription, with an LLM that
// answers instantly, so what is measured is ours: storing the message,
// retrieval over the company's index, the prompt, the fan-out.
func BenchmarkFirstBotToken(b *testing.B) {
	for _, chunks := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("chunks=%d", chunks), func(b *testing.B) {
			d := dbtest.Open(b, "sqlite3")
			cfg := unlimited()
			cfg.LLM = llmtest.Instant{}
			e := apitest.NewWithConfig(b, d, cfg)
			a := e.Register("alpha")
			questions := indexSynthetic(b, e.App.Retrieval, a.CompanyID, chunks)

			r := e.Do("", `mutation($k: String!) { startConversation(input: {companyKey: $k}) { token conversation { id } } }`,
				map[string]any{"k": a.WidgetKey}).OK(b)
			token, conv := r.Str("startConversation.token"), uuid.MustParse(r.Str("startConversation.conversation.id"))
			sub, err := e.Subscribe(token, `subscription($c: ID!) { conversationEvents(conversationId: $c) { kind messageID } }`,
				map[string]any{"c": conv})
			require.NoError(b, err)
			e.WaitSubscribers(chat.Topic(a.CompanyID, conv), 1)

			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				e.Do(token, `mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }`,
					map[string]any{"c": conv, "b": questions[i%len(questions)]}).OK(b)
				first := time.Duration(0)
				for {
					ev := sub.Next(10 * time.Second)
					require.NotNil(b, ev, "no reply")
					kind := ev.Str("conversationEvents.kind")
					if kind == "MESSAGE_DELTA" && first == 0 {
						first = time.Since(t0)
					}
					if kind == "MESSAGE_COMPLETED" {
						break
					}
				}
				require.NotZero(b, first, "the reply streamed no token (declined?)")
				lat = append(lat, first)
			}
			b.StopTimer()
			reportLatency(b, lat, "first-token")
		})
	}
}

// indexSynthetic indexes n passages of pseudo-words for the company (in
// resources of 250) and returns questions made of words of random passages.
func indexSynthetic(b *testing.B, rs *retrieval.Service, company uuid.UUID, n int) []string {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 8000)
	for i := range vocab {
		var w strings.Builder
		for range 4 + rng.IntN(6) {
			w.WriteByte(byte('a' + rng.IntN(26)))
		}
		vocab[i] = w.String()
	}
	ctx := viewer.SystemContext(context.Background(), company)
	var questions []string
	for start := 0; start < n; start += 250 {
		res := uuid.New()
		var ps []retrieval.Passage
		for j := range min(250, n-start) {
			words := make([]string, 60)
			for k := range words {
				words[k] = vocab[rng.IntN(len(vocab))]
			}
			text := strings.Join(words, " ") + "."
			ps = append(ps, retrieval.Passage{ChunkID: uuid.New(), ResourceID: res, Ordinal: j,
				Title: "Synthetic " + res.String()[:8], Text: text})
			if rng.IntN(n/200+1) == 0 {
				questions = append(questions, strings.Join(words[10:16], " ")+"?")
			}
		}
		require.NoError(b, rs.IndexResource(ctx, res, ps))
	}
	require.NotEmpty(b, questions)
	return questions
}
