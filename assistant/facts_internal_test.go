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
