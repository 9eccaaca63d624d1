package realtime_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/fault"
	"concierge/realtime"
	"concierge/viewer"
)

// system is the system viewer of company, as publishers and tests use it.
func system(company uuid.UUID) *viewer.Viewer {
	return viewer.FromContext(viewer.SystemContext(context.Background(), company))
}

func must(t realtime.Topic, err error) realtime.Topic {
	if err != nil {
		panic(err)
	}
	return t
}

func inboxTopic(company uuid.UUID) realtime.Topic {
	return must(realtime.CompanyTopic(system(company), realtime.FeedInbox, uuid.Nil))
}

func resourcesTopic(company uuid.UUID) realtime.Topic {
	return must(realtime.CompanyTopic(system(company), realtime.FeedResources, uuid.Nil))
}

func convTopic(company, conv uuid.UUID) realtime.Topic {
	return must(realtime.ConversationTopic(system(company), uuid.Nil, conv))
}

func TestTopicKeys(t *testing.T) {
	t.Parallel()
	company := uuid.MustParse("11111111-1111-1111-1111-111111111111")
	conv := uuid.MustParse("22222222-2222-2222-2222-222222222222")
	require.Equal(t, "company/11111111-1111-1111-1111-111111111111/inbox", inboxTopic(company).String())
	require.Equal(t, "company/11111111-1111-1111-1111-111111111111/resources", resourcesTopic(company).String())
	require.Equal(t, "company/11111111-1111-1111-1111-111111111111/company",
		must(realtime.CompanyTopic(system(company), realtime.FeedCompany, uuid.Nil)).String())
	require.Equal(t,
		"company/11111111-1111-1111-1111-111111111111/conversation/22222222-2222-2222-2222-222222222222",
		convTopic(company, conv).String())
	require.NotEqual(t, convTopic(company, conv), convTopic(uuid.New(), conv))
	require.True(t, realtime.Topic{}.IsZero())
	require.False(t, inboxTopic(company).IsZero())
}

// code is the GraphQL code of err ("" when it is nil or not a fault).
func code(err error) string {
	var missing *viewer.MissingScopeError
	if errors.As(err, &missing) {
		return "FORBIDDEN:" + missing.Scope.Name() // as the API reports it, with the scope
	}
	if f, ok := fault.As(err); ok {
		return string(f.Code)
	}
	return ""
}

