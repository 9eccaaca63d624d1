package realtime

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"
)

const (
	// DefaultChannel is the PostgreSQL NOTIFY channel every replica listens on.
	DefaultChannel = "concierge_events"
	// DefaultListenerApplicationName is the application_name of the listener's
	// connection, as pg_stat_activity shows it.
	DefaultListenerApplicationName = "concierge-listener"
	// MaxNotifyPayload is PostgreSQL's limit on a NOTIFY payload in bytes. A
	// Postgres broker's notification is topic + "\n" + payload, so the
	// payload proper may be len(topic)+1 bytes shorter.
	MaxNotifyPayload = 7999
)

// ErrPayloadTooLarge reports an event that does not fit in one PostgreSQL
// notification (MaxNotifyPayload bytes, topic included). It is never
// truncated.
var ErrPayloadTooLarge = errors.New("realtime: event too large for PostgreSQL NOTIFY")

// PostgresOptions configures a Postgres broker. The zero value is usable.
type PostgresOptions struct {
	// Channel is the NOTIFY channel (at most 63 bytes). Every replica sharing
	// the database must use the same one; deployments (or tests) sharing a
	// database but not their events must use different ones. Default
	// DefaultChannel.
	Channel string
	// DB publishes the notifications. When nil, a small pool is opened from
	// the DSN and closed with the broker; a DB given here is not closed.
	DB *sql.DB
	// MaxConns bounds the pool the broker opens (ignored with DB). Default 4.
	MaxConns int
	// BufferSize is the number of events a subscriber may have unread before
	// it is dropped with ErrLagged. Default DefaultBufferSize.
	BufferSize int
	// ApplicationName is the listener connection's application_name.
	// Default DefaultListenerApplicationName.
	ApplicationName string
	// MinReconnectInterval and MaxReconnectInterval bound the wait between
	// the listener's reconnection attempts (doubling from min to max).
	// Defaults 100ms and 10s.
	MinReconnectInterval, MaxReconnectInterval time.Duration
	// ConnectTimeout bounds each connection attempt when the DSN sets no
	// connect_timeout, and how long NewPostgres waits for the listener's
	// first connection. Default 10s.
	ConnectTimeout time.Duration
	// PublishTimeout bounds Publish, on top of its context. Default 5s.
	PublishTimeout time.Duration
	// PingInterval is how often the idle listener connection is pinged, so a
	// dead connection is noticed (and replaced) and middleboxes keep it open.
	// Default 30s; negative disables.
	PingInterval time.Duration
	// Logger receives connection losses and reconnections. Default
	// slog.Default().
	Logger *slog.Logger
}

