//go:build !linux

package hugemem

// Advise does nothing where the kernel has no madvise(MADV_HUGEPAGE).
func Advise(b []float32) error { return nil }
