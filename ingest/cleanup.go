package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"concierge/viewer"
)

// CleanupArgs is the job that removes what a deleted resource, or a
// deleted company (ResourceID zero), leaves outside the database: its
// passages in the knowledge index and its files. It is inserted in the
// transaction that deletes the rows and retried until it is done.
type CleanupArgs struct {
	CompanyID  uuid.UUID `json:"company_id"`
	ResourceID uuid.UUID `json:"resource_id,omitempty"`
	// FilePath is the resource's file, relative to the file store.
	FilePath string `json:"file_path,omitempty"`
}

// Kind of the job.
func (CleanupArgs) Kind() string { return "cleanup_knowledge" }

// CleanupAttempts is how many times a cleanup is tried: with its backoff
// (attempt³ seconds: 1 s, 8 s, 27 s … 4 h), about a day and a half.
const CleanupAttempts = 25

// InsertOpts put the job in the ingestion queue, with attempts enough to
// outlast an outage of the index or the file store.
func (CleanupArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: CleanupAttempts}
}

// cleanupWorker runs CleanupArgs jobs.
type cleanupWorker struct {
	river.WorkerDefaults[CleanupArgs]
	s *Service
}

// NextRetry is attempt³ seconds after an attempt: soon after a blip,
// hourly in a long outage.
func (w *cleanupWorker) NextRetry(job *river.Job[CleanupArgs]) time.Time {
	n := time.Duration(job.Attempt)
	return time.Now().Add(n * n * n * time.Second)
}

// Timeout bounds one attempt as an ingestion job's (JobTimeout).
func (w *cleanupWorker) Timeout(*river.Job[CleanupArgs]) time.Duration {
	return w.s.limit(w.s.cfg.JobTimeout).Timeout()
}

// Work cleans up as the system viewer of the job's company.
func (w *cleanupWorker) Work(ctx context.Context, job *river.Job[CleanupArgs]) error {
	work, cancel := w.s.limit(w.s.cfg.JobTimeout).Bound(ctx)
	defer cancel()
	err := w.s.cleanup(viewer.SystemContext(work, job.Args.CompanyID), job.Args)
	if err != nil {
		w.s.log.WarnContext(ctx, "ingest: cleaning up after a deletion; trying again later", slog.Any("err", err),
			slog.String("company", job.Args.CompanyID.String()), slog.String("resource", job.Args.ResourceID.String()),
			slog.Int("attempt", job.Attempt))
	}
	return err
}

// EnqueueCompanyCleanup inserts, on tx, the job that removes a company's
// knowledge index and files once tx has deleted its rows.
func (s *Service) EnqueueCompanyCleanup(ctx context.Context, tx *sql.Tx, companyID uuid.UUID) error {
	return s.enqueueCleanup(ctx, tx, CleanupArgs{CompanyID: companyID})
}

func (s *Service) enqueueCleanup(ctx context.Context, tx *sql.Tx, a CleanupArgs) error {
	if _, err := s.river.InsertTx(ctx, tx, a, nil); err != nil {
		return fmt.Errorf("ingest: enqueueing the cleanup: %w", err)
	}
	return nil
}

// CleanUp removes at once what the cleanup job a removes, so that the
// deletion is complete when its caller returns; the job, inserted with
// the deletion, finishes it if this fails or the process stops first.
// sys is the system viewer of a's company.
func (s *Service) CleanUp(sys context.Context, a CleanupArgs) {
	if err := s.cleanup(sys, a); err != nil {
		s.log.WarnContext(sys, "ingest: cleaning up after a deletion; its job tries again", slog.Any("err", err),
			slog.String("company", a.CompanyID.String()), slog.String("resource", a.ResourceID.String()))
	}
}

// cleanup removes a's passages and files; each step can run again.
func (s *Service) cleanup(sys context.Context, a CleanupArgs) error {
	if a.ResourceID == uuid.Nil {
		if s.files != nil {
			if err := s.files.RemoveCompany(a.CompanyID); err != nil {
				return fmt.Errorf("removing the company's files: %w", err)
			}
		}
		if s.index != nil {
			if err := s.index.DeleteCompany(sys, a.CompanyID); err != nil {
				return fmt.Errorf("removing the company's index: %w", err)
			}
		}
		return nil
	}
	if s.index != nil {
		if err := s.index.DeleteResource(sys, a.ResourceID); err != nil {
			return fmt.Errorf("removing the resource from the index: %w", err)
		}
	}
	return s.removeFile(a.CompanyID, a.FilePath)
}

// removeFile deletes a resource's stored file. path is relative to the
// file store and inside the company's directory.
func (s *Service) removeFile(companyID uuid.UUID, path string) error {
	if s.files == nil || path == "" {
		return nil
	}
	base := filepath.Join(s.files.Dir(), companyID.String())
	p := filepath.Join(s.files.Dir(), filepath.Clean(path))
	if !strings.HasPrefix(p, base+string(filepath.Separator)) {
		s.log.Error("ingest: resource file outside its company's directory", slog.String("company", companyID.String()))
		return nil // never removed: retrying would not change that
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the resource's file: %w", err)
	}
	return nil
}

// CleanUpCompany removes a deleted company's index and files at once (see
// CleanUp); sys is the system viewer of the company.
func (s *Service) CleanUpCompany(sys context.Context, companyID uuid.UUID) {
	s.CleanUp(sys, CleanupArgs{CompanyID: companyID})
}
