package analytics

import (
	"context"
	"sort"
	"time"

	"github.com/google/uuid"

	"concierge/ent"
	"concierge/ent/conversation"
	"concierge/ent/message"
)

// MaxMedianConversations caps the conversations whose first responses the
// medians sample: the most recently created of the period.
const MaxMedianConversations = 10000

// idBatch is how many ids one IN (...) query carries.
const idBatch = 500

// firstResponses follows one conversation's messages in order.
type firstResponses struct {
	humanAt *time.Time // human_requested_at

	visitorSeq int // seq of the first visitor message, 0 before it
	visitorAt  time.Time

	first, bot, human *float64 // seconds, once found
}

func (f *firstResponses) see(sender message.SenderType, outcome *message.Outcome, seq int, at time.Time) {
	since := func(t time.Time) *float64 {
		s := max(at.Sub(t).Seconds(), 0)
		return &s
	}
	if sender == message.SenderTypeAGENT && f.humanAt != nil && f.human == nil && !at.Before(*f.humanAt) {
		f.human = since(*f.humanAt)
	}
	if f.visitorSeq == 0 {
		if sender == message.SenderTypeVISITOR {
			f.visitorSeq, f.visitorAt = seq, at
		}
		return
	}
	if seq <= f.visitorSeq {
		return
	}
	if f.first == nil && (sender == message.SenderTypeBOT || sender == message.SenderTypeAGENT) {
		f.first = since(f.visitorAt)
	}
	if f.bot == nil && sender == message.SenderTypeBOT && outcome != nil &&
		(*outcome == message.OutcomeANSWERED || *outcome == message.OutcomeDECLINED) {
		f.bot = since(f.visitorAt)
	}
}

// medians computes the first-response medians of the period's
// MaxMedianConversations most recent conversations. It loads, per
// conversation, the sender, outcome, seq and time of its visitor, bot and
// agent messages (no bodies), a batch of conversations at a time.
func (q *querier) medians(ctx context.Context, r *Report) error {
	var convs []struct {
		ID               uuid.UUID  `json:"id"`
		HumanRequestedAt *time.Time `json:"human_requested_at"`
	}
	err := q.conversations().
		Order(ent.Desc(conversation.FieldCreatedAt), ent.Desc(conversation.FieldID)).
		Limit(MaxMedianConversations).
		Select(conversation.FieldID, conversation.FieldHumanRequestedAt).
		Scan(ctx, &convs)
	if err != nil {
		return err
	}
	var first, bot, human []float64
	for start := 0; start < len(convs); start += idBatch {
		batch := convs[start:min(start+idBatch, len(convs))]
		state := make(map[uuid.UUID]*firstResponses, len(batch))
		ids := make([]uuid.UUID, len(batch))
		for i, c := range batch {
			ids[i] = c.ID
			state[c.ID] = &firstResponses{humanAt: c.HumanRequestedAt}
		}
		var msgs []struct {
			ConversationID uuid.UUID          `json:"conversation_id"`
			SenderType     message.SenderType `json:"sender_type"`
			Outcome        *message.Outcome   `json:"outcome"`
			Seq            int                `json:"seq"`
			CreatedAt      time.Time          `json:"created_at"`
		}
		err := q.scopedMessages().
			Where(message.ConversationIDIn(ids...),
				message.SenderTypeIn(message.SenderTypeVISITOR, message.SenderTypeBOT, message.SenderTypeAGENT)).
			Order(ent.Asc(message.FieldConversationID), ent.Asc(message.FieldSeq)).
			Select(message.FieldConversationID, message.FieldSenderType, message.FieldOutcome,
				message.FieldSeq, message.FieldCreatedAt).
			Scan(ctx, &msgs)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if f := state[m.ConversationID]; f != nil {
				f.see(m.SenderType, m.Outcome, m.Seq, m.CreatedAt)
			}
		}
		for _, f := range state {
			if f.first != nil {
				first = append(first, *f.first)
			}
			if f.bot != nil {
				bot = append(bot, *f.bot)
			}
			if f.human != nil {
				human = append(human, *f.human)
			}
		}
	}
	r.MedianFirstResponseSeconds = median(first)
	r.MedianBotFirstResponseSeconds = median(bot)
	r.MedianHumanFirstResponseSeconds = median(human)
	return nil
}

// median returns the median of xs (the mean of the middle two for an even
// count), or nil for none. It sorts xs.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	sort.Float64s(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + m) / 2
	}
	return &m
}
