//go:build !unix

package run

// dirLock is a no-op where flock does not exist (Windows): two processes
// must not be pointed at one run directory there.
type dirLock struct{}

func lockDir(dir string) (*dirLock, error) { return &dirLock{}, nil }

func (l *dirLock) unlock() {}

// LockHolder reports no holder where directories are not locked.
func LockHolder(dir string) (pid int, held bool) { return 0, false }
