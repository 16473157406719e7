//go:build amd64

package peak

import (
	"fmt"
	"math"
	"testing"

	"golang.org/x/sys/cpu"
)

// bf16 is a bfloat16 value as the upper half of a float32.
func bf16(bits uint16) float32 { return math.Float32frombits(uint32(bits) << 16) }

// daz returns x, or zero of its sign if x is denormal (VDPBF16PS treats
// denormal inputs as zero).
func daz(x float32) float32 {
	if b := math.Float32bits(x); b&0x7f800000 == 0 {
		return math.Float32frombits(b & 0x80000000)
	}
	return x
}

// dpbf16Ref is VDPBF16PS acc, a, b in Go, as Intel's SDM writes it: for
// each 32-bit lane j, with a[j] and b[j] each a pair of bfloat16 (hi<<16 | lo),
//
//	acc[j] += a_hi·b_hi
//	acc[j] += a_lo·b_lo
//
// each sum rounded to float32 (nearest even), denormal inputs as zero. A
// product of two bfloat16 values is exact in float32. The test's values
// keep every sum exact too, so an implementation that rounds once per lane
// (or adds in the other order) gives the same answer.
func dpbf16Ref(acc *[16]float32, a, b *[16]uint32) {
	for j := range acc {
		hi := daz(bf16(uint16(a[j]>>16))) * daz(bf16(uint16(b[j]>>16)))
		lo := daz(bf16(uint16(a[j]))) * daz(bf16(uint16(b[j])))
		acc[j] += hi
		acc[j] += lo
	}
}

// toBF16 returns the bfloat16 bits of x, which must be exact in bfloat16.
func toBF16(t *testing.T, x float32) uint32 {
	b := math.Float32bits(x)
	if b&0xffff != 0 {
		t.Fatalf("%v is not a bfloat16 value", x)
	}
	return b >> 16
}

// The generator's encoding of VDPBF16PS, run on register triples that set
// and clear every bit of every register field (R, R', vvvv, V', B, X and
// the ModRM fields), against the Go model: the lanes, the pairing of the
// halves (hi with hi, lo with lo) and the accumulation into the
// destination.
func TestVDPBF16PSEncoding(t *testing.T) {
	if !cpu.X86.HasAVX512F || !cpu.X86.HasAVX512BF16 {
		t.Skip("the CPU has no AVX512_BF16")
	}
	fns := map[string]func(acc *[16]float32, a, b *[16]uint32){
		"0,1,2": dpbf16Once_0_1_2, "9,10,11": dpbf16Once_9_10_11, "17,18,20": dpbf16Once_17_18_20,
		"31,30,29": dpbf16Once_31_30_29, "5,24,13": dpbf16Once_5_24_13, "26,7,19": dpbf16Once_26_7_19,
		"12,28,3": dpbf16Once_12_28_3,
	}
	var acc0 [16]float32
	var a, b [16]uint32
	for j := range 16 {
		x := float32(j)
		// Distinct small integers in every position, so a swapped half, a
		// wrong lane or a wrong register shows.
		a[j] = toBF16(t, x+1)<<16 | toBF16(t, -2*x-3)
		b[j] = toBF16(t, 3-x)<<16 | toBF16(t, 0.5*x+0.25)
		acc0[j] = 100*x - 7
	}
	a[15] = toBF16(t, 1)<<16 | 0x0001 // a denormal low half: read as zero
	want := acc0
	dpbf16Ref(&want, &a, &b)
	for regs, fn := range fns {
		got := acc0
		fn(&got, &a, &b)
		if got != want {
			t.Errorf("VDPBF16PS Z%s (dst, src1, src2): got %v, want %v", regs, got, want)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("VDPBF16PS encoded for %d register triples matches the reference, e.g. lane 3: %v", len(fns), fmt.Sprint(want[3]))
}
