package hugemem

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Advise asks the kernel to back the whole huge pages of b with
// transparent huge pages (madvise MADV_HUGEPAGE): under the common
// policy "madvise" it does so only where asked, and the Go runtime never
// asks for the heap. Pages not yet touched then fault in 2 MiB at a time;
// those already touched may be merged later. It returns madvise's error
// (the pages stay ordinary ones: the kernel lacks transparent huge pages,
// or they are off).
func Advise(b []float32) error {
	lo, hi := pages(b)
	if hi == 0 {
		return nil
	}
	return unix.Madvise(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(&b[0]), lo)), hi-lo), unix.MADV_HUGEPAGE)
}
