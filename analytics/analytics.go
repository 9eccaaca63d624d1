// Package analytics computes the conversation figures of a company's
// dashboard, and the platform-wide ones of the super admin.
//
// Every query runs with the caller's context, so the ent privacy rules scope
// it to the viewer's company; nothing here filters by company for isolation.
// A super admin who names a company gets that company's figures (a chosen
// filter), or the whole platform's without one.
//
// Counts and per-day / per-hour figures are computed in the database
// (COUNT ... GROUP BY); only medians and knowledge gaps load rows, with the
// columns they need and a cap (see MaxMedianConversations and
// MaxGapQuestions).
package analytics

import (
	"context"
	"sort"
	"time"

	"github.com/google/uuid"

	"concierge/ent"
	"concierge/ent/company"
	"concierge/ent/conversation"
	"concierge/ent/message"
	"concierge/ent/predicate"
	"concierge/fault"
	"concierge/viewer"
)

// DefaultPeriod is the period of a report when neither bound is given.
const DefaultPeriod = 30 * 24 * time.Hour

// MaxPeriod is the longest period a report covers.
const MaxPeriod = 366 * 24 * time.Hour

// Report holds the figures of one period: conversations created in
// [From, To), messages created in [From, To).
type Report struct {
	From, To time.Time
	// Conversations created in the period; Messages (of any sender) and
	// VisitorMessages created in it.
	Conversations, Messages, VisitorMessages int
	// BotResolvedRate: of the period's conversations with at least one
	// ANSWERED bot message, the share that never went to a human.
	// HandoffRate: of the period's conversations with at least one visitor
	// message, the share that went to a human. Both are 0 without a sample.
	BotResolvedRate, HandoffRate float64
	// Medians of the first response, in seconds (nil when there is no
	// sample): from a conversation's first visitor message to the first
	// bot or agent message after it; to the first bot message that
	// answered or declined; and from the handoff (human_requested_at) to
	// the first agent message after it.
	MedianFirstResponseSeconds, MedianBotFirstResponseSeconds, MedianHumanFirstResponseSeconds *float64
	// CSATAverage is the average rating of the period's rated
	// conversations (nil when none); Ratings is how many there are.
	CSATAverage *float64
	Ratings     int
	// BusiestHours: visitor messages per hour of the day (UTC), only hours
	// that have any, most first (ties: earlier hour first).
	BusiestHours []HourCount
	// KnowledgeGaps: the questions the assistant declined to answer,
	// paraphrases grouped, most asked first; at most MaxGaps.
	KnowledgeGaps []Gap
	// ByDay: conversations and messages per UTC day, for every day of the
	// period that has any, in ascending order.
	ByDay []DayCount
}

// HourCount is the number of visitor messages sent in one hour of the day.
type HourCount struct {
	Hour     int // 0-23, UTC
	Messages int
}

// Gap is a group of visitor questions the assistant declined to answer.
type Gap struct {
	// Question is the most recent wording of the group.
	Question string
	// Count is how many declined questions the group holds.
	Count int
	// LastAskedAt is when the most recent of them was asked.
	LastAskedAt time.Time
}

// DayCount holds the figures of one UTC day.
type DayCount struct {
	Day           string // "2006-01-02"
	Conversations int
	Messages      int
}

