package graph

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"concierge/analytics"
	"concierge/auth"
	"concierge/chat"
	"concierge/ent"
	"concierge/ent/message"
	"concierge/ent/privacy"
	"concierge/ent/schema/schematype"
	"concierge/graph/model"
	"concierge/viewer"
)

var weekdays = []model.Weekday{model.WeekdaySunday, model.WeekdayMonday, model.WeekdayTuesday,
	model.WeekdayWednesday, model.WeekdayThursday, model.WeekdayFriday, model.WeekdaySaturday}

func businessHours(b *schematype.BusinessHours) *model.BusinessHours {
	if b == nil || len(b.Days) == 0 {
		return nil
	}
	tz := b.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	out := &model.BusinessHours{TimeZone: tz}
	for _, d := range b.Days {
		if d.Day >= 0 && d.Day < len(weekdays) {
			out.Days = append(out.Days, &model.OpeningHours{Day: weekdays[d.Day], Open: d.Open, Close: d.Close})
		}
	}
	return out
}

func businessHoursInput(in *model.BusinessHoursInput) *schematype.BusinessHours {
	if in == nil {
		return nil
	}
	b := &schematype.BusinessHours{Days: []schematype.OpeningHours{}}
	if in.TimeZone != nil {
		b.TimeZone = *in.TimeZone
	}
	for _, d := range in.Days {
		day := 0
		for i, w := range weekdays {
			if w == d.Day {
				day = i
			}
		}
		b.Days = append(b.Days, schematype.OpeningHours{Day: day, Open: d.Open, Close: d.Close})
	}
	return b
}

// identitySecret is shown to company admins and super admins only. Which
// company's row the viewer may read at all is the privacy rule's business.
func identitySecret(ctx context.Context, co *ent.Company) *string {
	if v := viewer.FromContext(ctx); v.SuperAdmin() || v.CompanyAdmin() {
		return &co.IdentitySecret
	}
	return nil
}

func (r *Resolver) widgetConfig(ctx context.Context, key string) (*model.WidgetConfig, error) {
	w, err := r.Chat.Widget(ctx, key)
	if err != nil {
		return nil, err
	}
	co := w.Company
	out := &model.WidgetConfig{CompanyName: co.Name, BrandColor: co.BrandColor, Greeting: co.Greeting,
		AssistantName: co.AssistantName, RequireIdentity: co.RequireIdentity, Open: w.Open}
	if co.LogoURL != "" {
		out.LogoURL = &co.LogoURL
	}
	if co.AwayMessage != "" {
		out.AwayMessage = &co.AwayMessage
	}
	return out, nil
}

func (r *Resolver) startConversation(ctx context.Context, in model.StartConversationInput) (*model.VisitorSession, error) {
	s, err := r.Chat.Start(ctx, chat.StartInput{
		CompanyKey: in.CompanyKey, Name: in.Name, Email: in.Email, ExternalID: in.ExternalID,
		UserHash: in.UserHash, VisitorToken: in.VisitorToken,
		Origin: auth.Origin(ctx), IP: auth.ClientIP(ctx), SameOrigin: auth.SameOrigin(ctx),
	})
	if err != nil {
		return nil, err
	}
	return &model.VisitorSession{Token: s.Token, ExpiresAt: s.ExpiresAt, Conversation: s.Conversation,
		Visitor: s.Visitor, Resumed: s.Resumed}, nil
}

func (r *Resolver) conversationEvents(ctx context.Context, id uuid.UUID, after *uuid.UUID) (<-chan *model.ConversationEvent, error) {
	return chat.Events(r.Chat, ctx, id, after, conversationEvent)
}

// conversationEvent is the GraphQL form of a conversation update.
func conversationEvent(u *chat.Update) *model.ConversationEvent {
	e := &model.ConversationEvent{Kind: model.ConversationEventKind(u.Kind), Conversation: u.Conversation, Message: u.Message}
	if u.MessageID != uuid.Nil {
		e.MessageID = &u.MessageID
	}
	if u.Delta != "" {
		e.Delta = &u.Delta
	}
	if u.Typing != nil {
		t := &model.Typing{SenderType: message.SenderType(u.Typing.SenderType), Typing: u.Typing.Typing}
		if u.Typing.Name != "" {
			t.Name = &u.Typing.Name
		}
		e.Typing = t
	}
	return e
}

func (r *Resolver) inboxEvents(ctx context.Context) (<-chan *model.InboxEvent, error) {
	return chat.Inbox(r.Chat, ctx, func(u *chat.InboxUpdate) *model.InboxEvent {
		return &model.InboxEvent{Kind: model.InboxEventKind(u.Kind), Conversation: u.Conversation, Message: u.Message}
	})
}

// citationResource is the cited resource, for viewers the privacy rules let
// read it (the company's staff); null for others and for deleted ones.
func (r *Resolver) citationResource(ctx context.Context, c *schematype.Citation) (*ent.Resource, error) {
	return r.visibleResource(ctx, c.ResourceID)
}

// visibleResource is the resource id, when the viewer may read it (privacy);
// nil when it may not, or when the resource is gone.
func (r *Resolver) visibleResource(ctx context.Context, id uuid.UUID) (*ent.Resource, error) {
	res, err := r.Client.Resource.Get(ctx, id)
	if ent.IsNotFound(err) || errors.Is(err, privacy.Deny) {
		return nil, nil
	}
	return res, err
}

func (r *Resolver) analytics(ctx context.Context, companyID *uuid.UUID, from, to *time.Time) (*model.Analytics, error) {
	var f, t time.Time
	if from != nil {
		f = *from
	}
	if to != nil {
		t = *to
	}
	rep, err := analytics.Compute(ctx, r.Client, companyID, f, t)
	if err != nil {
		return nil, err
	}
	out := &model.Analytics{From: rep.From, To: rep.To, Conversations: rep.Conversations, Messages: rep.Messages,
		VisitorMessages: rep.VisitorMessages, BotResolvedRate: rep.BotResolvedRate, HandoffRate: rep.HandoffRate,
		MedianFirstResponseSeconds: rep.MedianFirstResponseSeconds, MedianBotFirstResponseSeconds: rep.MedianBotFirstResponseSeconds,
		MedianHumanFirstResponseSeconds: rep.MedianHumanFirstResponseSeconds, CsatAverage: rep.CSATAverage, Ratings: rep.Ratings,
		BusiestHours: []*model.HourCount{}, KnowledgeGaps: []*model.KnowledgeGap{}, ByDay: []*model.DayCount{}}
	for _, h := range rep.BusiestHours {
		out.BusiestHours = append(out.BusiestHours, &model.HourCount{Hour: h.Hour, Messages: h.Messages})
	}
	for _, g := range rep.KnowledgeGaps {
		out.KnowledgeGaps = append(out.KnowledgeGaps, &model.KnowledgeGap{Question: g.Question, Count: g.Count, LastAskedAt: g.LastAskedAt})
	}
	for _, d := range rep.ByDay {
		out.ByDay = append(out.ByDay, &model.DayCount{Day: d.Day, Conversations: d.Conversations, Messages: d.Messages})
	}
	return out, nil
}
