// Package account manages companies, their agents and API keys, and super
// admins. Every call runs with the caller's viewer: ent's privacy rules
// decide what it may see and change; this package validates input and
// keeps multi-step changes atomic.
package account

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"

	"concierge/audit"
	"concierge/auth"
	"concierge/db"
	"concierge/ent"
	"concierge/ent/apikey"
	"concierge/ent/chunk"
	"concierge/ent/company"
	"concierge/ent/conversation"
	"concierge/ent/message"
	"concierge/ent/privacy"
	"concierge/ent/refreshtoken"
	"concierge/ent/resource"
	"concierge/ent/schema/schematype"
	"concierge/ent/superadmin"
	"concierge/ent/user"
	"concierge/ent/visitor"
	"concierge/fault"
	"concierge/filestore"
	"concierge/realtime"
	"concierge/viewer"
)

// Service manages accounts.
type Service struct {
	client *ent.Client
	auth   *auth.Service
	files  *filestore.Store
	broker realtime.Broker
	// db and cleanup (UseCleanup) remove what a deleted company leaves
	// outside the database.
	db      *db.DB
	cleanup CompanyCleanup
}

// CompanyCleanup removes what a deleted company leaves outside the
// database, its knowledge index and files (ingest.Service): a job inserted
// on the transaction that deletes its rows, retried until done, and an
// attempt at once after the commit.
type CompanyCleanup interface {
	EnqueueCompanyCleanup(ctx context.Context, tx *sql.Tx, companyID uuid.UUID) error
	CleanUpCompany(sys context.Context, companyID uuid.UUID)
}

// UseCleanup makes DeleteCompany remove the company's index and files with
// c, durably: the deletion and c's job commit together on d.
func (s *Service) UseCleanup(d *db.DB, c CompanyCleanup) { s.db, s.cleanup = d, c }

// NewService returns an account Service.
func NewService(client *ent.Client, a *auth.Service, files *filestore.Store, broker realtime.Broker) *Service {
	return &Service{client: client, auth: a, files: files, broker: broker}
}

// Upload is an uploaded file.
type Upload struct {
	File     io.Reader
	Filename string
	Size     int64
}

// RegisterInput is what registerCompany takes.
type RegisterInput struct {
	Name, Email                          string
	Slug, Phone, Website                 *string
	Plan                                 *company.SubscriptionPlan
	Logo                                 *Upload
	AdminFullName, AdminEmail, AdminPass string
}

