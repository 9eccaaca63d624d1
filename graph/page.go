package graph

import "concierge/fault"

// MaxPageSize bounds first/last of every connection.
const MaxPageSize = 500

// checkPage refuses pages larger than MaxPageSize.
func checkPage(first, last *int) error {
	if first != nil && *first > MaxPageSize {
		return fault.Invalid("first", "first must be at most %d", MaxPageSize)
	}
	if last != nil && *last > MaxPageSize {
		return fault.Invalid("last", "last must be at most %d", MaxPageSize)
	}
	return nil
}
