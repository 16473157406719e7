package tensor

import (
	"math/rand/v2"

	"github.com/minmaxgan/minmax/internal/parallel"
)

// RNG is an explicit, seeded source of randomness. minmax never uses a
// global random source: every sampler takes an *RNG, so the same seed (and
// thread count) gives bit-identical results. The state can be saved and
// restored (MarshalBinary, UnmarshalBinary) for checkpoints that resume
// exactly.
type RNG struct {
	src *rand.PCG
	r   *rand.Rand
	job normalJob // reused by Normal so that a bulk draw does not allocate
}

// NewRNG returns a generator seeded with seed.
func NewRNG(seed uint64) *RNG {
	src := rand.NewPCG(seed, 0x9e3779b97f4a7c15^seed)
	return &RNG{src: src, r: rand.New(src)}
}

// Rand exposes the underlying *rand.Rand (sharing the same state).
func (g *RNG) Rand() *rand.Rand { return g.r }

// Uint64 returns a uniformly random 64-bit value.
func (g *RNG) Uint64() uint64 { return g.r.Uint64() }

// Normal fills dst with samples of N(mean, std²) by the ziggurat method
// (see ziggurat.go). It takes one 64-bit draw from the generator as a key
// and splits dst into fixed chunks of 4096 values, each filled from its own
// SplitMix64 stream seeded by the key and the chunk's index; large draws
// run their chunks on the process-wide worker pool. The values depend only
// on the generator's state and len(dst), never on the thread count.
func (g *RNG) Normal(dst []float32, mean, std float32) {
	if len(dst) == 0 {
		return
	}
	key := g.src.Uint64()
	chunks := (len(dst) + normalChunk - 1) / normalChunk
	if chunks == 1 {
		fillNormal(dst, key, 0, mean, std)
		return
	}
	g.job = normalJob{dst: dst, key: key, mean: mean, std: std}
	pool := parallel.Default()
	pool.ForParts(chunks, pool.Threads(), &g.job)
	g.job.dst = nil
}

// NormFloat64 returns one standard normal sample. It takes one 64-bit draw;
// in the rare case that the ziggurat rejects it, a SplitMix64 stream seeded
// by a second draw supplies the rest.
func (g *RNG) NormFloat64() float64 {
	hz := int32(uint32(g.src.Uint64()))
	iz := uint32(hz) & (zigLayers - 1)
	if absU32(hz) < zigK[iz] {
		return float64(hz) * zigW[iz]
	}
	r := splitMix{s: g.src.Uint64()}
	return r.slow(hz)
}

// Uniform fills dst with samples of U[lo, hi).
func (g *RNG) Uniform(dst []float32, lo, hi float32) {
	w := float64(hi - lo)
	for i := range dst {
		dst[i] = lo + float32(w*g.r.Float64())
	}
}

// IntN returns a uniformly random int in [0, n).
func (g *RNG) IntN(n int) int { return g.r.IntN(n) }

// Choose returns k distinct indices of [0, n), drawn uniformly without
// replacement (the first k steps of a Fisher–Yates shuffle, one IntN each),
// in the order drawn. k must be in [0, n].
func (g *RNG) Choose(n, k int) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	for i := 0; i < k; i++ {
		j := i + g.r.IntN(n-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm[:k:k]
}

// MarshalBinary saves the generator's state.
func (g *RNG) MarshalBinary() ([]byte, error) { return g.src.MarshalBinary() }

// UnmarshalBinary restores a state saved by MarshalBinary.
func (g *RNG) UnmarshalBinary(b []byte) error { return g.src.UnmarshalBinary(b) }

// NormalStream is one Normal call drawn in pieces: NormalStream takes the
// call's key from the generator, as Normal does, and Fill writes any range
// of the values that Normal would have written into a slice long enough,
// so that codes for millions of samples can be drawn a chunk at a time and
// still equal those of one call.
type NormalStream struct {
	key       uint64
	mean, std float32
}

// NormalStream starts a stream of N(mean, std²) values (one Normal call).
func (g *RNG) NormalStream(mean, std float32) NormalStream {
	return NormalStream{key: g.src.Uint64(), mean: mean, std: std}
}

// Fill writes the values [off, off+len(dst)) of the stream into dst.
func (s NormalStream) Fill(dst []float32, off int) {
	var buf [normalChunk]float32
	for len(dst) > 0 {
		c, in := off/normalChunk, off%normalChunk
		n := min(len(dst), normalChunk-in)
		if in == 0 && n == normalChunk {
			fillNormal(dst[:n], s.key, c, s.mean, s.std)
		} else {
			fillNormal(buf[:in+n], s.key, c, s.mean, s.std)
			copy(dst[:n], buf[in:in+n])
		}
		dst, off = dst[n:], off+n
	}
}