// TestTopicConstructors: every kind of viewer gets the topics of what it
// may follow, derived from itself, and a coded error for the rest.
func TestTopicConstructors(t *testing.T) {
	t.Parallel()
	company, other := uuid.New(), uuid.New()
	conv, otherConv := uuid.New(), uuid.New()
	feeds := []realtime.Feed{realtime.FeedCompany, realtime.FeedInbox, realtime.FeedResources}
	own := func(f realtime.Feed) realtime.Topic {
		return must(realtime.CompanyTopic(system(company), f, uuid.Nil))
	}
	ownConv := convTopic(company, conv)

	type want struct {
		feeds map[realtime.Feed]string // feed → "" (allowed) or the error code
		conv  string                   // the conversation's topic: "" or the code
	}
	allFeeds := map[realtime.Feed]string{realtime.FeedCompany: "", realtime.FeedInbox: "", realtime.FeedResources: ""}
	for _, tc := range []struct {
		name string
		v    *viewer.Viewer
		want want
	}{
		{"agent", &viewer.Viewer{Kind: viewer.KindUser, ID: uuid.New(), CompanyID: company, Role: viewer.RoleAgent}, want{allFeeds, ""}},
		{"company admin", &viewer.Viewer{Kind: viewer.KindUser, ID: uuid.New(), CompanyID: company, Role: viewer.RoleCompanyAdmin}, want{allFeeds, ""}},
		{"system", system(company), want{allFeeds, ""}},
		{"visitor", &viewer.Viewer{Kind: viewer.KindVisitor, ID: uuid.New(), CompanyID: company, ConversationID: conv},
			want{map[realtime.Feed]string{realtime.FeedCompany: "FORBIDDEN", realtime.FeedInbox: "FORBIDDEN", realtime.FeedResources: "FORBIDDEN"}, ""}},
		{"api key without scopes", &viewer.Viewer{Kind: viewer.KindAPIKey, ID: uuid.New(), CompanyID: company},
			want{map[realtime.Feed]string{realtime.FeedCompany: "FORBIDDEN", realtime.FeedInbox: "FORBIDDEN:CONVERSATIONS_READ", realtime.FeedResources: "FORBIDDEN:KNOWLEDGE_READ"}, "FORBIDDEN:CONVERSATIONS_READ"}},
		{"api key conversations:read", &viewer.Viewer{Kind: viewer.KindAPIKey, ID: uuid.New(), CompanyID: company, Scopes: []viewer.Scope{viewer.ScopeConversationsRead}},
			want{map[realtime.Feed]string{realtime.FeedCompany: "FORBIDDEN", realtime.FeedInbox: "", realtime.FeedResources: "FORBIDDEN:KNOWLEDGE_READ"}, ""}},
		{"api key knowledge:read", &viewer.Viewer{Kind: viewer.KindAPIKey, ID: uuid.New(), CompanyID: company, Scopes: []viewer.Scope{viewer.ScopeKnowledgeRead, viewer.ScopeKnowledgeWrite}},
			want{map[realtime.Feed]string{realtime.FeedCompany: "FORBIDDEN", realtime.FeedInbox: "FORBIDDEN:CONVERSATIONS_READ", realtime.FeedResources: ""}, "FORBIDDEN:CONVERSATIONS_READ"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, f := range feeds {
				got, err := realtime.CompanyTopic(tc.v, f, uuid.Nil)
				require.Equal(t, tc.want.feeds[f], code(err), "feed %d", f)
				if err == nil {
					require.Equal(t, own(f), got, "feed %d: the viewer's own company", f)
					// Naming its own company is the same; naming another is not found.
					again, err := realtime.CompanyTopic(tc.v, f, company)
					require.NoError(t, err)
					require.Equal(t, got, again)
					_, err = realtime.CompanyTopic(tc.v, f, other)
					require.Equal(t, "NOT_FOUND", code(err), "feed %d of another company", f)
				} else {
					require.True(t, got.IsZero())
				}
			}
			got, err := realtime.ConversationTopic(tc.v, uuid.Nil, conv)
			require.Equal(t, tc.want.conv, code(err))
			if err == nil {
				require.Equal(t, ownConv, got)
				_, err = realtime.ConversationTopic(tc.v, other, conv)
				require.Equal(t, "NOT_FOUND", code(err), "a conversation of another company")
			}
			if tc.v.Kind == viewer.KindVisitor {
				_, err = realtime.ConversationTopic(tc.v, uuid.Nil, otherConv)
				require.Equal(t, "NOT_FOUND", code(err), "a visitor follows only its own conversation")
			} else if err == nil {
				_, err = realtime.ConversationTopic(tc.v, uuid.Nil, otherConv)
				require.NoError(t, err, "any conversation of the company (ent says which exist)")
			}
		})
	}

	t.Run("super admin", func(t *testing.T) {
		sa := &viewer.Viewer{Kind: viewer.KindSuperAdmin, ID: uuid.New()}
		for _, f := range feeds {
			_, err := realtime.CompanyTopic(sa, f, uuid.Nil)
			require.Equal(t, "BAD_USER_INPUT", code(err), "a super admin names the company")
			got, err := realtime.CompanyTopic(sa, f, company)
			require.NoError(t, err)
			require.Equal(t, own(f), got)
			got, err = realtime.CompanyTopic(sa, f, other)
			require.NoError(t, err)
			require.Equal(t, must(realtime.CompanyTopic(system(other), f, uuid.Nil)), got)
		}
		_, err := realtime.ConversationTopic(sa, uuid.Nil, conv)
		require.Equal(t, "BAD_USER_INPUT", code(err))
		got, err := realtime.ConversationTopic(sa, company, conv)
		require.NoError(t, err)
		require.Equal(t, ownConv, got)
	})

	t.Run("nobody", func(t *testing.T) {
		for _, v := range []*viewer.Viewer{nil, {}} {
			for _, f := range feeds {
				_, err := realtime.CompanyTopic(v, f, company)
				require.Equal(t, "UNAUTHENTICATED", code(err))
			}
			_, err := realtime.ConversationTopic(v, company, conv)
			require.Equal(t, "UNAUTHENTICATED", code(err))
		}
	})

	t.Run("bad arguments", func(t *testing.T) {
		_, err := realtime.CompanyTopic(system(company), realtime.Feed(0), uuid.Nil)
		require.Equal(t, "BAD_USER_INPUT", code(err))
		_, err = realtime.ConversationTopic(system(company), uuid.Nil, uuid.Nil)
		require.Equal(t, "BAD_USER_INPUT", code(err))
	})
}
