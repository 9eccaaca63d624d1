// Package ingest turns resources (texts, PDFs, websites, Facebook pages)
// into searchable knowledge as durable River jobs: extract → chunk → store
// the Chunk rows → index them through the retrieval service, with status
// and progress published to the company's subscribers at every step.
//
// A resource and its job are created in one database transaction, so a
// committed resource always has its job. Jobs run with the system viewer of
// the company named in their args, so ent's privacy rules keep a job inside
// its company. Extractors plug in per resource type (Config.Extractors).
package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"concierge/audit"
	"concierge/viewer"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"concierge/auth"
	"concierge/db"
	"concierge/ent"
	entchunk "concierge/ent/chunk"
	"concierge/ent/resource"
	"concierge/fault"
	"concierge/filestore"
	"concierge/ingest/chunk"
	"concierge/observe"
	"concierge/realtime"
	"concierge/retrieval"
	"concierge/secretbox"
)

// Limits of a TEXT resource.
const (
	MaxTextBytes  = 1 << 20
	MaxTitleRunes = 500
)

// Defaults of Config.
const (
	DefaultJobTimeout  = 10 * time.Minute
	DefaultMaxAttempts = 5
	DefaultWorkers     = 4
)

// Config wires a Service.
type Config struct {
	DB *db.DB
	// Index is the knowledge index (nil: chunks are stored, not indexed).
	Index  *retrieval.Service
	Broker realtime.Broker
	// Files holds uploaded files; deleting a resource removes its file.
	Files *filestore.Store
	// Extractors by resource type, added to the built-in TEXT one (and
	// replacing it when they name TEXT).
	Extractors map[resource.Type]Extractor
	// Secrets seals third-party credentials (Facebook page access tokens)
	// at rest; nil refuses resources that need them.
	Secrets *secretbox.Box
	// Chunking sets the chunk sizes (zero: chunk's defaults).
	Chunking chunk.Options
	// Workers is how many jobs one process runs at once.
	Workers int
	// JobTimeout bounds one attempt (default 10 minutes). RescueGrace
	// (default db.DefaultRescueGrace) is how long past its attempt's limit
	// a job of any kind still marked running is taken for one whose
	// process died and run again (db.AttemptLimit): an ingestion job
	// JobTimeout + RescueGrace after it started, a reply ReplyTimeout +
	// RescueGrace after.
	JobTimeout, RescueGrace time.Duration
	// MaxAttempts before a resource fails for good.
	MaxAttempts int
	// SweepInterval is how often the leader looks for resources left
	// PENDING or PROCESSING without a job (default 1 minute), and
	// InterruptedAfter how long such a resource must have been unchanged
	// before it is failed (default JobTimeout + RescueGrace).
	SweepInterval, InterruptedAfter time.Duration
	// Limits keeps the per-plan quota of ingestion jobs (JobsPerHour),
	// shared by every replica; nil: no quota.
	Limits auth.Store
	// PollInterval is how often workers look for jobs inserted by other
	// processes (default 1s).
	PollInterval time.Duration
	// ResyncScanInterval is how often the leader looks for websites and
	// Facebook pages due for their scheduled re-sync (default 1 minute).
	ResyncScanInterval time.Duration
	// Now is the clock of the re-sync schedule (default time.Now).
	Now func() time.Time
	// Register adds other services' workers (chat's replies) to the
	// process's one River client, with their Queues: one client per
	// process, so one leader runs River's maintenance (rescue of stuck
	// jobs, periodic jobs) for every kind. Their Timeout is their
	// db.AttemptLimit with the grace Register is given (RescueGrace).
	Register func(w *river.Workers, grace time.Duration) error
	Queues   map[string]river.QueueConfig
	Logger   *slog.Logger
}

// Service manages resources and runs their ingestion jobs.
type Service struct {
	cfg        Config
	db         *db.DB
	index      *retrieval.Service
	broker     realtime.Broker
	files      *filestore.Store
	extractors map[resource.Type]Extractor
	river      *river.Client[*sql.Tx]
	log        *slog.Logger
}

// limit is the db.AttemptLimit of a job kind whose attempts take up to d.
func (s *Service) limit(d time.Duration) db.AttemptLimit {
	return db.AttemptLimit{Limit: d, Grace: s.cfg.RescueGrace}
}

