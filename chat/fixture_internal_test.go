package chat

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"concierge/auth"
	"concierge/db"
	"concierge/ent"
	"concierge/realtime"
)

// fixture is a company with one visitor's conversation and a Service on an
// in-memory broker, for the package's internal tests; t's cleanup closes
// them.
type fixture struct {
	co     *ent.Company
	vis    *ent.Visitor
	conv   *ent.Conversation
	broker *realtime.Memory
	s      *Service
}

func newFixture(t *testing.T, sys context.Context, d *db.DB) fixture {
	t.Helper()
	co := d.Client.Company.Create().SetName("Acme").SetSlug("acme-" + uuid.NewString()[:8]).
		SetEmail("acme@example.com").SetWidgetKey("wk_" + uuid.NewString()).
		SetIdentitySecret("s_" + uuid.NewString()).SaveX(sys)
	vis := d.Client.Visitor.Create().SetCompanyID(co.ID).SaveX(sys)
	conv := d.Client.Conversation.Create().SetCompanyID(co.ID).SetVisitorID(vis.ID).SaveX(sys)
	broker := realtime.NewMemory()
	t.Cleanup(func() { broker.Close() })
	signer, err := auth.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Client: d.Client, Auth: auth.NewService(d.Client, signer), Broker: broker})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return fixture{co: co, vis: vis, conv: conv, broker: broker, s: s}
}
