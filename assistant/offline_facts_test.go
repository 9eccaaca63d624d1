package assistant_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"concierge/assistant"
)

// TestOfflineChoosesTheFact: of sentences on the question's topic, the
// answer quotes the one carrying what was asked: a number, a version, the
// names, the condition.
func TestOfflineChoosesTheFact(t *testing.T) {
	o := assistant.NewOffline(assistant.OfflineOptions{})
	for _, tc := range []struct{ q, decoy, fact string }{
		{"How many locations does the Starter plan include?",
			"Locations on the Starter plan are managed by admins and managers, who can rename locations at any time.",
			"The Starter plan includes up to 3 locations."},
		{"Which Android versions are supported by the app?",
			"The app for Android is supported by our mobile team and gets new features every month.",
			"The app runs on Android 10 or later."},
		{"Which payroll providers do you integrate with?",
			"Our payroll integrations save hours for payroll providers and their customers alike.",
			"We integrate with the payroll providers Gusto, Xero and QuickBooks."},
		{"Can I get a refund on the Business plan?",
			"Refunds on the Business plan are handled by our billing team.",
			"Business plan refunds are given only within 30 days of the payment."},
		{"What are the five SQL aggregation functions?",
			"Groups of rows can be summarized in SQL by one of the five aggregation functions.",
			"The five SQL aggregation functions are COUNT(*) and SUM, MAX, MIN and AVG."},
		{"What does the Business plan cost?",
			"The Business plan is what most of our customers choose, whatever it costs them.",
			"The Business plan is $6 per employee per month."},
	} {
		// Same retrieval score, the decoy first.
		ps := []assistant.Passage{{N: 1, Hit: hit("Help", "", tc.decoy, 0.8)}, {N: 2, Hit: hit("More help", "", tc.fact, 0.8)}}
		got := o.Answer(tc.q, ps)
		require.True(t, strings.HasPrefix(got, tc.fact+" [2]"), "%s: %s", tc.q, got)
	}
}

