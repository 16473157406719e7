package cpucache

// cpuid executes CPUID with EAX = leaf and ECX = sub.
//
//go:noescape
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// detect reads the caches with CPUID (see the package comment).
func detect() (Sizes, bool) {
	maxBasic, b, c, d := cpuid(0, 0)
	vendor := string([]byte{
		byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24),
		byte(d), byte(d >> 8), byte(d >> 16), byte(d >> 24),
		byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24),
	})
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	leaf := func(l uint32) func(uint32) (uint32, uint32, uint32) {
		return func(sub uint32) (uint32, uint32, uint32) {
			a, b, c, _ := cpuid(l, sub)
			return a, b, c
		}
	}
	if vendor == "AuthenticAMD" || vendor == "HygonGenuine" {
		_, _, extFeatures, _ := cpuid(0x80000001, 0)
		if maxExt >= 0x8000001d && extFeatures&(1<<22) != 0 { // TOPOEXT
			if s, ok := deterministic(leaf(0x8000001d)); ok {
				s.Source = "cpuid leaf 0x8000001d"
				return s, true
			}
		}
		if maxExt >= 0x80000006 {
			_, _, l1, _ := cpuid(0x80000005, 0)
			_, _, l2, _ := cpuid(0x80000006, 0)
			s := Sizes{L1D: int(l1>>24) << 10, L2: int(l2>>16) << 10, Source: "cpuid leaves 0x80000005-6"}
			return s, s.L1D > 0 && s.L2 > 0
		}
		return Sizes{}, false
	}
	if maxBasic >= 4 {
		if s, ok := deterministic(leaf(4)); ok {
			s.Source = "cpuid leaf 4"
			return s, true
		}
	}
	return Sizes{}, false
}
