package tensor

import "math"

// Normal samples come from the ziggurat method of Marsaglia & Tsang (2000,
// "The Ziggurat Method for Generating Random Variables", J. Stat. Softw.
// 5(8)) with 128 layers, drawing 32-bit integers straight from the PCG
// source (two per 64-bit draw) rather than through math/rand's interface:
// a GAN step draws hundreds of thousands of latent values, and this is
// several times faster than rand.NormFloat64. The samples are exact N(0, 1)
// up to the 2^-31 resolution of the layer positions.

const (
	zigLayers = 128
	zigR      = 3.442619855899      // start of the tail
	zigV      = 9.91256303526217e-3 // area of each layer
	zigInvR   = 1 / zigR            // for the tail sampler
	zig2to31  = 2147483648.0        // 2^31
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
func (g *RNG) uniform01() float64 {
	return (float64(g.src.Uint64()>>11) + 0.5) / (1 << 53)
}

// normalSlow handles the rare rejections of the ziggurat for the draw hz.
func (g *RNG) normalSlow(hz int32) float64 {
	for {
		iz := hz & (zigLayers - 1)
		x := float64(hz) * zigW[iz]
		if iz == 0 { // the tail beyond zigR
			for {
				xt := -math.Log(g.uniform01()) * zigInvR
				y := -math.Log(g.uniform01())
				if y+y >= xt*xt {
					if hz > 0 {
						return zigR + xt
					}
					return -zigR - xt
				}
			}
		}
		if zigF[iz]+g.uniform01()*(zigF[iz-1]-zigF[iz]) < math.Exp(-0.5*x*x) {
			return x
		}
		hz = int32(uint32(g.src.Uint64() >> 32))
		if iz2 := hz & (zigLayers - 1); absU32(hz) < zigK[iz2] {
			return float64(hz) * zigW[iz2]
		}
	}
}

func absU32(x int32) uint32 {
	m := x >> 31
	return uint32((x ^ m) - m)
}

// normal32 turns one 32-bit draw into a standard normal sample.
func (g *RNG) normal32(hz int32) float64 {
	iz := hz & (zigLayers - 1)
	if absU32(hz) < zigK[iz] {
		return float64(hz) * zigW[iz]
	}
	return g.normalSlow(hz)
}
