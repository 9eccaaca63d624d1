package realtime_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"concierge/realtime"
)

// defaultPostgresURL is dbtest's default; TEST_DATABASE_URL overrides it, as
// there. (dbtest itself is not imported: it pulls in the whole data layer.)
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func postgresURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultPostgresURL
}

var reachable struct {
	once sync.Once
	err  error
}

// requirePostgres returns the test database's URL, or skips the test when
// the server is unreachable (fails it when CI is set), like dbtest.
func requirePostgres(t testing.TB) string {
	t.Helper()
	reachable.once.Do(func() {
		db, err := sql.Open("postgres", postgresURL())
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = db.PingContext(ctx)
			cancel()
			_ = db.Close()
		}
		reachable.err = err
	})
	if err := reachable.err; err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL at %s is required in CI but unreachable: %v", redacted(postgresURL()), err)
		}
		t.Skipf("skipping PostgreSQL test, server at %s unreachable (%v); set TEST_DATABASE_URL or start it",
			redacted(postgresURL()), err)
	}
	return postgresURL()
}

func redacted(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<invalid url>"
	}
	return u.Redacted()
}

func randomName(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

var quiet = slog.New(slog.DiscardHandler)

// newPostgres returns a Postgres broker on the test database, closed when the
// test ends. Without a Channel in opts it gets a channel of its own; pass the
// same Channel to make replicas of one deployment.
func newPostgres(t testing.TB, opts realtime.PostgresOptions) *realtime.Postgres {
	t.Helper()
	dsn := requirePostgres(t)
	if opts.Channel == "" {
		opts.Channel = randomName("rt_test_")
	}
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	p, err := realtime.NewPostgres(dsn, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p
}

// replicas returns n brokers sharing one channel, as n replicas of one
// deployment would.
func replicas(t testing.TB, n int, opts realtime.PostgresOptions) []*realtime.Postgres {
	t.Helper()
	opts.Channel = randomName("rt_test_")
	out := make([]*realtime.Postgres, n)
	for i := range out {
		out[i] = newPostgres(t, opts)
	}
	return out
}

func adminDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", requirePostgres(t))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// expectSequence reads want events in order, failing on anything else.
func expectSequence(ctx context.Context, t *testing.T, sub *realtime.Subscription, want []string) {
	t.Helper()
	for i, w := range want {
		got := receive(ctx, t, sub)
		if got != w {
			t.Fatalf("event %d: got %q, want %q", i, got, w)
		}
	}
}

func TestPostgresReplicasReceiveEachEventOnceInOrder(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	const n = 1000
	rs := replicas(t, 2, realtime.PostgresOptions{BufferSize: n + 10})
	a, b := rs[0], rs[1]
	topic := convTopic(uuid.New(), uuid.New())

	subA, err := a.Subscribe(ctx, topic)
	require.NoError(t, err)
	subB, err := b.Subscribe(ctx, topic)
	require.NoError(t, err)

	want := make([]string, 0, n+1)
	for i := range n {
		want = append(want, `{"seq":`+strconv.Itoa(i)+`}`)
	}
	for _, p := range want {
		require.NoError(t, a.Publish(ctx, topic, []byte(p)))
	}
	// A sentinel published last: nothing may arrive between the events and
	// it, so no event came twice.
	want = append(want, "end")
	require.NoError(t, a.Publish(ctx, topic, []byte("end")))

	var wg sync.WaitGroup
	for _, sub := range []*realtime.Subscription{subA, subB} {
		wg.Go(func() { expectSequence(ctx, t, sub, want) })
	}
	wg.Wait()
	require.Empty(t, subA.C())
	require.Empty(t, subB.C())
	require.NoError(t, subA.Err())
	require.NoError(t, subB.Err())

	for _, r := range rs {
		s := r.Stats()
		require.EqualValues(t, n+1, s.Delivered)
		require.EqualValues(t, n+1, s.Received)
		require.Zero(t, s.Dropped)
		require.Zero(t, s.Malformed)
		require.Zero(t, s.Gaps)
		require.True(t, r.Connected())
	}
}

func TestPostgresReplicasAgreeOnOrderAcrossPublishers(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	rs := replicas(t, 3, realtime.PostgresOptions{})
	topic := inboxTopic(uuid.New())

	subs := make([]*realtime.Subscription, len(rs))
	for i, r := range rs {
		var err error
		subs[i], err = r.Subscribe(ctx, topic)
		require.NoError(t, err)
	}
	// One goroutine publishing through every replica in turn: each Publish
	// commits before the next, so that is the order everyone must see.
	var want []string
	for i := range 120 {
		p := strconv.Itoa(i)
		want = append(want, p)
		require.NoError(t, rs[i%len(rs)].Publish(ctx, topic, []byte(p)))
	}
	for _, sub := range subs {
		expectSequence(ctx, t, sub, want)
	}
}

func TestPostgresTopicsAreIsolatedAcrossReplicas(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	rs := replicas(t, 2, realtime.PostgresOptions{})
	a, b := rs[0], rs[1]
	companyX, companyY := uuid.New(), uuid.New()
	conv := uuid.New() // the same id under two companies

	inboxX, err := b.Subscribe(ctx, inboxTopic(companyX))
	require.NoError(t, err)
	convX, err := b.Subscribe(ctx, convTopic(companyX, conv))
	require.NoError(t, err)
	inboxY, err := b.Subscribe(ctx, inboxTopic(companyY))
	require.NoError(t, err)

	for i := range 20 {
		require.NoError(t, a.Publish(ctx, inboxTopic(companyY), []byte("y-inbox-"+strconv.Itoa(i))))
		require.NoError(t, a.Publish(ctx, convTopic(companyY, conv), []byte("y-conv")))
		require.NoError(t, a.Publish(ctx, resourcesTopic(companyX), []byte("x-resources")))
	}
	require.NoError(t, a.Publish(ctx, inboxTopic(companyX), []byte("x-inbox")))
	require.NoError(t, a.Publish(ctx, convTopic(companyX, conv), []byte("x-conv")))

	// One channel, commit order: whatever was misrouted would be ahead.
	require.Equal(t, "x-inbox", receive(ctx, t, inboxX))
	require.Equal(t, "x-conv", receive(ctx, t, convX))
	require.Empty(t, inboxX.C())
	require.Empty(t, convX.C())
	for i := range 20 {
		require.Equal(t, "y-inbox-"+strconv.Itoa(i), receive(ctx, t, inboxY))
	}
	require.Empty(t, inboxY.C())
}

func TestPostgresSlowSubscriberIsDroppedWithoutBlockingOthers(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	const buffer, n = 4, 50
	rs := replicas(t, 2, realtime.PostgresOptions{BufferSize: buffer})
	a, b := rs[0], rs[1]
	topic := convTopic(uuid.New(), uuid.New())

	slow, err := b.Subscribe(ctx, topic) // never reads
	require.NoError(t, err)
	fastB, err := b.Subscribe(ctx, topic)
	require.NoError(t, err)
	fastA, err := a.Subscribe(ctx, topic)
	require.NoError(t, err)

	// The fast subscribers keep up (their buffer is as small as the slow
	// one's: they read each event before the next is published).
	var want []string
	for i := range n {
		p := strconv.Itoa(i)
		want = append(want, p)
		publish(ctx, t, a, topic, p)
		require.Equal(t, p, receive(ctx, t, fastA))
		require.Equal(t, p, receive(ctx, t, fastB))
	}

	rest := waitClosed(ctx, t, slow)
	require.Equal(t, want[:buffer], rest)
	require.ErrorIs(t, slow.Err(), realtime.ErrLagged)
	require.NotErrorIs(t, slow.Err(), realtime.ErrGap) // lagging is not a gap
	require.NoError(t, fastA.Err())
	require.NoError(t, fastB.Err())
	require.Equal(t, 1, b.Subscribers(topic))
	require.EqualValues(t, 1, b.Stats().Dropped)
	require.Zero(t, a.Stats().Dropped)
}

func TestPostgresPayloadLimits(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	b := newPostgres(t, realtime.PostgresOptions{})
	topic := convTopic(uuid.New(), uuid.New())
	sub, err := b.Subscribe(ctx, topic)
	require.NoError(t, err)

	// The largest event that fits, with multi-byte text: delivered intact.
	room := realtime.MaxNotifyPayload - len(topic.String()) - 1
	largest := `"` + strings.Repeat("é", (room-2)/2) + strings.Repeat("x", (room-2)%2) + `"`
	require.Len(t, largest, room)
	require.NoError(t, b.Publish(ctx, topic, []byte(largest)))
	require.Equal(t, largest, receive(ctx, t, sub))

	// One byte more is refused, never truncated.
	err = b.Publish(ctx, topic, []byte(largest+" "))
	require.ErrorIs(t, err, realtime.ErrPayloadTooLarge)
	require.Contains(t, err.Error(), strconv.Itoa(realtime.MaxNotifyPayload))
	err = b.Publish(ctx, topic, make([]byte, 64<<10))
	require.ErrorIs(t, err, realtime.ErrPayloadTooLarge)
	err = realtime.PublishJSON(ctx, b, topic, map[string]string{"delta": strings.Repeat("a", 8000)})
	require.ErrorIs(t, err, realtime.ErrPayloadTooLarge)

	// What NOTIFY cannot carry is refused too.
	require.Error(t, b.Publish(ctx, topic, []byte{0xff, 0xfe}))
	require.Error(t, b.Publish(ctx, topic, []byte("a\x00b")))
	// (A topic with a newline cannot be built: keys are derived.)
	require.Error(t, b.Publish(ctx, realtime.Topic{}, []byte("{}")))

	// Nothing of it was sent; an empty payload is fine.
	require.NoError(t, b.Publish(ctx, topic, nil))
	require.Equal(t, "", receive(ctx, t, sub))
	require.Empty(t, sub.C())
	require.NoError(t, sub.Err())
}

func TestPostgresOwnEventsComeBackThroughTheListenerOnly(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	b := newPostgres(t, realtime.PostgresOptions{})
	topic := resourcesTopic(uuid.New())
	sub, err := b.Subscribe(ctx, topic)
	require.NoError(t, err)

	require.NoError(t, b.Publish(ctx, topic, []byte("1")))
	require.NoError(t, b.Publish(ctx, topic, []byte("2")))
	expectSequence(ctx, t, sub, []string{"1", "2"})
	require.NoError(t, b.Publish(ctx, topic, []byte("3")))
	require.Equal(t, "3", receive(ctx, t, sub)) // not a second "1" or "2"
	require.EqualValues(t, 3, b.Stats().Received)
}

func TestPostgresIgnoresForeignNotifications(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	channel := randomName("rt_test_")
	b := newPostgres(t, realtime.PostgresOptions{Channel: channel})
	topic := inboxTopic(uuid.New())
	sub, err := b.Subscribe(ctx, topic)
	require.NoError(t, err)

	db := adminDB(t)
	_, err = db.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, "no newline here")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, "\nno topic")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "SELECT pg_notify($1, $2)", channel, topic.String()+"\nfrom psql")
	require.NoError(t, err)
	require.Equal(t, "from psql", receive(ctx, t, sub))
	require.EqualValues(t, 2, b.Stats().Malformed)
	require.NoError(t, sub.Err())
}