// New returns a Service. Its River client inserts jobs at once and runs
// them after Start.
func New(cfg Config) (*Service, error) {
	if cfg.DB == nil || cfg.Broker == nil {
		return nil, errors.New("ingest: DB and Broker are required")
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = DefaultJobTimeout
	}
	if cfg.RescueGrace <= 0 {
		cfg.RescueGrace = db.DefaultRescueGrace
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = DefaultSweepInterval
	}
	if cfg.InterruptedAfter <= 0 {
		cfg.InterruptedAfter = cfg.JobTimeout + cfg.RescueGrace
	}
	if cfg.ResyncScanInterval <= 0 {
		cfg.ResyncScanInterval = DefaultResyncScanInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Service{cfg: cfg, db: cfg.DB, index: cfg.Index, broker: cfg.Broker, files: cfg.Files, log: cfg.Logger,
		extractors: map[resource.Type]Extractor{resource.TypeTEXT: ExtractorFunc(textExtractor)}}
	if cfg.Files != nil {
		s.extractors[resource.TypePDF] = pdfExtractor{dir: cfg.Files.Dir()}
	}
	for t, ex := range cfg.Extractors {
		s.extractors[t] = ex
	}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker{s: s}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &scanWorker[SweepInterruptedArgs]{s: s, run: s.SweepInterrupted,
		done: "ingest: failed interrupted resources", level: slog.LevelWarn}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &scanWorker[ResyncDueArgs]{s: s, run: s.ResyncDue,
		done: "ingest: started scheduled re-syncs", level: slog.LevelInfo}); err != nil {
		return nil, err
	}
	if err := river.AddWorkerSafely(workers, &cleanupWorker{s: s}); err != nil {
		return nil, err
	}
	if cfg.Register != nil {
		if err := cfg.Register(workers, cfg.RescueGrace); err != nil {
			return nil, err
		}
	}
	queues := map[string]river.QueueConfig{Queue: {MaxWorkers: cfg.Workers}, QueueMaintenance: {MaxWorkers: 1}}
	for name, q := range cfg.Queues {
		queues[name] = q
	}
	rc, err := river.NewClient(cfg.DB.RiverDriver(), &river.Config{
		Queues: queues,
		PeriodicJobs: []*river.PeriodicJob{
			scanPeriodicJob(cfg.SweepInterval, SweepPeriodicJobID, SweepInterruptedArgs{}),
			scanPeriodicJob(cfg.ResyncScanInterval, ResyncPeriodicJobID, ResyncDueArgs{}),
		},
		Workers: workers,
		// Every worker sets its own Timeout (db.AttemptLimit); River's
		// rescuer waits for it, and at least for RescueStuckJobsAfter.
		JobTimeout:           cfg.RescueGrace,
		RescueStuckJobsAfter: cfg.RescueGrace,
		MaxAttempts:          cfg.MaxAttempts,
		FetchPollInterval:    cfg.PollInterval,
		Logger:               slog.New(quiet{cfg.Logger.Handler()}).With(slog.String("component", "river")),
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: job queue: %w", err)
	}
	s.river = rc
	return s, nil
}

// Start runs the workers in this process until Stop or ctx ends.
func (s *Service) Start(ctx context.Context) error {
	observe.WatchRiver(ctx, s.river) // job metrics, until Stop
	return s.river.Start(ctx)
}

// Stop lets running jobs finish for up to grace, then cancels them (they
// are retried later). It is safe to call without Start.
func (s *Service) Stop(grace time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.river.Stop(ctx); err == nil {
		return
	}
	hard, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	_ = s.river.StopAndCancel(hard)
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// River returns the job-queue client (for tests and operations).
func (s *Service) River() *river.Client[*sql.Tx] { return s.river }

// Event is a change of a resource, published on Topic.
type Event struct {
	CompanyID  uuid.UUID       `json:"companyId"`
	ResourceID uuid.UUID       `json:"resourceId"`
	Status     resource.Status `json:"status"`
	Progress   float64         `json:"progress"`
	Deleted    bool            `json:"deleted,omitempty"`
}

// Topic is the realtime topic of a company's resource events, as its
// publisher (the system viewer of the company) derives it.
func Topic(companyID uuid.UUID) realtime.Topic {
	t, _ := realtime.CompanyTopic(viewer.System(companyID), realtime.FeedResources, uuid.Nil)
	return t // zero (refused by the broker) only for uuid.Nil
}

func (s *Service) publish(ctx context.Context, r *ent.Resource, deleted bool) {
	e := Event{CompanyID: r.CompanyID, ResourceID: r.ID, Status: r.Status, Progress: r.Progress, Deleted: deleted}
	if err := realtime.PublishJSON(context.WithoutCancel(ctx), s.broker, Topic(r.CompanyID), e); err != nil {
		s.log.WarnContext(ctx, "ingest: publishing resource event", slog.Any("err", err))
	}
}

// withTx runs fn on an ent client bound to one database transaction.
func (s *Service) withTx(ctx context.Context, fn func(tx *ent.Client) error) error {
	return s.withSQLTx(ctx, func(tx *ent.Client, _ *sql.Tx) error { return fn(tx) })
}

// withSQLTx runs fn on an ent client bound to one database transaction
// and on the transaction itself (for River's InsertTx).
func (s *Service) withSQLTx(ctx context.Context, fn func(tx *ent.Client, stx *sql.Tx) error) error {
	tx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit; also on panic
	if err := fn(s.db.TxClient(tx), tx); err != nil {
		return err
	}
	return tx.Commit()
}

// create inserts a resource and its ingestion job in one transaction.
func (s *Service) create(ctx context.Context, build func(tx *ent.Client) *ent.ResourceCreate) (*ent.Resource, error) {
	if err := s.takeJob(ctx); err != nil {
		return nil, err
	}
	tx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	r, err := build(s.db.TxClient(tx)).Save(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.enqueue(ctx, tx, r); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	s.publish(ctx, r, false)
	s.audit(ctx, r, "resource.create", "type: "+string(r.Type))
	// Reloaded on the pool: r is bound to the finished transaction, and
	// its edges would not load.
	return s.db.Client.Resource.Get(ctx, r.ID)
}

// enqueue inserts r's job on tx.
func (s *Service) enqueue(ctx context.Context, tx *sql.Tx, r *ent.Resource) error {
	_, err := s.river.InsertTx(ctx, tx, IngestResourceArgs{CompanyID: r.CompanyID, ResourceID: r.ID}, nil)
	if err != nil {
		return fmt.Errorf("ingest: enqueueing: %w", err)
	}
	return nil
}

// tenant returns the viewer's company, or the error for a viewer without
// one.
func tenant(ctx context.Context) (uuid.UUID, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.Kind == viewer.KindNone {
		return uuid.Nil, fault.Unauthenticated("log in first")
	}
	id, ok := v.Tenant()
	if !ok {
		return uuid.Nil, fault.Forbidden("knowledge belongs to a company: log in as one of its admins")
	}
	return id, nil
}

func cleanTitle(title string) (string, error) {
	t := strings.TrimSpace(title)
	switch {
	case t == "":
		return "", fault.Invalid("title", "title is required")
	case !utf8.ValidString(t):
		return "", fault.Invalid("title", "title must be valid UTF-8")
	case utf8.RuneCountInString(t) > MaxTitleRunes:
		return "", fault.Invalid("title", "title is longer than %d characters", MaxTitleRunes)
	case strings.ContainsFunc(t, func(r rune) bool { return r < 0x20 }):
		return "", fault.Invalid("title", "title must be one line")
	}
	return t, nil
}

// AddText adds a TEXT resource and enqueues its ingestion. Company admins
// and knowledge:write keys may.
func (s *Service) AddText(ctx context.Context, title, content string) (*ent.Resource, error) {
	cid, err := tenant(ctx)
	if err != nil {
		return nil, err
	}
	t, err := cleanTitle(title)
	if err != nil {
		return nil, err
	}
	switch {
	case len(content) > MaxTextBytes:
		return nil, fault.Invalid("content", "content is %d bytes, at most %d (1 MB) are accepted", len(content), MaxTextBytes)
	case strings.TrimSpace(content) == "":
		return nil, fault.Invalid("content", "content is required")
	case !utf8.ValidString(content):
		return nil, fault.Invalid("content", "content must be valid UTF-8 text")
	case strings.ContainsRune(content, 0):
		return nil, fault.Invalid("content", "content must be text (it contains NUL bytes)")
	}
	return s.create(ctx, func(tx *ent.Client) *ent.ResourceCreate {
		return tx.Resource.Create().SetCompanyID(cid).SetType(resource.TypeTEXT).SetTitle(t).
			SetExtractedContent(content).SetStatus(resource.StatusPENDING)
	})
}

// Get returns a resource the viewer may see.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*ent.Resource, error) {
	r, err := s.db.Client.Resource.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, fault.NotFound("resource")
	}
	return r, err
}

// Pages of Chunks.
const (
	DefaultChunkPage = 20
	MaxChunkPage     = 100
)

// Chunks returns a resource's chunks in order, limit of them (default
// DefaultChunkPage, at most MaxChunkPage) after the first offset (default
// 0), and how many it has. The viewer reads them as it reads the resource
// (privacy); a resource it cannot see has none.
func (s *Service) Chunks(ctx context.Context, resourceID uuid.UUID, offset, limit *int) ([]*ent.Chunk, int, error) {
	off, lim := 0, DefaultChunkPage
	if offset != nil {
		if off = *offset; off < 0 {
			return nil, 0, fault.Invalid("offset", "offset must be 0 or more")
		}
	}
	if limit != nil {
		if lim = *limit; lim < 0 || lim > MaxChunkPage {
			return nil, 0, fault.Invalid("limit", "limit must be between 0 and %d", MaxChunkPage)
		}
	}
	q := s.db.Client.Chunk.Query().Where(entchunk.ResourceID(resourceID))
	total, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, err
	}
	if lim == 0 {
		return []*ent.Chunk{}, total, nil // ent reads Limit(0) as no limit at all
	}
	cs, err := q.Order(entchunk.ByOrdinal(), entchunk.ByID()).Offset(off).Limit(lim).All(ctx)
	if err != nil {
		return nil, 0, err
	}
	return cs, total, nil
}

