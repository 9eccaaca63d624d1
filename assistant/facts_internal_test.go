package assistant

import (
	"strings"
	"testing"
)

// TestSystemInstructionQuotesFacts: the model is told to quote the precise
// facts (numbers, prices, dates, versions, names, conditions) as the
// passages write them.
func TestSystemInstructionQuotesFacts(t *testing.T) {
	s := systemInstruction("Acme", "Ada", "", "en")
	for _, want := range []string{"Quote the precise facts", "exactly as the passages write them", "numbers, prices",
		"dates", "versions", "names of plans", "conditions and exceptions", "Do not round, convert, generalize or drop them"} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
}

// TestSegmentFAQ: FAQ labels go, questions are marked and their terms go
// with the answer that follows; "R:" is no label.
func TestSegmentFAQ(t *testing.T) {
	us := segment("Q: How long is the warranty? A: Two years.\n**Question:** Do you ship abroad?\n**Answer:** Only to the EU.\nR: A Language and Environment for Statistical Computing.")
	var got []string
	for _, u := range us {
		s := u.text
		if u.question {
			s = "?" + s
		}
		got = append(got, s)
	}
	want := []string{"?How long is the warranty?", "Two years.", "?Do you ship abroad?", "Only to the EU.", "R: A Language and Environment for Statistical Computing."}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("segment: %q, want %q", got, want)
	}
	if !us[1].asked["warranti"] && !us[1].asked["warranty"] {
		t.Errorf("the answer does not carry its question's terms: %v", us[1].asked)
	}
}
