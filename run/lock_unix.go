//go:build unix

package run

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// dirLock is an exclusive lock on a run directory: an flock on its lock
// file, which the kernel releases when the process ends however it ends,
// so a crashed run never leaves a lock that blocks.
type dirLock struct{ f *os.File }

// lockDir takes the lock of dir, or says which process holds it.
func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("locking run directory %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(b[:n]))
			if pid == "" {
				pid = "(unknown)"
			}
			return nil, fmt.Errorf("run directory %s is in use by process %s", dir, pid)
		}
		return nil, fmt.Errorf("locking run directory %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dirLock{f: f}, nil
}

// unlock releases the lock.
func (l *dirLock) unlock() {
	if l != nil && l.f != nil {
		l.f.Close()
		l.f = nil
	}
}

// LockHolder reports whether a process holds the lock of the run in dir,
// and which, without taking the lock (a reader such as minmax serve must
// never keep a trainer from starting). On Linux it looks the lock file's
// inode up in /proc/locks; elsewhere, or when /proc is not readable, it
// asks whether the process named in the lock file is alive.
func LockHolder(dir string) (pid int, held bool) {
	path := filepath.Join(dir, LockFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, false
	}
	if locks, err := os.ReadFile("/proc/locks"); err == nil {
		ino := ":" + strconv.FormatUint(st.Ino, 10)
		for _, line := range strings.Split(string(locks), "\n") {
			f := strings.Fields(line)
			// "1: FLOCK  ADVISORY  WRITE 23970 00:2f:1234 0 EOF"
			if len(f) >= 6 && f[1] == "FLOCK" && strings.HasSuffix(f[5], ino) {
				if p, err := strconv.Atoi(f[4]); err == nil && p > 0 {
					pid = p
				}
				return pid, true
			}
		}
		return 0, false
	}
	if pid <= 0 {
		return 0, false
	}
	err = unix.Kill(pid, 0)
	return pid, err == nil || errors.Is(err, unix.EPERM)
}
