package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/analytics"
	"concierge/db"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/ent/message"
	"concierge/ent/privacy"
	"concierge/fault"
	"concierge/viewer"
)

// The seeded world: companies A and B, conversations and messages at known
// times in November 2026 (all times UTC). The period of most reports is
// [Nov 1, Nov 8).
//
// A (in the period unless said):
//
//	A1 Nov 2 09:00  V "How do I reset my password?" 09:00:00, BOT DECLINED 09:00:04,
//	                human requested 09:00:05, AGENT 09:02:05; rated 5
//	A2 Nov 2 10:00  V 10:00:00, BOT ANSWERED 10:00:02, V "how to reset password" 10:01:00,
//	                BOT DECLINED 10:01:03; rated 4
//	A3 Nov 3 09:30  V 09:30:00, BOT FAILED 09:30:01, BOT ANSWERED 09:30:10,
//	                human requested 09:31:00, AGENT 09:31:30; rated 2
//	A4 Nov 3 22:00  V 22:00:00, SYSTEM 22:00:01, AGENT 22:00:08 (no handoff asked)
//	A5 Nov 5 12:00  no messages
//	A6 Oct 31 23:59 (before the period) V "How can I reset my passwords" 23:59:00,
//	                BOT DECLINED 23:59:30, AGENT Nov 1 00:00:30 (in the period); rated 1
//	A7 Nov 8 00:00  (at the end: excluded) V 00:00:00
//	A8 Nov 6 15:00  V "Can I pay with Bitcoin?" 15:00:00, BOT DECLINED 15:00:03,
//	                V "RESET PASSWORDS!!" 15:05:00, BOT DECLINED 15:05:02,
//	                BOT DECLINED 15:06:00 whose reply_to is B1's question (a forged link)
//
// B:
//
//	B1 Nov 2 09:15  V "Where is my refund?" 09:15:00, BOT DECLINED 09:15:06,
//	                human requested 09:15:10, AGENT 09:25:10; rated 1
//	B2 Nov 4 08:00  V 08:00:00, BOT ANSWERED 08:00:05
type world struct {
	c      *ent.Client
	a, b   uuid.UUID
	bQuest uuid.UUID // B1's question
}

var (
	periodFrom = nov(1, 0, 0, 0)
	periodTo   = nov(8, 0, 0, 0)
)

// nov returns a time of November 2026, UTC.
func nov(day, h, m, s int) time.Time { return time.Date(2026, 11, day, h, m, s, 0, time.UTC) }

func bypass() context.Context { return privacy.DecisionContext(context.Background(), privacy.Allow) }

// msg describes a message to seed; replyTo is the seq of the message it
// answers (0: none), or replyToID an explicit id.
type msg struct {
	sender    message.SenderType
	at        time.Time
	body      string
	outcome   message.Outcome
	replyTo   int
	replyToID uuid.UUID
}

func v(at time.Time, body string) msg {
	return msg{sender: message.SenderTypeVISITOR, at: at, body: body}
}
func bot(at time.Time, o message.Outcome, replyTo int) msg {
	return msg{sender: message.SenderTypeBOT, at: at, body: "bot reply", outcome: o, replyTo: replyTo}
}
func agent(at time.Time) msg { return msg{sender: message.SenderTypeAGENT, at: at, body: "agent here"} }
func system(at time.Time) msg {
	return msg{sender: message.SenderTypeSYSTEM, at: at, body: "an agent joined"}
}

type conv struct {
	created time.Time
	humanAt time.Time // zero: never went to a human
	rating  int       // 0: not rated
	msgs    []msg
}

func newCompany(t *testing.T, c *ent.Client, slug string) uuid.UUID {
	t.Helper()
	co, err := c.Company.Create().SetName("Company " + slug).SetSlug(slug).SetEmail("hello@" + slug + ".test").
		SetWidgetKey("wk_" + slug).SetIdentitySecret("secret-" + slug).Save(bypass())
	require.NoError(t, err)
	return co.ID
}

