package ingest

import (
	"testing"
	"time"

	"concierge/dbtest"
	"concierge/realtime"
)

// River rescues a job as stuck only once it has run longer than any job of
// the process may: the rescue threshold is raised above the longest
// attempt, ingestion's or a registered kind's (chat's replies), so a job
// still running is never run a second time beside it.
func TestRescueAfterExceedsEveryJobsTimeout(t *testing.T) {
	d := dbtest.Open(t, "sqlite3")
	for _, tc := range []struct {
		name                    string
		job, registered, rescue time.Duration
		want                    time.Duration
	}{
		{"defaults", 0, 0, 0, DefaultJobTimeout + 5*time.Minute},
		{"a longer reply timeout", time.Minute, 30 * time.Minute, 10 * time.Minute, 35 * time.Minute},
		{"a rescue below the job timeout", 20 * time.Minute, 2 * time.Minute, 5 * time.Minute, 25 * time.Minute},
		{"a rescue above both stands", time.Minute, 2 * time.Minute, time.Hour, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(Config{DB: d, Broker: realtime.NewMemory(), JobTimeout: tc.job,
				RegisteredTimeout: tc.registered, RescueAfter: tc.rescue})
			if err != nil {
				t.Fatal(err)
			}
			if s.cfg.RescueAfter != tc.want {
				t.Fatalf("RescueAfter = %v, want %v", s.cfg.RescueAfter, tc.want)
			}
		})
	}
}
