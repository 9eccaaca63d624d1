package ingest

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"concierge/db"
)

// The leader's periodic scans (the interrupted-resource sweep, the re-sync
// of due resources) share their River plumbing: a periodic job inserted
// every so often and once when a leader is elected, kept unique while it
// waits or runs on QueueMaintenance, and a worker bounded by
// maintenanceLimit that logs what the scan did.

// maintenanceLimit bounds one run of a scan.
const maintenanceLimit = 5 * time.Minute

// scanInsertOpts keep at most one run of a scan waiting or running,
// whichever process inserted it.
func scanInsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       QueueMaintenance,
		MaxAttempts: 3,
		UniqueOpts:  river.UniqueOpts{ByState: db.LiveJobStates},
	}
}

// scanPeriodicJob registers the scan args with River: every interval, and
// at once when a leader is elected.
func scanPeriodicJob(every time.Duration, id string, args river.JobArgs) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) { return args, nil },
		&river.PeriodicJobOpts{ID: id, RunOnStart: true})
}

// scanWorker runs one scan: run returns how many resources it acted on,
// logged as done at level when there were some.
type scanWorker[A river.JobArgs] struct {
	river.WorkerDefaults[A]
	s     *Service
	run   func(context.Context) (int, error)
	done  string
	level slog.Level
}

func (w *scanWorker[A]) Timeout(*river.Job[A]) time.Duration {
	return w.s.limit(maintenanceLimit).Timeout()
}

func (w *scanWorker[A]) Work(ctx context.Context, _ *river.Job[A]) error {
	ctx, cancel := w.s.limit(maintenanceLimit).Bound(ctx)
	defer cancel()
	n, err := w.run(ctx)
	if n > 0 {
		w.s.log.Log(ctx, w.level, w.done, slog.Int("count", n))
	}
	return err
}