// TestOfflineCleanProse: answers are prose, not the fragments a layout
// table joined with "|", nor FAQ labels, nor stray list marks; real table
// rows keep their cells, after the header row.
func TestOfflineCleanProse(t *testing.T) {
	o := assistant.NewOffline(assistant.OfflineOptions{})
	ask := func(q, text string) string {
		return o.Answer(q, []assistant.Passage{{N: 1, Hit: hit("Help", "", text, 0.8)}})
	}

	// A layout table: each cell is prose on its own.
	got := ask("How long do I have to return an item?",
		"Free shipping on all orders over $50 to the EU | Items can be returned within 30 days of delivery for a refund | Our team answers every day of the week")
	require.Contains(t, got, "Items can be returned within 30 days of delivery for a refund")
	require.NotContains(t, got, "|")
	require.NotContains(t, got, "Free shipping")

	// A real table: rows of short cells.
	got = ask("How much is the Business plan per month?", "Plan | Price per month | Locations\nFree | $0 | 1\nBusiness | $6 per employee | Unlimited\nStarter | $3 per employee | 3")
	require.Contains(t, got, "Plan | Price per month | Locations\nBusiness | $6 per employee | Unlimited", got)

	// A Markdown table with prose in its cells: prose.
	got = ask("How long do refunds take?", "| Topic | Details |\n|---|---|\n| Refunds | Refunds reach your card within 5 to 10 business days after we approve them. |")
	require.Equal(t, "Refunds reach your card within 5 to 10 business days after we approve them. [1]", got)

	// FAQs: the question is context, the answer is quoted without labels,
	// even when only the question has the visitor's words.
	faq := "Q: How long does delivery take? A: Usually 3 to 5 business days from our warehouse.\n" +
		"Q: Do you ship to Canada?\nA: Yes, for a flat fee of $15.\n" +
		"**Question:** Can I change my order? **Answer:** Within 2 hours of ordering, from your account."
	for q, want := range map[string]string{
		"How long does delivery take?": "Usually 3 to 5 business days from our warehouse.",
		"Do you ship to Canada?":       "Yes, for a flat fee of $15.",
		"Can I change my order?":       "Within 2 hours of ordering, from your account.",
	} {
		got := ask(q, faq)
		require.True(t, strings.HasPrefix(got, want), "%s: %s", q, got)
		for _, bad := range []string{"Q:", "A:", "Question", "Answer", q} {
			require.NotContains(t, got, bad, q)
		}
	}

	// An answer too short to stand alone comes after its question (never
	// its label).
	got = ask("Can I pay with PayPal?", "Q: Can I pay with PayPal?\nA: Yes.\nQ: Do you take checks?\nA: No.")
	require.Equal(t, "Can I pay with PayPal? Yes. [1]", got)

	// Stray list marks: glued, alone, trailing, inside prose; bullets are
	// written "- ".
	got = ask("How long do refunds take?", "•Refunds take 5 to 10 business days •\n•\n▪ Refunds go to the original card")
	require.Equal(t, "- Refunds take 5 to 10 business days\n- Refunds go to the original card [1]", got)
	got = ask("How long do refunds take?", "Shipping is free from 3 devices • Refunds take 5 to 10 business days • Support answers by email")
	require.Equal(t, "Refunds take 5 to 10 business days [1]", got)
	// A mark alone on its line (HTML lists) marks the next line.
	got = ask("How do I report a bug?", "To report a bug, use one of these ways:\n-\nFrom the web, at https://bugs.example.org.\n-\nWith the reportbug tool.")
	require.Equal(t, "To report a bug, use one of these ways:\n- From the web, at https://bugs.example.org.\n- With the reportbug tool. [1]", got)

	// A numbered section's title run into its first sentence (PDF lines
	// joined) is context, not quoted.
	got = ask("How can R be installed on a Mac?", "2.5.3 How can R be installed (Mac) The bin/macosx directory of a CRAN site contains the installer for macOS 10.13 or later.")
	require.Equal(t, "The bin/macosx directory of a CRAN site contains the installer for macOS 10.13 or later. [1]", got)
	got = ask("Which packages are loaded by default?", "6.1 Default packages The set of packages loaded on startup is datasets, utils and graphics.")
	require.Equal(t, "The set of packages loaded on startup is datasets, utils and graphics. [1]", got)

	// A sentence in parentheses loses them.
	got = ask("How long is the warranty?", "(The warranty lasts 2 years (24 months).)")
	require.Equal(t, "The warranty lasts 2 years (24 months). [1]", got)

	// Tables of contents are no answer; footnote numbers would look like
	// citations.
	got = ask("How can I sort the rows of a data frame?",
		"7.22 Why do graphics not work? . . . . . . . . 35 7.23 How can I sort the rows of a data frame? . . . . . . . . 35\n"+
			"Chapter 7: Sorting data frames 35\n"+
			"7.23 How can I sort the rows of a data frame? To sort the rows of a data frame, use order() on its columns.[3] See DF[order(DF$a), ] for one column.")
	require.Equal(t, "To sort the rows of a data frame, use order() on its columns. See DF[order(DF$a), ] for one column. [1]", got)
}

// TestOfflineUnsure: an answer whose best sentence only just matches the
// question says so, in the visitor's language; a clear match does not.
func TestOfflineUnsure(t *testing.T) {
	o := assistant.NewOffline(assistant.OfflineOptions{})
	ps := []assistant.Passage{{N: 1, Hit: hit("Devices", "", "The Tidewise Clock has a badge reader and a camera. It keeps working on its own battery for 8 hours during power cuts.", 0.7)},
		{N: 2, Hit: hit("Shipping", "", "Standard delivery takes 3 to 5 business days in the United States.", 0.6)}}
	sure := o.Answer("How long does standard delivery take in the United States?", ps)
	require.True(t, strings.HasPrefix(sure, "Standard delivery takes 3 to 5 business days"), sure)

	q := "Does the clock keep working when the wifi drops?"
	got := o.Answer(q, ps)
	require.True(t, strings.HasPrefix(got, assistant.Text("en", assistant.TextUnsure)+" "), got)
	require.Contains(t, got, "8 hours")

	gen, err := o.Generate(context.Background(), assistant.Prompt{Question: q, Passages: ps, Language: "fr"}, nil)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(gen.Text, "Je n'en suis pas certain, mais notre documentation indique :"), gen.Text)
	require.Equal(t, "I'm not certain, but our documentation says:", assistant.Text("en", assistant.TextUnsure))
}