// seedConv creates a conversation and its messages; it returns the
// messages' ids by seq (index 0 unused). Times are stored in the server's
// local zone, as the application writes them (time.Now()).
func seedConv(t *testing.T, c *ent.Client, companyID uuid.UUID, cv conv) []uuid.UUID {
	t.Helper()
	ctx := bypass()
	vis, err := c.Visitor.Create().SetCompanyID(companyID).SetName("visitor").Save(ctx)
	require.NoError(t, err)
	cc := c.Conversation.Create().SetCompanyID(companyID).SetVisitorID(vis.ID).
		SetCreatedAt(cv.created.Local()).SetUpdatedAt(cv.created.Local()).SetLastSeq(len(cv.msgs))
	if !cv.humanAt.IsZero() {
		cc.SetHumanRequestedAt(cv.humanAt.Local())
	}
	if cv.rating != 0 {
		cc.SetRating(cv.rating)
	}
	co, err := cc.Save(ctx)
	require.NoError(t, err)
	ids := []uuid.UUID{uuid.Nil}
	for i, m := range cv.msgs {
		mc := c.Message.Create().SetCompanyID(companyID).SetConversationID(co.ID).SetSeq(i + 1).
			SetSenderType(m.sender).SetBody(m.body).SetCreatedAt(m.at.Local())
		if m.outcome != "" {
			mc.SetOutcome(m.outcome)
		}
		if m.replyTo != 0 {
			mc.SetReplyToID(ids[m.replyTo])
		}
		if m.replyToID != uuid.Nil {
			mc.SetReplyToID(m.replyToID)
		}
		created, err := mc.Save(ctx)
		require.NoError(t, err)
		ids = append(ids, created.ID)
	}
	return ids
}

func seed(t *testing.T, c *ent.Client) *world {
	t.Helper()
	w := &world{c: c, a: newCompany(t, c, "alpha"), b: newCompany(t, c, "bravo")}
	const (
		answered = message.OutcomeANSWERED
		declined = message.OutcomeDECLINED
		failed   = message.OutcomeFAILED
	)
	// B first: A8 links to B1's question.
	b1 := seedConv(t, c, w.b, conv{created: nov(2, 9, 15, 0), humanAt: nov(2, 9, 15, 10), rating: 1, msgs: []msg{
		v(nov(2, 9, 15, 0), "Where is my refund?"), bot(nov(2, 9, 15, 6), declined, 1), agent(nov(2, 9, 25, 10)),
	}})
	w.bQuest = b1[1]
	seedConv(t, c, w.b, conv{created: nov(4, 8, 0, 0), msgs: []msg{
		v(nov(4, 8, 0, 0), "Do you have gift cards?"), bot(nov(4, 8, 0, 5), answered, 1),
	}})

	seedConv(t, c, w.a, conv{created: nov(2, 9, 0, 0), humanAt: nov(2, 9, 0, 5), rating: 5, msgs: []msg{ // A1
		v(nov(2, 9, 0, 0), "How do I reset my password?"), bot(nov(2, 9, 0, 4), declined, 1), agent(nov(2, 9, 2, 5)),
	}})
	seedConv(t, c, w.a, conv{created: nov(2, 10, 0, 0), rating: 4, msgs: []msg{ // A2
		v(nov(2, 10, 0, 0), "What are your opening hours?"), bot(nov(2, 10, 0, 2), answered, 1),
		v(nov(2, 10, 1, 0), "how to reset password"), bot(nov(2, 10, 1, 3), declined, 3),
	}})
	seedConv(t, c, w.a, conv{created: nov(3, 9, 30, 0), humanAt: nov(3, 9, 31, 0), rating: 2, msgs: []msg{ // A3
		v(nov(3, 9, 30, 0), "Do you ship to Canada?"), bot(nov(3, 9, 30, 1), failed, 1),
		bot(nov(3, 9, 30, 10), answered, 1), agent(nov(3, 9, 31, 30)),
	}})
	seedConv(t, c, w.a, conv{created: nov(3, 22, 0, 0), msgs: []msg{ // A4
		v(nov(3, 22, 0, 0), "Password reset?"), system(nov(3, 22, 0, 1)), agent(nov(3, 22, 0, 8)),
	}})
	seedConv(t, c, w.a, conv{created: nov(5, 12, 0, 0)}) // A5
	before := time.Date(2026, 10, 31, 23, 59, 0, 0, time.UTC)
	seedConv(t, c, w.a, conv{created: before, rating: 1, msgs: []msg{ // A6
		v(before, "How can I reset my passwords"), bot(before.Add(30*time.Second), declined, 1),
		agent(nov(1, 0, 0, 30)),
	}})
	seedConv(t, c, w.a, conv{created: periodTo, msgs: []msg{v(periodTo, "Reset my password")}}) // A7
	seedConv(t, c, w.a, conv{created: nov(6, 15, 0, 0), msgs: []msg{                            // A8
		v(nov(6, 15, 0, 0), "Can I pay with Bitcoin?"), bot(nov(6, 15, 0, 3), declined, 1),
		v(nov(6, 15, 5, 0), "RESET PASSWORDS!!"), bot(nov(6, 15, 5, 2), declined, 3),
		{sender: message.SenderTypeBOT, at: nov(6, 15, 6, 0), body: "forged", outcome: declined, replyToID: w.bQuest},
	}})
	return w
}

