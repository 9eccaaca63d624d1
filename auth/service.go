// Package auth holds how callers prove who they are (passwords, JWTs,
// refresh tokens, API keys, visitor tokens) and the login rate limiter. Who
// is calling, once proven, is a viewer.Viewer (package viewer).
package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"concierge/ent"
	"concierge/ent/apikey"
	"concierge/ent/company"
	"concierge/ent/privacy"
	"concierge/ent/refreshtoken"
	"concierge/ent/superadmin"
	"concierge/ent/user"
	"concierge/ent/visitor"
	"concierge/fault"
	"concierge/viewer"
)

// Service logs people in and turns bearer tokens into viewers.
type Service struct {
	client *ent.Client
	signer *Signer
	// RefreshTTL is how long a refresh token lives (default 30 days).
	RefreshTTL time.Duration
	accounts   *Limiter
	ips        *Limiter
	now        func() time.Time
}

// NewService returns a Service over client, signing with signer. Login
// attempts are limited to 5 per account and 20 per IP address, refilled at
// one a minute and one every 6 seconds.
func NewService(client *ent.Client, signer *Signer) *Service {
	return &Service{
		client:     client,
		signer:     signer,
		RefreshTTL: 30 * 24 * time.Hour,
		accounts:   NewLimiter(5, time.Minute),
		ips:        NewLimiter(20, 6*time.Second),
		now:        time.Now,
	}
}

// Signer returns the token signer.
func (s *Service) Signer() *Signer { return s.signer }

// Session is the result of a login or refresh.
type Session struct {
	Token        string
	ExpiresAt    time.Time
	RefreshToken string
	User         *ent.User
	SuperAdmin   *ent.SuperAdmin
	Company      *ent.Company
}

// bypass is the auth service's explicit privacy bypass: it must read
// accounts before anyone is logged in.
func bypass(ctx context.Context) context.Context {
	return privacy.DecisionContext(ctx, privacy.Allow)
}

// NormalizeEmail lower-cases and trims an email address.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

var errBadCredentials = fault.Unauthenticated("invalid email or password")

// ShareLimits keeps the login limits in st, shared by every replica.
func (s *Service) ShareLimits(st Store) {
	s.accounts.Share(st)
	s.ips.Share(st)
}

func (s *Service) limit(ctx context.Context, account, ip string) error {
	if ok, wait := s.accounts.Allow(ctx, "login:acct:"+account); !ok {
		return fault.RateLimited(wait)
	}
	if ip != "" {
		if ok, wait := s.ips.Allow(ctx, "login:ip:"+ip); !ok {
			return fault.RateLimited(wait)
		}
	}
	return nil
}

// Login checks a user's email and password.
func (s *Service) Login(ctx context.Context, email, password, ip string) (*Session, error) {
	email = NormalizeEmail(email)
	if email == "" || password == "" {
		return nil, fault.Invalid("email", "email and password are required")
	}
	if len(email) > 254 || len(password) > MaxPasswordLen {
		return nil, errBadCredentials
	}
	if err := s.limit(ctx, email, ip); err != nil {
		return nil, err
	}
	u, err := s.client.User.Query().Where(user.Email(email)).WithCompany().Only(bypass(ctx))
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	hash := ""
	if u != nil {
		hash = u.HashedPassword
	}
	if !VerifyPassword(hash, password) {
		return nil, errBadCredentials
	}
	s.accounts.Reset(ctx, "login:acct:"+email)
	if !u.IsActive {
		return nil, fault.Forbidden("this account is deactivated")
	}
	if !u.Edges.Company.IsActive {
		return nil, fault.Forbidden("this company is deactivated")
	}
	return s.StartUserSession(ctx, u)
}

// StartUserSession logs u in without a password (right after registration).
func (s *Service) StartUserSession(ctx context.Context, u *ent.User) (*Session, error) {
	family := uuid.New()
	refresh, err := s.newRefreshToken(ctx, family, &u.ID, nil)
	if err != nil {
		return nil, err
	}
	sess, err := s.userSession(u, family)
	if err != nil {
		return nil, err
	}
	sess.RefreshToken = refresh
	_ = s.client.User.UpdateOneID(u.ID).SetLastSeenAt(s.now()).Exec(bypass(ctx))
	return sess, nil
}