// Register creates a company and its first company admin and logs the
// admin in. Anyone may call it.
func (s *Service) Register(ctx context.Context, in RegisterInput) (*auth.Session, error) {
	name, err := cleanName("name", in.Name, 200)
	if err != nil {
		return nil, err
	}
	email, err := cleanEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	adminName, err := cleanName("adminFullName", in.AdminFullName, 200)
	if err != nil {
		return nil, err
	}
	adminEmail, err := cleanEmail("adminEmail", in.AdminEmail)
	if err != nil {
		return nil, err
	}
	if err := auth.CheckPasswordPolicy(in.AdminPass); err != nil {
		return nil, fault.Invalid("adminPassword", "%v", err)
	}
	phone, err := cleanPhone(deref(in.Phone))
	if err != nil {
		return nil, err
	}
	website, err := cleanURL("website", deref(in.Website))
	if err != nil {
		return nil, err
	}
	plan := company.SubscriptionPlanFREE
	if in.Plan != nil {
		if err := company.SubscriptionPlanValidator(*in.Plan); err != nil {
			return nil, fault.Invalid("subscriptionPlan", "unknown subscription plan %q", *in.Plan)
		}
		plan = *in.Plan
	}
	// Registration happens before anyone is logged in: an explicit bypass.
	sys := privacy.DecisionContext(ctx, privacy.Allow)
	var slug string
	if in.Slug != nil && strings.TrimSpace(*in.Slug) != "" {
		if slug, err = cleanSlug(*in.Slug); err != nil {
			return nil, err
		}
		if taken, err := s.client.Company.Query().Where(company.Slug(slug)).Exist(sys); err != nil {
			return nil, err
		} else if taken {
			return nil, fault.Conflict("slug", "this slug is taken")
		}
	} else if slug, err = s.freeSlug(sys, Slugify(name)); err != nil {
		return nil, err
	}
	if taken, err := s.client.User.Query().Where(user.Email(adminEmail)).Exist(sys); err != nil {
		return nil, err
	} else if taken {
		return nil, fault.Conflict("adminEmail", "an account with this email already exists")
	}
	hash, err := auth.HashPassword(in.AdminPass)
	if err != nil {
		return nil, err
	}
	companyID := uuid.New()
	var logoURL string
	if in.Logo != nil {
		if logoURL, err = s.putLogo(companyID, in.Logo); err != nil {
			return nil, err
		}
	}
	var admin *ent.User
	err = db.WithTx(sys, s.client, func(tx *ent.Client) error {
		co, err := tx.Company.Create().
			SetID(companyID).SetName(name).SetSlug(slug).SetEmail(email).
			SetPhone(phone).SetWebsite(website).SetLogoURL(logoURL).
			SetSubscriptionPlan(plan).
			SetWidgetKey("wk_" + auth.RandomToken(18)).
			SetIdentitySecret(auth.RandomToken(32)).
			Save(sys)
		if err != nil {
			return err
		}
		admin, err = tx.User.Create().
			SetCompanyID(co.ID).SetEmail(adminEmail).SetHashedPassword(hash).
			SetFullName(adminName).SetRole(user.RoleCOMPANY_ADMIN).
			Save(sys)
		if err != nil {
			return err
		}
		admin.Edges.Company = co
		return nil
	})
	if err != nil {
		if logoURL != "" {
			s.files.RemoveLogo(companyID, logoURL)
		}
		if ent.IsConstraintError(err) {
			return nil, fault.Conflict("slug", "this company or email is already registered")
		}
		return nil, err
	}
	// Bound to the finished transaction until unwrapped.
	admin = admin.Unwrap()
	admin.Edges.Company = admin.Edges.Company.Unwrap()
	slog.InfoContext(ctx, "company registered", slog.String("company", companyID.String()), slog.String("slug", slug))
	return s.auth.StartUserSession(ctx, admin)
}

func (s *Service) freeSlug(ctx context.Context, base string) (string, error) {
	slug := base
	for i := 2; ; i++ {
		taken, err := s.client.Company.Query().Where(company.Slug(slug)).Exist(ctx)
		if err != nil {
			return "", err
		}
		if !taken {
			return slug, nil
		}
		if i > 20 {
			return base + "-" + strings.ToLower(auth.RandomHex(3)), nil
		}
		slug = fmt.Sprintf("%s-%d", base, i)
	}
}

func (s *Service) putLogo(companyID uuid.UUID, up *Upload) (string, error) {
	if up.Size > filestore.MaxLogoSize {
		return "", fault.Invalid("logo", "logo is larger than %d MB", filestore.MaxLogoSize>>20)
	}
	u, err := s.files.PutLogo(companyID, up.File)
	switch {
	case errors.Is(err, filestore.ErrNotImage):
		return "", fault.Invalid("logo", "%v", err)
	case errors.Is(err, filestore.ErrTooLarge):
		return "", fault.Invalid("logo", "logo is larger than %d MB", filestore.MaxLogoSize>>20)
	}
	return u, err
}

// target resolves the company a company-level operation is about: the
// given id, or the viewer's own company.
func target(ctx context.Context, id *uuid.UUID) (uuid.UUID, error) {
	v := viewer.FromContext(ctx)
	if id != nil {
		return *id, nil
	}
	if cid, ok := v.Tenant(); ok {
		return cid, nil
	}
	if v.SuperAdmin() {
		return uuid.Nil, fault.Invalid("id", "id is required for super admins")
	}
	return uuid.Nil, fault.Unauthenticated("log in first")
}

// requireManager refuses early, with a clear error, viewers that can never
// change a company; privacy enforces it again on the write.
func requireManager(ctx context.Context) error {
	v := viewer.FromContext(ctx)
	switch {
	case v == nil || v.Kind == viewer.KindNone:
		return fault.Unauthenticated("log in first")
	case v.SuperAdmin() || v.CompanyAdmin():
		return nil
	default:
		return fault.Forbidden("only company admins can do this")
	}
}