// Compute returns the figures of conversations created in [from, to)
// (messages: created in [from, to)).
//
// Viewers: company users and API keys with the conversations:read scope get
// their own company's figures (companyID nil or their own id; another id is
// FORBIDDEN). Super admins get the company named by companyID (NOT_FOUND if
// it does not exist) or, with nil, the whole platform. Visitors and other
// keys are FORBIDDEN, callers without a viewer UNAUTHENTICATED.
//
// Zero bounds default to the last 30 days (to: now; from: to minus 30
// days). to before from, or a period over 366 days, is BAD_USER_INPUT.
//
// Medians sample the MaxMedianConversations most recent conversations of the
// period, knowledge gaps the MaxGapQuestions most recent declined questions.
func Compute(ctx context.Context, client *ent.Client, companyID *uuid.UUID, from, to time.Time) (*Report, error) {
	scope, err := scopeOf(ctx, companyID)
	if err != nil {
		return nil, err
	}
	from, to, err = period(from, to, time.Now())
	if err != nil {
		return nil, err
	}
	if scope != nil {
		ok, err := client.Company.Query().Where(company.ID(*scope)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fault.NotFound("company")
		}
	}
	q := &querier{client: client, from: from, to: to, company: scope}
	r := &Report{From: from, To: to}
	steps := []func(context.Context, *Report) error{
		q.volumes, q.rates, q.csat, q.medians, q.gaps,
	}
	for _, step := range steps {
		if err := step(ctx, r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// scopeOf checks the viewer and returns the company a super admin chose
// (nil for everyone else, whom privacy scopes to their own company, and
// for a platform-wide report).
func scopeOf(ctx context.Context, companyID *uuid.UUID) (*uuid.UUID, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil || v.Kind == viewer.KindNone:
		return nil, fault.Unauthenticated("sign in to see analytics")
	case v.SuperAdmin():
		return companyID, nil
	case v.Staff() || v.System() || v.HasScope(viewer.ScopeConversationsRead):
		if own, ok := v.Tenant(); !ok || (companyID != nil && *companyID != own) {
			return nil, fault.Forbidden("you can only see your own company's analytics")
		}
		return nil, nil
	case v.Kind == viewer.KindAPIKey:
		return nil, &viewer.MissingScopeError{Scope: viewer.ScopeConversationsRead}
	default:
		return nil, fault.Forbidden("you may not see analytics")
	}
}

// period resolves and checks the report's bounds.
func period(from, to, now time.Time) (time.Time, time.Time, error) {
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-DefaultPeriod)
	}
	from, to = from.Round(0).UTC(), to.Round(0).UTC()
	if to.Before(from) {
		return from, to, fault.Invalid("to", "the end of the period (to) is before its start (from)")
	}
	if to.Sub(from) > MaxPeriod {
		return from, to, fault.Invalid("from", "the period is longer than 366 days")
	}
	return from, to, nil
}

// querier runs the report's queries with the viewer's context.
type querier struct {
	client   *ent.Client
	from, to time.Time
	company  *uuid.UUID // chosen by a super admin, nil otherwise
}

// bounds returns the period's bounds as query arguments. On SQLite times
// are stored as text in the zone the server wrote them in (its local zone)
// and compared as text, so the bounds are given in that zone too.
func (q *querier) bounds() (time.Time, time.Time) {
	return q.from.Local(), q.to.Local()
}

// conversations returns a query of the period's conversations.
func (q *querier) conversations() *ent.ConversationQuery {
	from, to := q.bounds()
	ps := []predicate.Conversation{conversation.CreatedAtGTE(from), conversation.CreatedAtLT(to)}
	if q.company != nil {
		ps = append(ps, conversation.CompanyID(*q.company))
	}
	return q.client.Conversation.Query().Where(ps...)
}

// messages returns a query of the period's messages.
func (q *querier) messages() *ent.MessageQuery {
	from, to := q.bounds()
	return q.scopedMessages().Where(message.CreatedAtGTE(from), message.CreatedAtLT(to))
}

// scopedMessages returns a query of messages of any time, of the company a
// super admin chose (privacy scopes everyone else's).
func (q *querier) scopedMessages() *ent.MessageQuery {
	mq := q.client.Message.Query()
	if q.company != nil {
		mq.Where(message.CompanyID(*q.company))
	}
	return mq
}

