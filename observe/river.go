package observe

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// RiverSubscriber is what WatchRiver needs of a River client
// (*river.Client[TTx] of any driver).
type RiverSubscriber interface {
	Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
}

// riverKinds are the job events WatchRiver records.
var riverKinds = []river.EventKind{
	river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled,
	river.EventKindJobSnoozed, river.EventKindJobInterrupted,
}

// WatchRiver records the jobs the client works (concierge_jobs_total,
// concierge_job_duration_seconds, concierge_job_queue_wait_seconds) until
// ctx ends or the client stops (River then closes the subscription). Call
// it once before each Start of the client: it subscribes before returning,
// so no job finished after it returns is missed.
func WatchRiver(ctx context.Context, c RiverSubscriber) {
	events, cancel := c.Subscribe(riverKinds...)
	go func() {
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-events:
				if !ok {
					return
				}
				RecordJob(ev)
			}
		}
	}()
}

// RecordJob records one River job event (WatchRiver does it for each).
func RecordJob(ev *river.Event) {
	if ev == nil || ev.Job == nil {
		return
	}
	kind := label(ev.Job.Kind, "none")
	jobsTotal.WithLabelValues(kind, jobOutcome(ev)).Inc()
	if st := ev.JobStats; st != nil {
		if ev.Kind != river.EventKindJobInterrupted {
			jobDuration.WithLabelValues(kind).Observe(st.RunDuration.Seconds())
		}
		jobQueueWait.WithLabelValues(kind).Observe(st.QueueWaitDuration.Seconds())
	}
}

func jobOutcome(ev *river.Event) string {
	switch ev.Kind {
	case river.EventKindJobCompleted:
		return "completed"
	case river.EventKindJobFailed:
		if ev.Job.State == rivertype.JobStateDiscarded {
			return "discarded"
		}
		return "failed"
	case river.EventKindJobCancelled:
		return "cancelled"
	case river.EventKindJobSnoozed:
		return "snoozed"
	case river.EventKindJobInterrupted:
		return "interrupted"
	default:
		return "other"
	}
}