// UpdateCompanyInput is what updateCompany takes.
type UpdateCompanyInput struct {
	Name, Email, Phone, Website, BrandColor, Greeting *string
	Logo                                              *Upload
	Plan                                              *company.SubscriptionPlan
	AllowedOrigins                                    []string
	RequireIdentity                                   *bool
	AssistantName, AssistantTone, AwayMessage         *string
	AutoHandoff                                       *bool
	// BusinessHours replaces the company's hours; with no days it removes
	// them (always open).
	BusinessHours *schematype.BusinessHours
}

// UpdateCompany changes a company's profile and widget settings.
func (s *Service) UpdateCompany(ctx context.Context, id *uuid.UUID, in UpdateCompanyInput) (*ent.Company, error) {
	if err := requireManager(ctx); err != nil {
		return nil, err
	}
	cid, err := target(ctx, id)
	if err != nil {
		return nil, err
	}
	old, err := s.client.Company.Get(ctx, cid)
	if err != nil {
		return nil, err
	}
	upd := s.client.Company.UpdateOneID(cid)
	if in.Name != nil {
		n, err := cleanName("name", *in.Name, 200)
		if err != nil {
			return nil, err
		}
		upd.SetName(n)
	}
	if in.Email != nil {
		e, err := cleanEmail("email", *in.Email)
		if err != nil {
			return nil, err
		}
		upd.SetEmail(e)
	}
	if in.Phone != nil {
		p, err := cleanPhone(*in.Phone)
		if err != nil {
			return nil, err
		}
		upd.SetPhone(p)
	}
	if in.Website != nil {
		w, err := cleanURL("website", *in.Website)
		if err != nil {
			return nil, err
		}
		upd.SetWebsite(w)
	}
	if in.BrandColor != nil {
		if !colorPattern.MatchString(*in.BrandColor) {
			return nil, fault.Invalid("brandColor", "brandColor must look like #1A2B3C")
		}
		upd.SetBrandColor(*in.BrandColor)
	}
	if in.Greeting != nil {
		g := strings.TrimSpace(*in.Greeting)
		if len([]rune(g)) > 500 {
			return nil, fault.Invalid("greeting", "greeting is longer than 500 characters")
		}
		upd.SetGreeting(g)
	}
	if in.AllowedOrigins != nil {
		o, err := cleanOrigins(in.AllowedOrigins)
		if err != nil {
			return nil, err
		}
		upd.SetAllowedOrigins(o)
	}
	if in.RequireIdentity != nil {
		upd.SetRequireIdentity(*in.RequireIdentity)
	}
	if in.AssistantName != nil {
		n, err := cleanName("assistantName", *in.AssistantName, 60)
		if err != nil {
			return nil, err
		}
		upd.SetAssistantName(n)
	}
	if in.AssistantTone != nil {
		t := strings.TrimSpace(*in.AssistantTone)
		if len([]rune(t)) > 200 {
			return nil, fault.Invalid("assistantTone", "assistantTone is longer than 200 characters")
		}
		upd.SetAssistantTone(t)
	}
	if in.AwayMessage != nil {
		m := strings.TrimSpace(*in.AwayMessage)
		if len([]rune(m)) > 500 {
			return nil, fault.Invalid("awayMessage", "awayMessage is longer than 500 characters")
		}
		upd.SetAwayMessage(m)
	}
	if in.AutoHandoff != nil {
		upd.SetAutoHandoff(*in.AutoHandoff)
	}
	if in.BusinessHours != nil {
		if len(in.BusinessHours.Days) == 0 {
			upd.ClearBusinessHours()
		} else {
			if err := in.BusinessHours.Validate(); err != nil {
				return nil, fault.Invalid("businessHours", "%v", err)
			}
			upd.SetBusinessHours(in.BusinessHours)
		}
	}
	if in.Plan != nil {
		if !viewer.FromContext(ctx).SuperAdmin() {
			return nil, fault.Forbidden("only super admins change the subscription plan")
		}
		if err := company.SubscriptionPlanValidator(*in.Plan); err != nil {
			return nil, fault.Invalid("subscriptionPlan", "unknown subscription plan %q", *in.Plan)
		}
		upd.SetSubscriptionPlan(*in.Plan)
	}
	var logoURL string
	if in.Logo != nil {
		if logoURL, err = s.putLogo(cid, in.Logo); err != nil {
			return nil, err
		}
		upd.SetLogoURL(logoURL)
	}
	co, err := upd.Save(ctx)
	if err != nil {
		if logoURL != "" {
			s.files.RemoveLogo(cid, logoURL)
		}
		return nil, err
	}
	if logoURL != "" && old.LogoURL != "" {
		s.files.RemoveLogo(cid, old.LogoURL)
	}
	s.publish(ctx, cid, Event{Kind: EventCompanyUpdated, CompanyID: cid})
	s.audit(ctx, cid, "company.update", "company", cid, audit.Fields(
		set(in.Name, "name"), set(in.Email, "email"), set(in.Phone, "phone"), set(in.Website, "website"),
		set(in.BrandColor, "brandColor"), set(in.Greeting, "greeting"), set(in.Logo, "logo"),
		set(in.Plan, "subscriptionPlan"), set(in.AllowedOrigins, "allowedOrigins"), set(in.RequireIdentity, "requireIdentity"),
		set(in.AssistantName, "assistantName"), set(in.AssistantTone, "assistantTone"), set(in.AwayMessage, "awayMessage"),
		set(in.AutoHandoff, "autoHandoff"), set(in.BusinessHours, "businessHours")))
	return co, nil
}