// Viewers.

func as(v *viewer.Viewer) context.Context { return viewer.NewContext(context.Background(), v) }

func staffOf(id uuid.UUID) context.Context {
	return as(&viewer.Viewer{Kind: viewer.KindUser, ID: uuid.New(), CompanyID: id, Role: viewer.RoleAgent})
}

func keyOf(id uuid.UUID, scopes ...viewer.Scope) context.Context {
	return as(&viewer.Viewer{Kind: viewer.KindAPIKey, ID: uuid.New(), CompanyID: id, Scopes: scopes})
}

func superAdmin() context.Context {
	return as(&viewer.Viewer{Kind: viewer.KindSuperAdmin, ID: uuid.New()})
}

func f(x float64) *float64 { return &x }

func compute(t *testing.T, ctx context.Context, w *world, companyID *uuid.UUID, from, to time.Time) *analytics.Report {
	t.Helper()
	r, err := analytics.Compute(ctx, w.c, companyID, from, to)
	require.NoError(t, err)
	return r
}

// gap is a Gap as compared: times by instant.
type gap struct {
	Question string
	Count    int
	Last     time.Time
}

func gapsOf(r *analytics.Report) []gap {
	out := []gap{}
	for _, g := range r.KnowledgeGaps {
		out = append(out, gap{g.Question, g.Count, g.LastAskedAt.UTC()})
	}
	return out
}

// checkA asserts company A's figures for [Nov 1, Nov 8).
func checkA(t *testing.T, r *analytics.Report) {
	t.Helper()
	require.True(t, r.From.Equal(periodFrom) && r.To.Equal(periodTo), "period %v - %v", r.From, r.To)
	require.Equal(t, 6, r.Conversations, "A1 A2 A3 A4 A5 A8")
	require.Equal(t, 20, r.Messages, "3+4+4+3+0 (A1-A5) + 1 (A6's agent on Nov 1) + 5 (A8)")
	require.Equal(t, 7, r.VisitorMessages)
	require.Equal(t, 0.5, r.BotResolvedRate, "A2 resolved, A3 handed off")
	require.Equal(t, 0.4, r.HandoffRate, "A1 and A3 of A1 A2 A3 A4 A8")
	require.Equal(t, f(3), r.MedianFirstResponseSeconds, "1 2 3 4 8")
	require.Equal(t, f(3.5), r.MedianBotFirstResponseSeconds, "2 3 4 10")
	require.Equal(t, f(75), r.MedianHumanFirstResponseSeconds, "30 120")
	require.Equal(t, f(11.0/3), r.CSATAverage)
	require.Equal(t, 3, r.Ratings)
	require.Equal(t, []analytics.HourCount{{Hour: 9, Messages: 2}, {Hour: 10, Messages: 2}, {Hour: 15, Messages: 2}, {Hour: 22, Messages: 1}}, r.BusiestHours)
	require.Equal(t, []analytics.DayCount{
		{Day: "2026-11-01", Conversations: 0, Messages: 1},
		{Day: "2026-11-02", Conversations: 2, Messages: 7},
		{Day: "2026-11-03", Conversations: 2, Messages: 7},
		{Day: "2026-11-05", Conversations: 1, Messages: 0},
		{Day: "2026-11-06", Conversations: 1, Messages: 5},
	}, r.ByDay)
	require.Equal(t, []gap{
		{"RESET PASSWORDS!!", 3, nov(6, 15, 5, 0)}, // with "How do I reset my password?" and "how to reset password"
		{"Can I pay with Bitcoin?", 1, nov(6, 15, 0, 0)},
	}, gapsOf(r), "A6's question is before the period; B's question (forged link) is not A's to see")
}

