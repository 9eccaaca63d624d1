package rule_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/db"
	"concierge/dbtest"
	"concierge/ent"
	"concierge/ent/apikey"
	"concierge/ent/company"
	"concierge/ent/message"
	"concierge/ent/privacy"
	"concierge/ent/user"
	"concierge/viewer"
)

// These tests document the privacy rules of ent/schema/policy.go: what each
// kind of viewer may read and write, on every dialect.

// tenant is one seeded company with a row of every tenant-owned entity.
type tenant struct {
	company                   *ent.Company
	admin, agent              *ent.User
	visitor, visitor2         *ent.Visitor
	conv, conv2               *ent.Conversation
	msg, msg2                 *ent.Message
	resource                  *ent.Resource
	chunk                     *ent.Chunk
	key                       *ent.APIKey
	userCount, visitorCount   int
	convCount, messageCount   int
	resourceCount, chunkCount int
}

// bypass passes every privacy rule: the explicit, greppable escape hatch.
func bypass() context.Context {
	return privacy.DecisionContext(context.Background(), privacy.Allow)
}

func seed(t *testing.T, c *ent.Client, slug string) *tenant {
	t.Helper()
	ctx := bypass()
	tn := &tenant{}
	var err error
	tn.company, err = c.Company.Create().SetName("Company " + slug).SetSlug(slug).
		SetEmail("hello@" + slug + ".test").SetWidgetKey("wk_" + slug).SetIdentitySecret("secret-" + slug).Save(ctx)
	require.NoError(t, err)
	cid := tn.company.ID
	newUser := func(name string, role user.Role) *ent.User {
		u, err := c.User.Create().SetCompanyID(cid).SetEmail(name + "@" + slug + ".test").
			SetHashedPassword("x").SetFullName(name).SetRole(role).Save(ctx)
		require.NoError(t, err)
		return u
	}
	tn.admin = newUser("admin", user.RoleCOMPANY_ADMIN)
	tn.agent = newUser("agent", user.RoleAGENT)
	tn.visitor, err = c.Visitor.Create().SetCompanyID(cid).SetName("Visitor 1").SetExternalID("v1").Save(ctx)
	require.NoError(t, err)
	tn.visitor2, err = c.Visitor.Create().SetCompanyID(cid).SetName("Visitor 2").SetExternalID("v2").Save(ctx)
	require.NoError(t, err)
	tn.conv, err = c.Conversation.Create().SetCompanyID(cid).SetVisitorID(tn.visitor.ID).Save(ctx)
	require.NoError(t, err)
	tn.conv2, err = c.Conversation.Create().SetCompanyID(cid).SetVisitorID(tn.visitor2.ID).Save(ctx)
	require.NoError(t, err)
	tn.msg, err = c.Message.Create().SetCompanyID(cid).SetConversationID(tn.conv.ID).SetSeq(nextSeq()).
		SetSenderType("VISITOR").SetBody("hello from " + slug).Save(ctx)
	require.NoError(t, err)
	tn.msg2, err = c.Message.Create().SetCompanyID(cid).SetConversationID(tn.conv2.ID).SetSeq(nextSeq()).
		SetSenderType("VISITOR").SetBody("other conversation of " + slug).Save(ctx)
	require.NoError(t, err)
	tn.resource, err = c.Resource.Create().SetCompanyID(cid).SetType("TEXT").SetTitle("FAQ " + slug).Save(ctx)
	require.NoError(t, err)
	tn.chunk, err = c.Chunk.Create().SetCompanyID(cid).SetResourceID(tn.resource.ID).
		SetOrdinal(0).SetText("knowledge of " + slug).Save(ctx)
	require.NoError(t, err)
	tn.key, err = c.APIKey.Create().SetCompanyID(cid).SetName("partner").SetPrefix("pfx" + slug).
		SetHash("hash-" + slug).SetScopes(viewer.AllScopes).Save(ctx)
	require.NoError(t, err)
	tn.userCount, tn.visitorCount, tn.convCount, tn.messageCount, tn.resourceCount, tn.chunkCount = 2, 2, 2, 2, 1, 1
	return tn
}