func (s *Service) userSession(u *ent.User, family uuid.UUID) (*Session, error) {
	tok, exp, err := s.signer.Sign(Claims{
		Type: SubjectUser, CompanyID: u.CompanyID.String(), Role: string(u.Role),
		Version: u.SessionVersion, Session: family.String(),
	}.withSubject(u.ID), s.signer.AccessTTL)
	if err != nil {
		return nil, err
	}
	return &Session{Token: tok, ExpiresAt: exp, User: u, Company: u.Edges.Company}, nil
}

func (s *Service) superAdminSession(a *ent.SuperAdmin, family uuid.UUID) (*Session, error) {
	tok, exp, err := s.signer.Sign(Claims{
		Type: SubjectSuperAdmin, Version: a.SessionVersion, Session: family.String(),
	}.withSubject(a.ID), s.signer.AccessTTL)
	if err != nil {
		return nil, err
	}
	return &Session{Token: tok, ExpiresAt: exp, SuperAdmin: a}, nil
}

func (c Claims) withSubject(id uuid.UUID) Claims {
	c.Subject = id.String()
	return c
}

// SuperAdminLogin checks a super admin's username and password.
func (s *Service) SuperAdminLogin(ctx context.Context, username, password, ip string) (*Session, error) {
	username = strings.TrimSpace(username)
	if username == "" || password == "" {
		return nil, fault.Invalid("username", "username and password are required")
	}
	if len(username) > 100 || len(password) > MaxPasswordLen {
		return nil, fault.Unauthenticated("invalid username or password")
	}
	if err := s.limit(ctx, "super:"+strings.ToLower(username), ip); err != nil {
		return nil, err
	}
	a, err := s.client.SuperAdmin.Query().Where(superadmin.Username(username)).Only(bypass(ctx))
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	hash := ""
	if a != nil {
		hash = a.HashedPassword
	}
	if !VerifyPassword(hash, password) {
		return nil, fault.Unauthenticated("invalid username or password")
	}
	s.accounts.Reset(ctx, "login:acct:super:"+strings.ToLower(username))
	if !a.IsActive {
		return nil, fault.Forbidden("this account is deactivated")
	}
	family := uuid.New()
	refresh, err := s.newRefreshToken(ctx, family, nil, &a.ID)
	if err != nil {
		return nil, err
	}
	sess, err := s.superAdminSession(a, family)
	if err != nil {
		return nil, err
	}
	sess.RefreshToken = refresh
	_ = s.client.SuperAdmin.UpdateOneID(a.ID).SetLastLoginAt(s.now()).Exec(bypass(ctx))
	return sess, nil
}

func (s *Service) newRefreshToken(ctx context.Context, family uuid.UUID, userID, adminID *uuid.UUID) (string, error) {
	tok := "rt_" + RandomToken(32)
	err := s.client.RefreshToken.Create().
		SetTokenHash(HashToken(tok)).
		SetNillableUserID(userID).
		SetNillableSuperAdminID(adminID).
		SetFamily(family).
		SetExpiresAt(s.now().Add(s.RefreshTTL)).
		Exec(bypass(ctx))
	if err != nil {
		return "", fmt.Errorf("storing refresh token: %w", err)
	}
	return tok, nil
}

var errBadRefresh = fault.Unauthenticated("invalid or expired refresh token")

// Refresh rotates a refresh token: the old one is spent, a new one and a
// new access token are returned. Presenting a spent token again (a sign it
// was stolen) revokes its whole session.
func (s *Service) Refresh(ctx context.Context, token string) (*Session, error) {
	if !strings.HasPrefix(token, "rt_") || len(token) > 100 {
		return nil, errBadRefresh
	}
	ctx = bypass(ctx)
	rt, err := s.client.RefreshToken.Query().Where(refreshtoken.TokenHash(HashToken(token))).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, errBadRefresh
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if rt.RevokedAt != nil || now.After(rt.ExpiresAt) {
		return nil, errBadRefresh
	}
	if rt.UsedAt != nil {
		return nil, s.reused(ctx, rt.Family)
	}
	var sess *Session
	switch {
	case rt.UserID != nil:
		u, err := s.client.User.Query().Where(user.ID(*rt.UserID)).WithCompany().Only(ctx)
		if err != nil {
			return nil, errBadRefresh
		}
		if !u.IsActive || !u.Edges.Company.IsActive {
			return nil, fault.Forbidden("this account is deactivated")
		}
		if sess, err = s.userSession(u, rt.Family); err != nil {
			return nil, err
		}
	case rt.SuperAdminID != nil:
		a, err := s.client.SuperAdmin.Get(ctx, *rt.SuperAdminID)
		if err != nil {
			return nil, errBadRefresh
		}
		if !a.IsActive {
			return nil, fault.Forbidden("this account is deactivated")
		}
		if sess, err = s.superAdminSession(a, rt.Family); err != nil {
			return nil, err
		}
	default:
		return nil, errBadRefresh
	}
	// Spend it; exactly one concurrent caller wins.
	n, err := s.client.RefreshToken.Update().
		Where(refreshtoken.ID(rt.ID), refreshtoken.UsedAtIsNil()).
		SetUsedAt(now).Save(ctx)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, s.reused(ctx, rt.Family)
	}
	if sess.RefreshToken, err = s.newRefreshToken(ctx, rt.Family, rt.UserID, rt.SuperAdminID); err != nil {
		return nil, err
	}
	return sess, nil
}

