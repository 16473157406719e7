//go:build !linux

package peak

import "time"

// threadCPU returns the CPU time the calling OS thread has run, or false
// (not known on this system).
func threadCPU() (time.Duration, bool) { return 0, false }