// killListener terminates the listener connection of the brokers with this
// application_name, from another connection, and returns how many it killed.
func killListener(ctx context.Context, t *testing.T, db *sql.DB, applicationName string) int {
	t.Helper()
	var killed int
	require.NoError(t, db.QueryRowContext(ctx,
		`SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		 WHERE application_name = $1 AND pid <> pg_backend_pid()) AS t`, applicationName).Scan(&killed))
	return killed
}

func TestPostgresReconnectEndsSubscriptionsWithErrGap(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	channel := randomName("rt_test_")
	app := randomName("concierge-listener-test-")
	// A: the replica whose listener dies. A long minimum reconnect interval
	// keeps it disconnected for a while, to subscribe meanwhile.
	a := newPostgres(t, realtime.PostgresOptions{
		Channel: channel, ApplicationName: app,
		MinReconnectInterval: 1500 * time.Millisecond, MaxReconnectInterval: 2 * time.Second,
	})
	b := newPostgres(t, realtime.PostgresOptions{Channel: channel}) // another replica
	company := uuid.New()
	inbox, conv := inboxTopic(company), convTopic(company, uuid.New())

	subInbox, err := a.Subscribe(ctx, inbox)
	require.NoError(t, err)
	subConv, err := a.Subscribe(ctx, conv)
	require.NoError(t, err)
	subB, err := b.Subscribe(ctx, inbox)
	require.NoError(t, err)
	publish(ctx, t, b, inbox, "before")
	require.Equal(t, "before", receive(ctx, t, subInbox))
	require.Equal(t, "before", receive(ctx, t, subB))

	require.Equal(t, 1, killListener(ctx, t, adminDB(t), app))

	// Every subscription open on A ends with ErrGap, which is an ErrLagged,
	// so chat's resubscribe-and-replay handles it.
	for _, sub := range []*realtime.Subscription{subInbox, subConv} {
		require.Empty(t, waitClosed(ctx, t, sub))
		require.ErrorIs(t, sub.Err(), realtime.ErrLagged)
		require.ErrorIs(t, sub.Err(), realtime.ErrGap)
	}
	require.Zero(t, a.Subscribers(inbox))
	require.EqualValues(t, 1, a.Stats().Gaps)

	// Subscribing while disconnected works; such a subscription may miss
	// events, so it too ends with ErrGap once the listener is back.
	during, err := a.Subscribe(ctx, inbox)
	require.NoError(t, err)
	disconnected := !a.Connected() // checked after subscribing: it predates the reconnection
	// Publishing still works (the pool is fine) and B is unaffected.
	publish(ctx, t, a, inbox, "while A listens not")
	require.Equal(t, "while A listens not", receive(ctx, t, subB))
	if disconnected {
		require.Empty(t, waitClosed(ctx, t, during))
		require.ErrorIs(t, during.Err(), realtime.ErrGap)
	} else {
		t.Log("the listener reconnected before the check; not asserting on the subscription made meanwhile")
		during.Close()
	}

	// New subscriptions receive events again once A has reconnected.
	deadline := time.Now().Add(15 * time.Second)
	for attempt := 0; ; attempt++ {
		require.True(t, time.Now().Before(deadline), "A never received events again")
		sub, err := a.Subscribe(ctx, inbox)
		require.NoError(t, err)
		p := "after-" + strconv.Itoa(attempt)
		publish(ctx, t, b, inbox, p)
		var got []byte
		select {
		case got = <-sub.C():
		case <-time.After(300 * time.Millisecond):
		}
		sub.Close()
		if string(got) == p {
			break
		}
	}
	require.True(t, a.Connected())
	require.NoError(t, subB.Err()) // B's listener never dropped
}

