// Package chat runs live conversations: visitor sessions, messages stored
// before they are acknowledged and numbered per conversation, real-time
// events, the assistant's streamed replies, and the handoff to humans.
//
// Access control is ent's: every read and write here runs with the caller's
// viewer (or the system viewer of the conversation's company for the
// assistant), so a visitor token reaches exactly its conversation and an
// agent only its company's.
package chat

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"concierge/assistant"
	"concierge/auth"
	"concierge/db"
	"concierge/ent"
	"concierge/ent/company"
	"concierge/ent/conversation"
	"concierge/ent/privacy"
	"concierge/ent/visitor"
	"concierge/fault"
	"concierge/realtime"
	"concierge/viewer"
)

// Limits of what a caller may send.
const (
	// MaxBodyRunes is the longest message.
	MaxBodyRunes = 5000
	// MaxClientMessageID is the longest clientMessageId.
	MaxClientMessageID = 100
	// historyMessages is how many earlier messages the assistant reads.
	historyMessages = 30
)

// Answerer writes the assistant's replies (assistant.Assistant).
type Answerer interface {
	Answer(ctx context.Context, req assistant.Request, onDelta func(string)) (assistant.Answer, error)
}

// Config configures a Service.
type Config struct {
	// DB is the database: a visitor's message and its answer job are
	// stored in one of its transactions. Client is DB's unless set.
	DB     *db.DB
	Client *ent.Client
	Auth   *auth.Service
	Broker realtime.Broker
	// Assistant answers visitors in BOT conversations (nil: nobody does),
	// in River jobs (AnswerArgs) that the process's River client runs
	// (AddWorkers, Queues) and the Service inserts (UseJobs).
	Assistant Answerer
	// ReplyTimeout bounds one attempt at a reply (default 2 minutes);
	// ReplyAttempts is how many a reply gets (default 3), ReplyRetryDelay
	// the wait before the next one, times the attempts so far (default
	// 1 s). A reply whose process died is run again ReplyTimeout plus
	// the River client's rescue grace after it started (AddWorkers).
	ReplyTimeout    time.Duration
	ReplyAttempts   int
	ReplyRetryDelay time.Duration
	// ReplyWorkers is how many replies one process writes at once
	// (default 20); ReplyPoll how often it looks for reply jobs (default
	// DefaultReplyPoll).
	ReplyWorkers int
	ReplyPoll    time.Duration
	// Presence is how long an agent stays online after its inbox
	// subscription last refreshed it (default 90 s; refreshed every third).
	Presence time.Duration
	// PresenceGrace is how long an agent stays online after its last inbox
	// subscription ended (default 15 s): a dashboard reconnecting after a
	// short break, or a reload, does not make the team look away to a
	// visitor asking for a human meanwhile. Negative: none.
	PresenceGrace time.Duration
	// Limits (defaults in New), kept in LimitStore when set (shared by
	// every replica).
	VisitorMessages, CompanyMessages, Conversations *auth.Limiter
	LimitStore                                      auth.Store
	Logger                                          *slog.Logger
}

// Service runs conversations.
type Service struct {
	cfg    Config
	client *ent.Client
	broker realtime.Broker
	log    *slog.Logger
	now    func() time.Time
	jobs   Jobs // inserts the answer jobs (UseJobs)

	// ctx ends at Close.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	online map[uuid.UUID]int // agent -> inbox subscriptions in this process

	rows *rowCache // rows shared by subscribers: inbox events per class, messages this replica wrote
}