// world is two companies, A and B, and a super admin.
type world struct {
	c     *ent.Client
	a, b  *tenant
	super *ent.SuperAdmin
}

func setup(t *testing.T, d *db.DB) *world {
	t.Helper()
	w := &world{c: d.Client, a: seed(t, d.Client, "a"), b: seed(t, d.Client, "b")}
	var err error
	w.super, err = d.Client.SuperAdmin.Create().SetUsername("root").SetEmail("root@platform.test").
		SetHashedPassword("x").Save(bypass())
	require.NoError(t, err)
	_, err = d.Client.RefreshToken.Create().SetTokenHash("rt-hash").SetUserID(w.a.admin.ID).
		SetFamily(uuid.New()).SetExpiresAt(w.a.company.CreatedAt.AddDate(0, 0, 30)).Save(bypass())
	require.NoError(t, err)
	return w
}

// Viewers.

func as(v *viewer.Viewer) context.Context { return viewer.NewContext(context.Background(), v) }

func agentOf(tn *tenant) context.Context {
	return as(&viewer.Viewer{Kind: viewer.KindUser, ID: tn.agent.ID, CompanyID: tn.company.ID, Role: viewer.RoleAgent})
}

func adminOf(tn *tenant) context.Context {
	return as(&viewer.Viewer{Kind: viewer.KindUser, ID: tn.admin.ID, CompanyID: tn.company.ID, Role: viewer.RoleCompanyAdmin})
}

func keyOf(tn *tenant, scopes ...viewer.Scope) context.Context {
	return as(&viewer.Viewer{Kind: viewer.KindAPIKey, ID: tn.key.ID, CompanyID: tn.company.ID, Scopes: scopes})
}

func visitorOf(tn *tenant) context.Context {
	return as(&viewer.Viewer{Kind: viewer.KindVisitor, ID: tn.visitor.ID, CompanyID: tn.company.ID, ConversationID: tn.conv.ID})
}

func (w *world) superAdmin() context.Context {
	return as(&viewer.Viewer{Kind: viewer.KindSuperAdmin, ID: w.super.ID})
}

// entity reads one tenant-owned entity: count all visible rows, get one by id.
type entity struct {
	name  string
	count func(ctx context.Context, c *ent.Client) (int, error)
	get   func(ctx context.Context, c *ent.Client, id uuid.UUID) error
	id    func(tn *tenant) uuid.UUID
	want  func(tn *tenant) int
}

func getErr[T any](_ T, err error) error { return err }

var entities = []entity{
	{"User",
		func(ctx context.Context, c *ent.Client) (int, error) { return c.User.Query().Count(ctx) },
		func(ctx context.Context, c *ent.Client, id uuid.UUID) error { return getErr(c.User.Get(ctx, id)) },
		func(tn *tenant) uuid.UUID { return tn.admin.ID }, func(tn *tenant) int { return tn.userCount }},
	{"Visitor",
		func(ctx context.Context, c *ent.Client) (int, error) { return c.Visitor.Query().Count(ctx) },
		func(ctx context.Context, c *ent.Client, id uuid.UUID) error { return getErr(c.Visitor.Get(ctx, id)) },
		func(tn *tenant) uuid.UUID { return tn.visitor.ID }, func(tn *tenant) int { return tn.visitorCount }},
	{"Conversation",
		func(ctx context.Context, c *ent.Client) (int, error) { return c.Conversation.Query().Count(ctx) },
		func(ctx context.Context, c *ent.Client, id uuid.UUID) error {
			return getErr(c.Conversation.Get(ctx, id))
		},
		func(tn *tenant) uuid.UUID { return tn.conv.ID }, func(tn *tenant) int { return tn.convCount }},
	{"Message",
		func(ctx context.Context, c *ent.Client) (int, error) { return c.Message.Query().Count(ctx) },
		func(ctx context.Context, c *ent.Client, id uuid.UUID) error { return getErr(c.Message.Get(ctx, id)) },
		func(tn *tenant) uuid.UUID { return tn.msg.ID }, func(tn *tenant) int { return tn.messageCount }},
	{"Resource",
		func(ctx context.Context, c *ent.Client) (int, error) { return c.Resource.Query().Count(ctx) },
		func(ctx context.Context, c *ent.Client, id uuid.UUID) error { return getErr(c.Resource.Get(ctx, id)) },
		func(tn *tenant) uuid.UUID { return tn.resource.ID }, func(tn *tenant) int { return tn.resourceCount }},
	{"Chunk",
		func(ctx context.Context, c *ent.Client) (int, error) { return c.Chunk.Query().Count(ctx) },
		func(ctx context.Context, c *ent.Client, id uuid.UUID) error { return getErr(c.Chunk.Get(ctx, id)) },
		func(tn *tenant) uuid.UUID { return tn.chunk.ID }, func(tn *tenant) int { return tn.chunkCount }},
	{"APIKey",
		func(ctx context.Context, c *ent.Client) (int, error) { return c.APIKey.Query().Count(ctx) },
		func(ctx context.Context, c *ent.Client, id uuid.UUID) error { return getErr(c.APIKey.Get(ctx, id)) },
		func(tn *tenant) uuid.UUID { return tn.key.ID }, func(*tenant) int { return 1 }},
}