func TestPostgresCloseEndsEverything(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	rs := replicas(t, 2, realtime.PostgresOptions{})
	a, b := rs[0], rs[1]
	topic := inboxTopic(uuid.New())
	subA, err := a.Subscribe(ctx, topic)
	require.NoError(t, err)
	subB, err := b.Subscribe(ctx, topic)
	require.NoError(t, err)

	require.NoError(t, a.Close())
	require.NoError(t, a.Close())
	require.Empty(t, waitClosed(ctx, t, subA))
	require.ErrorIs(t, subA.Err(), realtime.ErrClosed)
	require.NotErrorIs(t, subA.Err(), realtime.ErrLagged)
	require.ErrorIs(t, a.Publish(ctx, topic, []byte("x")), realtime.ErrClosed)
	_, err = a.Subscribe(ctx, topic)
	require.ErrorIs(t, err, realtime.ErrClosed)
	require.False(t, a.Connected())

	// The other replica goes on.
	publish(ctx, t, b, topic, "still")
	require.Equal(t, "still", receive(ctx, t, subB))
}

func TestPostgresKeepsCallersDB(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	db := adminDB(t)
	b := newPostgres(t, realtime.PostgresOptions{DB: db})
	topic := inboxTopic(uuid.New())
	sub, err := b.Subscribe(ctx, topic)
	require.NoError(t, err)
	publish(ctx, t, b, topic, "via the caller's pool")
	require.Equal(t, "via the caller's pool", receive(ctx, t, sub))
	require.NoError(t, b.Close())
	require.NoError(t, db.PingContext(ctx)) // not closed by the broker
}

