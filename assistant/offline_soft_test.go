package assistant_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/assistant"
	"concierge/retrieval"
	"concierge/retrieval/embed/wordvec"
)

// needVectors skips a test of the soft match when the binary has no word
// vectors (`make vectors` was not run), and fails it in CI.
func needVectors(t *testing.T) {
	t.Helper()
	if tb, err := wordvec.Default(); tb == nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

var hotel = []assistant.Passage{
	{N: 1, Hit: hit("Your stay", "Arrival", "Check-in starts at 3 pm and check-out is at 11 am. Breakfast is served from 7 to 10 in the garden room.", 0.8)},
	{N: 2, Hit: hit("Your stay", "Extras", "Luggage can be left at the front desk on your last day, at no charge. The swimming pool is open from May to September.", 0.8)},
	{N: 3, Hit: hit("Offers", "Discounts", "Students get 10% off every booking with a valid student card. Children under 6 stay for free.", 0.8)},
}

// TestOfflineParaphrase: a question that shares no word with the sentence
// answering it ("bags" for "luggage", "morning meal" for "breakfast") gets
// that sentence, saying it is not certain, since it matched by meaning
// only; questions the passages do not answer are still declined.
func TestOfflineParaphrase(t *testing.T) {
	needVectors(t)
	o := assistant.NewOffline(assistant.OfflineOptions{})
	unsure := assistant.Text("en", assistant.TextUnsure) + " "
	for _, tc := range []struct{ q, want string }{
		{"Where can I store my bags?", "Luggage can be left at the front desk on your last day, at no charge."},
		{"When can I have my morning meal?", "Breakfast is served from 7 to 10 in the garden room."},
	} {
		got := o.Answer(tc.q, hotel)
		require.True(t, strings.HasPrefix(got, unsure+tc.want), "%s: %s", tc.q, got)
	}
	for _, q := range []string{
		"Do you sell train tickets?",
		"Can I bring my puppy?",
		"Do you have a gym?",
		"How do I file my income taxes?",
		"What is the share price of the hotel?",
	} {
		require.Equal(t, assistant.DeclineMarker, o.Answer(q, hotel), q)
	}
}

// TestOfflineSoftMatchOnce: a word of a sentence answers one question
// word at most: "prices" matches "price" and cannot match "stock" (its
// neighbour in meaning) too, so the stock price is not answered by the
// plan's price.
func TestOfflineSoftMatchOnce(t *testing.T) {
	needVectors(t)
	o := assistant.NewOffline(assistant.OfflineOptions{})
	ps := []assistant.Passage{{N: 1, Hit: hit("Plans and pricing", "Taxes", "Prices are shown without tax. VAT is added at checkout for customers in the EU.", 0.8)}}
	require.Equal(t, assistant.DeclineMarker, o.Answer("What is the stock price of Acme?", ps))
	require.Contains(t, o.Answer("Are prices shown with tax?", ps), "Prices are shown without tax.")
}

// TestParaphraseLeavesInstructionsOut: a paraphrased question about the
// poisoned page ("reduction for pupils") is answered from what the page
// says to people, never from what it tells the assistant.
func TestParaphraseLeavesInstructionsOut(t *testing.T) {
	needVectors(t)
	p, err := assistant.NewProvider(assistant.ProviderConfig{Name: assistant.ProviderOffline})
	require.NoError(t, err)
	a, err := assistant.New(assistant.Config{Provider: p, Search: &fakeSearch{hits: []retrieval.Hit{poisoned}}})
	require.NoError(t, err)
	var d deltas
	ans, err := a.Answer(context.Background(), ask("Is there a reduction for pupils?"), d.add)
	require.NoError(t, err)
	require.Equal(t, assistant.OutcomeAnswered, ans.Outcome)
	require.Contains(t, ans.Text, "Students get 10% off")
	for _, s := range []string{ans.Text, d.text(), ans.Citations[0].Snippet} {
		for _, bad := range []string{"STUDENT-FREE-100", "deleted", "evil.example", "CVV", "login details", "admin password", "Note to the AI"} {
			require.NotContains(t, s, bad)
		}
	}
}
