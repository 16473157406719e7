package tensor

import "math"

// Normal samples come from the ziggurat method of Marsaglia & Tsang (2000,
// "The Ziggurat Method for Generating Random Variables", J. Stat. Softw.
// 5(8)) with 256 layers (half the slow-path
// draws of the 128-layer version, which dominated the time), drawing 32-bit integers straight from the PCG
// source (two per 64-bit draw) rather than through math/rand's interface:
// a GAN step draws hundreds of thousands of latent values, and this is
// several times faster than rand.NormFloat64. The samples are exact N(0, 1)
// up to the 2^-31 resolution of the layer positions.

const (
	zigLayers = 256
	zigR      = 3.6541528853610088 // start of the tail
	zigV      = 4.92867323399e-3   // area of each layer
	zigInvR   = 1 / zigR           // for the tail sampler
	zig2to31  = 2147483648.0       // 2^31
)

var (
	zigK [zigLayers]uint32  // acceptance thresholds on |hz|
	zigW [zigLayers]float64 // layer widths / 2^31
	zigF [zigLayers]float64 // exp(-x²/2) at the layer edges
)

func init() {
	dn, tn := zigR, zigR
	q := zigV / math.Exp(-0.5*dn*dn)
	zigK[0] = uint32(dn / q * zig2to31)
	zigK[1] = 0
	zigW[0] = q / zig2to31
	zigW[zigLayers-1] = dn / zig2to31
	zigF[0] = 1
	zigF[zigLayers-1] = math.Exp(-0.5 * dn * dn)
	for i := zigLayers - 2; i >= 1; i-- {
		dn = math.Sqrt(-2 * math.Log(zigV/dn+math.Exp(-0.5*dn*dn)))
		zigK[i+1] = uint32(dn / tn * zig2to31)
		tn = dn
		zigF[i] = math.Exp(-0.5 * dn * dn)
		zigW[i] = dn / zig2to31
	}
}

// uniform01 returns a float64 uniform in (0, 1) (never 0, for logs).
func uniform01(src *splitMix) float64 {
	return (float64(src.Uint64()>>11) + 0.5) / (1 << 53)
}

// normalSlow handles the rare rejections of the ziggurat for the draw hz.
func normalSlow(src *splitMix, hz int32) float64 {
	for {
		iz := hz & (zigLayers - 1)
		x := float64(hz) * zigW[iz]
		if iz == 0 { // the tail beyond zigR
			for {
				xt := -math.Log(uniform01(src)) * zigInvR
				y := -math.Log(uniform01(src))
				if y+y >= xt*xt {
					if hz > 0 {
						return zigR + xt
					}
					return -zigR - xt
				}
			}
		}
		if zigF[iz]+uniform01(src)*(zigF[iz-1]-zigF[iz]) < math.Exp(-0.5*x*x) {
			return x
		}
		hz = int32(uint32(src.Uint64() >> 32))
		if iz2 := hz & (zigLayers - 1); absU32(hz) < zigK[iz2] {
			return float64(hz) * zigW[iz2]
		}
	}
}

func absU32(x int32) uint32 {
	m := x >> 31
	return uint32((x ^ m) - m)
}

// zigNormal turns one 32-bit draw into a standard normal sample, drawing
// more from src only in the rare slow case.
func zigNormal(src *splitMix, hz int32) float64 {
	iz := uint32(hz) & (zigLayers - 1)
	if absU32(hz) < zigK[iz] {
		return float64(hz) * zigW[iz]
	}
	return src.slow(hz)
}

// splitMix is the SplitMix64 generator (Steele, Lea & Flood 2014, "Fast
// splittable pseudorandom number generators", OOPSLA): a Weyl sequence
// through a 64-bit finaliser. It passes BigCrush, costs about a nanosecond,
// and lives on the stack, so bulk normal draws use one per chunk.
type splitMix struct{ s uint64 }