// reused ends a session whose spent refresh token came back: a sign that
// it was stolen.
func (s *Service) reused(ctx context.Context, family uuid.UUID) error {
	slog.WarnContext(ctx, "refresh token reused: revoking session", slog.String("family", family.String()))
	if err := s.revokeFamily(ctx, family); err != nil {
		return err
	}
	return errBadRefresh
}

func (s *Service) revokeFamily(ctx context.Context, family uuid.UUID) error {
	return s.client.RefreshToken.Update().
		Where(refreshtoken.Family(family), refreshtoken.RevokedAtIsNil()).
		SetRevokedAt(s.now()).Exec(bypass(ctx))
}

// Logout ends the viewer's session: its refresh tokens are revoked and its
// access tokens stop working.
func (s *Service) Logout(ctx context.Context, v *viewer.Viewer) error {
	if v == nil || v.Session == uuid.Nil {
		return fault.Unauthenticated("not logged in")
	}
	return s.revokeFamily(ctx, v.Session)
}

// RevokeUser ends every session of a user (deactivation, removal, password
// change): refresh tokens are revoked and the session version is bumped.
// It runs with the caller's context, so privacy applies to the user update.
func (s *Service) RevokeUser(ctx context.Context, client *ent.Client, userID uuid.UUID) error {
	if err := client.User.UpdateOneID(userID).AddSessionVersion(1).Exec(ctx); err != nil {
		return err
	}
	return client.RefreshToken.Update().
		Where(refreshtoken.UserID(userID), refreshtoken.RevokedAtIsNil()).
		SetRevokedAt(s.now()).Exec(bypass(ctx))
}

// Authenticate turns a bearer credential (access JWT or API key) into a
// viewer, checking that the account and its company are still active and
// the session was not ended.
func (s *Service) Authenticate(ctx context.Context, bearer string) (*viewer.Viewer, error) {
	if strings.HasPrefix(bearer, APIKeyPrefix) {
		return s.authenticateAPIKey(ctx, bearer)
	}
	c, err := s.signer.Parse(bearer)
	if err != nil {
		if errors.Is(err, errTokenExpired) {
			return nil, fault.Unauthenticated("token expired")
		}
		return nil, fault.Unauthenticated("invalid token")
	}
	id, err := uuid.Parse(c.Subject)
	if err != nil {
		return nil, fault.Unauthenticated("invalid token")
	}
	ctx = bypass(ctx)
	switch c.Type {
	case SubjectUser:
		// One statement: the user, if it and its company are active. Why
		// not is asked only when it is not.
		u, err := s.client.User.Query().
			Where(user.ID(id), user.IsActive(true), user.HasCompanyWith(company.IsActive(true))).Only(ctx)
		if ent.IsNotFound(err) {
			exists, err := s.client.User.Query().Where(user.ID(id)).Exist(ctx)
			if err != nil {
				return nil, fmt.Errorf("auth: loading the user: %w", err)
			}
			if exists {
				return nil, fault.Unauthenticated("this account is deactivated")
			}
			return nil, fault.Unauthenticated("invalid token")
		}
		if err != nil {
			return nil, fmt.Errorf("auth: loading the user: %w", err) // the database, not the token
		}
		sid, err := s.checkSession(ctx, c, u.SessionVersion)
		if err != nil {
			return nil, err
		}
		if u.LastSeenAt == nil || s.now().Sub(*u.LastSeenAt) > time.Minute {
			_ = s.client.User.UpdateOneID(u.ID).SetLastSeenAt(s.now()).Exec(ctx)
		}
		return &viewer.Viewer{Kind: viewer.KindUser, ID: u.ID, CompanyID: u.CompanyID, Role: string(u.Role), Session: sid, Name: u.FullName}, nil
	case SubjectSuperAdmin:
		a, err := s.client.SuperAdmin.Get(ctx, id)
		if ent.IsNotFound(err) {
			return nil, fault.Unauthenticated("invalid token")
		}
		if err != nil {
			return nil, fmt.Errorf("auth: loading the super admin: %w", err)
		}
		if !a.IsActive {
			return nil, fault.Unauthenticated("this account is deactivated")
		}
		sid, err := s.checkSession(ctx, c, a.SessionVersion)
		if err != nil {
			return nil, err
		}
		return &viewer.Viewer{Kind: viewer.KindSuperAdmin, ID: a.ID, Session: sid}, nil
	case SubjectVisitor:
		cid, err1 := uuid.Parse(c.CompanyID)
		conv, err2 := uuid.Parse(c.ConversationID)
		if err1 != nil || err2 != nil {
			return nil, fault.Unauthenticated("invalid token")
		}
		// One query: the visitor, if its company is active.
		vis, err := s.client.Visitor.Query().
			Where(visitor.ID(id), visitor.CompanyID(cid), visitor.HasCompanyWith(company.IsActive(true))).Only(ctx)
		if ent.IsNotFound(err) {
			co, err := s.client.Company.Get(ctx, cid)
			if err != nil && !ent.IsNotFound(err) {
				return nil, fmt.Errorf("auth: loading the company: %w", err)
			}
			if err != nil || !co.IsActive {
				return nil, fault.Unauthenticated("this company is deactivated")
			}
			return nil, fault.Unauthenticated("invalid token") // the visitor is gone
		}
		if err != nil {
			return nil, fmt.Errorf("auth: loading the visitor: %w", err)
		}
		return &viewer.Viewer{Kind: viewer.KindVisitor, ID: id, CompanyID: cid, ConversationID: conv, Name: vis.Name}, nil
	default:
		return nil, fault.Unauthenticated("invalid token")
	}
}

