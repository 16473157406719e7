package tensor

import "math"

// The exponentials of a softmax are taken in float32 by Cephes' expf
// (range reduction e^v = 2^k·e^r with |r| ≤ ln2/2, then a degree-5
// polynomial: within 2 units in the last place of float32 over the range
// a softmax uses, v ≤ 0), vectorised where the CPU has AVX2. math.Exp in
// float64 cost a tenth of a biggan32 step (its attention maps).

// The constants of expShift (float32): ln2 split in two for an exact
// range reduction, and the polynomial's coefficients.
const (
	expLog2E = 1.44269504088896341
	expC1    = 0.693359375
	expC2    = -2.12194440e-4
	expP0    = 1.9875691500e-4
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
	// expLowest is the least argument whose exponential is a normal
	// float32 (≈ ln 2⁻¹²⁶); below it expShift returns 0.
	expLowest = -87.3365447505531
)

// expShift returns e^v for v ≤ 0 in float32 (0 below expLowest and for
// −Inf; v must not be NaN). Each operation is rounded to float32 on its
// own (the conversions keep the compiler from fusing a multiply and an
// add), in the order of expShiftAVX2, which gives the same bits.
func expShift(v float32) float32 {
	if !(v >= expLowest) {
		return 0
	}
	k := float32(math.Floor(float64(float32(v*expLog2E) + 0.5)))
	r := v - float32(k*expC1)
	r -= float32(k * expC2)
	z := float32(r * r)
	y := float32(float32(expP0)*r) + expP1
	y = float32(y*r) + expP2
	y = float32(y*r) + expP3
	y = float32(y*r) + expP4
	y = float32(y*r) + expP5
	y = float32(float32(y*z)+r) + 1
	return y * math.Float32frombits(uint32(int32(k)+127)<<23)
}

// expShiftLine writes dst[i] = e^(x[i] − m) for a finite m ≥ every x[i].
func expShiftLine(dst, x []float32, m float32) {
	dst = dst[:len(x)]
	for i := simdExpShift(dst, x, m); i < len(x); i++ {
		dst[i] = expShift(x[i] - m)
	}
}
