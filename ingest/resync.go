package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"concierge/ent"
	"concierge/ent/resource"
	"concierge/fault"
	"concierge/viewer"
)

// Scheduled re-sync: a website or Facebook page is fetched again every
// resource.sync_interval (DAILY, WEEKLY, MONTHLY; NEVER turns it off). A
// River periodic job (inserted by the leader only, unique while waiting or
// running) scans for resources whose next_sync_at has passed and re-runs
// each one's ingestion through the same path as reprocessResource; a failed
// re-sync keeps the resource's chunks and records its error, as any failed
// ingestion does.
const (
	// DefaultSyncInterval is the interval of new websites and Facebook
	// pages when none is given.
	DefaultSyncInterval = resource.SyncIntervalWEEKLY
	// DefaultResyncScanInterval is how often the leader looks for
	// resources due for re-sync.
	DefaultResyncScanInterval = time.Minute
	// ResyncPeriodicJobID identifies the scan among River's periodic jobs.
	ResyncPeriodicJobID = "ingest_resync_due"
	// resyncBatch bounds how many resources one scan starts; the rest are
	// started by the next scans.
	resyncBatch = 200
)

// SyncPeriod is the time between two syncs at interval iv (0 for NEVER).
func SyncPeriod(iv resource.SyncInterval) time.Duration {
	switch iv {
	case resource.SyncIntervalDAILY:
		return 24 * time.Hour
	case resource.SyncIntervalWEEKLY:
		return 7 * 24 * time.Hour
	case resource.SyncIntervalMONTHLY:
		return 30 * 24 * time.Hour
	}
	return 0
}

// Resyncable reports whether resources of type t have a source that can be
// fetched again (websites and Facebook pages; uploaded PDFs and texts do
// not).
func Resyncable(t resource.Type) bool {
	return t == resource.TypeWEBSITE || t == resource.TypeFACEBOOK
}

// syncInterval validates a requested interval for a resource of type t;
// nil is the type's default (DefaultSyncInterval if it can re-sync, NEVER
// otherwise).
func syncInterval(t resource.Type, iv *resource.SyncInterval) (resource.SyncInterval, error) {
	if iv == nil {
		if Resyncable(t) {
			return DefaultSyncInterval, nil
		}
		return resource.SyncIntervalNEVER, nil
	}
	if err := resource.SyncIntervalValidator(*iv); err != nil {
		return "", fault.Invalid("syncInterval", "syncInterval must be NEVER, DAILY, WEEKLY or MONTHLY")
	}
	if *iv != resource.SyncIntervalNEVER && !Resyncable(t) {
		return "", fault.Invalid("syncInterval", "%s resources have no source to re-sync: only NEVER is accepted (re-syncing is for websites and Facebook pages)",
			map[resource.Type]string{resource.TypePDF: "PDF", resource.TypeTEXT: "text"}[t])
	}
	return *iv, nil
}

// nextSync is when a resource at interval iv synced last at from is due
// again (nil: never).
func nextSync(iv resource.SyncInterval, from time.Time) *time.Time {
	p := SyncPeriod(iv)
	if p <= 0 {
		return nil
	}
	t := from.Add(p)
	return &t
}

// ResyncDueArgs is the periodic job that starts the re-sync of resources
// that are due (see Service.ResyncDue).
type ResyncDueArgs struct{}

// Kind of the job.
func (ResyncDueArgs) Kind() string { return "ingest_resync_due" }

// InsertOpts keep at most one scan waiting or running.
func (ResyncDueArgs) InsertOpts() river.InsertOpts { return scanInsertOpts() }

// ResyncDue starts the re-sync of every active resource whose next sync
// time has passed (at most a batch per call), and returns how many it
// started. The scan crosses companies as the scheduler viewer, which
// privacy lets read scheduled resources only; each resource is then claimed
// and re-enqueued as the system viewer of its company, in one transaction
// that moves its next sync time on, so that a resource is started once
// even when scans overlap. A resource whose ingestion is already waiting or
// running, or whose company has used up its hourly job quota, stays due
// and is tried again by a later scan.
func (s *Service) ResyncDue(ctx context.Context) (int, error) {
	now := s.now()
	due, err := s.db.Client.Resource.Query().
		Where(resource.NextSyncAtLTE(now), resource.IsActive(true)).
		Order(resource.ByNextSyncAt()).Limit(resyncBatch).
		Select(resource.FieldID, resource.FieldCompanyID, resource.FieldSyncInterval, resource.FieldNextSyncAt).
		All(viewer.SchedulerContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("ingest: listing resources due for re-sync: %w", err)
	}
	n := 0
	for _, d := range due {
		sys := viewer.SystemContext(ctx, d.CompanyID)
		log := s.log.With(slog.String("resource", d.ID.String()), slog.String("company", d.CompanyID.String()))
		if err := s.takeJob(sys); err != nil {
			log.WarnContext(ctx, "ingest: scheduled re-sync postponed", slog.Any("err", err))
			continue
		}
		r, dup, err := s.reprocess(sys, d.ID, func(ctx context.Context, c *ent.Client) (bool, error) {
			// The claim: only while it is still due on the schedule listed.
			k, err := c.Resource.Update().Where(resource.ID(d.ID), resource.NextSyncAtLTE(now),
				resource.SyncIntervalEQ(d.SyncInterval), resource.IsActive(true)).
				SetNillableNextSyncAt(nextSync(d.SyncInterval, now)).Save(ctx)
			return k == 1, err
		})
		started := r != nil && !dup
		switch {
		case err != nil:
			return n, fmt.Errorf("ingest: re-syncing resource %s: %w", d.ID, err)
		case started:
			n++
			s.audit(sys, r, "resource.resync", "scheduled: "+string(d.SyncInterval))
		}
	}
	return n, nil
}
