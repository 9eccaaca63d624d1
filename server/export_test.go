package server

import "time"

// SetWSRecheckInterval shortens how often WebSocket credentials are
// checked again, for a test; it returns the restore.
func SetWSRecheckInterval(d time.Duration) func() {
	old := wsRecheckInterval.Swap(int64(d))
	return func() { wsRecheckInterval.Store(old) }
}