func (o *PostgresOptions) defaults() {
	if o.Channel == "" {
		o.Channel = DefaultChannel
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 4
	}
	if o.ApplicationName == "" {
		o.ApplicationName = DefaultListenerApplicationName
	}
	if o.MinReconnectInterval <= 0 {
		o.MinReconnectInterval = 100 * time.Millisecond
	}
	if o.MaxReconnectInterval < o.MinReconnectInterval {
		o.MaxReconnectInterval = max(10*time.Second, o.MinReconnectInterval)
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = 5 * time.Second
	}
	if o.PingInterval == 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Postgres is a Broker for several replicas sharing one PostgreSQL database.
//
// Publish sends one NOTIFY (topic + "\n" + payload) on a single channel and
// does not deliver locally. One listener connection per process receives
// every notification, its own included, and hands each to the local
// subscribers of its topic with the same hub as Memory (non-blocking; a
// subscriber that falls behind is dropped with ErrLagged). So every replica
// sees the events in the same order: PostgreSQL's commit order.
//
// Events sent while the listener is disconnected are lost: when it loses its
// connection, and again once it has reconnected, every open subscription is
// ended with ErrGap (which is an ErrLagged), so consumers resubscribe and
// replay from the database.
type Postgres struct {
	channel        string
	hub            *hub
	db             *sql.DB
	ownDB          bool
	listener       *pq.Listener
	log            *slog.Logger
	publishTimeout time.Duration

	received, malformed, gaps atomic.Uint64
	connected, started        atomic.Bool
	lastErr                   atomic.Pointer[error] // last failed connection attempt

	publications chan *publication // Publish → publishers

	gapReq      chan chan struct{} // listener goroutine → dispatcher, on a lost connection
	startFailed chan error         // a connection error that retrying will not fix
	done        chan struct{}      // closed by Close
}

var _ Broker = (*Postgres)(nil)

// NewPostgres connects a broker to the PostgreSQL database at dsn (a
// postgres:// URL or a key=value connection string, as lib/pq takes them).
// It returns once the listener is listening, or with an error when that has
// not happened within opts.ConnectTimeout.
func NewPostgres(dsn string, opts PostgresOptions) (*Postgres, error) {
	opts.defaults()
	if err := checkChannel(opts.Channel); err != nil {
		return nil, err
	}
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		var ue *url.Error // its message would show the password
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("realtime: invalid PostgreSQL connection string: %w", err)
	}
	params := map[string]string{}
	if cfg.ConnectTimeout == 0 {
		params["connect_timeout"] = strconv.Itoa(max(1, int(opts.ConnectTimeout.Round(time.Second)/time.Second)))
	}
	poolDSN := withParams(dsn, params)
	params["application_name"] = opts.ApplicationName
	listenerDSN := withParams(dsn, params)

	p := &Postgres{
		channel:        opts.Channel,
		hub:            newHub(opts.BufferSize),
		db:             opts.DB,
		log:            opts.Logger,
		publishTimeout: opts.PublishTimeout,
		publications:   make(chan *publication, maxBatch),
		gapReq:         make(chan chan struct{}),
		startFailed:    make(chan error, 1),
		done:           make(chan struct{}),
	}
	if p.db == nil {
		if p.db, err = sql.Open("postgres", poolDSN); err != nil {
			return nil, fmt.Errorf("realtime: opening the publish pool: %w", err)
		}
		p.ownDB = true
		p.db.SetMaxOpenConns(opts.MaxConns)
		p.db.SetMaxIdleConns(opts.MaxConns)
		p.db.SetConnMaxIdleTime(5 * time.Minute)
	}
	for range publishers {
		go p.publish()
	}
	p.listener = pq.NewListener(listenerDSN, opts.MinReconnectInterval, opts.MaxReconnectInterval, p.onEvent)
	go p.dispatch(p.listener.Notify)
	if err := p.listen(opts.ConnectTimeout); err != nil {
		_ = p.Close()
		return nil, err
	}
	if opts.PingInterval > 0 {
		go p.keepAlive(opts.PingInterval)
	}
	return p, nil
}

// listen issues LISTEN and waits for it, for the first connection at most
// timeout.
func (p *Postgres) listen(timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- p.listener.Listen(p.channel) }() // Close ends it
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("realtime: LISTEN %s: %w", p.channel, err)
		}
		p.started.Store(true)
		return nil
	case err := <-p.startFailed:
		return fmt.Errorf("realtime: connecting the PostgreSQL listener: %w", err)
	case <-timer.C:
		if last := p.lastErr.Load(); last != nil {
			return fmt.Errorf("realtime: connecting the PostgreSQL listener: no connection within %s: %w", timeout, *last)
		}
		return fmt.Errorf("realtime: connecting the PostgreSQL listener: no connection within %s", timeout)
	}
}

