package chat

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"concierge/assistant"
	"concierge/auth"
	"concierge/ent"
	"concierge/fault"
)

// TestRequest asks what a reply to a visitor's first message asks, checks
// the question as a message, and counts against the company's messages.
func TestTestRequest(t *testing.T) {
	s := &Service{cfg: Config{CompanyMessages: auth.NewLimiter(2, time.Hour)}}
	co := &ent.Company{ID: uuid.New(), Name: "Acme", AssistantName: "Ada", AssistantTone: "warm"}
	req, err := s.TestRequest(context.Background(), co, "  How do I reset my password?\x00 ")
	if err != nil {
		t.Fatal(err)
	}
	want := assistantRequest(co, []assistant.Turn{{Role: assistant.RoleVisitor, Text: "How do I reset my password?"}})
	if req.CompanyName != "Acme" || req.AssistantName != "Ada" || req.Tone != "warm" || len(req.History) != 1 ||
		req.History[0] != want.History[0] || req.ExcludeResources != nil || req.Language != "" {
		t.Fatalf("request %+v, want %+v", req, want)
	}
	for name, q := range map[string]string{"empty": "", "blank": " \t\n", "too long": strings.Repeat("a", MaxBodyRunes+1), "not UTF-8": "\xff"} {
		_, err := s.TestRequest(context.Background(), co, q)
		if fe, ok := fault.As(err); !ok || fe.Code != fault.CodeBadUserInput || fe.Field != "question" {
			t.Errorf("%s: %v, want BAD_USER_INPUT on question", name, err)
		}
	}
	if _, err := s.TestRequest(context.Background(), co, "Second question?"); err != nil {
		t.Fatal(err)
	}
	_, err = s.TestRequest(context.Background(), co, "Third question?")
	if fe, ok := fault.As(err); !ok || fe.Code != fault.CodeRateLimited {
		t.Fatalf("past the company's message rate: %v, want RATE_LIMITED", err)
	}
}
