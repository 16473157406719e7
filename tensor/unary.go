package tensor

import "math"

// The elementwise kernels below write f(x) into dst; dst and x have the same
// length and may be the same slice unless stated otherwise. Transcendental
// functions are computed in float64 and rounded once, so they are accurate to
// float32's last bit and identical on every kernel path.

// The ReLU family keeps x where !(x <= 0): for x > 0, and for NaN, so that
// a NaN reaching a layer is not silently zeroed. On amd64 with AVX2 the
// bulk runs in assembly (simd_amd64.s); the loops below do the rest and
// are the whole kernel elsewhere.

// ReLU writes max(x, 0).
func ReLU(dst, x []float32) {
	if !runElems(elemReLU, len(x), len(x), dst, x, nil, 0, 0) {
		reluSerial(dst, x)
	}
}

func reluSerial(dst, x []float32) {
	dst = dst[:len(x)]
	for i := simdReLU(dst, x); i < len(x); i++ {
		if v := x[i]; !(v <= 0) {
			dst[i] = v
		} else {
			dst[i] = 0
		}
	}
}

// ReLUMask writes g where x > 0 and 0 elsewhere: the gradient of ReLU.
func ReLUMask(dst, x, g []float32) {
	if !runElems(elemReLUMask, len(x), len(x), dst, x, g, 0, 0) {
		reluMaskSerial(dst, x, g)
	}
}

func reluMaskSerial(dst, x, g []float32) {
	dst, g = dst[:len(x)], g[:len(x)]
	for i := simdReLUMask(dst, x, g); i < len(x); i++ {
		if !(x[i] <= 0) {
			dst[i] = g[i]
		} else {
			dst[i] = 0
		}
	}
}

// LeakyReLU writes x where x > 0 and slope*x elsewhere.
func LeakyReLU(dst, x []float32, slope float32) {
	LeakyMask(dst, x, x, slope)
}

// LeakyMask writes g where x > 0 and slope*g elsewhere: the gradient of
// LeakyReLU (and LeakyReLU itself when g is x).
func LeakyMask(dst, x, g []float32, slope float32) {
	if !runElems(elemLeaky, len(x), len(x), dst, x, g, slope, 0) {
		leakySerial(dst, x, g, slope)
	}
}

func leakySerial(dst, x, g []float32, slope float32) {
	dst, g = dst[:len(x)], g[:len(x)]
	for i := simdLeaky(dst, x, g, slope); i < len(x); i++ {
		if !(x[i] <= 0) {
			dst[i] = g[i]
		} else {
			dst[i] = slope * g[i]
		}
	}
}

// Tanh writes tanh(x).
//
// Each element costs a float64 math.Tanh (tens of additions' time), so
// arrays of a few thousand elements are already spread over the pool
// (transcendentalWork); G's output layer was serial before, 1.6% of
// dcgan28's step at 2 threads.
func Tanh(dst, x []float32) {
	if !runElems(elemTanh, len(x), transcendentalWork*len(x), dst, x, nil, 0, 0) {
		tanhSerial(dst, x)
	}
}

// transcendentalWork is the cost of one tanh or sigmoid in units of
// parallelGrain's elements (simple vector ops): an estimate, not a
// measurement.
const transcendentalWork = 16

func tanhSerial(dst, x []float32) { map64(dst, x, math.Tanh) }

// TanhGrad writes g*(1-y*y), the gradient of tanh given its output y.
func TanhGrad(dst, y, g []float32) {
	for i, v := range y {
		dst[i] = g[i] * (1 - v*v)
	}
}

// Sigmoid writes 1/(1+exp(-x)), stable for any x.
func Sigmoid(dst, x []float32) {
	if !runElems(elemSigmoid, len(x), transcendentalWork*len(x), dst, x, nil, 0, 0) {
		sigmoidSerial(dst, x)
	}
}

func sigmoidSerial(dst, x []float32) { map64(dst, x, sigmoid64) }

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
func Softplus(dst, x []float32) { map64(dst, x, Softplus64) }

// Softplus64 is the float64 softplus, stable for any x.
func Softplus64(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// Exp writes exp(x).
func Exp(dst, x []float32) { map64(dst, x, math.Exp) }

// Log writes the natural logarithm of x.
func Log(dst, x []float32) { map64(dst, x, math.Log) }

// map64 writes float32(f(float64(x[i]))), converting x to float64 in
// chunks of map64Chunk values before f runs on any of them.
//
// The obvious loop, dst[i] = float32(f(float64(v))), is several times
// slower (BenchmarkSoftplus on a Sapphire-Rapids-class Xeon: 50.2-50.5
// against 19.6-19.7 ns a value, the same bits): the compiler folds the load into CVTSS2SD, which writes only
// the low half of its register and so waits for the register's last
// writer, the previous element's f. Each element's tens of dependent
// floating-point steps then run one after another, where the converted
// chunk lets the core overlap several elements' chains.
func map64(dst, x []float32, f func(float64) float64) {
	var buf [map64Chunk]float64
	dst = dst[:len(x)]
	for len(x) > 0 {
		n := min(len(x), map64Chunk)
		for i, v := range x[:n] {
			buf[i] = float64(v)
		}
		for i := range n {
			buf[i] = f(buf[i])
		}
		for i, v := range buf[:n] {
			dst[i] = float32(v)
		}
		dst, x = dst[n:], x[n:]
	}
}

// map64Chunk is map64's chunk: 512 bytes of float64 on the stack.
const map64Chunk = 64

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

// Affine writes a*x + b (over the worker pool when x is large).
func Affine(dst, x []float32, a, b float32) {
	if !runElemJob(len(x), len(x), elemJob{kind: elemAffine, dst: dst, x: x, slope: a, shift: b}) {
		affineSerial(dst, x, a, b)
	}
}

func affineSerial(dst, x []float32, a, b float32) {
	dst = dst[:len(x)]
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

// sumSqLanes is how many partial sums SumSquares keeps.
const sumSqLanes = 32

// SumSquares returns the sum of x[i]², accumulated in float64 in
// sumSqLanes partial sums (x[i] into sum i mod 32, in order of i; each
// square rounded to float64 before it is added), which are then added
// pairwise: 16 pairs, 8, and so on. The order is fixed, so the result is
// deterministic; the lanes let the AVX2 kernel (eight registers of four)
// give the same bits as the Go loop, several times faster than one sum
// (the gradient norm of every optimiser step).
func SumSquares(x []float32) float64 {
	var s [sumSqLanes]float64
	for i := simdSumSq(&s, x); i < len(x); i++ {
		v := float64(x[i])
		s[i%sumSqLanes] += float64(v * v)
	}
	for w := sumSqLanes / 2; w > 0; w /= 2 {
		for k := range w {
			s[k] += s[k+w]
		}
	}
	return s[0]
}