// allEntities adds the rows that belong to no company.
func allEntities(w *world) []entity {
	return append(entities,
		entity{name: "Company", count: func(ctx context.Context, c *ent.Client) (int, error) { return c.Company.Query().Count(ctx) }},
		entity{name: "SuperAdmin", count: func(ctx context.Context, c *ent.Client) (int, error) { return c.SuperAdmin.Query().Count(ctx) }},
		entity{name: "RefreshToken", count: func(ctx context.Context, c *ent.Client) (int, error) { return c.RefreshToken.Query().Count(ctx) }},
	)
}

func TestRuleNoViewerIsDenied(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		for _, ctx := range []context.Context{context.Background(), as(&viewer.Viewer{})} {
			for _, e := range allEntities(w) {
				_, err := e.count(ctx, w.c)
				require.ErrorIs(t, err, privacy.Deny, e.name)
			}
			_, err := w.c.Company.Create().SetName("X").SetSlug("x").SetEmail("x@x.test").
				SetWidgetKey("wk_x").SetIdentitySecret("s").Save(ctx)
			require.ErrorIs(t, err, privacy.Deny)
			_, err = w.c.Company.UpdateOneID(w.a.company.ID).SetName("Hacked").Save(ctx)
			require.ErrorIs(t, err, privacy.Deny)
		}
	})
}

func TestRuleAgentSeesOnlyItsCompany(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		for _, e := range entities {
			n, err := e.count(agentOf(w.a), w.c)
			if e.name == "APIKey" { // keys are for company admins
				require.ErrorIs(t, err, privacy.Deny)
				continue
			}
			require.NoError(t, err, e.name)
			require.Equal(t, e.want(w.a), n, e.name)
			require.NoError(t, e.get(agentOf(w.a), w.c, e.id(w.a)), e.name)
			require.True(t, ent.IsNotFound(e.get(agentOf(w.a), w.c, e.id(w.b))), "%s of company B must be not found", e.name)
		}
	})
}

func TestRuleAdminSeesOnlyItsCompany(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		for _, e := range entities {
			n, err := e.count(adminOf(w.a), w.c)
			require.NoError(t, err, e.name)
			require.Equal(t, e.want(w.a), n, e.name)
			require.True(t, ent.IsNotFound(e.get(adminOf(w.a), w.c, e.id(w.b))), "%s of company B must be not found", e.name)
		}
	})
}

func TestRuleAgentCannotManageUsersOrKeys(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		ctx := agentOf(w.a)
		_, err := w.c.User.Create().SetCompanyID(w.a.company.ID).SetEmail("new@a.test").
			SetHashedPassword("x").SetFullName("New").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.User.UpdateOneID(w.a.admin.ID).SetRole(user.RoleAGENT).Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.User.UpdateOneID(w.a.agent.ID).SetRole(user.RoleCOMPANY_ADMIN).Save(ctx) // not even itself
		require.ErrorIs(t, err, privacy.Deny)
		require.ErrorIs(t, w.c.User.DeleteOneID(w.a.admin.ID).Exec(ctx), privacy.Deny)

		_, err = w.c.APIKey.Create().SetCompanyID(w.a.company.ID).SetName("k").SetPrefix("pfxnew").
			SetHash("h").SetScopes([]viewer.Scope{viewer.ScopeAgentsRead}).Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.APIKey.UpdateOneID(w.a.key.ID).SetName("renamed").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		require.ErrorIs(t, w.c.APIKey.DeleteOneID(w.a.key.ID).Exec(ctx), privacy.Deny)
	})
}

