package hugemem

import "unsafe"

// minBytes is the smallest buffer a Slab takes from its chunks: smaller
// ones span few pages and are made as usual.
const minBytes = 256 << 10

// chunkFloats is the size of a Slab's chunks, in float32s (32 MiB).
const chunkFloats = 8 << 20

// pageBytes is the size of a huge page on the CPUs minmax runs on
// (x86-64 and arm64 with 4 KiB base pages).
const pageBytes = 2 << 20

// A Slab hands out float32 buffers carved from large chunks whose whole
// huge pages are advised for transparent huge pages (Advise). A chunk
// lives as long as any buffer from it, so a Slab is for buffers kept
// and reused (an autograd tape's arena), not for ones made and dropped.
// The zero Slab is ready to use; it is not safe for concurrent use.
type Slab struct {
	chunk []float32
	used  int
}

// Floats returns a zeroed buffer of length n and capacity c (at least
// n), 64-byte aligned where it comes from a chunk (c·4 bytes of at least
// 256 KiB); smaller buffers are made as usual.
func (s *Slab) Floats(n, c int) []float32 {
	c = max(c, n)
	if c*4 < minBytes {
		return make([]float32, n, c)
	}
	size := (c + 15) &^ 15 // the next buffer stays 64-byte aligned
	if s.used+size > len(s.chunk) {
		s.chunk = newChunk(max(size, chunkFloats))
		s.used = 0
	}
	b := s.chunk[s.used : s.used+n : s.used+c]
	s.used += size
	return b
}

// newChunk makes a chunk of n float32s that starts on a huge page, its
// whole pages advised.
func newChunk(n int) []float32 {
	raw := make([]float32, n+pageBytes/4)
	start := uintptr(unsafe.Pointer(&raw[0]))
	off := int((start+pageBytes-1)&^(pageBytes-1)-start) / 4
	c := raw[off : off+n : off+n]
	Advise(c)
	return c
}

// pages returns the whole huge pages of b as byte offsets from its
// start: from the first page boundary at or after its start to the last
// at or before its end; 0, 0 where b holds no whole page.
func pages(b []float32) (lo, hi uintptr) {
	if len(b) == 0 {
		return 0, 0
	}
	start := uintptr(unsafe.Pointer(&b[0]))
	first, last := (start+pageBytes-1)&^(pageBytes-1), (start+uintptr(len(b))*4)&^(pageBytes-1)
	if last <= first {
		return 0, 0
	}
	return first - start, last - start
}