func (s *Service) checkSession(ctx context.Context, c *Claims, version int) (uuid.UUID, error) {
	if c.Version != version {
		return uuid.Nil, fault.Unauthenticated("session ended")
	}
	sid, err := uuid.Parse(c.Session)
	if err != nil {
		return uuid.Nil, fault.Unauthenticated("invalid token")
	}
	revoked, err := s.client.RefreshToken.Query().
		Where(refreshtoken.Family(sid), refreshtoken.RevokedAtNotNil()).Exist(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	if revoked {
		return uuid.Nil, fault.Unauthenticated("session ended")
	}
	return sid, nil
}

// APIKeyPrefix starts every API key.
const APIKeyPrefix = "ck_"

// NewAPIKey returns a fresh key, the prefix shown in listings and the hash
// to store.
func NewAPIKey() (key, prefix, hash string) {
	prefix = strings.ToLower(RandomHex(6))
	key = APIKeyPrefix + prefix + "_" + RandomToken(32)
	return key, prefix, HashToken(key)
}

func (s *Service) authenticateAPIKey(ctx context.Context, key string) (*viewer.Viewer, error) {
	bad := fault.Unauthenticated("invalid API key")
	rest := strings.TrimPrefix(key, APIKeyPrefix)
	if len(rest) < 14 || len(key) > 100 || rest[12] != '_' {
		return nil, bad
	}
	ctx = bypass(ctx)
	k, err := s.client.APIKey.Query().Where(apikey.Prefix(rest[:12])).WithCompany().Only(ctx)
	if err != nil {
		return nil, bad
	}
	if !ConstantTimeEqual(k.Hash, HashToken(key)) || k.RevokedAt != nil {
		return nil, bad
	}
	if !k.Edges.Company.IsActive {
		return nil, fault.Unauthenticated("this company is deactivated")
	}
	if k.LastUsedAt == nil || s.now().Sub(*k.LastUsedAt) > time.Minute {
		_ = s.client.APIKey.UpdateOneID(k.ID).SetLastUsedAt(s.now()).Exec(ctx)
	}
	return &viewer.Viewer{Kind: viewer.KindAPIKey, ID: k.ID, CompanyID: k.CompanyID, Scopes: k.Scopes}, nil
}

// IssueVisitorToken signs a token for one visitor's one conversation.
func (s *Service) IssueVisitorToken(visitorID, companyID, conversationID uuid.UUID) (string, time.Time, error) {
	return s.signer.Sign(Claims{
		Type: SubjectVisitor, CompanyID: companyID.String(), ConversationID: conversationID.String(),
	}.withSubject(visitorID), s.signer.VisitorTTL)
}
