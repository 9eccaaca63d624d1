package server

import "time"

// SetWSRecheckInterval shortens how often WebSocket credentials are
// checked again, for a test; it returns the restore.
func SetWSRecheckInterval(d time.Duration) func() {
	old := wsRecheckInterval
	wsRecheckInterval = d
	return func() { wsRecheckInterval = old }
}
