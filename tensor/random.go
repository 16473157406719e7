package tensor

import "math/rand/v2"

// RNG is an explicit, seeded source of randomness. minmax never uses a
// global random source: every sampler takes an *RNG, so the same seed (and
// thread count) gives bit-identical results. The state can be saved and
// restored (MarshalBinary, UnmarshalBinary) for checkpoints that resume
// exactly.
type RNG struct {
	src *rand.PCG
	r   *rand.Rand
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

// Normal fills dst with samples of N(mean, std²) (ziggurat method; see
// ziggurat.go).
func (g *RNG) Normal(dst []float32, mean, std float32) {
	i := 0
	for ; i+1 < len(dst); i += 2 {
		u := g.src.Uint64()
		dst[i] = mean + std*float32(g.normal32(int32(uint32(u))))
		dst[i+1] = mean + std*float32(g.normal32(int32(uint32(u>>32))))
	}
	if i < len(dst) {
		dst[i] = mean + std*float32(g.normal32(int32(uint32(g.src.Uint64()))))
	}
}

// NormFloat64 returns one standard normal sample.
func (g *RNG) NormFloat64() float64 { return g.normal32(int32(uint32(g.src.Uint64()))) }

// Uniform fills dst with samples of U[lo, hi).
func (g *RNG) Uniform(dst []float32, lo, hi float32) {
	w := float64(hi - lo)
	for i := range dst {
		dst[i] = lo + float32(w*g.r.Float64())
	}
}

// IntN returns a uniformly random int in [0, n).
func (g *RNG) IntN(n int) int { return g.r.IntN(n) }

// MarshalBinary saves the generator's state.
func (g *RNG) MarshalBinary() ([]byte, error) { return g.src.MarshalBinary() }

// UnmarshalBinary restores a state saved by MarshalBinary.
func (g *RNG) UnmarshalBinary(b []byte) error { return g.src.UnmarshalBinary(b) }
