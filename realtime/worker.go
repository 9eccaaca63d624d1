package realtime

import "sync/atomic"

// A Worker runs a subscriber's work from a goroutine started when it is
// woken (Subscription.Notify(w.Wake)), so a subscriber of a quiet topic
// holds no goroutine while it waits. Runs never overlap: wake-ups during a
// run make it run again rather than start another.
type Worker struct {
	// Wake-ups not yet handled; the Wake that takes it from 0 to 1 starts
	// the goroutine.
	pending atomic.Int64
	work    func() bool
	done    bool // work returned false; owned by the running goroutine
}

// NewWorker returns a worker running work, which handles what is queued
// without waiting for more and returns false once the subscriber is done
// for good (work is not called again then).
func NewWorker(work func() bool) *Worker { return &Worker{work: work} }

// Wake has work run soon.
func (w *Worker) Wake() {
	if w.pending.Add(1) == 1 {
		go w.run()
	}
}

func (w *Worker) run() {
	for {
		n := w.pending.Load()
		if !w.done && !w.work() {
			w.done = true
		}
		if w.pending.Add(-n) == 0 {
			return
		}
	}
}