// ResourceChanges are the fields updateResource may change (nil: kept).
type ResourceChanges struct {
	Title    *string
	IsActive *bool
	// SyncInterval is how often a website or Facebook page is re-synced;
	// PDFs and texts accept NEVER only. The next sync is one interval after
	// the last successful one (or from now, if it never synced); if that
	// time has passed, the resource is due at once.
	SyncInterval *resource.SyncInterval
}

// UpdateResource changes a resource's title, active flag and re-sync
// interval. An inactive resource is taken out of the knowledge index, so
// answers never use it; reactivating puts its stored chunks back.
func (s *Service) UpdateResource(ctx context.Context, id uuid.UUID, in ResourceChanges) (*ent.Resource, error) {
	if _, err := tenant(ctx); err != nil {
		return nil, err
	}
	old, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	upd := s.db.Client.Resource.UpdateOneID(id)
	if in.Title != nil {
		t, err := cleanTitle(*in.Title)
		if err != nil {
			return nil, err
		}
		upd.SetTitle(t)
	}
	if in.IsActive != nil {
		upd.SetIsActive(*in.IsActive)
	}
	if in.SyncInterval != nil {
		iv, err := syncInterval(old.Type, in.SyncInterval)
		if err != nil {
			return nil, err
		}
		if iv != old.SyncInterval {
			from := s.now()
			if old.LastSyncedAt != nil {
				from = *old.LastSyncedAt
			}
			upd.SetSyncInterval(iv).SetNillableNextSyncAt(nextSync(iv, from))
			if iv == resource.SyncIntervalNEVER {
				upd.ClearNextSyncAt()
			}
		}
	}
	r, err := upd.Save(ctx)
	if ent.IsNotFound(err) {
		return nil, fault.NotFound("resource")
	}
	if err != nil {
		return nil, err
	}
	retitled := in.Title != nil && r.Title != old.Title
	if r.IsActive != old.IsActive || (retitled && r.IsActive) {
		if err := s.reindexFromChunks(ctx, r); err != nil {
			return nil, err
		}
	}
	s.publish(ctx, r, false)
	s.audit(ctx, r, "resource.update", audit.Fields(map[bool]string{true: "title"}[in.Title != nil],
		map[bool]string{true: "isActive"}[in.IsActive != nil], map[bool]string{true: "syncInterval"}[in.SyncInterval != nil]))
	return r, nil
}

