//go:build !(linux || darwin)

package main

// raiseFileLimit is not supported here: the limit is reported as unknown.
func raiseFileLimit(uint64) (uint64, error) { return 0, nil }

func cpuSeconds() float64 { return 0 }
