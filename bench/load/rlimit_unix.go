//go:build linux || darwin

package main

import "syscall"

// raiseFileLimit raises this process's open-file limit to want (the hard
// limit too, which only root may do; otherwise up to the hard limit) and
// returns the limit in force.
func raiseFileLimit(want uint64) (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, err
	}
	if r.Cur >= want {
		return r.Cur, nil
	}
	n := r
	n.Cur = want
	if n.Max < want {
		n.Max = want
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n); err != nil {
		n = r
		n.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n); err != nil {
			return r.Cur, err
		}
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, err
	}
	return r.Cur, nil
}

// cpuSeconds is the user+sys CPU time this process has used.
func cpuSeconds() float64 {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e9
}
