package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"concierge/db"
	"concierge/ent/privacy"
	"concierge/ent/resource"
	"concierge/viewer"
)

// InterruptedMessage is the error of a resource whose processing was lost:
// its process died during the job's last attempt, so River discarded the
// job and nothing would ever finish the resource.
const InterruptedMessage = "processing was interrupted; reprocess to try again"

// Defaults of the interrupted-resource sweep.
const (
	DefaultSweepInterval = time.Minute
	// QueueMaintenance runs the sweep, apart from the ingestion jobs so
	// that long extractions cannot delay it.
	QueueMaintenance = "ingest_maintenance"
	// SweepPeriodicJobID identifies the sweep among River's periodic jobs.
	SweepPeriodicJobID = "ingest_sweep_interrupted"
)

// SweepInterruptedArgs is the periodic job that fails resources left
// PENDING or PROCESSING without a job to finish them (see
// Service.SweepInterrupted). River's leader inserts it every
// Config.SweepInterval, and once when it is elected.
type SweepInterruptedArgs struct{}

// Kind of the job.
func (SweepInterruptedArgs) Kind() string { return "ingest_sweep_interrupted" }

// InsertOpts keep at most one sweep waiting or running.
func (SweepInterruptedArgs) InsertOpts() river.InsertOpts { return scanInsertOpts() }

// SweepInterrupted marks FAILED, with InterruptedMessage, every resource
// that is PENDING or PROCESSING, has not changed for Config.InterruptedAfter
// and has no ingestion job that will still run (none, or only completed,
// discarded or cancelled ones). That happens when a process dies during a
// job's last attempt: River's rescuer then discards the job. It returns how
// many resources it failed, publishing each one's event.
//
// The scan crosses companies, so it reads with an explicit privacy bypass;
// each update is made with the system viewer of the resource's company.
func (s *Service) SweepInterrupted(ctx context.Context) (int, error) {
	cutoff := time.Now().Add(-s.cfg.InterruptedAfter)
	// Privacy bypass: the sweep scans every company's stale resources (read
	// only); the updates below use each company's system viewer.
	scan := privacy.DecisionContext(ctx, privacy.Allow)
	stale, err := s.db.Client.Resource.Query().
		Where(resource.StatusIn(resource.StatusPENDING, resource.StatusPROCESSING), resource.UpdatedAtLT(cutoff)).
		Limit(10000).All(scan)
	if err != nil || len(stale) == 0 {
		return 0, err
	}
	// Listed after the resources: a job inserted since comes with a newer
	// updated_at, which the conditional update below does not touch.
	live, err := s.liveJobResources(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range stale {
		if live[r.ID] {
			continue
		}
		sys := viewer.SystemContext(ctx, r.CompanyID)
		changed, err := s.db.Client.Resource.Update().
			Where(resource.ID(r.ID), resource.StatusIn(resource.StatusPENDING, resource.StatusPROCESSING),
				resource.UpdatedAtLT(cutoff)).
			SetStatus(resource.StatusFAILED).SetError(InterruptedMessage).Save(sys)
		if err != nil {
			return n, fmt.Errorf("ingest: failing interrupted resource %s: %w", r.ID, err)
		}
		if changed == 0 {
			continue
		}
		n++
		s.log.WarnContext(ctx, "ingest: resource was interrupted", slog.String("resource", r.ID.String()),
			slog.String("company", r.CompanyID.String()))
		if r2, err := s.db.Client.Resource.Get(sys, r.ID); err == nil {
			s.publish(ctx, r2, false)
		}
	}
	return n, nil
}

// liveJobResources returns the resources that have an ingestion job that
// will still run.
func (s *Service) liveJobResources(ctx context.Context) (map[uuid.UUID]bool, error) {
	const page = 1000
	live := map[uuid.UUID]bool{}
	params := river.NewJobListParams().Kinds(IngestResourceArgs{}.Kind()).States(db.LiveJobStates...).First(page)
	for {
		res, err := s.river.JobList(ctx, params)
		if err != nil {
			return nil, fmt.Errorf("ingest: listing jobs: %w", err)
		}
		for _, j := range res.Jobs {
			var a IngestResourceArgs
			if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
				return nil, fmt.Errorf("ingest: job %d: %w", j.ID, err)
			}
			live[a.ResourceID] = true
		}
		if len(res.Jobs) < page || res.LastCursor == nil {
			return live, nil
		}
		params = params.After(res.LastCursor)
	}
}