func checkB(t *testing.T, r *analytics.Report) {
	t.Helper()
	require.Equal(t, 2, r.Conversations)
	require.Equal(t, 5, r.Messages)
	require.Equal(t, 2, r.VisitorMessages)
	require.Equal(t, 1.0, r.BotResolvedRate)
	require.Equal(t, 0.5, r.HandoffRate)
	require.Equal(t, f(5.5), r.MedianFirstResponseSeconds)
	require.Equal(t, f(5.5), r.MedianBotFirstResponseSeconds)
	require.Equal(t, f(600), r.MedianHumanFirstResponseSeconds)
	require.Equal(t, f(1), r.CSATAverage)
	require.Equal(t, 1, r.Ratings)
	require.Equal(t, []analytics.HourCount{{Hour: 8, Messages: 1}, {Hour: 9, Messages: 1}}, r.BusiestHours)
	require.Equal(t, []analytics.DayCount{
		{Day: "2026-11-02", Conversations: 1, Messages: 3},
		{Day: "2026-11-04", Conversations: 1, Messages: 2},
	}, r.ByDay)
	require.Equal(t, []gap{{"Where is my refund?", 1, nov(2, 9, 15, 0)}}, gapsOf(r))
}

func TestCompute(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := seed(t, d.Client)

		t.Run("company staff see their own company", func(t *testing.T) {
			checkA(t, compute(t, staffOf(w.a), w, nil, periodFrom, periodTo))
			checkA(t, compute(t, staffOf(w.a), w, &w.a, periodFrom, periodTo))
			checkB(t, compute(t, staffOf(w.b), w, nil, periodFrom, periodTo))
		})

		t.Run("API keys with conversations:read", func(t *testing.T) {
			checkA(t, compute(t, keyOf(w.a, viewer.ScopeConversationsRead), w, nil, periodFrom, periodTo))
		})

		t.Run("super admin per company", func(t *testing.T) {
			ra := compute(t, superAdmin(), w, &w.a, periodFrom, periodTo)
			checkA(t, ra)
			require.Equal(t, compute(t, staffOf(w.a), w, nil, periodFrom, periodTo), ra)
			checkB(t, compute(t, superAdmin(), w, &w.b, periodFrom, periodTo))
		})

		t.Run("super admin platform-wide", func(t *testing.T) {
			r := compute(t, superAdmin(), w, nil, periodFrom, periodTo)
			require.Equal(t, 8, r.Conversations)
			require.Equal(t, 25, r.Messages)
			require.Equal(t, 9, r.VisitorMessages)
			require.Equal(t, 2.0/3, r.BotResolvedRate, "A2 and B2 of A2 A3 B2")
			require.Equal(t, 3.0/7, r.HandoffRate)
			require.Equal(t, f(4), r.MedianFirstResponseSeconds, "1 2 3 4 5 6 8")
			require.Equal(t, f(4.5), r.MedianBotFirstResponseSeconds, "2 3 4 5 6 10")
			require.Equal(t, f(120), r.MedianHumanFirstResponseSeconds, "30 120 600")
			require.Equal(t, f(3), r.CSATAverage, "5 4 2 1")
			require.Equal(t, 4, r.Ratings)
			require.Equal(t, []analytics.HourCount{
				{Hour: 9, Messages: 3}, {Hour: 10, Messages: 2}, {Hour: 15, Messages: 2}, {Hour: 8, Messages: 1}, {Hour: 22, Messages: 1},
			}, r.BusiestHours)
			require.Equal(t, []analytics.DayCount{
				{Day: "2026-11-01", Conversations: 0, Messages: 1},
				{Day: "2026-11-02", Conversations: 3, Messages: 10},
				{Day: "2026-11-03", Conversations: 2, Messages: 7},
				{Day: "2026-11-04", Conversations: 1, Messages: 2},
				{Day: "2026-11-05", Conversations: 1, Messages: 0},
				{Day: "2026-11-06", Conversations: 1, Messages: 5},
			}, r.ByDay)
			require.Equal(t, []gap{
				{"RESET PASSWORDS!!", 3, nov(6, 15, 5, 0)},
				{"Can I pay with Bitcoin?", 1, nov(6, 15, 0, 0)},
				{"Where is my refund?", 1, nov(2, 9, 15, 0)}, // declined twice (B1, A8's forged link): one question
			}, gapsOf(r))
		})

		t.Run("period filtering", func(t *testing.T) {
			r := compute(t, staffOf(w.a), w, nil, nov(3, 0, 0, 0), nov(4, 0, 0, 0))
			require.Equal(t, 2, r.Conversations, "A3 A4")
			require.Equal(t, 7, r.Messages)
			require.Equal(t, 2, r.VisitorMessages)
			require.Equal(t, 0.0, r.BotResolvedRate, "A3 answered, then went to a human")
			require.Equal(t, 0.5, r.HandoffRate)
			require.Equal(t, f(4.5), r.MedianFirstResponseSeconds, "1 8")
			require.Equal(t, f(10), r.MedianBotFirstResponseSeconds, "the FAILED reply is no bot answer")
			require.Equal(t, f(30), r.MedianHumanFirstResponseSeconds)
			require.Equal(t, f(2), r.CSATAverage)
			require.Equal(t, 1, r.Ratings)
			require.Equal(t, []analytics.HourCount{{Hour: 9, Messages: 1}, {Hour: 22, Messages: 1}}, r.BusiestHours)
			require.Equal(t, []analytics.DayCount{{Day: "2026-11-03", Conversations: 2, Messages: 7}}, r.ByDay)
			require.Empty(t, r.KnowledgeGaps)

			// The end is exclusive, the start inclusive: A7 (Nov 8 00:00) alone.
			r = compute(t, staffOf(w.a), w, nil, periodTo, periodTo.Add(time.Hour))
			require.Equal(t, 1, r.Conversations)
			require.Equal(t, 1, r.Messages)
			require.Equal(t, 0.0, r.BotResolvedRate)
			require.Equal(t, 0.0, r.HandoffRate)
			require.Nil(t, r.MedianFirstResponseSeconds)
			require.Nil(t, r.MedianBotFirstResponseSeconds)
			require.Nil(t, r.MedianHumanFirstResponseSeconds)
			require.Nil(t, r.CSATAverage)
			require.Zero(t, r.Ratings)

			// A6's question, declined on Oct 31, is a gap of that day.
			r = compute(t, staffOf(w.a), w, nil, nov(-1, 0, 0, 0), periodFrom)
			require.Equal(t, []gap{{"How can I reset my passwords", 1, time.Date(2026, 10, 31, 23, 59, 0, 0, time.UTC)}}, gapsOf(r))
			require.Equal(t, f(1), r.CSATAverage)

			// Nothing at all.
			r = compute(t, staffOf(w.a), w, nil, nov(20, 0, 0, 0), nov(21, 0, 0, 0))
			require.Equal(t, &analytics.Report{From: nov(20, 0, 0, 0), To: nov(21, 0, 0, 0),
				BusiestHours: []analytics.HourCount{}, KnowledgeGaps: []analytics.Gap{}, ByDay: []analytics.DayCount{}}, r)
		})

		t.Run("default period is the last 30 days", func(t *testing.T) {
			before := time.Now()
			r := compute(t, staffOf(w.a), w, nil, time.Time{}, time.Time{})
			require.WithinRange(t, r.To, before.Add(-time.Second), time.Now().Add(time.Second))
			require.Equal(t, 30*24*time.Hour, r.To.Sub(r.From))
			require.Equal(t, time.UTC, r.To.Location())

			to := nov(8, 0, 0, 0)
			r = compute(t, staffOf(w.a), w, nil, time.Time{}, to)
			require.True(t, r.From.Equal(to.AddDate(0, 0, -30)))
		})
	})
}