func TestRuleAdminManagesOnlyItsCompany(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		ctx := adminOf(w.a)
		// In its own company: allowed.
		u, err := w.c.User.Create().SetCompanyID(w.a.company.ID).SetEmail("new@a.test").
			SetHashedPassword("x").SetFullName("New").Save(ctx)
		require.NoError(t, err)
		_, err = w.c.User.UpdateOneID(u.ID).SetFullName("Renamed").Save(ctx)
		require.NoError(t, err)
		require.NoError(t, w.c.User.DeleteOneID(u.ID).Exec(ctx))
		k, err := w.c.APIKey.Create().SetCompanyID(w.a.company.ID).SetName("k").SetPrefix("pfxnew").
			SetHash("h").SetScopes([]viewer.Scope{viewer.ScopeAgentsRead}).Save(ctx)
		require.NoError(t, err)
		require.NoError(t, w.c.APIKey.DeleteOneID(k.ID).Exec(ctx))

		// In company B: creates are denied, B's rows are not found.
		_, err = w.c.User.Create().SetCompanyID(w.b.company.ID).SetEmail("mole@b.test").
			SetHashedPassword("x").SetFullName("Mole").SetRole(user.RoleCOMPANY_ADMIN).Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.User.UpdateOneID(w.b.admin.ID).SetRole(user.RoleAGENT).Save(ctx)
		require.True(t, ent.IsNotFound(err), "got %v", err)
		n, err := w.c.User.Update().Where(user.ID(w.b.admin.ID)).SetIsActive(false).Save(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		n, err = w.c.User.Delete().Where(user.ID(w.b.agent.ID)).Exec(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		require.True(t, ent.IsNotFound(w.c.User.DeleteOneID(w.b.agent.ID).Exec(ctx)))

		_, err = w.c.APIKey.Create().SetCompanyID(w.b.company.ID).SetName("k").SetPrefix("pfxmole").
			SetHash("h").SetScopes(viewer.AllScopes).Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.APIKey.UpdateOneID(w.b.key.ID).SetRevokedAt(w.b.key.CreatedAt).Save(ctx)
		require.True(t, ent.IsNotFound(err), "got %v", err)
		n, err = w.c.APIKey.Delete().Where(apikey.ID(w.b.key.ID)).Exec(ctx)
		require.NoError(t, err)
		require.Zero(t, n)

		// Nothing of B changed.
		bUsers, err := w.c.User.Query().Where(user.CompanyID(w.b.company.ID)).All(bypass())
		require.NoError(t, err)
		require.Len(t, bUsers, 2)
		for _, u := range bUsers {
			require.True(t, u.IsActive)
		}
		bAdmin, err := w.c.User.Get(bypass(), w.b.admin.ID)
		require.NoError(t, err)
		require.Equal(t, user.RoleCOMPANY_ADMIN, bAdmin.Role)
		bKey, err := w.c.APIKey.Get(bypass(), w.b.key.ID)
		require.NoError(t, err)
		require.Nil(t, bKey.RevokedAt)
	})
}

