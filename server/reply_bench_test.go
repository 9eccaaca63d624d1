package server_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"concierge/apitest"
	"concierge/assistant/llmtest"
	"concierge/dbtest"
	"concierge/ent/message"
	"concierge/server"
)

// BenchmarkSendToReply is the time from a visitor's sendMessage to the
// assistant's reply being stored, with a model that answers at once: what
// the reply machinery (today River's fetch of the reply job) adds to the
// model's own time.
func BenchmarkSendToReply(b *testing.B) {
	for _, dl := range dbtest.Dialects {
		b.Run(dl, func(b *testing.B) {
			d := dbtest.Open(b, dl)
			e := apitest.NewWithConfig(b, d, server.Config{LLM: llmtest.Instant{Text: "Orders ship from Lyon [1]."}})
			a := e.Register("bench")
			r := e.Do(a.AdminToken, `mutation($in: AddTextInput!) { addText(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"title": "Shipping", "content": "Orders ship from Lyon, France, within two days."}}).OK(b)
			id := r.Str("addText.id")
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				s := e.Do(a.AdminToken, `query($id: ID!) { resource(id: $id) { status } }`, map[string]any{"id": id}).OK(b)
				if s.Str("resource.status") == "COMPLETED" {
					break
				}
				if time.Now().After(deadline) {
					b.Fatal("not indexed")
				}
			}
			s := e.Do("", `mutation($in: StartConversationInput!) { startConversation(input: $in) { token conversation { id } } }`,
				map[string]any{"in": map[string]any{"companyKey": a.WidgetKey}}).OK(b)
			token, conv := s.Str("startConversation.token"), uuid.MustParse(s.Str("startConversation.conversation.id"))
			bots := func() int {
				n, err := d.Client.Message.Query().Where(message.ConversationID(conv), message.SenderTypeEQ(message.SenderTypeBOT)).Count(apitest.Bypass())
				if err != nil {
					b.Fatal(err)
				}
				return n
			}
			var total time.Duration
			n := 0
			for b.Loop() {
				start := time.Now()
				e.Do(token, `mutation($c: ID!) { sendMessage(conversationId: $c, body: "Where do orders ship from?") { id } }`,
					map[string]any{"c": conv}).OK(b)
				for bots() <= n {
					time.Sleep(time.Millisecond)
				}
				n++
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(n), "ms/reply")
		})
	}
}
