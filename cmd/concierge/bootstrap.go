package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"concierge/account"
	"concierge/auth"
	"concierge/ent"
	"concierge/ent/company"
	"concierge/ent/privacy"
	"concierge/ent/user"
	"concierge/fault"
	"concierge/viewer"
)

const credentialsFile = "demo-credentials.txt"

// bootstrap creates the first super admin from SUPERADMIN_USERNAME and
// SUPERADMIN_PASSWORD, and in development the demo platform on first
// start. It returns lines to print. Later starts print where the demo
// credentials are kept. Replicas starting together on one database take
// turns, so only the first creates them.
func (a *app) bootstrap(ctx context.Context) ([]string, error) {
	var lines []string
	err := a.DB.WithLock(ctx, "concierge-bootstrap", func() (err error) {
		lines, err = a.bootstrapLocked(ctx)
		return err
	})
	return lines, err
}

func (a *app) bootstrapLocked(ctx context.Context) ([]string, error) {
	var lines []string
	n, err := account.CountSuperAdmins(ctx, a.DB.Client)
	if err != nil {
		return nil, err
	}
	if n == 0 && a.cfg.SuperUser != "" {
		if a.cfg.SuperPass == "" {
			return nil, fmt.Errorf("SUPERADMIN_PASSWORD must be set with SUPERADMIN_USERNAME")
		}
		if _, err := account.CreateSuperAdmin(ctx, a.DB.Client, a.cfg.SuperUser, "", a.cfg.SuperPass, "Super Admin"); err != nil {
			return nil, fmt.Errorf("creating super admin: %w", err)
		}
		slog.Info("super admin created from the environment", slog.String("username", a.cfg.SuperUser))
		n = 1
	}
	if a.cfg.production() {
		if n == 0 {
			lines = append(lines, "  No super admin yet: create one with `concierge superadmin create` or SUPERADMIN_USERNAME/SUPERADMIN_PASSWORD.")
		}
		return lines, nil
	}
	companies, err := a.DB.Client.Company.Query().Count(privacy.DecisionContext(ctx, privacy.Allow))
	if err != nil {
		return nil, err
	}
	if companies > 0 || n > 0 {
		if _, err := os.Stat(filepath.Join(a.cfg.DataDir, credentialsFile)); err == nil {
			lines = append(lines, "  Demo credentials: "+filepath.Join(a.cfg.DataDir, credentialsFile))
		}
		return lines, nil
	}
	demo, err := a.createDemo(ctx, true)
	if err != nil {
		return nil, err
	}
	return append(lines, demo...), nil
}

// createDemo creates a demo company with a company admin and an agent and,
// if withSuper, a super admin; every password is random. The credentials
// are printed once and kept in the data directory (mode 0600).
func (a *app) createDemo(ctx context.Context, withSuper bool) ([]string, error) {
	adminPass, agentPass, superPass := auth.RandomToken(9), auth.RandomToken(9), auth.RandomToken(9)
	slug := "acme"
	if taken, err := a.DB.Client.Company.Query().Where(company.Slug(slug)).Exist(privacy.DecisionContext(ctx, privacy.Allow)); err != nil {
		return nil, err
	} else if taken {
		slug = "acme-" + strings.ToLower(auth.RandomHex(2))
	}
	adminEmail, agentEmail := "admin@"+slug+".example", "agent@"+slug+".example"
	website := "https://" + slug + ".example"
	sess, err := a.Accounts.Register(ctx, account.RegisterInput{
		Name: "Acme Support (demo)", Email: "support@" + slug + ".example", Slug: &slug, Website: &website,
		AdminFullName: "Ada Admin", AdminEmail: adminEmail, AdminPass: adminPass,
	})
	if err != nil {
		return nil, fmt.Errorf("creating demo company: %w", err)
	}
	adminCtx := viewer.NewContext(ctx, &viewer.Viewer{Kind: viewer.KindUser, ID: sess.User.ID, CompanyID: sess.User.CompanyID, Role: viewer.RoleCompanyAdmin})
	role := user.RoleAGENT
	name := "Sam Agent"
	if _, err := a.Accounts.CreateAgent(adminCtx, account.AgentInput{Email: &agentEmail, FullName: &name, Password: &agentPass, Role: &role}); err != nil {
		return nil, fmt.Errorf("creating demo agent: %w", err)
	}
	// Some knowledge, so the widget has something to answer from at once.
	if _, err := a.Ingest.AddText(adminCtx, "Acme help centre (demo)", demoKnowledge); err != nil {
		return nil, fmt.Errorf("adding demo knowledge: %w", err)
	}
	lines := []string{
		"",
		"  Demo company: " + sess.Company.Name + "  (widget key " + sess.Company.WidgetKey + ")",
		"    company admin: " + adminEmail + " / " + adminPass,
		"    agent:         " + agentEmail + " / " + agentPass,
	}
	if withSuper {
		if _, err := account.CreateSuperAdmin(ctx, a.DB.Client, "superadmin", "", superPass, "Demo Super Admin"); err != nil && !isConflict(err) {
			return nil, fmt.Errorf("creating demo super admin: %w", err)
		} else if err == nil {
			lines = append(lines, "  Super admin:     superadmin / "+superPass)
		}
	}
	lines = append(lines, "  Sign in on the dashboard with these (the super admin at /admin/login); they are also in "+filepath.Join(a.cfg.DataDir, credentialsFile))
	body := strings.Join(lines, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(a.cfg.DataDir, credentialsFile), []byte(body), 0o600); err != nil {
		slog.Warn("saving demo credentials", slog.Any("err", err))
	}
	return lines, nil
}

// isConflict reports a super admin that exists already (a demo created by
// an earlier `concierge demo`).
func isConflict(err error) bool {
	fe, ok := fault.As(err)
	return ent.IsConstraintError(err) || ok && fe.Code == fault.CodeConflict
}

func demoCmd(ctx context.Context, args []string) error {
	c, _, err := parseConfig("demo", args)
	if err != nil {
		return err
	}
	if c.production() {
		return fmt.Errorf("demo data is never created in production mode")
	}
	setupLogger(c)
	a, err := open(ctx, c)
	if err != nil {
		return err
	}
	defer a.Close()
	lines, err := a.createDemo(ctx, true)
	if err != nil {
		return err
	}
	fmt.Println(strings.Join(lines, "\n"))
	return nil
}

// demoKnowledge is the demo company's starting knowledge.
const demoKnowledge = `# Acme help centre

## Opening hours
Our support team answers Monday to Friday, 9:00 to 18:00 (Paris time). Outside these hours the assistant answers from this help centre and a person replies the next working day.

## Shipping and delivery
Orders leave our warehouse within two working days. Standard delivery in the European Union takes three to five working days and costs 4.90 euros; it is free for orders over 50 euros. Express delivery arrives the next working day when you order before 14:00.

## Returns and refunds
You can return any item within 30 days of delivery, unused and in its original packaging. Start a return from Orders > Return an item; we email you a prepaid label. Refunds take up to five working days to reach your card after we receive the parcel.

## Passwords and accounts
To reset your password, open Settings > Security and choose Reset password; we email you a link that stays valid for 24 hours. You can change your email address in Settings > Profile.

## Payments and invoices
We accept Visa, Mastercard, American Express and PayPal. Invoices are available under Orders > Invoices as PDF files.
`