func TestRuleTenantWritesOfEveryEntityStayInTheCompany(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		ctx := adminOf(w.a)
		_, err := w.c.Visitor.Create().SetCompanyID(w.b.company.ID).Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.Conversation.Create().SetCompanyID(w.b.company.ID).SetVisitorID(w.b.visitor.ID).Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.Message.Create().SetCompanyID(w.b.company.ID).SetConversationID(w.b.conv.ID).SetSeq(nextSeq()).
			SetSenderType("AGENT").SetBody("hi").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.Resource.Create().SetCompanyID(w.b.company.ID).SetType("TEXT").SetTitle("t").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.Chunk.Create().SetCompanyID(w.b.company.ID).SetResourceID(w.b.resource.ID).SetOrdinal(1).SetText("t").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.Resource.Create().SetType("TEXT").SetTitle("no company").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny, "a create without company_id is denied, not defaulted")

		_, err = w.c.Conversation.UpdateOneID(w.b.conv.ID).SetStatus("CLOSED").Save(ctx)
		require.True(t, ent.IsNotFound(err), "got %v", err)
		_, err = w.c.Resource.UpdateOneID(w.b.resource.ID).SetTitle("hacked").Save(ctx)
		require.True(t, ent.IsNotFound(err), "got %v", err)
		n, err := w.c.Message.Delete().Exec(ctx) // every message it can see: A's only
		require.NoError(t, err)
		require.Equal(t, w.a.messageCount, n)
		left, err := w.c.Message.Query().Count(bypass())
		require.NoError(t, err)
		require.Equal(t, w.b.messageCount, left)
	})
}

func TestRuleSuperAdminSeesEverything(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		for _, e := range entities {
			n, err := e.count(w.superAdmin(), w.c)
			require.NoError(t, err, e.name)
			require.Equal(t, e.want(w.a)+e.want(w.b), n, e.name)
			require.NoError(t, e.get(w.superAdmin(), w.c, e.id(w.b)), e.name)
		}
		n, err := w.c.Company.Query().Count(w.superAdmin())
		require.NoError(t, err)
		require.Equal(t, 2, n)
		_, err = w.c.Company.UpdateOneID(w.b.company.ID).SetSubscriptionPlan(company.SubscriptionPlanPREMIUM).Save(w.superAdmin())
		require.NoError(t, err)
	})
}

func TestRuleSystemViewerActsForOneCompany(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		ctx := viewer.SystemContext(context.Background(), w.a.company.ID)
		for _, e := range entities {
			n, err := e.count(ctx, w.c)
			require.NoError(t, err, e.name)
			require.Equal(t, e.want(w.a), n, e.name)
			require.True(t, ent.IsNotFound(e.get(ctx, w.c, e.id(w.b))), e.name)
		}
		_, err := w.c.Resource.Create().SetCompanyID(w.a.company.ID).SetType("TEXT").SetTitle("worker").Save(ctx)
		require.NoError(t, err)
		_, err = w.c.Resource.UpdateOneID(w.a.resource.ID).SetStatus("COMPLETED").Save(ctx)
		require.NoError(t, err)
		_, err = w.c.Company.UpdateOneID(w.a.company.ID).SetGreeting("Hello").Save(ctx)
		require.NoError(t, err)

		_, err = w.c.Resource.Create().SetCompanyID(w.b.company.ID).SetType("TEXT").SetTitle("worker").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.Resource.UpdateOneID(w.b.resource.ID).SetStatus("FAILED").Save(ctx)
		require.True(t, ent.IsNotFound(err), "got %v", err)
		_, err = w.c.Company.UpdateOneID(w.b.company.ID).SetGreeting("Hacked").Save(ctx)
		require.True(t, ent.IsNotFound(err), "got %v", err)
	})
}

