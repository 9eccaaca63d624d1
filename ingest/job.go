package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"concierge/db"
	"concierge/ent"
	entchunk "concierge/ent/chunk"
	"concierge/ent/resource"
	"concierge/ingest/chunk"
	"concierge/retrieval"
	"concierge/viewer"
)

// IngestResourceArgs is the job that extracts, chunks and indexes one
// resource. Its company is the only one the job may act for.
type IngestResourceArgs struct {
	CompanyID  uuid.UUID `json:"company_id" river:"unique"`
	ResourceID uuid.UUID `json:"resource_id" river:"unique"`
}

// Kind of the job.
func (IngestResourceArgs) Kind() string { return "ingest_resource" }

// InsertOpts make the job unique per resource while it is waiting, running
// or retrying, so a resource is never processed twice at once.
func (IngestResourceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue: Queue,
		UniqueOpts: river.UniqueOpts{
			ByArgs:  true,
			ByState: db.LiveJobStates,
		},
	}
}

// Queue is the River queue of ingestion jobs.
const Queue = "ingest"

// worker runs IngestResourceArgs jobs.
type worker struct {
	river.WorkerDefaults[IngestResourceArgs]
	s *Service
}

// Timeout is River's bound of one attempt and its rescue horizon:
// JobTimeout, plus the grace in which Work records a failure.
func (w *worker) Timeout(*river.Job[IngestResourceArgs]) time.Duration {
	return w.s.limit(w.s.cfg.JobTimeout).Timeout()
}

// Work processes the resource with the system viewer of the job's company
// only. Panics are recovered here and fail the resource; transient errors
// are retried with River's backoff until the attempts run out, then the
// resource fails.
func (w *worker) Work(ctx context.Context, job *river.Job[IngestResourceArgs]) (err error) {
	ctx = viewer.SystemContext(ctx, job.Args.CompanyID)
	log := w.s.log.With(slog.String("resource", job.Args.ResourceID.String()),
		slog.String("company", job.Args.CompanyID.String()), slog.Int("attempt", job.Attempt))
	defer func() {
		if p := recover(); p != nil {
			log.ErrorContext(ctx, "ingest: panic", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			err = Permanentf("processing failed with an internal error (it has been logged)")
		}
		err = w.finish(ctx, log, job, err)
	}()
	work, cancel := w.s.limit(w.s.cfg.JobTimeout).Bound(ctx)
	defer cancel()
	return w.s.process(work, job.Args.ResourceID)
}

// finish records a failed attempt on the resource and tells River what to
// do with the job.
func (w *worker) finish(ctx context.Context, log *slog.Logger, job *river.Job[IngestResourceArgs], err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, errNotFound) {
		// Gone meanwhile, or not of this job's company: nothing to do.
		log.WarnContext(ctx, "ingest: resource not found", slog.Any("err", err))
		return river.JobCancel(err)
	}
	ctx = context.WithoutCancel(ctx)
	last := job.Attempt >= job.MaxAttempts
	if IsPermanent(err) || last {
		msg := message(err)
		log.WarnContext(ctx, "ingest: failed", slog.String("error", msg), slog.Any("err", err))
		if uerr := w.s.setStatus(ctx, job.Args.ResourceID, resource.StatusFAILED, msg); uerr != nil {
			log.ErrorContext(ctx, "ingest: recording failure", slog.Any("err", uerr))
			return uerr // retried: the status must be recorded
		}
		return river.JobCancel(err)
	}
	log.WarnContext(ctx, "ingest: attempt failed, retrying", slog.Any("err", err))
	msg := fmt.Sprintf("attempt %d of %d failed, retrying: %s", job.Attempt, job.MaxAttempts, message(err))
	if uerr := w.s.setStatus(ctx, job.Args.ResourceID, resource.StatusPENDING, msg); uerr != nil {
		log.ErrorContext(ctx, "ingest: recording retry", slog.Any("err", uerr))
	}
	return err
}