func TestViewersAndPeriods(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := seed(t, d.Client)
		code := func(ctx context.Context, companyID *uuid.UUID, from, to time.Time) string {
			t.Helper()
			r, err := analytics.Compute(ctx, w.c, companyID, from, to)
			require.Error(t, err)
			require.Nil(t, r)
			fe, ok := fault.As(err)
			require.True(t, ok, "a fault: %v", err)
			return fe.Code
		}
		visitor := as(&viewer.Viewer{Kind: viewer.KindVisitor, ID: uuid.New(), CompanyID: w.a, ConversationID: uuid.New()})
		unknown := uuid.New()

		require.Equal(t, fault.CodeUnauthenticated, code(context.Background(), nil, periodFrom, periodTo))
		require.Equal(t, fault.CodeUnauthenticated, code(as(&viewer.Viewer{}), nil, periodFrom, periodTo))
		require.Equal(t, fault.CodeForbidden, code(visitor, nil, periodFrom, periodTo))
		require.Equal(t, fault.CodeForbidden, code(visitor, &w.a, periodFrom, periodTo))
		require.Equal(t, fault.CodeForbidden, code(staffOf(w.a), &w.b, periodFrom, periodTo), "staff asking for another company")
		require.Equal(t, fault.CodeForbidden, code(staffOf(w.a), &unknown, periodFrom, periodTo))
		// A key without conversations:read is told that it lacks it (the API
		// reports it as FORBIDDEN).
		_, err := analytics.Compute(keyOf(w.a, viewer.ScopeKnowledgeRead, viewer.ScopeConversationsWrite), w.c, nil, periodFrom, periodTo)
		var mse *viewer.MissingScopeError
		require.ErrorAs(t, err, &mse)
		require.Equal(t, viewer.ScopeConversationsRead, mse.Scope)
		require.Equal(t, fault.CodeForbidden, code(keyOf(w.a, viewer.ScopeConversationsRead), &w.b, periodFrom, periodTo))
		require.Equal(t, fault.CodeNotFound, code(superAdmin(), &unknown, periodFrom, periodTo))

		// Bad periods.
		require.Equal(t, fault.CodeBadUserInput, code(staffOf(w.a), nil, periodTo, periodFrom), "to before from")
		require.Equal(t, fault.CodeBadUserInput, code(superAdmin(), nil, periodFrom, periodFrom.AddDate(0, 0, 367)))
		require.Equal(t, fault.CodeBadUserInput, code(superAdmin(), nil, periodFrom, periodFrom.Add(366*24*time.Hour+time.Second)))
		require.Equal(t, fault.CodeBadUserInput, code(staffOf(w.a), nil, time.Now().Add(time.Hour), time.Time{}), "from in the future, to now")
		r, err := analytics.Compute(superAdmin(), w.c, nil, periodFrom, periodFrom.Add(366*24*time.Hour))
		require.NoError(t, err, "366 days is allowed")
		require.Equal(t, 9, r.Conversations, "A's 7 (all but A6, from October) and B's 2")
		r, err = analytics.Compute(staffOf(w.a), w.c, nil, periodFrom, periodFrom)
		require.NoError(t, err, "an empty period is no error")
		require.Zero(t, r.Conversations)
	})
}