// onEvent runs on lib/pq's listener goroutine, which also feeds Notify.
func (p *Postgres) onEvent(ev pq.ListenerEventType, err error) {
	switch ev {
	case pq.ListenerEventConnected:
		p.connected.Store(true)
	case pq.ListenerEventReconnected:
		p.connected.Store(true)
		p.log.Info("realtime: PostgreSQL listener reconnected", slog.String("channel", p.channel))
		// The nil notification lib/pq sends next ends the subscriptions made
		// meanwhile, in order with the notifications.
	case pq.ListenerEventDisconnected:
		p.connected.Store(false)
		p.gaps.Add(1)
		p.log.Warn("realtime: PostgreSQL listener lost its connection; ending subscriptions so they replay",
			slog.String("channel", p.channel), slog.Any("err", err))
		p.gap()
	case pq.ListenerEventConnectionAttemptFailed:
		p.connected.Store(false)
		p.lastErr.Store(&err)
		if !p.started.Load() {
			if permanent(err) {
				select {
				case p.startFailed <- err:
				default:
				}
			}
			return
		}
		p.log.Warn("realtime: PostgreSQL listener cannot reconnect", slog.String("channel", p.channel), slog.Any("err", err))
	}
}

// gap hands the lost connection to the dispatcher and waits until it has
// delivered what was received before and ended every subscription.
func (p *Postgres) gap() {
	ack := make(chan struct{})
	select {
	case p.gapReq <- ack:
		<-ack // the dispatcher always answers
	case <-p.done:
	}
}

// dispatch hands notifications to the hub. It runs until lib/pq closes
// Notify (after Close), and must keep reading until then: lib/pq blocks on it.
func (p *Postgres) dispatch(notify <-chan *pq.Notification) {
	for {
		select {
		case n, ok := <-notify:
			if !ok {
				return
			}
			p.handle(n)
		case ack := <-p.gapReq:
			// lib/pq's goroutine, the only sender on notify, is waiting in
			// onEvent: what it received before losing the connection is all
			// buffered. Deliver it, then end the subscriptions.
			open := true
		drain:
			for {
				select {
				case n, ok := <-notify:
					if !ok {
						open = false
						break drain
					}
					p.handle(n)
				default:
					break drain
				}
			}
			p.hub.endAll(ErrGap)
			close(ack)
			if !open {
				return
			}
		}
	}
}

func (p *Postgres) handle(n *pq.Notification) {
	if n == nil {
		// Reconnected: whatever was sent while disconnected is lost.
		p.hub.endAll(ErrGap)
		return
	}
	p.received.Add(1)
	topic, payload, ok := strings.Cut(n.Extra, "\n")
	if !ok || topic == "" || n.Channel != p.channel {
		p.malformed.Add(1)
		return
	}
	_ = p.hub.deliver(topicKey(topic), []byte(payload), false) // ErrClosed: nobody to deliver to
}

// keepAlive pings the listener connection until Close.
func (p *Postgres) keepAlive(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
			_ = p.listener.Ping() // a failure makes lib/pq reconnect
		}
	}
}

// Publish sends payload to every subscriber of topic on every replica,
// this one included, through PostgreSQL. It fails with ErrPayloadTooLarge
// when topic and payload exceed MaxNotifyPayload-1 bytes, and for payloads
// that are not UTF-8 text without NUL bytes (JSON always is). It returns
// within the context's deadline and PublishTimeout, also while the database
// is unreachable; an event whose Publish timed out may still be delivered
// later (possibly after events published since), or not at all.
func (p *Postgres) Publish(ctx context.Context, topic Topic, payload []byte) error {
	return p.PublishAll(ctx, Envelope{Topic: topic, Payload: payload})
}

