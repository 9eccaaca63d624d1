package server_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/apitest"
	"concierge/auth"
	"concierge/chat"
	"concierge/db"
	"concierge/dbtest"
	"concierge/realtime"
	"concierge/server"
)

// Many visitors start a conversation at once and each asks a question
// while following it: every one of them gets the assistant's reply on its
// subscription (a reply the server produced but never delivered would sit
// in the database while the widget waits). An agent follows the inbox
// meanwhile, so the company's events are busy too.
func TestEveryVisitorOfABurstGetsItsReply(t *testing.T) {
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		const n = 100
		c := newChatEnv(t, d, server.Config{Chat: chat.Config{
			Conversations:   auth.NewLimiter(10*n, time.Millisecond),
			VisitorMessages: auth.NewLimiter(10*n, time.Millisecond),
			CompanyMessages: auth.NewLimiter(100*n, time.Millisecond),
		}})
		inbox, err := c.Subscribe(c.a.AgentToken, `subscription { inboxEvents { kind conversation { id } } }`, nil)
		require.NoError(t, err)
		_ = inbox

		type visitor struct {
			token string
			conv  string
			sub   *apitest.Subscription
		}
		vs := make([]visitor, n)
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := c.Do("", `mutation($k: String!, $n: String) { startConversation(input: {companyKey: $k, name: $n}) { token conversation { id } } }`,
					map[string]any{"k": c.a.WidgetKey, "n": fmt.Sprintf("Visitor %d", i)})
				if len(r.Errors) > 0 {
					errs <- fmt.Errorf("visitor %d: startConversation: %v", i, r.Errors)
					return
				}
				v := visitor{token: r.Str("startConversation.token"), conv: r.Str("startConversation.conversation.id")}
				v.sub, err = c.Subscribe(v.token, `subscription($c: ID!) { conversationEvents(conversationId: $c) { kind message { id senderType body } } }`,
					map[string]any{"c": v.conv})
				if err != nil {
					errs <- fmt.Errorf("visitor %d: subscribe: %w", i, err)
					return
				}
				vs[i] = v
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		// Everyone follows its conversation; now all ask at once.
		for _, v := range vs {
			require.Eventually(t, func() bool {
				m, ok := c.App.Broker.(interface{ Subscribers(realtime.Topic) int })
				return !ok || m.Subscribers(chat.Topic(c.a.CompanyID, mustUUID(t, v.conv))) > 0
			}, 10*time.Second, 10*time.Millisecond)
		}
		results := make(chan string, n)
		for i, v := range vs {
			go func() {
				r := c.Do(v.token, `mutation($c: ID!, $b: String!, $k: String) { sendMessage(conversationId: $c, body: $b, clientMessageId: $k) { id } }`,
					map[string]any{"c": v.conv, "b": "How do I reset my password?", "k": fmt.Sprintf("burst-%d", i)})
				if len(r.Errors) > 0 {
					results <- fmt.Sprintf("visitor %d: sendMessage: %v", i, r.Errors)
					return
				}
				deadline := time.Now().Add(60 * time.Second)
				for time.Now().Before(deadline) {
					e := v.sub.Next(time.Until(deadline))
					if e == nil {
						break
					}
					var out struct {
						E struct {
							Kind    string `json:"kind"`
							Message *struct {
								SenderType string `json:"senderType"`
								Body       string `json:"body"`
							} `json:"message"`
						} `json:"conversationEvents"`
					}
					_ = json.Unmarshal(e.Data, &out)
					if out.E.Kind == "MESSAGE_COMPLETED" && out.E.Message != nil && out.E.Message.SenderType == "BOT" {
						results <- ""
						return
					}
				}
				results <- fmt.Sprintf("visitor %d (%s): no reply on its subscription within 60 s", i, v.conv)
			}()
		}
		var lost []string
		for range n {
			if r := <-results; r != "" {
				lost = append(lost, r)
			}
		}
		require.Empty(t, lost, "every visitor gets its reply")
	})
}

func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	require.NoError(t, err)
	return id
}