// New returns a Service. With an Assistant, its reply worker runs in the
// process's River client (AddWorkers, Queues, UseJobs).
func New(cfg Config) (*Service, error) {
	if cfg.Client == nil && cfg.DB != nil {
		cfg.Client = cfg.DB.Client
	}
	if cfg.Client == nil || cfg.Broker == nil || cfg.Auth == nil {
		return nil, errors.New("chat: Client (or DB), Auth and Broker are required")
	}
	if cfg.Assistant != nil && cfg.DB == nil {
		return nil, errors.New("chat: the assistant's replies need DB (their jobs are stored with the messages)")
	}
	if cfg.ReplyTimeout <= 0 {
		cfg.ReplyTimeout = DefaultReplyTimeout
	}
	if cfg.ReplyAttempts <= 0 {
		cfg.ReplyAttempts = DefaultReplyAttempts
	}
	if cfg.ReplyRetryDelay <= 0 {
		cfg.ReplyRetryDelay = time.Second
	}
	if cfg.ReplyWorkers <= 0 {
		cfg.ReplyWorkers = DefaultReplyWorkers
	}
	if cfg.ReplyPoll <= 0 {
		cfg.ReplyPoll = DefaultReplyPoll
	}
	if cfg.Presence <= 0 {
		cfg.Presence = 90 * time.Second
	}
	if cfg.PresenceGrace == 0 {
		cfg.PresenceGrace = 15 * time.Second
	}
	if cfg.PresenceGrace < 0 {
		cfg.PresenceGrace = 0
	}
	if cfg.VisitorMessages == nil {
		// 10 at once, then one every 2 s (30 a minute).
		cfg.VisitorMessages = auth.NewLimiter(10, 2*time.Second)
	}
	if cfg.CompanyMessages == nil {
		// 600 at once, then 20 a second.
		cfg.CompanyMessages = auth.NewLimiter(600, 50*time.Millisecond)
	}
	if cfg.Conversations == nil {
		// Per IP and widget key: 10 at once, then one every 6 s.
		cfg.Conversations = auth.NewLimiter(10, 6*time.Second)
	}
	if cfg.LimitStore != nil {
		for _, l := range []*auth.Limiter{cfg.VisitorMessages, cfg.CompanyMessages, cfg.Conversations} {
			l.Share(cfg.LimitStore)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{cfg: cfg, client: cfg.Client, broker: cfg.Broker, log: cfg.Logger, now: time.Now,
		ctx: ctx, cancel: cancel, online: map[uuid.UUID]int{}, rows: newRowCache(3 * time.Second)}, nil
}

// Close ends the Service's background work. Replies being written are the
// River client's, stopped with it.
func (s *Service) Close() { s.cancel() }

// allow is the privacy decision for the few public lookups (a widget key).
func allow(ctx context.Context) context.Context { return privacy.DecisionContext(ctx, privacy.Allow) }

// companyByKey finds the company of a widget key: a public lookup.
func (s *Service) companyByKey(ctx context.Context, key string) (*ent.Company, error) {
	key = strings.TrimSpace(key)
	if key == "" || len(key) > 64 {
		return nil, fault.Invalid("companyKey", "companyKey is required")
	}
	co, err := s.client.Company.Query().Where(company.WidgetKey(key)).Only(allow(ctx))
	if ent.IsNotFound(err) {
		return nil, fault.NotFound("company for this widget key")
	}
	if err != nil {
		return nil, err
	}
	if !co.IsActive {
		return nil, fault.Forbidden("this company's chat is not available")
	}
	return co, nil
}

// WidgetConfig is what the widget shows before a conversation starts.
type WidgetConfig struct {
	Company *ent.Company
	Open    bool
}

// Widget returns the public branding of the company of key.
func (s *Service) Widget(ctx context.Context, key string) (*WidgetConfig, error) {
	co, err := s.companyByKey(ctx, key)
	if err != nil {
		return nil, err
	}
	return &WidgetConfig{Company: co, Open: co.BusinessHours.OpenAt(s.now())}, nil
}

// StartInput starts or resumes a visitor's conversation.
type StartInput struct {
	CompanyKey           string
	Name, Email          *string
	ExternalID, UserHash *string
	VisitorToken         *string
	Origin, IP           string
	// SameOrigin: the request came from a page of this server (its widget
	// test page), which no company's origin list refuses.
	SameOrigin bool
	// Metadata about the visitor's page (optional).
	Metadata map[string]any
}

// Session is a visitor's token for one conversation.
type Session struct {
	Token        string
	ExpiresAt    time.Time
	Conversation *ent.Conversation
	Visitor      *ent.Visitor
	Resumed      bool
}

// Start starts a conversation for a visitor of the company of in.CompanyKey,
// or resumes the visitor's open one (by a verified external id or an
// earlier visitor token).
func (s *Service) Start(ctx context.Context, in StartInput) (*Session, error) {
	co, err := s.companyByKey(ctx, in.CompanyKey)
	if err != nil {
		return nil, err
	}
	if !in.SameOrigin && !OriginAllowed(co.AllowedOrigins, in.Origin) {
		return nil, fault.Forbidden("this site may not use the company's chat widget (origin not allowed)")
	}
	if ok, wait := s.cfg.Conversations.Allow(ctx, "conv:"+in.IP+"|"+co.ID.String()); !ok {
		return nil, fault.RateLimited(wait)
	}
	name, err := optText("name", in.Name, 200)
	if err != nil {
		return nil, err
	}
	email, err := optText("email", in.Email, 254)
	if err != nil {
		return nil, err
	}
	if email != "" && !strings.Contains(email, "@") {
		return nil, fault.Invalid("email", "email is not an email address")
	}
	externalID, err := optText("externalId", in.ExternalID, 255)
	if err != nil {
		return nil, err
	}
	if externalID != "" {
		if in.UserHash == nil || !validHash(co.IdentitySecret, externalID, *in.UserHash) {
			return nil, fault.Unauthenticated("userHash does not match externalId (HMAC-SHA256 of the external id with the company's identity secret, hex)")
		}
	} else if co.RequireIdentity {
		return nil, fault.Unauthenticated("this company requires a verified visitor identity (externalId and userHash)")
	}

	sys := viewer.SystemContext(ctx, co.ID)
	var (
		vis  *ent.Visitor
		conv *ent.Conversation
	)
	switch {
	case externalID != "":
		vis, err = s.client.Visitor.Query().Where(visitor.ExternalID(externalID)).Only(sys)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
	case in.VisitorToken != nil && *in.VisitorToken != "":
		// An earlier token of this company: the same visitor, and its
		// conversation unless that was closed. Others are ignored (the
		// visitor starts afresh), as an expired one would be: another
		// company's visitor is not found as this company's system viewer.
		if v, err := s.cfg.Auth.Authenticate(ctx, *in.VisitorToken); err == nil && v.Kind == viewer.KindVisitor {
			if vis, err = s.client.Visitor.Get(sys, v.ID); err != nil && !ent.IsNotFound(err) {
				return nil, err
			}
			if vis != nil {
				if c, err := s.client.Conversation.Get(sys, v.ConversationID); err == nil && c.Status != conversation.StatusCLOSED {
					conv = c
				}
			}
		}
	}
	if vis != nil && conv == nil {
		conv, err = s.client.Conversation.Query().
			Where(conversation.VisitorID(vis.ID), conversation.StatusNEQ(conversation.StatusCLOSED)).
			Order(ent.Desc(conversation.FieldCreatedAt)).First(sys)
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
	}
	resumed := conv != nil
	err = db.WithTx(sys, s.client, func(tx *ent.Client) error {
		if vis == nil {
			c := tx.Visitor.Create().SetCompanyID(co.ID).SetName(name).SetEmail(email)
			if externalID != "" {
				c.SetExternalID(externalID)
			}
			if in.Metadata != nil {
				c.SetMetadata(in.Metadata)
			}
			if vis, err = c.Save(sys); err != nil {
				return err
			}
		} else {
			u := tx.Visitor.UpdateOneID(vis.ID).SetLastSeenAt(s.now())
			if name != "" {
				u.SetName(name)
			}
			if email != "" {
				u.SetEmail(email)
			}
			if vis, err = u.Save(sys); err != nil {
				return err
			}
		}
		if conv == nil {
			conv, err = tx.Conversation.Create().SetCompanyID(co.ID).SetVisitorID(vis.ID).Save(sys)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// Written in the finished transaction (the visitor always, the
	// conversation when new): unwrapped, their edges load on the pool.
	vis = vis.Unwrap()
	if !resumed {
		conv = conv.Unwrap()
	}
	token, exp, err := s.cfg.Auth.IssueVisitorToken(vis.ID, co.ID, conv.ID)
	if err != nil {
		return nil, err
	}
	if !resumed {
		s.inbox(ctx, co.ID, InboxConversationCreated, conv.ID, uuid.Nil)
	}
	return &Session{Token: token, ExpiresAt: exp, Conversation: conv, Visitor: vis, Resumed: resumed}, nil
}

// validHash checks userHash = hex(HMAC-SHA256(secret, externalID)) in
// constant time.
func validHash(secret, externalID, userHash string) bool {
	got, err := hex.DecodeString(strings.TrimSpace(userHash))
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(externalID))
	return hmac.Equal(got, m.Sum(nil))
}

// OriginAllowed reports whether origin may use a widget restricted to
// allowed (none: any origin; case and a trailing slash do not matter).
func OriginAllowed(allowed []string, origin string) bool {
	if len(allowed) == 0 {
		return true
	}
	origin = strings.TrimRight(strings.ToLower(strings.TrimSpace(origin)), "/")
	if origin == "" {
		return false
	}
	for _, a := range allowed {
		if strings.TrimRight(strings.ToLower(a), "/") == origin {
			return true
		}
	}
	return false
}

func optText(field string, v *string, max int) (string, error) {
	if v == nil {
		return "", nil
	}
	t := strings.TrimSpace(*v)
	if utf8.RuneCountInString(t) > max {
		return "", fault.Invalid(field, "%s is longer than %d characters", field, max)
	}
	if !utf8.ValidString(t) {
		return "", fault.Invalid(field, "%s is not valid UTF-8", field)
	}
	return t, nil
}

// conversation loads a conversation with the caller's viewer: one it may
// not read does not exist.
func (s *Service) conversation(ctx context.Context, id uuid.UUID) (*ent.Conversation, error) {
	c, err := s.client.Conversation.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, fault.NotFound("conversation")
	}
	return c, err
}

// participant checks that the viewer takes part in conversations: a
// visitor (its own), company staff, an API key with conversations:write.
func participant(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v.Kind == viewer.KindNone:
		return nil, fault.Unauthenticated("log in first")
	case v.Kind == viewer.KindVisitor, v.Staff(), v.System():
		return v, nil
	case v.Kind == viewer.KindAPIKey:
		if !v.HasScope(viewer.ScopeConversationsWrite) {
			return nil, &viewer.MissingScopeError{Scope: viewer.ScopeConversationsWrite}
		}
		return v, nil
	default:
		return nil, fault.Forbidden("super admins do not take part in companies' conversations")
	}
}

// staff checks that the viewer is a company user (an agent or an admin).
func staff(ctx context.Context) (*viewer.Viewer, error) {
	v := viewer.FromContext(ctx)
	switch {
	case v.Kind == viewer.KindNone:
		return nil, fault.Unauthenticated("log in first")
	case v.Staff():
		return v, nil
	default:
		return nil, fault.Forbidden("only the company's agents do this")
	}
}

func fmtErr(op string, err error) error {
	if _, ok := fault.As(err); ok || err == nil {
		return err
	}
	return fmt.Errorf("chat: %s: %w", op, err)
}