// Uint64 advances the stream.
func (r *splitMix) Uint64() uint64 {
	r.s += normalGamma
	return mix64(r.s)
}

// mix64 is SplitMix64's finaliser (a bijection with full avalanche).
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// normalChunk is the number of values drawn from one SplitMix64 stream in a
// bulk draw. It is fixed, so the values do not depend on how the chunks
// are spread over threads.
const normalChunk = 4096

// fillNormal fills dst, chunk number chunk of a bulk draw keyed by key,
// with N(mean, std²) samples.
//
// The chunk's stream is consumed in order: each pair of values takes the
// two 32-bit halves of the next draw, and a value the fast path rejects
// (about one in 80) takes its slow path's draws from the same stream
// before the next pair. Where the CPU has AVX-512 DQ, simdNormal computes
// the fast path of the stream's draws sixteen values at a time and this
// order is kept by copying them around the rejected ones; the values are
// the same bits either way.
func fillNormal(dst []float32, key uint64, chunk int, mean, std float32) {
	// Each chunk starts its own stream at a pseudo-random point of the
	// 2^64-long sequence, so streams of different chunks (and of different
	// calls, whose keys differ) do not overlap in practice.
	r := splitMix{s: mix64(key + uint64(chunk+1)*0xd1b54a32d192ed03)}
	i := simdNormal(dst, &r, mean, std)
	i += normalPairs(dst[i:], &r, mean, std)
	if i < len(dst) {
		dst[i] = mean + float32(std*float32(zigNormal(&r, int32(uint32(r.Uint64())))))
	}
}

// normalPairs fills the pairs of values of dst (all but an odd last one)
// from the stream r, one draw each and the slow path's draws where it
// rejects, and returns how many values it wrote.
func normalPairs(dst []float32, r *splitMix, mean, std float32) int {
	i := 0
	for ; i+1 < len(dst); i += 2 {
		u := r.Uint64()
		// The ziggurat's fast path, written out so that it inlines; about
		// one draw in 80 takes the slow path.
		h0, h1 := int32(uint32(u)), int32(uint32(u>>32))
		i0, i1 := uint32(h0)&(zigLayers-1), uint32(h1)&(zigLayers-1)
		var a, b float64
		if absU32(h0) < zigK[i0] {
			a = float64(h0) * zigW[i0]
		} else {
			a = r.slow(h0)
		}
		if absU32(h1) < zigK[i1] {
			b = float64(h1) * zigW[i1]
		} else {
			b = r.slow(h1)
		}
		// The conversions keep std·x rounded before the sum (no fused
		// multiply-add, whatever GOAMD64 allows), as in the assembly.
		dst[i] = mean + float32(std*float32(a))
		dst[i+1] = mean + float32(std*float32(b))
	}
	return i
}

// normalGamma is SplitMix64's increment, and normalGammaInv its inverse
// modulo 2^64: a stream that started at s0 and is at state s has made
// (s − s0)·normalGammaInv draws.
const normalGamma uint64 = 0x9e3779b97f4a7c15

var normalGammaInv = func() uint64 {
	x := normalGamma // right to 3 bits (odd·odd ≡ 1 mod 8); Newton doubles them
	for range 5 {
		x *= 2 - normalGamma*x
	}
	return x
}()

// slow is the ziggurat's slow path on a chunk's stream, kept out of line so
// that the stream's state stays in registers in the fast loop.
//
//go:noinline
func (r *splitMix) slow(hz int32) float64 { return normalSlow(r, hz) }

// normalJob spreads the chunks of a bulk draw over the worker pool.
type normalJob struct {
	dst       []float32
	key       uint64
	mean, std float32
}

func (j *normalJob) Run(_, lo, hi int) {
	for c := lo; c < hi; c++ {
		end := min((c+1)*normalChunk, len(j.dst))
		fillNormal(j.dst[c*normalChunk:end], j.key, c, j.mean, j.std)
	}
}
