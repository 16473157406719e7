package hugemem

import (
	"fmt"
	"testing"
	"unsafe"
)

func TestSlabFloats(t *testing.T) {
	var s Slab
	small := s.Floats(10, 20)
	if len(small) != 10 || cap(small) != 20 || s.chunk != nil {
		t.Fatalf("small buffer: len %d cap %d, chunk made %v", len(small), cap(small), s.chunk != nil)
	}
	// Buffers of several sizes, one larger than a chunk, one whose
	// capacity exceeds its length: each zeroed, aligned, its own.
	sizes := [][2]int{{1 << 16, 1 << 16}, {300000, 375000}, {1<<16 + 3, 1<<16 + 3}, {chunkFloats + 5, chunkFloats + 5}, {5 << 20, 5 << 20}}
	var bufs [][]float32
	for _, sz := range sizes {
		b := s.Floats(sz[0], sz[1])
		if len(b) != sz[0] || cap(b) != sz[1] {
			t.Fatalf("Floats(%d, %d): len %d cap %d", sz[0], sz[1], len(b), cap(b))
		}
		if p := uintptr(unsafe.Pointer(&b[0])); p%64 != 0 {
			t.Fatalf("Floats(%d, %d) at %#x: not 64-byte aligned", sz[0], sz[1], p)
		}
		for i, v := range b {
			if v != 0 {
				t.Fatalf("Floats(%d, %d)[%d] = %v, want 0", sz[0], sz[1], i, v)
			}
		}
		bufs = append(bufs, b)
	}
	for i, b := range bufs {
		full := b[:cap(b)]
		for j := range full {
			full[j] = float32(i + 1)
		}
	}
	for i, b := range bufs {
		for j, v := range b[:cap(b)] {
			if v != float32(i+1) {
				t.Fatalf("buffer %d [%d] = %v: overwritten by buffer %v", i, j, v, v-1)
			}
		}
	}
	if len(s.chunk) < chunkFloats {
		t.Fatalf("chunk of %d floats, want at least %d", len(s.chunk), chunkFloats)
	}
	if p := uintptr(unsafe.Pointer(&s.chunk[0])); p%pageBytes != 0 {
		t.Fatalf("chunk at %#x: not on a huge page boundary", p)
	}
}

func TestPages(t *testing.T) {
	raw := make([]float32, 3*pageBytes/4)
	start := uintptr(unsafe.Pointer(&raw[0]))
	first := (start + pageBytes - 1) &^ (pageBytes - 1)
	off := int(first-start) / 4
	for _, c := range []struct {
		from, to int // floats of raw from the first boundary
		lo, hi   uintptr
	}{
		{0, pageBytes / 4, first, first + pageBytes},
		{0, pageBytes/4 - 1, first, first},                         // less than a page: none
		{1, pageBytes/4 + 1, first + pageBytes, first + pageBytes}, // straddles: none
		{-1, pageBytes/4 + 1, first, first + pageBytes},
		{1, 10, first + 4, first + 4}, // inside a page: none
	} {
		if off+c.from < 0 || off+c.to > len(raw) {
			continue
		}
		b := raw[off+c.from : off+c.to]
		lo, hi := pages(b)
		base := uintptr(unsafe.Pointer(&b[0]))
		if c.hi <= c.lo {
			if lo != 0 || hi != 0 {
				t.Errorf("pages of floats [%d, %d) from a boundary: %#x..%#x, want none (0, 0)", c.from, c.to, lo, hi)
			}
			continue
		}
		if base+lo != c.lo || base+hi != c.hi {
			t.Errorf("pages of floats [%d, %d) from a boundary: %#x..%#x, want %#x..%#x", c.from, c.to, base+lo, base+hi, c.lo, c.hi)
		}
	}
	if lo, hi := pages(nil); lo != 0 || hi != 0 {
		t.Errorf("pages(nil) = %#x..%#x", lo, hi)
	}
}

func ExampleSlab() {
	var s Slab
	acts := s.Floats(1<<20, 1<<20) // 4 MB from a chunk advised for huge pages
	grads := s.Floats(1<<20, 1<<20)
	acts[0], grads[0] = 1, 2
	fmt.Println(len(acts), cap(grads), grads[1])
	// Output: 1048576 1048576 0
}