func TestPostgresPublishFailsFastWhenTheDatabaseIsUnreachable(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	for name, dsn := range map[string]string{
		"refused":    "postgres://postgres@127.0.0.1:1/test?sslmode=disable",
		"blackholed": "postgres://postgres@10.255.255.1:5432/test?sslmode=disable",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dead, err := sql.Open("postgres", dsn)
			require.NoError(t, err)
			t.Cleanup(func() { _ = dead.Close() })
			b := newPostgres(t, realtime.PostgresOptions{DB: dead, PublishTimeout: 500 * time.Millisecond})

			start := time.Now()
			err = b.Publish(ctx, inboxTopic(uuid.New()), []byte("{}"))
			require.Error(t, err)
			require.Less(t, time.Since(start), 1500*time.Millisecond)

			// The caller's deadline bounds it as well.
			short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			start = time.Now()
			require.Error(t, b.Publish(short, inboxTopic(uuid.New()), []byte("{}")))
			require.Less(t, time.Since(start), 1500*time.Millisecond)
		})
	}
}

func TestNewPostgresFailsClearly(t *testing.T) {
	t.Parallel()
	base := requirePostgres(t)

	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		_, err := realtime.NewPostgres("postgres://postgres@127.0.0.1:1/test?sslmode=disable",
			realtime.PostgresOptions{ConnectTimeout: time.Second, Logger: quiet})
		require.Error(t, err)
		require.Contains(t, err.Error(), "no connection within 1s")
		require.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("no such database", func(t *testing.T) {
		t.Parallel()
		u, err := url.Parse(base)
		require.NoError(t, err)
		u.Path = "/" + randomName("missing_")
		start := time.Now()
		_, err = realtime.NewPostgres(u.String(), realtime.PostgresOptions{ConnectTimeout: 10 * time.Second, Logger: quiet})
		require.Error(t, err)
		require.Contains(t, err.Error(), "does not exist")
		require.Less(t, time.Since(start), 5*time.Second) // not retried until the timeout
	})
	t.Run("bad options", func(t *testing.T) {
		t.Parallel()
		_, err := realtime.NewPostgres(base, realtime.PostgresOptions{Channel: strings.Repeat("c", 64)})
		require.Error(t, err)
		_, err = realtime.NewPostgres("postgres://user:secret@[::1", realtime.PostgresOptions{})
		require.Error(t, err)
		require.NotContains(t, err.Error(), "secret")
	})
}