// volumes counts conversations and messages, in total, per day and (visitor
// messages) per hour of the day, with GROUP BY queries.
func (q *querier) volumes(ctx context.Context, r *Report) error {
	var convs []struct {
		Bucket *string `json:"bucket"`
		N      int     `json:"n"`
	}
	err := q.conversations().
		Aggregate(groupByTime(conversation.FieldCreatedAt, dayFormat), ent.As(ent.Count(), "n")).
		Scan(ctx, &convs)
	if err != nil {
		return err
	}
	var msgs []struct {
		SenderType string  `json:"sender_type"`
		Bucket     *string `json:"bucket"`
		N          int     `json:"n"`
	}
	err = q.messages().GroupBy(message.FieldSenderType).
		Aggregate(groupByTime(message.FieldCreatedAt, hourFormat), ent.As(ent.Count(), "n")).
		Scan(ctx, &msgs)
	if err != nil {
		return err
	}
	days := map[string]*DayCount{}
	day := func(d string) *DayCount {
		if days[d] == nil {
			days[d] = &DayCount{Day: d}
		}
		return days[d]
	}
	for _, c := range convs {
		r.Conversations += c.N
		if c.Bucket != nil {
			day(*c.Bucket).Conversations += c.N
		}
	}
	hours := map[int]int{}
	for _, m := range msgs {
		r.Messages += m.N
		visitor := m.SenderType == string(message.SenderTypeVISITOR)
		if visitor {
			r.VisitorMessages += m.N
		}
		if m.Bucket == nil {
			continue
		}
		d, h, ok := splitHour(*m.Bucket)
		if !ok {
			continue
		}
		day(d).Messages += m.N
		if visitor {
			hours[h] += m.N
		}
	}
	r.ByDay = make([]DayCount, 0, len(days))
	for _, d := range days {
		r.ByDay = append(r.ByDay, *d)
	}
	sort.Slice(r.ByDay, func(i, j int) bool { return r.ByDay[i].Day < r.ByDay[j].Day })
	r.BusiestHours = make([]HourCount, 0, len(hours))
	for h, n := range hours {
		r.BusiestHours = append(r.BusiestHours, HourCount{Hour: h, Messages: n})
	}
	sort.Slice(r.BusiestHours, func(i, j int) bool {
		a, b := r.BusiestHours[i], r.BusiestHours[j]
		if a.Messages != b.Messages {
			return a.Messages > b.Messages
		}
		return a.Hour < b.Hour
	})
	return nil
}

// rates computes the bot-resolved and handoff rates with four counts.
func (q *querier) rates(ctx context.Context, r *Report) error {
	answered := conversation.HasMessagesWith(
		message.SenderTypeEQ(message.SenderTypeBOT), message.OutcomeEQ(message.OutcomeANSWERED))
	withVisitor := conversation.HasMessagesWith(message.SenderTypeEQ(message.SenderTypeVISITOR))
	counts := []struct {
		n  *int
		ps []predicate.Conversation
	}{
		{new(int), []predicate.Conversation{answered}},
		{new(int), []predicate.Conversation{answered, conversation.HumanRequestedAtIsNil()}},
		{new(int), []predicate.Conversation{withVisitor}},
		{new(int), []predicate.Conversation{withVisitor, conversation.HumanRequestedAtNotNil()}},
	}
	for _, c := range counts {
		n, err := q.conversations().Where(c.ps...).Count(ctx)
		if err != nil {
			return err
		}
		*c.n = n
	}
	r.BotResolvedRate = ratio(*counts[1].n, *counts[0].n)
	r.HandoffRate = ratio(*counts[3].n, *counts[2].n)
	return nil
}

func ratio(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// csat averages the ratings from their distribution (at most five rows).
func (q *querier) csat(ctx context.Context, r *Report) error {
	var rows []struct {
		Rating int `json:"rating"`
		N      int `json:"n"`
	}
	err := q.conversations().Where(conversation.RatingNotNil()).
		GroupBy(conversation.FieldRating).Aggregate(ent.As(ent.Count(), "n")).Scan(ctx, &rows)
	if err != nil {
		return err
	}
	sum := 0
	for _, row := range rows {
		r.Ratings += row.N
		sum += row.Rating * row.N
	}
	if r.Ratings > 0 {
		avg := float64(sum) / float64(r.Ratings)
		r.CSATAverage = &avg
	}
	return nil
}
