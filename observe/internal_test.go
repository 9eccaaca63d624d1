package observe

import (
	"fmt"
	"strings"
	"testing"
)

func TestOperationNameIsBounded(t *testing.T) {
	namesMu.Lock()
	saved := names
	names = map[string]struct{}{}
	namesMu.Unlock()
	t.Cleanup(func() {
		namesMu.Lock()
		names = saved
		namesMu.Unlock()
	})

	for in, want := range map[string]string{
		"":                         "anonymous",
		"GetConversation":          "GetConversation",
		"_private9":                "_private9",
		"9lives":                   "other",
		"with-dash":                "other",
		"with space":               "other",
		"ünïcode":                  "other",
		strings.Repeat("a", 64):    strings.Repeat("a", 64),
		strings.Repeat("a", 65):    "other",
		"Query\nlevel=ERROR msg=x": "other",
	} {
		if got := operationName(in); got != want {
			t.Errorf("operationName(%q) = %q, want %q", in, got, want)
		}
	}
	for i := len(names); i < MaxOperationNames; i++ {
		if got := operationName(fmt.Sprintf("Op%d", i)); got == "other" {
			t.Fatalf("name %d of %d counted as other", i, MaxOperationNames)
		}
	}
	if got := operationName("OneTooMany"); got != "other" {
		t.Fatalf("past %d names a new one is %q, want other", MaxOperationNames, got)
	}
	if got := operationName("GetConversation"); got != "GetConversation" {
		t.Fatalf("a known name stays itself: %q", got)
	}
}

func TestLabel(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "none",
		"offline":                 "offline",
		"gemini/gemini-2.5-flash": "gemini/gemini-2.5-flash",
		"openai/llama3:8b":        "openai/llama3:8b",
		"ingest_resource":         "ingest_resource",
		"a b":                     "other",
		strings.Repeat("m", 65):   "other",
		"/leading-slash":          "other",
	} {
		if got := label(in, "none"); got != want {
			t.Errorf("label(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSensitiveKey(t *testing.T) {
	for k, want := range map[string]bool{
		"Authorization": true, "authorization": true, "X-Api-Key": true, "api_key": true, "apiKey": true,
		"password": true, "adminPassword": true, "refresh_token": true, "token": true, "Cookie": true,
		"JWT_SECRET": true, "identity_secret": true, "accessToken": true,
		"tokens": false, "prompt_tokens": false, "company_id": false, "email": false, "err": false, "request_id": false,
	} {
		if got := sensitiveKey(k); got != want {
			t.Errorf("sensitiveKey(%q) = %v, want %v", k, got, want)
		}
	}
}
