package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/account"
	"concierge/apitest"
	"concierge/assistant/llmtest"
	"concierge/chat"
	"concierge/dbtest"
	"concierge/realtime"
)

// operationGoroutines counts the goroutines running a WebSocket
// operation of the transport or the stream of a subscription.
func operationGoroutines() int {
	return goroutinesIn("",
		"concierge/server.(*wsSession).execute", "concierge/server.(*opRun)", // the transport
		"concierge/realtime.(*stream[", "concierge/chat.(*convCursor[", "concierge/chat.(*inboxCursor[", // the streams
		"concierge/graph.(*Resolver).companyEvent", "concierge/graph.(*Resolver).resourceEvents")
}

// goroutinesIn counts the goroutines whose stack has one of marks in it,
// but for those in the function except (none when empty).
func goroutinesIn(except string, marks ...string) int {
	var buf bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&buf, 2)
	n := 0
	for _, g := range strings.Split(buf.String(), "\n\n") {
		if except != "" && strings.Contains(g, except) {
			continue
		}
		for _, mark := range marks {
			if strings.Contains(g, mark) {
				n++
				break
			}
		}
	}
	return n
}

// TestWaitingSubscriptionsHoldNoGoroutine checks that a conversation's
// subscription (each open widget has one) and a dashboard's company
// events hold no goroutine of their own while they wait, that what
// happens still reaches them in order, and that a conversation's ends
// when the client completes it or leaves.
func TestWaitingSubscriptionsHoldNoGoroutine(t *testing.T) {
	cfg := unlimited()
	cfg.LLM = llmtest.Instant{}
	e := apitest.NewWithConfig(t, dbtest.Open(t, "sqlite3"), cfg)
	a := e.Register("alpha")
	const n = 20
	type visitor struct {
		token, conv string
		topic       realtime.Topic
		ws          *wsClient
	}
	vs := make([]visitor, n)
	for i := range vs {
		r := e.Do("", `mutation($k: String!) { startConversation(input: {companyKey: $k}) { token conversation { id } } }`,
			map[string]any{"k": a.WidgetKey}).OK(t)
		v := visitor{token: r.Str("startConversation.token"), conv: r.Str("startConversation.conversation.id")}
		v.topic = chat.Topic(a.CompanyID, uuid.MustParse(v.conv))
		c, _, err := wsDial(t, e, "")
		require.NoError(t, err)
		typ, err := c.init(v.token)
		require.NoError(t, err)
		require.Equal(t, "connection_ack", typ)
		require.NoError(t, c.subscribe("s", `subscription($c: ID!) { conversationEvents(conversationId: $c) { kind message { seq body senderType } } }`,
			map[string]any{"c": v.conv}))
		v.ws = c
		vs[i] = v
	}
	for _, v := range vs {
		e.WaitSubscribers(v.topic, 1)
	}
	// An agent's dashboard follows the company's events.
	agent, _, err := wsDial(t, e, "")
	require.NoError(t, err)
	typ, err := agent.init(a.AgentToken)
	require.NoError(t, err)
	require.Equal(t, "connection_ack", typ)
	require.NoError(t, agent.subscribe("c", `subscription { companyEvents { kind agent { email } } }`, nil))
	e.WaitSubscribers(account.CompanyTopic(a.CompanyID), 1)

	idle := func(msg string) {
		t.Helper()
		require.Eventually(t, func() bool { return operationGoroutines() == 0 }, 10*time.Second, 10*time.Millisecond,
			"%s: %d goroutines run operations", msg, operationGoroutines())
	}
	idle("waiting for the first events")

	e.Do(a.AdminToken, createAgentQ, map[string]any{"in": agentInput("second@alpha.test")}).OK(t)
	m, err := agent.read()
	require.NoError(t, err)
	require.Equal(t, "next", m.Type, "%s", m.Payload)
	require.JSONEq(t, `{"data":{"companyEvents":{"kind":"AGENT_CREATED","agent":{"email":"second@alpha.test"}}}}`, string(m.Payload))
	idle("after a company event")

	// Each visitor's messages, and what the bot and the platform answer,
	// arrive in order, each event waking the operation and letting it
	// rest again.
	lastSeq := make([]int, n)
	for round := 1; round <= 3; round++ {
		for i, v := range vs {
			e.Do(v.token, `mutation($c: ID!, $b: String!) { sendMessage(conversationId: $c, body: $b) { id } }`,
				map[string]any{"c": v.conv, "b": fmt.Sprintf("question %d of %d", round, i)}).OK(t)
		}
		for i, v := range vs {
			want := fmt.Sprintf("question %d of %d", round, i)
			for seen := false; !seen; {
				m, err := v.ws.read()
				require.NoError(t, err)
				require.Equal(t, "next", m.Type, "%s", m.Payload)
				var p struct {
					Data struct {
						E struct {
							Kind    string
							Message *struct {
								Seq        int
								Body       string
								SenderType string
							}
						} `json:"conversationEvents"`
					}
				}
				require.NoError(t, json.Unmarshal(m.Payload, &p))
				ev := p.Data.E
				if ev.Kind != "MESSAGE_CREATED" {
					continue
				}
				require.Greater(t, ev.Message.Seq, lastSeq[i], "%s", m.Payload)
				lastSeq[i] = ev.Message.Seq
				seen = ev.Message.SenderType == "VISITOR"
				if seen {
					require.Equal(t, want, ev.Message.Body)
				}
			}
		}
		idle(fmt.Sprintf("after round %d", round))
	}

	// Half the clients complete their subscription (nothing more is sent
	// for it), the others leave: every operation and every broker
	// subscription ends.
	for i, v := range vs {
		if i%2 == 0 {
			require.NoError(t, v.ws.send(map[string]any{"id": "s", "type": "complete"}))
		} else {
			require.NoError(t, v.ws.conn.Close(websocket.StatusNormalClosure, ""))
		}
	}
	subscribers := e.App.Broker.(interface{ Subscribers(realtime.Topic) int })
	require.Eventually(t, func() bool {
		for _, v := range vs {
			if subscribers.Subscribers(v.topic) != 0 {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond)
	idle("after the clients left")
	for i, v := range vs {
		if i%2 == 0 { // still connected, and told nothing more
			require.NoError(t, v.ws.send(map[string]any{"type": "ping"}))
			m, err := v.ws.readRaw()
			require.NoError(t, err)
			require.Equal(t, "pong", m.Type, "%s", m.Payload)
		}
	}
}

// readRaw returns the next message, pings and pongs included.
func (c *wsClient) readRaw() (wsMsg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var m wsMsg
	err := wsjson.Read(ctx, c.conn, &m)
	return m, err
}
