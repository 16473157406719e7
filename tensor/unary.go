package tensor

import "math"

// The elementwise kernels below write f(x) into dst; dst and x have the same
// length and may be the same slice unless stated otherwise. Transcendental
// functions are computed in float64 and rounded once, so they are accurate to
// float32's last bit and identical on every kernel path.

// positiveMask is all ones when x > 0 and zero otherwise (x not NaN),
// computed without a branch: half the signs in a layer are negative, and
// a mispredicted branch per element costs more than the arithmetic.
func positiveMask(x float32) uint32 {
	b := int32(math.Float32bits(x))
	// b > 0 exactly when x > 0 (sign clear, not +0); -0 has b = MinInt32.
	return uint32((-int64(b)) >> 63)
}

// ReLU writes max(x, 0).
func ReLU(dst, x []float32) {
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = math.Float32frombits(math.Float32bits(v) & positiveMask(v))
	}
}

// ReLUMask writes g where x > 0 and 0 elsewhere: the gradient of ReLU.
func ReLUMask(dst, x, g []float32) {
	dst, g = dst[:len(x)], g[:len(x)]
	for i, v := range x {
		dst[i] = math.Float32frombits(math.Float32bits(g[i]) & positiveMask(v))
	}
}

// LeakyReLU writes x where x > 0 and slope*x elsewhere.
func LeakyReLU(dst, x []float32, slope float32) {
	for i, v := range x {
		if v > 0 {
			dst[i] = v
		} else {
			dst[i] = slope * v
		}
	}
}

// LeakyMask writes g where x > 0 and slope*g elsewhere: the gradient of
// LeakyReLU.
func LeakyMask(dst, x, g []float32, slope float32) {
	for i, v := range x {
		if v > 0 {
			dst[i] = g[i]
		} else {
			dst[i] = slope * g[i]
		}
	}
}

// Tanh writes tanh(x).
func Tanh(dst, x []float32) {
	for i, v := range x {
		dst[i] = float32(math.Tanh(float64(v)))
	}
}

// TanhGrad writes g*(1-y*y), the gradient of tanh given its output y.
func TanhGrad(dst, y, g []float32) {
	for i, v := range y {
		dst[i] = g[i] * (1 - v*v)
	}
}

// Sigmoid writes 1/(1+exp(-x)), stable for any x.
func Sigmoid(dst, x []float32) {
	for i, v := range x {
		dst[i] = float32(sigmoid64(float64(v)))
	}
}

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// SigmoidGrad writes g*y*(1-y), the gradient of the sigmoid given its output y.
func SigmoidGrad(dst, y, g []float32) {
	for i, v := range y {
		dst[i] = g[i] * v * (1 - v)
	}
}

// Softplus writes log(1+exp(x)) computed as max(x,0) + log1p(exp(-|x|)),
// which neither overflows nor loses precision for large |x|.
func Softplus(dst, x []float32) {
	for i, v := range x {
		dst[i] = float32(Softplus64(float64(v)))
	}
}

// Softplus64 is the float64 softplus, stable for any x.
func Softplus64(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// Exp writes exp(x).
func Exp(dst, x []float32) {
	for i, v := range x {
		dst[i] = float32(math.Exp(float64(v)))
	}
}

// Log writes the natural logarithm of x.
func Log(dst, x []float32) {
	for i, v := range x {
		dst[i] = float32(math.Log(float64(v)))
	}
}

// Sqrt writes the square root of x.
func Sqrt(dst, x []float32) {
	for i, v := range x {
		dst[i] = float32(math.Sqrt(float64(v)))
	}
}

// Square writes x*x.
func Square(dst, x []float32) {
	for i, v := range x {
		dst[i] = v * v
	}
}

// Affine writes a*x + b.
func Affine(dst, x []float32, a, b float32) {
	for i, v := range x {
		dst[i] = a*v + b
	}
}

// Axpy adds a*x to y in place.
func Axpy(y []float32, a float32, x []float32) {
	for i, v := range x {
		y[i] += a * v
	}
}

// Dot returns the sum of x[i]*y[i], accumulated in float64.
func Dot(x, y []float32) float64 {
	var s float64
	for i, v := range x {
		s += float64(v) * float64(y[i])
	}
	return s
}

// SumSquares returns the sum of x[i]^2, accumulated in float64.
func SumSquares(x []float32) float64 {
	return Dot(x, x)
}