// RotateIdentitySecret gives a company a new identity secret: visitors'
// userHash values made with the old one stop verifying at once. The
// audit log records the rotation, never the secret.
func (s *Service) RotateIdentitySecret(ctx context.Context, id *uuid.UUID) (*ent.Company, error) {
	if err := requireManager(ctx); err != nil {
		return nil, err
	}
	cid, err := target(ctx, id)
	if err != nil {
		return nil, err
	}
	co, err := s.client.Company.UpdateOneID(cid).SetIdentitySecret(auth.RandomToken(32)).Save(ctx)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, cid, Event{Kind: EventCompanyUpdated, CompanyID: cid})
	s.audit(ctx, cid, "company.rotate_identity_secret", "company", cid, "")
	return co, nil
}

// set returns name when v (a pointer or slice of an input) was given.
func set[T any](v T, name string) string {
	if reflect.ValueOf(&v).Elem().IsNil() {
		return ""
	}
	return name
}

// audit records an admin action on a company's target.
func (s *Service) audit(ctx context.Context, companyID uuid.UUID, action, targetType string, targetID uuid.UUID, summary string) {
	audit.Record(ctx, s.client, audit.Entry{CompanyID: &companyID, Action: action, TargetType: targetType, TargetID: &targetID, Summary: summary})
}

// SetCompanyActive deactivates a company (its admin or a super admin) or
// reactivates it (super admins only). A deactivated company's users cannot
// log in and their tokens, API keys and widget stop working at once.
func (s *Service) SetCompanyActive(ctx context.Context, id *uuid.UUID, active bool) (*ent.Company, error) {
	if err := requireManager(ctx); err != nil {
		return nil, err
	}
	if active && !viewer.FromContext(ctx).SuperAdmin() {
		return nil, fault.Forbidden("only super admins reactivate companies")
	}
	cid, err := target(ctx, id)
	if err != nil {
		return nil, err
	}
	upd := s.client.Company.UpdateOneID(cid).SetIsActive(active)
	if active {
		upd.ClearDeactivatedAt()
	} else {
		upd.SetDeactivatedAt(time.Now())
	}
	co, err := upd.Save(ctx)
	if err != nil {
		return nil, err
	}
	s.publish(ctx, cid, Event{Kind: EventCompanyUpdated, CompanyID: cid})
	action := "company.deactivate"
	if active {
		action = "company.activate"
	}
	s.audit(ctx, cid, action, "company", cid, "")
	return co, nil
}

