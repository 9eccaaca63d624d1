package realtime

import (
	"github.com/google/uuid"

	"concierge/fault"
	"concierge/viewer"
)

// A Topic is the hub key of one stream of events. It can only be derived
// from a viewer (CompanyTopic, ConversationTopic): code outside this package
// never writes a key by hand, and a viewer never gets the topic of a stream
// it may not follow. Publishers act as the system viewer of the company
// they publish for. The topic only names the stream: every row an event
// refers to is still loaded through ent as the subscriber, whose privacy
// rules decide what it sees. The zero Topic names no stream; brokers refuse
// it.
type Topic struct{ key string }

// String returns the hub key, "company/<id>/<feed>" or
// "company/<id>/conversation/<id>".
func (t Topic) String() string { return t.key }

// IsZero reports whether t names no stream.
func (t Topic) IsZero() bool { return t.key == "" }

// A Feed is one of a company's streams.
type Feed uint8

const (
	// FeedCompany carries the company's own changes (profile, agents): its
	// staff follow it.
	FeedCompany Feed = iota + 1
	// FeedInbox carries the company's conversations created and changed and
	// their new messages: its staff, and API keys with conversations:read.
	FeedInbox
	// FeedResources carries status changes of the company's resources: its
	// staff, and API keys with knowledge:read.
	FeedResources
)

func (f Feed) name() string {
	switch f {
	case FeedCompany:
		return "company"
	case FeedInbox:
		return "inbox"
	case FeedResources:
		return "resources"
	}
	return ""
}

// scope is the API-key scope that lets a key follow the feed ("" : none does).
func (f Feed) scope() viewer.Scope {
	switch f {
	case FeedInbox:
		return viewer.ScopeConversationsRead
	case FeedResources:
		return viewer.ScopeKnowledgeRead
	}
	return ""
}

// CompanyTopic returns the topic of feed for the viewer's company. of names
// the company the caller asks for: uuid.Nil for the viewer's own; a super
// admin, who has none, must name one (it should have loaded it, or a row
// of it, through ent first), and any other viewer naming another company
// gets NOT_FOUND. Visitors follow no company feed; API keys need the feed's
// scope; the system viewer follows every feed of its company.
func CompanyTopic(v *viewer.Viewer, feed Feed, of uuid.UUID) (Topic, error) {
	if feed.name() == "" {
		return Topic{}, fault.Invalid("feed", "unknown feed")
	}
	cid, err := companyOf(v, of)
	if err != nil {
		return Topic{}, err
	}
	switch v.Kind {
	case viewer.KindVisitor:
		return Topic{}, fault.Forbidden("visitors follow only their conversation")
	case viewer.KindAPIKey:
		if feed.scope() == "" {
			return Topic{}, fault.Forbidden("only company users follow company events")
		}
		if !v.HasScope(feed.scope()) {
			return Topic{}, &viewer.MissingScopeError{Scope: feed.scope()}
		}
	}
	return companyTopic(cid, feed.name()), nil
}

// ConversationTopic returns the topic of one conversation of company of
// (uuid.Nil: the viewer's own; see CompanyTopic). A visitor follows only
// its own conversation, an API key needs conversations:read; staff, super
// admins and the system viewer follow any conversation of the company.
// Whether the conversation exists and is visible is ent's to say: load it
// as the viewer first.
func ConversationTopic(v *viewer.Viewer, of, conversationID uuid.UUID) (Topic, error) {
	if conversationID == uuid.Nil {
		return Topic{}, fault.Invalid("conversationId", "conversationId is required")
	}
	cid, err := companyOf(v, of)
	if err != nil {
		return Topic{}, err
	}
	switch v.Kind {
	case viewer.KindVisitor:
		if v.ConversationID != conversationID {
			return Topic{}, fault.NotFound("conversation")
		}
	case viewer.KindAPIKey:
		if !v.HasScope(viewer.ScopeConversationsRead) {
			return Topic{}, &viewer.MissingScopeError{Scope: viewer.ScopeConversationsRead}
		}
	}
	return companyTopic(cid, "conversation/"+conversationID.String()), nil
}

// companyOf is the company whose stream v asks for, naming of.
func companyOf(v *viewer.Viewer, of uuid.UUID) (uuid.UUID, error) {
	if v == nil || v.Kind == viewer.KindNone {
		return uuid.Nil, fault.Unauthenticated("log in first")
	}
	if v.SuperAdmin() {
		if of == uuid.Nil {
			return uuid.Nil, fault.Invalid("companyId", "a super admin names the company (or its row) to follow")
		}
		return of, nil
	}
	cid, ok := v.Tenant()
	if !ok {
		return uuid.Nil, fault.Unauthenticated("log in first")
	}
	if of != uuid.Nil && of != cid {
		return uuid.Nil, fault.NotFound("company")
	}
	return cid, nil
}

func companyTopic(companyID uuid.UUID, name string) Topic {
	return Topic{key: "company/" + companyID.String() + "/" + name}
}

// topicKey is a topic received from another replica; only the brokers use it.
func topicKey(key string) Topic { return Topic{key: key} }