// reindexFromChunks makes the index match the resource's active flag and
// stored chunks (titles are part of the indexed text).
func (s *Service) reindexFromChunks(ctx context.Context, r *ent.Resource) error {
	if s.index == nil {
		return nil
	}
	if !r.IsActive {
		return s.index.DeleteResource(ctx, r.ID)
	}
	if r.Status != resource.StatusCOMPLETED {
		return nil // the running job indexes it when it finishes
	}
	cs, err := s.db.Client.Chunk.Query().Where(entchunk.ResourceID(r.ID)).Order(ent.Asc(entchunk.FieldOrdinal)).All(ctx)
	if err != nil {
		return err
	}
	ps := make([]retrieval.Passage, len(cs))
	for i, c := range cs {
		ps[i] = retrieval.Passage{ChunkID: c.ID, ResourceID: r.ID, Ordinal: c.Ordinal, Title: r.Title,
			Heading: c.Heading, URL: c.URL, Text: c.Text}
		if c.Page != nil {
			ps[i].Page = *c.Page
		}
	}
	return s.syncIndex(ctx, r.ID, ps)
}

// DeleteResource removes a resource with its chunks, its passages in the
// index and its file.
func (s *Service) DeleteResource(ctx context.Context, id uuid.UUID) error {
	if _, err := tenant(ctx); err != nil {
		return err
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	// Its passages and file go by a job committed with the deletion,
	// retried until they are gone (a leftover passage meanwhile cannot
	// be cited: its resource does not load).
	clean := CleanupArgs{CompanyID: r.CompanyID, ResourceID: id, FilePath: r.FilePath}
	err = s.withSQLTx(ctx, func(tx *ent.Client, stx *sql.Tx) error {
		if _, err := tx.Chunk.Delete().Where(entchunk.ResourceID(id)).Exec(ctx); err != nil {
			return err
		}
		if err := tx.Resource.DeleteOneID(id).Exec(ctx); err != nil {
			return err
		}
		return s.enqueueCleanup(ctx, stx, clean)
	})
	if ent.IsNotFound(err) {
		return fault.NotFound("resource")
	}
	if err != nil {
		return err
	}
	s.CleanUp(viewer.SystemContext(ctx, r.CompanyID), clean)
	s.publish(ctx, r, true)
	s.audit(ctx, r, "resource.delete", "")
	return nil
}

// ReprocessResource runs the resource's ingestion again. If a job for it is
// already waiting or running, that one stands and the resource is returned
// as it is.
func (s *Service) ReprocessResource(ctx context.Context, id uuid.UUID) (*ent.Resource, error) {
	if _, err := tenant(ctx); err != nil {
		return nil, err
	}
	if err := s.takeJob(ctx); err != nil {
		return nil, err
	}
	for range 40 {
		r, dup, err := s.reprocess(ctx, id, nil)
		if err != nil {
			return nil, err
		}
		if !dup {
			s.audit(ctx, r, "resource.reprocess", "")
			return r, nil
		}
		if r.Status != resource.StatusCOMPLETED && r.Status != resource.StatusFAILED {
			return r, nil // waiting or running: that job stands
		}
		// The job has just finished its work; River records that a moment
		// later (its completer batches), and until then the job still
		// counts as running.
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
	return s.Get(ctx, id)
}

// reprocess sets the resource PENDING and enqueues its job in one
// transaction; dup reports that a job for it already exists (nothing was
// changed then, and r is the resource as it is). claim, if set, runs
// first in the transaction (the scheduler's: it moves the next sync time
// on); when it returns false, nothing is changed and r is nil.
func (s *Service) reprocess(ctx context.Context, id uuid.UUID, claim func(context.Context, *ent.Client) (bool, error)) (r *ent.Resource, dup bool, err error) {
	tx, err := s.db.SQL.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	c := s.db.TxClient(tx)
	if claim != nil {
		if ok, err := claim(ctx, c); err != nil || !ok {
			return nil, false, err
		}
	}
	old, err := c.Resource.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, false, fault.NotFound("resource")
	}
	if err != nil {
		return nil, false, err
	}
	// Writing first checks that the viewer may manage the resource before
	// anything is enqueued.
	if r, err = c.Resource.UpdateOne(old).SetStatus(resource.StatusPENDING).SetProgress(0).ClearError().Save(ctx); err != nil {
		return nil, false, err
	}
	res, err := s.river.InsertTx(ctx, tx, IngestResourceArgs{CompanyID: r.CompanyID, ResourceID: r.ID}, nil)
	if err != nil {
		return nil, false, fmt.Errorf("ingest: enqueueing: %w", err)
	}
	if res.UniqueSkippedAsDuplicate {
		_ = tx.Rollback()
		r, err = s.db.Client.Resource.Get(ctx, id)
		return r, true, err
	}
	if err := tx.Commit(); err != nil {
		return nil, false, err
	}
	s.publish(ctx, r, false)
	r, err = s.db.Client.Resource.Get(ctx, r.ID)
	return r, false, err
}

// quiet passes on River's warnings and errors only: its info logs (job
// counts every few seconds) would drown the service's own.
type quiet struct{ slog.Handler }

func (q quiet) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}

func (q quiet) WithAttrs(as []slog.Attr) slog.Handler { return quiet{q.Handler.WithAttrs(as)} }

func (q quiet) WithGroup(name string) slog.Handler { return quiet{q.Handler.WithGroup(name)} }