func TestOpen(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "sqlite://data/concierge.db", "file:test.db"} {
		b, err := realtime.Open(u, realtime.PostgresOptions{})
		require.NoError(t, err)
		require.IsType(t, &realtime.Memory{}, b)
		require.NoError(t, b.Close())
	}
	u := requirePostgres(t)
	for _, u := range []string{u, strings.Replace(u, "postgres://", "postgresql://", 1)} {
		b, err := realtime.Open(u, realtime.PostgresOptions{})
		require.NoError(t, err)
		require.IsType(t, &realtime.Postgres{}, b)
		require.NoError(t, b.Close())
	}
}

// TestPostgresNoGoroutineLeak is not parallel, like TestNoGoroutineLeak.
func TestPostgresNoGoroutineLeak(t *testing.T) {
	ctx := bound(t)
	requirePostgres(t) // its connection check is done and closed
	admin, err := sql.Open("postgres", requirePostgres(t))
	require.NoError(t, err)
	defer admin.Close()
	before := runtime.NumGoroutine()

	channel := randomName("rt_test_")
	var brokers []*realtime.Postgres
	for i := range 2 {
		b, err := realtime.NewPostgres(requirePostgres(t), realtime.PostgresOptions{
			Channel: channel, Logger: quiet, BufferSize: 1, PingInterval: 10 * time.Millisecond,
			ApplicationName: channel + "-" + strconv.Itoa(i),
		})
		require.NoError(t, err)
		brokers = append(brokers, b)
	}
	topic := inboxTopic(uuid.New())

	// A reconnection on the first one.
	gapped, err := brokers[0].Subscribe(ctx, topic)
	require.NoError(t, err)
	require.Equal(t, 1, killListener(ctx, t, admin, channel+"-0"))
	waitClosed(ctx, t, gapped)
	require.ErrorIs(t, gapped.Err(), realtime.ErrGap)
	for !brokers[0].Connected() {
		select {
		case <-ctx.Done():
			t.Fatal("no reconnection")
		case <-time.After(10 * time.Millisecond):
		}
	}
	var subs []*realtime.Subscription
	for _, b := range brokers {
		for range 5 {
			sub, err := b.Subscribe(ctx, topic)
			require.NoError(t, err)
			subs = append(subs, sub)
		}
	}
	subCtx, cancel := context.WithCancel(ctx)
	canceled, err := brokers[1].Subscribe(subCtx, topic)
	require.NoError(t, err)
	require.NoError(t, brokers[0].Publish(ctx, topic, []byte("1")))
	for _, sub := range subs[:3] {
		require.Equal(t, "1", receive(ctx, t, sub))
	}
	require.NoError(t, brokers[0].Publish(ctx, topic, []byte("2"))) // some lag
	cancel()
	waitClosed(ctx, t, canceled)
	for _, b := range brokers {
		require.NoError(t, b.Close())
	}
	for _, sub := range subs {
		waitClosed(ctx, t, sub)
	}
	require.NoError(t, admin.Close())

	for runtime.NumGoroutine() > before {
		select {
		case <-ctx.Done():
			buf := make([]byte, 1<<16)
			t.Fatalf("goroutines: before %d, after %d\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Concurrent publishers share statements (batches), and every event still
// arrives once, each publisher's in its order, identical events included
// (PostgreSQL drops a notification repeated within one transaction).
func TestPostgresConcurrentPublishesAllArrive(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	const publishersN, each = 16, 150
	rs := replicas(t, 2, realtime.PostgresOptions{BufferSize: publishersN*each*2 + 10})
	a, b := rs[0], rs[1]
	topic := convTopic(uuid.New(), uuid.New())
	sub, err := b.Subscribe(ctx, topic)
	require.NoError(t, err)

	var wg sync.WaitGroup
	for g := range publishersN {
		wg.Go(func() {
			for i := range each {
				require.NoError(t, a.Publish(ctx, topic, []byte(strconv.Itoa(g)+"/"+strconv.Itoa(i))))
				require.NoError(t, a.Publish(ctx, topic, []byte(`"same"`)))
			}
		})
	}
	wg.Wait()
	require.NoError(t, a.Publish(ctx, topic, []byte("end")))

	next := make([]int, publishersN)
	same := 0
	for {
		var p []byte
		select {
		case p = <-sub.C():
		case <-ctx.Done():
			t.Fatalf("waiting for events: %v (same %d, next %v)", ctx.Err(), same, next)
		}
		s := string(p)
		if s == "end" {
			break
		}
		if s == `"same"` {
			same++
			continue
		}
		gs, is, ok := strings.Cut(s, "/")
		require.True(t, ok, s)
		g, _ := strconv.Atoi(gs)
		i, _ := strconv.Atoi(is)
		require.Equal(t, next[g], i, "publisher %d's events in order", g)
		next[g]++
	}
	for g := range publishersN {
		require.Equal(t, each, next[g], "publisher %d", g)
	}
	require.Equal(t, publishersN*each, same, "identical events each arrive")
}

// Publishes waiting to be sent when the broker closes return at once with
// ErrClosed, not at their deadline: here the publishers wait for the one
// connection of the broker's pool, which the test holds.
func TestPostgresCloseEndsPublishes(t *testing.T) {
	t.Parallel()
	ctx := bound(t)
	db := adminDB(t)
	db.SetMaxOpenConns(1)
	b := newPostgres(t, realtime.PostgresOptions{DB: db, PublishTimeout: time.Minute})
	held, err := db.Conn(ctx)
	require.NoError(t, err)
	defer held.Close()

	topic := inboxTopic(uuid.New())
	errs := make(chan error, 8)
	for g := range 8 {
		go func() { errs <- b.Publish(ctx, topic, []byte(strconv.Itoa(g))) }()
	}
	time.Sleep(100 * time.Millisecond) // all queued or waiting for the connection
	start := time.Now()
	require.NoError(t, b.Close())
	for range 8 {
		select {
		case err := <-errs:
			require.ErrorIs(t, err, realtime.ErrClosed)
		case <-ctx.Done():
			t.Fatal("a publish waited for its deadline after Close")
		}
	}
	require.Less(t, time.Since(start), 5*time.Second)
}
