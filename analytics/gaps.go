package analytics

import (
	"context"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"

	"concierge/ent"
	"concierge/ent/message"
)

// MaxGapQuestions caps the declined questions knowledge gaps are computed
// from: those of the period's most recent declining bot replies.
const MaxGapQuestions = 2000

// MaxGaps is how many knowledge gaps a report lists.
const MaxGaps = 20

// gaps groups the questions the assistant declined (the visitor messages its
// DECLINED replies answer) by their normalised wording.
func (q *querier) gaps(ctx context.Context, r *Report) error {
	var replies []struct {
		ReplyToID *uuid.UUID `json:"reply_to_id"`
	}
	err := q.messages().
		Where(message.SenderTypeEQ(message.SenderTypeBOT), message.OutcomeEQ(message.OutcomeDECLINED),
			message.ReplyToIDNotNil()).
		Order(ent.Desc(message.FieldCreatedAt), ent.Desc(message.FieldID)).
		Limit(MaxGapQuestions).
		Select(message.FieldReplyToID).
		Scan(ctx, &replies)
	if err != nil {
		return err
	}
	seen := make(map[uuid.UUID]bool, len(replies))
	ids := make([]uuid.UUID, 0, len(replies))
	for _, rep := range replies {
		if id := *rep.ReplyToID; !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	groups := map[string]*Gap{}
	for start := 0; start < len(ids); start += idBatch {
		var questions []struct {
			Body      string    `json:"body"`
			CreatedAt time.Time `json:"created_at"`
		}
		err := q.scopedMessages().
			Where(message.IDIn(ids[start:min(start+idBatch, len(ids))]...),
				message.SenderTypeEQ(message.SenderTypeVISITOR)).
			Select(message.FieldBody, message.FieldCreatedAt).
			Scan(ctx, &questions)
		if err != nil {
			return err
		}
		for _, qu := range questions {
			text := strings.Join(strings.Fields(qu.Body), " ")
			key := NormalizeQuestion(text)
			if key == "" {
				continue
			}
			g := groups[key]
			if g == nil {
				g = &Gap{}
				groups[key] = g
			}
			g.Count++
			if g.Question == "" || qu.CreatedAt.After(g.LastAskedAt) {
				g.Question, g.LastAskedAt = text, qu.CreatedAt.UTC()
			}
		}
	}
	r.KnowledgeGaps = make([]Gap, 0, len(groups))
	for _, g := range groups {
		r.KnowledgeGaps = append(r.KnowledgeGaps, *g)
	}
	sort.Slice(r.KnowledgeGaps, func(i, j int) bool {
		a, b := r.KnowledgeGaps[i], r.KnowledgeGaps[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if !a.LastAskedAt.Equal(b.LastAskedAt) {
			return a.LastAskedAt.After(b.LastAskedAt)
		}
		return a.Question < b.Question
	})
	if len(r.KnowledgeGaps) > MaxGaps {
		r.KnowledgeGaps = r.KnowledgeGaps[:MaxGaps]
	}
	return nil
}

// stopwords are dropped when questions are grouped: they change the wording,
// not what is asked.
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the and or but if so of to in on at by for from with about as into
		i im me my mine we us our you your yours he she it its they them their this that these those there here
		is am are was were be been being do does did doing done have has had having
		can could would should will shall may might must
		how what whats when where which who whom why
		please pls hi hello hey thanks thank just any some get got`) {
		stopwords[w] = true
	}
}

// NormalizeQuestion returns the key under which paraphrases of a question
// group: lower case, punctuation removed, stopwords dropped, plurals stemmed,
// the remaining distinct words sorted. "How do I reset my password?" and
// "how to reset passwords" both give "password reset". A question made of
// stopwords only keys on its lower-cased words.
func NormalizeQuestion(s string) string {
	s = strings.ToLower(s)
	s = strings.NewReplacer("'", "", "’", "", "‘", "").Replace(s)
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) == 0 {
		return ""
	}
	set := map[string]bool{}
	for _, w := range words {
		if stopwords[w] {
			continue
		}
		if w = stem(w); !stopwords[w] {
			set[w] = true
		}
	}
	if len(set) == 0 {
		return strings.Join(words, " ")
	}
	keep := make([]string, 0, len(set))
	for w := range set {
		keep = append(keep, w)
	}
	sort.Strings(keep)
	return strings.Join(keep, " ")
}

// stem turns a plural into its singular, simply: "policies" → "policy",
// "boxes" → "box", "passwords" → "password"; "status", "address", "bus"
// stay.
func stem(w string) string {
	if len([]rune(w)) <= 3 {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies"):
		return strings.TrimSuffix(w, "ies") + "y"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "zes"),
		strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"):
		return strings.TrimSuffix(w, "es")
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"):
		return w
	case strings.HasSuffix(w, "s"):
		return strings.TrimSuffix(w, "s")
	}
	return w
}
