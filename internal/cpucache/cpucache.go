// Package cpucache reports the sizes of the CPU's level-1 data cache and
// level-2 cache, which the matrix-product kernels size their blocks by
// (see internal/gemm). On amd64 they are read with CPUID: the
// deterministic cache parameters (leaf 4 on Intel, 0x8000001D on AMD and
// Hygon), or AMD's older L1 and L2 leaves. Elsewhere, or where the CPU
// (or a hypervisor) reports nothing plausible, Detect returns Default.
package cpucache

import "sync"

// Sizes are the per-core data caches that matter for blocking, in bytes.
type Sizes struct {
	L1D int // level-1 data cache
	L2  int // level-2 cache (unified, or data)
	// Source says where the sizes came from: "cpuid leaf 4",
	// "cpuid leaf 0x8000001d", "cpuid leaves 0x80000005-6", or "default".
	Source string
}

// Default is what Detect returns where the sizes cannot be read: 32 KiB
// and 1 MiB, a Zen 4 or Skylake-SP core.
var Default = Sizes{L1D: 32 << 10, L2: 1 << 20, Source: "default"}

var (
	once     sync.Once
	detected Sizes
)

// Detect returns this CPU's cache sizes, read once.
func Detect() Sizes {
	once.Do(func() {
		detected = Default
		if s, ok := detect(); ok && plausible(s) {
			detected = s
		}
	})
	return detected
}

// plausible says whether s looks like a real core's caches: an L1 data
// cache of 8 KiB to 1 MiB and an L2 of 64 KiB to 256 MiB, no smaller
// than the L1. Hypervisors sometimes report zeros or garbage.
func plausible(s Sizes) bool {
	return s.L1D >= 8<<10 && s.L1D <= 1<<20 && s.L2 >= 64<<10 && s.L2 <= 256<<20 && s.L2 >= s.L1D
}

// deterministic decodes the caches listed by CPUID's deterministic cache
// parameters (leaf 4, or AMD's 0x8000001D, which has the same layout):
// query(i) returns EAX, EBX and ECX of subleaf i, one cache per subleaf
// until a cache type of 0. The size of a cache is ways × partitions ×
// line size × sets. ok is false unless both an L1 data cache and an L2
// (data or unified) were listed.
func deterministic(query func(sub uint32) (eax, ebx, ecx uint32)) (s Sizes, ok bool) {
	for sub := uint32(0); sub < 32; sub++ {
		eax, ebx, ecx := query(sub)
		typ := eax & 0x1f // 1 data, 2 instruction, 3 unified
		if typ == 0 {
			break
		}
		if typ != 1 && typ != 3 {
			continue
		}
		level := (eax >> 5) & 7
		ways := int(ebx>>22) + 1
		parts := int((ebx>>12)&0x3ff) + 1
		line := int(ebx&0xfff) + 1
		sets := int(ecx) + 1
		size := ways * parts * line * sets
		switch {
		case level == 1 && s.L1D == 0:
			s.L1D = size
		case level == 2 && s.L2 == 0:
			s.L2 = size
		}
	}
	return s, s.L1D > 0 && s.L2 > 0
}