// PublishAll publishes events as Publish would, in order, in one statement
// (so one transaction) unless two of them are identical. It fails, and
// publishes none, when one of them is not fit for NOTIFY.
func (p *Postgres) PublishAll(ctx context.Context, events ...Envelope) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if p.hub.isClosed() {
		return ErrClosed
	}
	if len(events) == 0 {
		return nil
	}
	texts := make([]string, len(events))
	distinct := make(map[string]bool, len(events))
	for i, e := range events {
		if err := checkNotification(e.Topic.key, e.Payload); err != nil {
			return err
		}
		texts[i] = e.Topic.key + "\n" + string(e.Payload)
		distinct[texts[i]] = true
	}
	if len(distinct) < len(texts) {
		// PostgreSQL would drop the copies sent in the same transaction.
		for _, e := range events {
			if err := p.PublishAll(ctx, e); err != nil {
				return err
			}
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.publishTimeout)
	defer cancel()
	r := &publication{ctx: ctx, notifications: texts, done: make(chan error, 1)}
	err := p.send(r)
	if err != nil {
		if p.hub.isClosed() {
			return ErrClosed
		}
		return fmt.Errorf("realtime: publishing on %s: %w", events[0].Topic, err)
	}
	return nil
}

// send queues r for the publishers and waits for its outcome, until r's
// deadline or Close (the publishers may be gone then).
func (p *Postgres) send(r *publication) error {
	select {
	case p.publications <- r:
	case <-r.ctx.Done():
		return r.ctx.Err()
	case <-p.done:
		return ErrClosed
	}
	var err error
	select {
	case err = <-r.done:
		return err
	case <-r.ctx.Done():
		err = r.ctx.Err()
	case <-p.done:
		err = ErrClosed
	}
	select {
	case err = <-r.done: // sent just in time: its result is the truth
	default:
	}
	return err
}

// checkNotification refuses an event that NOTIFY cannot carry as it is.
func checkNotification(topic string, payload []byte) error {
	if err := checkText("topic", topic); err != nil {
		return err
	}
	if strings.Contains(topic, "\n") {
		return fmt.Errorf("realtime: topic %q contains a newline", topic)
	}
	if size := len(topic) + 1 + len(payload); size > MaxNotifyPayload {
		return fmt.Errorf("%w: %d bytes on %s (topic included), the limit is %d",
			ErrPayloadTooLarge, size, topic, MaxNotifyPayload)
	}
	if !utf8.Valid(payload) || bytes.IndexByte(payload, 0) >= 0 {
		return fmt.Errorf("realtime: payload on %s is not UTF-8 text without NUL bytes, which PostgreSQL NOTIFY requires", topic)
	}
	return nil
}

// publication is what a PublishAll waits to have sent.
type publication struct {
	ctx           context.Context // the PublishAll's, deadline included
	notifications []string        // distinct
	done          chan error      // its outcome, once sent (buffered)
}

// publishers is how many statements sending notifications may run at once.
const publishers = 4

// maxBatch bounds the notifications sent by one statement.
const maxBatch = 256

// publish sends the notifications queued by Publish until Close. Each of
// the publishers takes one, and as many more as are queued at that moment,
// and sends them in one statement (so one transaction: the server takes its
// notification queue's lock once, not once per event). While statements run,
// the events published meanwhile queue up, so batches grow with the load
// and a lone event goes out at once. An event still waits for no other
// than those ahead of it. PostgreSQL drops a notification identical to one
// sent before in the same transaction, so a batch never holds one twice:
// the copy goes in the next batch.
//
// lib/pq honours a context while dialing and waiting for a pooled
// connection, but not during the startup handshake (connect_timeout bounds
// that), and cancels a running query only by asking the server. So Publish
// returns at its deadline whatever happens here; the statement runs until
// lib/pq gives up.
func (p *Postgres) publish() {
	var (
		batch []*publication
		texts []string
		seen  = map[string]bool{}
		held  *publication // a duplicate, first of the next batch
	)
	for {
		batch, texts = batch[:0], texts[:0]
		clear(seen)
		add := func(r *publication) bool {
			for _, n := range r.notifications {
				if seen[n] {
					return false
				}
			}
			if r.ctx.Err() != nil { // its PublishAll has returned
				r.done <- r.ctx.Err()
				return true
			}
			for _, n := range r.notifications {
				seen[n] = true
			}
			batch, texts = append(batch, r), append(texts, r.notifications...)
			return true
		}
		if held != nil {
			add(held)
			held = nil
		} else {
			select {
			case r := <-p.publications:
				add(r)
			case <-p.done:
				return
			}
		}
	more:
		for len(texts) < maxBatch && held == nil {
			select {
			case r := <-p.publications:
				if !add(r) {
					held = r
				}
			default:
				break more
			}
		}
		if len(batch) == 0 {
			continue
		}
		// Every Publish of the batch has returned by then.
		ctx, cancel := context.WithTimeout(context.Background(), p.publishTimeout)
		_, err := p.db.ExecContext(ctx, "SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n", p.channel, pq.StringArray(texts))
		cancel()
		for _, r := range batch {
			r.done <- err
		}
	}
}