// Paraphrases of a question share one key; different questions do not.
func TestNormalizeQuestion(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{"How do I reset my password?", "how to reset password", "RESET PASSWORDS!!", "Password reset?", "How can I reset my passwords"},
		{"Can I pay with Bitcoin?", "pay with bitcoin", "can i pay with bitcoins"},
		{"What are your refund policies?", "refund policy", "Refund Policy..."},
		{"What’s   the status of my order?", "order status"},
	}
	keys := map[string]int{}
	for i, group := range same {
		k := analytics.NormalizeQuestion(group[0])
		require.NotEmpty(t, k)
		for _, q := range group[1:] {
			require.Equal(t, k, analytics.NormalizeQuestion(q), "%q vs %q", group[0], q)
		}
		_, dup := keys[k]
		require.False(t, dup, "group %d shares its key %q", i, k)
		keys[k] = i
	}
	require.Equal(t, "password reset", analytics.NormalizeQuestion("How do I reset my password?"))
	require.Equal(t, "box ship", analytics.NormalizeQuestion("Do you ship boxes?"))
	require.Equal(t, "address", analytics.NormalizeQuestion("address"))
	require.Equal(t, "how are you", analytics.NormalizeQuestion("How are you?"), "stopwords only: the words themselves")
	require.Equal(t, "", analytics.NormalizeQuestion("?!"))
}
