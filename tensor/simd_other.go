//go:build !amd64

package tensor

var useAVX2 = false

func simdReLU(dst, x []float32) int                    { return 0 }
func simdReLUMask(dst, x, g []float32) int             { return 0 }
func simdLeaky(dst, x, g []float32, slope float32) int { return 0 }

func simdBin(op int, dst, a, b []float32) int               { return 0 }
func simdColSum(dst, x []float32, rows, ld int) int         { return 0 }
func simdBinScalar(op int, dst, a []float32, b float32) int { return 0 }

func simdBNSum(a []float64, x []float32) int                { return 0 }
func simdBNSq(b []float64, x []float32, mean []float64) int { return 0 }
func simdSumSq(s *[sumSqLanes]float64, x []float32) int     { return 0 }
func simdBNGrad(a, b []float64, g, x []float32) int         { return 0 }
func simdBNAffine(y, x, s, t []float32) int                 { return 0 }
func simdBNDx(dx, g, x, k, m, q []float32) int              { return 0 }

func simdBlockSum2(dst, r0, r1 []float32, w, c int) bool { return false }

func simdMax(x []float32) (float32, int) { return 0, 0 }

func simdExpShift(dst, x []float32, m float32) int { return 0 }

func simdNormal(dst []float32, r *splitMix, mean, std float32) int { return 0 }

var useNormalAVX512 = false

var useAVX512 = false

func simdBNSumRows(a []float64, x []float32, rows, c int) int                { return 0 }
func simdBNSqRows(b []float64, x []float32, mean []float64, rows, c int) int { return 0 }
func simdBNGradRows(a, b []float64, g, x []float32, rows, c int) int         { return 0 }
func simdBNAffineRows(y, x, s, t []float32, rows, c int) int                 { return 0 }
func simdBNDxRows(dx, g, x, k, m, q []float32, rows, c int) int              { return 0 }