// message is what users read about err.
func message(err error) string {
	var pe *permanentError
	switch {
	case errors.As(err, &pe):
		return truncate(pe.err.Error(), 1900)
	case errors.Is(err, context.DeadlineExceeded):
		return "processing took too long and was stopped"
	case errors.Is(err, retrieval.ErrUnavailable):
		return "the knowledge index is unavailable"
	case errors.Is(err, retrieval.ErrEmbedderChanged):
		return "the knowledge index was built with another embedding model; reindex the company's knowledge"
	}
	return "processing failed: " + truncate(err.Error(), 1800)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

var errNotFound = errors.New("ingest: resource not found")

// process runs one attempt: PROCESSING, extract, chunk, store the chunks
// and index them (each replacing the resource's old ones atomically), then
// COMPLETED.
func (s *Service) process(ctx context.Context, id uuid.UUID) error {
	r, err := s.db.Client.Resource.Get(ctx, id)
	if ent.IsNotFound(err) {
		return fmt.Errorf("%w: %s", errNotFound, id)
	}
	if err != nil {
		return err
	}
	r, err = s.db.Client.Resource.UpdateOne(r).SetStatus(resource.StatusPROCESSING).
		SetProgress(0).ClearError().Save(ctx)
	if err != nil {
		return notFound(err, id)
	}
	s.publish(ctx, r, false)

	ex, ok := s.extractors[r.Type]
	if !ok {
		return Permanentf("%s resources cannot be processed yet", strings.ToLower(string(r.Type)))
	}
	doc, err := ex.Extract(ctx, r, func(ctx context.Context, done, total int) {
		if total <= 0 || done < 0 {
			return
		}
		s.setProgress(ctx, id, 0.8*float64(min(done, total))/float64(total))
	})
	if err != nil {
		return err
	}
	if doc.Title == "" {
		doc.Title = r.Title
	}
	chunks := chunk.Split(doc, s.cfg.Chunking)
	if len(chunks) == 0 {
		return Permanentf("no text could be extracted")
	}
	s.setProgress(ctx, id, 0.85)

	var full strings.Builder
	for i, sec := range doc.Sections {
		if i > 0 {
			full.WriteString("\n\n")
		}
		full.WriteString(sec.Text)
	}
	// The chunk rows: replaced in one transaction.
	passages := make([]retrieval.Passage, len(chunks))
	err = s.withTx(ctx, func(tx *ent.Client) error {
		if _, err := tx.Chunk.Delete().Where(entchunk.ResourceID(id)).Exec(ctx); err != nil {
			return err
		}
		builders := make([]*ent.ChunkCreate, len(chunks))
		for i, c := range chunks {
			cid := uuid.New()
			b := tx.Chunk.Create().SetID(cid).SetCompanyID(r.CompanyID).SetResourceID(id).
				SetOrdinal(c.Ordinal).SetText(c.Text).SetHeading(truncate(c.Heading, 490)).
				SetURL(truncate(c.URL, 2040)).SetTokenCount(c.TokenCount)
			if c.Page > 0 {
				b.SetPage(c.Page)
			}
			builders[i] = b
			passages[i] = retrieval.Passage{ChunkID: cid, ResourceID: id, Ordinal: c.Ordinal, Title: r.Title,
				Heading: c.Heading, URL: c.URL, Page: c.Page, Text: c.Text}
		}
		for start := 0; start < len(builders); start += 500 {
			if _, err := tx.Chunk.CreateBulk(builders[start:min(start+500, len(builders))]...).Save(ctx); err != nil {
				return err
			}
		}
		upd := tx.Resource.UpdateOneID(id).SetChunkCount(len(chunks)).SetProgress(0.9)
		if r.Type != resource.TypeTEXT {
			upd.SetExtractedContent(full.String())
		}
		return upd.Exec(ctx)
	})
	if err != nil {
		return notFound(err, id)
	}
	// The index: replaced atomically by the store. An inactive resource is
	// kept out of it (see SetActive).
	if err := s.syncIndex(ctx, id, passages); err != nil {
		return err
	}
	// Synced: the next scheduled sync is one interval from now, unless the
	// interval was changed meanwhile (that change set its own).
	now := s.now()
	if next := nextSync(r.SyncInterval, now); next != nil {
		if err := s.db.Client.Resource.Update().Where(resource.ID(id), resource.SyncIntervalEQ(r.SyncInterval)).
			SetNextSyncAt(*next).Exec(ctx); err != nil {
			return notFound(err, id)
		}
	}
	r, err = s.db.Client.Resource.UpdateOneID(id).SetStatus(resource.StatusCOMPLETED).
		SetProgress(1).ClearError().SetLastSyncedAt(now).Save(ctx)
	if err != nil {
		return notFound(err, id)
	}
	s.publish(ctx, r, false)
	return nil
}

// syncIndex puts passages in the index if the resource is active, and
// removes the resource from it otherwise. It re-reads the flag after
// indexing so that a deactivation racing with the job wins.
func (s *Service) syncIndex(ctx context.Context, id uuid.UUID, passages []retrieval.Passage) error {
	if s.index == nil {
		return nil
	}
	r, err := s.db.Client.Resource.Get(ctx, id)
	if err != nil {
		return notFound(err, id)
	}
	if r.IsActive {
		err := s.index.IndexResource(ctx, id, passages)
		if errors.Is(err, retrieval.ErrEmbedderChanged) {
			err = s.rebuildIndex(ctx, id, passages)
		}
		if err != nil {
			return err
		}
		if r, err = s.db.Client.Resource.Get(ctx, id); err != nil {
			return notFound(err, id)
		}
		if r.IsActive {
			return nil
		}
	}
	return s.index.DeleteResource(ctx, id)
}

// rebuildIndex handles a company whose index was built with another
// embedder (the configuration changed): the index is dropped, this
// resource's passages are indexed with the current embedder, and every
// other completed, active resource is re-indexed from its stored chunks.
// Vectors of two embedders never mix in one index.
func (s *Service) rebuildIndex(ctx context.Context, id uuid.UUID, passages []retrieval.Passage) error {
	s.log.WarnContext(ctx, "ingest: the embedder changed; rebuilding the company's index",
		slog.String("embedder", s.index.Embedder().Name()))
	if err := s.index.ResetCompany(ctx); err != nil {
		return err
	}
	if err := s.index.IndexResource(ctx, id, passages); err != nil {
		return err
	}
	others, err := s.db.Client.Resource.Query().Where(
		resource.IDNEQ(id), resource.IsActive(true), resource.StatusEQ(resource.StatusCOMPLETED),
	).All(ctx)
	if err != nil {
		return err
	}
	for _, r := range others {
		if err := s.reindexFromChunks(ctx, r); err != nil {
			return fmt.Errorf("re-indexing resource %s: %w", r.ID, err)
		}
	}
	return nil
}

func notFound(err error, id uuid.UUID) error {
	if ent.IsNotFound(err) {
		return fmt.Errorf("%w: %s", errNotFound, id)
	}
	return err
}

// setStatus records a status and its error message and publishes it.
func (s *Service) setStatus(ctx context.Context, id uuid.UUID, st resource.Status, msg string) error {
	upd := s.db.Client.Resource.UpdateOneID(id).SetStatus(st)
	if msg != "" {
		upd.SetError(msg)
	} else {
		upd.ClearError()
	}
	r, err := upd.Save(ctx)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	s.publish(ctx, r, false)
	return nil
}

// setProgress records progress in [0, 1] and publishes it. Failures are
// logged only: progress is informative.
func (s *Service) setProgress(ctx context.Context, id uuid.UUID, p float64) {
	r, err := s.db.Client.Resource.UpdateOneID(id).SetProgress(p).Save(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "ingest: recording progress", slog.Any("err", err))
		return
	}
	s.publish(ctx, r, false)
}