func TestRuleAPIKeyReadsByScope(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		ctx := keyOf(w.a, viewer.ScopeConversationsRead)
		n, err := w.c.Conversation.Query().Count(ctx)
		require.NoError(t, err)
		require.Equal(t, w.a.convCount, n)
		n, err = w.c.Message.Query().Count(ctx)
		require.NoError(t, err)
		require.Equal(t, w.a.messageCount, n)
		require.True(t, ent.IsNotFound(getErr(w.c.Conversation.Get(ctx, w.b.conv.ID))))

		for _, e := range entities {
			want, ok := map[string]viewer.Scope{"Resource": viewer.ScopeKnowledgeRead, "Chunk": viewer.ScopeKnowledgeRead, "User": viewer.ScopeAgentsRead}[e.name]
			if !ok {
				continue
			}
			// Denied, and told which scope it lacks.
			_, err := e.count(ctx, w.c)
			require.ErrorIs(t, err, privacy.Deny, e.name)
			var mse *viewer.MissingScopeError
			require.ErrorAs(t, err, &mse, e.name)
			require.Equal(t, want, mse.Scope, e.name)
		}
		// A key reads its own row (me { apiKey }) and no other key.
		keys, err := w.c.APIKey.Query().IDs(ctx)
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{w.a.key.ID}, keys)
		_, err = w.c.Message.Create().SetCompanyID(w.a.company.ID).SetConversationID(w.a.conv.ID).SetSeq(nextSeq()).
			SetSenderType("BOT").SetBody("hi").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny, "reading is not writing")
		var mse *viewer.MissingScopeError
		require.ErrorAs(t, err, &mse)
		require.Equal(t, viewer.ScopeConversationsWrite, mse.Scope)

		// conversations:write does write, in its own company only.
		ctx = keyOf(w.a, viewer.ScopeConversationsWrite)
		_, err = w.c.Message.Create().SetCompanyID(w.a.company.ID).SetConversationID(w.a.conv.ID).SetSeq(nextSeq()).
			SetSenderType("BOT").SetBody("hi").Save(ctx)
		require.NoError(t, err)
		_, err = w.c.Message.Create().SetCompanyID(w.b.company.ID).SetConversationID(w.b.conv.ID).SetSeq(nextSeq()).
			SetSenderType("BOT").SetBody("hi").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
	})
}

func TestRuleVisitorUsesOnlyItsConversation(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		ctx := visitorOf(w.a)

		convs, err := w.c.Conversation.Query().IDs(ctx)
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{w.a.conv.ID}, convs)
		msgs, err := w.c.Message.Query().IDs(ctx)
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{w.a.msg.ID}, msgs)
		require.True(t, ent.IsNotFound(getErr(w.c.Conversation.Get(ctx, w.a.conv2.ID))))
		require.True(t, ent.IsNotFound(getErr(w.c.Message.Get(ctx, w.a.msg2.ID))))
		require.True(t, ent.IsNotFound(getErr(w.c.Conversation.Get(ctx, w.b.conv.ID))))

		visitors, err := w.c.Visitor.Query().IDs(ctx)
		require.NoError(t, err)
		require.Equal(t, []uuid.UUID{w.a.visitor.ID}, visitors, "only its own visitor row")
		require.True(t, ent.IsNotFound(getErr(w.c.Visitor.Get(ctx, w.a.visitor2.ID))))
		for _, e := range entities {
			switch e.name {
			case "User", "Resource", "Chunk", "APIKey":
				_, err := e.count(ctx, w.c)
				require.ErrorIs(t, err, privacy.Deny, e.name)
			}
		}

		newMsg := func(conv uuid.UUID, sender message.SenderType) error {
			_, err := w.c.Message.Create().SetCompanyID(w.a.company.ID).SetConversationID(conv).SetSeq(nextSeq()).
				SetSenderType(sender).SetBody("question").Save(ctx)
			return err
		}
		require.NoError(t, newMsg(w.a.conv.ID, "VISITOR"))
		require.ErrorIs(t, newMsg(w.a.conv2.ID, "VISITOR"), privacy.Deny, "another visitor's conversation")
		require.ErrorIs(t, newMsg(w.a.conv.ID, "BOT"), privacy.Deny, "visitors do not speak for the bot")
		require.ErrorIs(t, newMsg(w.a.conv.ID, "AGENT"), privacy.Deny)
		_, err = w.c.Message.UpdateOneID(w.a.msg.ID).SetBody("edited").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)

		_, err = w.c.Conversation.Create().SetCompanyID(w.a.company.ID).SetVisitorID(w.a.visitor.ID).Save(ctx)
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.Conversation.UpdateOneID(w.a.conv2.ID).SetStatus("CLOSED").Save(ctx)
		require.True(t, ent.IsNotFound(err), "got %v", err)
	})
}