// Subscribe registers a subscriber of topic on this replica. Events published
// on any replica after it returns are delivered in publish order. It works
// while the listener is disconnected, but such a subscription is ended with
// ErrGap once the listener has reconnected.
func (p *Postgres) Subscribe(ctx context.Context, topic Topic, opts ...SubscribeOption) (*Subscription, error) {
	return p.hub.subscribe(ctx, topic, opts)
}

// Subscribers returns the number of this replica's subscribers of topic.
func (p *Postgres) Subscribers(topic Topic) int { return p.hub.subscribers(topic) }

// Connected reports whether the listener is connected now.
func (p *Postgres) Connected() bool { return p.connected.Load() && !p.hub.isClosed() }

// Stats returns the broker's counters.
func (p *Postgres) Stats() Stats {
	s := p.hub.stats()
	s.Received = p.received.Load()
	s.Malformed = p.malformed.Load()
	s.Gaps = p.gaps.Load()
	return s
}

// Close ends every subscription with ErrClosed, closes the listener and the
// pool the broker opened, and refuses further use. It is idempotent. lib/pq's
// listener goroutine exits on its own shortly after (at once when connected;
// after its current reconnection wait otherwise).
func (p *Postgres) Close() error {
	if !p.hub.close() {
		return nil
	}
	close(p.done)
	var errs []error
	if err := p.listener.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, fmt.Errorf("realtime: closing the listener: %w", err))
	}
	if p.ownDB {
		if err := p.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("realtime: closing the publish pool: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Open returns a Postgres broker (with opts) for a postgres:// or
// postgresql:// URL, and an in-process Memory broker for anything else (such
// as a SQLite URL or ""; opts.BufferSize applies): one replica needs no more.
func Open(databaseURL string, opts PostgresOptions) (Broker, error) {
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		p, err := NewPostgres(databaseURL, opts)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	return NewMemory(WithBufferSize(opts.BufferSize)), nil
}

// permanent reports connection errors that retrying will not fix: the server
// refused the credentials or has no such database.
func permanent(err error) bool {
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return false
	}
	code := string(pe.Code)
	return strings.HasPrefix(code, "28") || code == "3D000"
}

func checkChannel(channel string) error {
	if len(channel) > 63 {
		return fmt.Errorf("realtime: channel %q is longer than PostgreSQL's 63 bytes", channel)
	}
	return checkText("channel", channel)
}

func checkText(what, s string) error {
	if s == "" {
		return fmt.Errorf("realtime: empty %s", what)
	}
	if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("realtime: %s %q is not UTF-8 text without NUL bytes", what, s)
	}
	return nil
}

// withParams sets connection parameters in a postgres:// URL or a key=value
// connection string (where a later key wins).
func withParams(dsn string, params map[string]string) string {
	if len(params) == 0 {
		return dsn
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			q := u.Query()
			for k, v := range params {
				q.Set(k, v)
			}
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	var b strings.Builder
	b.WriteString(dsn)
	for k, v := range params {
		b.WriteString(" " + k + "='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'")
	}
	return b.String()
}