// DeleteCompany removes a company with all its rows and files (super
// admins only).
func (s *Service) DeleteCompany(ctx context.Context, id uuid.UUID) error {
	if !viewer.FromContext(ctx).SuperAdmin() {
		if err := requireManager(ctx); err != nil {
			return err
		}
		return fault.Forbidden("only super admins delete companies")
	}
	if _, err := s.client.Company.Get(ctx, id); err != nil {
		return err
	}
	err := s.withTx(ctx, func(tx *ent.Client, stx *sql.Tx) error {
		userIDs, err := tx.User.Query().Where(user.CompanyID(id)).IDs(ctx)
		if err != nil {
			return err
		}
		steps := []func() (int, error){
			func() (int, error) { return tx.Message.Delete().Where(message.CompanyID(id)).Exec(ctx) },
			func() (int, error) { return tx.Chunk.Delete().Where(chunk.CompanyID(id)).Exec(ctx) },
			func() (int, error) { return tx.Conversation.Delete().Where(conversation.CompanyID(id)).Exec(ctx) },
			func() (int, error) { return tx.Visitor.Delete().Where(visitor.CompanyID(id)).Exec(ctx) },
			func() (int, error) { return tx.Resource.Delete().Where(resource.CompanyID(id)).Exec(ctx) },
			func() (int, error) { return tx.APIKey.Delete().Where(apikey.CompanyID(id)).Exec(ctx) },
			func() (int, error) {
				return tx.RefreshToken.Delete().Where(refreshtoken.UserIDIn(userIDs...)).Exec(ctx)
			},
			func() (int, error) { return tx.User.Delete().Where(user.CompanyID(id)).Exec(ctx) },
			func() (int, error) { return tx.Company.Delete().Where(company.ID(id)).Exec(ctx) },
		}
		for _, step := range steps {
			if _, err := step(); err != nil {
				return err
			}
		}
		if stx == nil {
			return nil
		}
		// The index and files go by a job committed with the rows'
		// deletion, retried until they are gone.
		return s.cleanup.EnqueueCompanyCleanup(ctx, stx, id)
	})
	if err != nil {
		return err
	}
	if s.cleanup != nil {
		s.cleanup.CleanUpCompany(viewer.SystemContext(ctx, id), id)
	} else if err := s.files.RemoveCompany(id); err != nil {
		slog.ErrorContext(ctx, "removing company files", slog.String("company", id.String()), slog.Any("err", err))
	}
	slog.InfoContext(ctx, "company deleted", slog.String("company", id.String()))
	s.audit(ctx, id, "company.delete", "company", id, "with its users, knowledge, conversations and files")
	return nil
}

// CreateSuperAdmin adds a super admin (the CLI and first start use it).
func CreateSuperAdmin(ctx context.Context, client *ent.Client, username, email, password, fullName string) (*ent.SuperAdmin, error) {
	username, err := cleanName("username", username, 100)
	if err != nil {
		return nil, err
	}
	if email == "" {
		email = strings.ToLower(username) + "@superadmin.local"
	}
	if email, err = cleanEmail("email", email); err != nil {
		return nil, err
	}
	if err := auth.CheckPasswordPolicy(password); err != nil {
		return nil, fault.Invalid("password", "%v", err)
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return nil, err
	}
	// The command line runs as the platform itself: an explicit bypass.
	sys := privacy.DecisionContext(ctx, privacy.Allow)
	if taken, err := client.SuperAdmin.Query().Where(superadmin.Or(superadmin.Username(username), superadmin.Email(email))).Exist(sys); err != nil {
		return nil, err
	} else if taken {
		return nil, fault.Conflict("username", "a super admin with this username or email exists")
	}
	return client.SuperAdmin.Create().SetUsername(username).SetEmail(email).
		SetHashedPassword(hash).SetFullName(fullName).Save(sys)
}

// CountSuperAdmins returns how many super admins exist.
func CountSuperAdmins(ctx context.Context, client *ent.Client) (int, error) {
	return client.SuperAdmin.Query().Count(privacy.DecisionContext(ctx, privacy.Allow))
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// bypassRead is an explicit privacy bypass for the few cross-tenant reads
// and token clean-ups this package needs (email uniqueness, refresh tokens
// of a removed agent). Grep for it.
func bypassRead(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}

// withTx runs fn in one database transaction, on an ent client bound to it
// and on the transaction itself (for River's InsertTx; nil without
// UseCleanup, when it is an ent transaction).
func (s *Service) withTx(ctx context.Context, fn func(tx *ent.Client, stx *sql.Tx) error) error {
	if s.db == nil || s.cleanup == nil {
		return db.WithTx(ctx, s.client, func(tx *ent.Client) error { return fn(tx, nil) })
	}
	stx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer stx.Rollback() //nolint:errcheck // a no-op after Commit; also on panic
	if err := fn(s.db.TxClient(stx), stx); err != nil {
		return err
	}
	return stx.Commit()
}