func TestRuleSuperAdminRowsAreForSuperAdmins(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		others := map[string]context.Context{
			"agent": agentOf(w.a), "admin": adminOf(w.a), "key": keyOf(w.a, viewer.AllScopes...),
			"visitor": visitorOf(w.a), "system": viewer.SystemContext(context.Background(), w.a.company.ID),
		}
		for name, ctx := range others {
			_, err := w.c.SuperAdmin.Query().Count(ctx)
			require.ErrorIs(t, err, privacy.Deny, name)
			_, err = w.c.SuperAdmin.Create().SetUsername("evil-" + name).SetEmail(name + "@evil.test").SetHashedPassword("x").Save(ctx)
			require.ErrorIs(t, err, privacy.Deny, name)
		}
		n, err := w.c.SuperAdmin.Query().Count(w.superAdmin())
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
}

func TestRuleRefreshTokensOnlyThroughTheBypass(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		viewers := map[string]context.Context{
			"agent": agentOf(w.a), "admin": adminOf(w.a), "key": keyOf(w.a, viewer.AllScopes...),
			"visitor": visitorOf(w.a), "system": viewer.SystemContext(context.Background(), w.a.company.ID),
			"super admin": w.superAdmin(),
		}
		for name, ctx := range viewers {
			_, err := w.c.RefreshToken.Query().Count(ctx)
			require.ErrorIs(t, err, privacy.Deny, name)
			if name != "super admin" { // who deletes a company deletes its tokens
				_, err = w.c.RefreshToken.Update().SetRevokedAt(w.a.company.CreatedAt).Save(ctx)
				require.ErrorIs(t, err, privacy.Deny, name)
			}
		}
		n, err := w.c.RefreshToken.Query().Count(bypass())
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
}

func TestRuleCompanyRows(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		for name, ctx := range map[string]context.Context{
			"agent": agentOf(w.a), "admin": adminOf(w.a), "key": keyOf(w.a), "visitor": visitorOf(w.a),
		} {
			ids, err := w.c.Company.Query().IDs(ctx)
			require.NoError(t, err, name)
			require.Equal(t, []uuid.UUID{w.a.company.ID}, ids, name)
			require.True(t, ent.IsNotFound(getErr(w.c.Company.Get(ctx, w.b.company.ID))), name)
		}

		_, err := w.c.Company.UpdateOneID(w.a.company.ID).SetGreeting("Welcome").Save(adminOf(w.a))
		require.NoError(t, err, "a company admin updates its company")
		_, err = w.c.Company.UpdateOneID(w.a.company.ID).SetGreeting("Agent was here").Save(agentOf(w.a))
		require.ErrorIs(t, err, privacy.Deny, "an agent does not")
		_, err = w.c.Company.UpdateOneID(w.a.company.ID).SetGreeting("Visitor was here").Save(visitorOf(w.a))
		require.ErrorIs(t, err, privacy.Deny)
		_, err = w.c.Company.UpdateOneID(w.b.company.ID).SetIsActive(false).Save(adminOf(w.a))
		require.True(t, ent.IsNotFound(err), "another company is not found, got %v", err)
		n, err := w.c.Company.Update().SetIsActive(false).Save(adminOf(w.a))
		require.NoError(t, err)
		require.Equal(t, 1, n, "a bulk update touches its own company only")
		b, err := w.c.Company.Get(bypass(), w.b.company.ID)
		require.NoError(t, err)
		require.True(t, b.IsActive)
		require.Equal(t, "Company b", b.Name)

		create := func(ctx context.Context, slug string) error {
			_, err := w.c.Company.Create().SetName(slug).SetSlug(slug).SetEmail("x@" + slug + ".test").
				SetWidgetKey("wk_" + slug).SetIdentitySecret("s").Save(ctx)
			return err
		}
		for name, ctx := range map[string]context.Context{
			"admin": adminOf(w.a), "system": viewer.SystemContext(context.Background(), w.a.company.ID),
		} {
			require.ErrorIs(t, create(ctx, "new-"+name), privacy.Deny, name)
			require.ErrorIs(t, w.c.Company.DeleteOneID(w.a.company.ID).Exec(ctx), privacy.Deny, name)
		}
		require.NoError(t, create(w.superAdmin(), "by-super"))
		c, err := w.c.Company.Query().Where(company.Slug("by-super")).Only(w.superAdmin())
		require.NoError(t, err)
		require.NoError(t, w.c.Company.DeleteOneID(c.ID).Exec(w.superAdmin()))
	})
}

