package cpucache

import (
	"fmt"
	"testing"
)

// leaf is a fake CPUID leaf: one (eax, ebx, ecx) per subleaf, then type 0.
func leaf(regs ...[3]uint32) func(uint32) (uint32, uint32, uint32) {
	return func(sub uint32) (uint32, uint32, uint32) {
		if int(sub) >= len(regs) {
			return 0, 0, 0
		}
		r := regs[sub]
		return r[0], r[1], r[2]
	}
}

// cache encodes one cache as leaf 4 lists it.
func cache(typ, level, ways, parts, line, sets uint32) [3]uint32 {
	return [3]uint32{typ | level<<5, (ways-1)<<22 | (parts-1)<<12 | (line - 1), sets - 1}
}

func TestDeterministic(t *testing.T) {
	// Zen 5 as its leaf 0x8000001D lists it: L1d 48 KiB 12-way, L1i
	// 32 KiB, L2 1 MiB 16-way, L3 32 MiB.
	zen5 := leaf(
		cache(1, 1, 12, 1, 64, 64),
		cache(2, 1, 8, 1, 64, 64),
		cache(3, 2, 16, 1, 64, 1024),
		cache(3, 3, 16, 1, 64, 32768),
	)
	s, ok := deterministic(zen5)
	if !ok || s.L1D != 48<<10 || s.L2 != 1<<20 {
		t.Errorf("Zen 5: got %+v, %v; want L1D 48 KiB, L2 1 MiB", s, ok)
	}
	// An instruction cache alone at level 1 is no L1 data cache.
	if s, ok := deterministic(leaf(cache(2, 1, 8, 1, 64, 64), cache(3, 2, 16, 1, 64, 1024))); ok {
		t.Errorf("no L1 data cache: got %+v, ok", s)
	}
	if _, ok := deterministic(leaf()); ok {
		t.Error("no caches listed: got ok")
	}
}

func TestPlausible(t *testing.T) {
	for _, tc := range []struct {
		s    Sizes
		want bool
	}{
		{Sizes{L1D: 48 << 10, L2: 1 << 20}, true},
		{Default, true},
		{Sizes{L1D: 0, L2: 1 << 20}, false},
		{Sizes{L1D: 32 << 10, L2: 16 << 10}, false},
		{Sizes{L1D: 32 << 10, L2: 1 << 40}, false},
	} {
		if got := plausible(tc.s); got != tc.want {
			t.Errorf("plausible(%+v) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestDetect(t *testing.T) {
	s := Detect()
	if !plausible(s) || s.Source == "" {
		t.Fatalf("Detect() = %+v: implausible", s)
	}
	if s != Detect() {
		t.Fatal("Detect changed between calls")
	}
	t.Logf("L1d %d KiB, L2 %d KiB (%s)", s.L1D>>10, s.L2>>10, s.Source)
}

func ExampleDetect() {
	s := Detect()
	fmt.Println(s.L1D >= 8<<10, s.L2 >= s.L1D)
	// Output: true true
}