// A writer of company A cannot link its rows to company B's: the
// company_id filter alone would allow it, DenyForeignReferences does not.
func TestRuleForeignReferences(t *testing.T) {
	t.Parallel()
	dbtest.Run(t, func(t *testing.T, d *db.DB) {
		w := setup(t, d)
		for name, ctx := range map[string]context.Context{
			"admin": adminOf(w.a), "agent": agentOf(w.a), "system": viewer.SystemContext(context.Background(), w.a.company.ID),
		} {
			_, err := w.c.Conversation.Create().SetCompanyID(w.a.company.ID).SetVisitorID(w.b.visitor.ID).Save(ctx)
			require.ErrorIs(t, err, privacy.Deny, name+": conversation with B's visitor")
			_, err = w.c.Conversation.UpdateOneID(w.a.conv.ID).SetAssigneeID(w.b.agent.ID).Save(ctx)
			require.ErrorIs(t, err, privacy.Deny, name+": assigning B's agent")
			_, err = w.c.Message.Create().SetCompanyID(w.a.company.ID).SetConversationID(w.b.conv.ID).SetSeq(nextSeq()).
				SetSenderType("AGENT").SetBody("hi").Save(ctx)
			require.ErrorIs(t, err, privacy.Deny, name+": message into B's conversation")
			_, err = w.c.Chunk.Create().SetCompanyID(w.a.company.ID).SetResourceID(w.b.resource.ID).
				SetOrdinal(9).SetText("x").Save(ctx)
			require.ErrorIs(t, err, privacy.Deny, name+": chunk of B's resource")
		}
		// The same writes inside company A pass.
		ctx := agentOf(w.a)
		_, err := w.c.Conversation.UpdateOneID(w.a.conv.ID).SetAssigneeID(w.a.agent.ID).Save(ctx)
		require.NoError(t, err)
		_, err = w.c.Message.Create().SetCompanyID(w.a.company.ID).SetConversationID(w.a.conv.ID).SetSeq(nextSeq()).
			SetSenderType("AGENT").SetSenderID(w.a.agent.ID).SetBody("hi").Save(ctx)
		require.NoError(t, err)
		// A super admin cannot link across companies either.
		_, err = w.c.Message.Create().SetCompanyID(w.a.company.ID).SetConversationID(w.b.conv.ID).SetSeq(nextSeq()).
			SetSenderType("SYSTEM").SetBody("hi").Save(w.superAdmin())
		require.ErrorIs(t, err, privacy.Deny)

		// Owners read once are remembered: B's own writes pass, and A's
		// links to the same rows are still refused afterwards.
		_, err = w.c.Message.Create().SetCompanyID(w.b.company.ID).SetConversationID(w.b.conv.ID).SetSeq(nextSeq()).
			SetSenderType("AGENT").SetSenderID(w.b.agent.ID).SetBody("hi").Save(agentOf(w.b))
		require.NoError(t, err)
		_, err = w.c.Message.Create().SetCompanyID(w.a.company.ID).SetConversationID(w.b.conv.ID).SetSeq(nextSeq()).
			SetSenderType("AGENT").SetBody("hi").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny, "message into B's conversation, its owner known")
		_, err = w.c.Message.Create().SetCompanyID(w.a.company.ID).SetConversationID(w.a.conv.ID).SetSeq(nextSeq()).
			SetSenderType("AGENT").SetSenderID(w.b.agent.ID).SetBody("hi").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny, "B's agent as sender, its owner known")
		_, err = w.c.Message.Create().SetCompanyID(w.a.company.ID).SetConversationID(uuid.New()).SetSeq(nextSeq()).
			SetSenderType("AGENT").SetBody("hi").Save(ctx)
		require.ErrorIs(t, err, privacy.Deny, "a conversation that does not exist")
	})
}

var seqCounter atomic.Int64

// nextSeq numbers messages written directly (never twice in the process).
func nextSeq() int { return int(seqCounter.Add(1)) }
