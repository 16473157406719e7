package gemm

import (
	"runtime"
	"sync/atomic"
)

// When C is cut into several chunks of rows, every part that computes a
// chunk reads the same columns of op(B). Each part used to pack them into
// its own workspace: at two threads on 1024³, B was packed twice, and its
// packing (5.3% of the samples) cost twice what it did at one thread
// (2.4%). Instead the parts pack op(B) once, into a buffer of the call
// (ctx.sb), between them: op(B) is cut into units of sharedUnit
// micro-panels per K chunk, and a part that needs a unit packs it if no
// part has claimed it, or waits for the part packing it. A part starts
// claiming at its own share of the units, so two parts starting together
// pack different halves; a part that starts late finds the units packed,
// and one that runs alone packs them all itself. No part ever waits for a
// part that has not started a unit, only for one in the middle of packing
// it (a few microseconds). Each unit's values are those the part's own
// packing wrote, so the results are unchanged.

// sharedUnit is the number of NR-wide micro-panels in a unit: 128 columns
// of the float32 kernel, 128 KiB at KC = 256.
const sharedUnit = 4

// sharedMaxBytes bounds the packed op(B) of a call that is shared: all of
// K times n rounded up to NR, in float32s (1024³: 4 MiB).
const sharedMaxBytes = 32 << 20

// Unit states.
const (
	unitFree    = 0
	unitPacking = 1
	unitPacked  = 2
)

// sharedPack is op(B) packed whole for a call's parts: K chunk pi's
// micro-panels start at p0·ncr in buf (p0 the chunk's first row), panel g
// at g·NR·kc within it, and state holds, for each chunk, the state of its
// units (units words from pi·units). buf and state are kept with the
// call's context and grown when a product needs more.
type sharedPack struct {
	buf   []float32
	ncr   int // n rounded up to NR
	units int // units per K chunk
	state []atomic.Int32
}

// canShare says whether a product with an op(B) of n columns and depth k
// on kernel im, split over threads threads, packs op(B) once for all of
// them: parts share op(B) on this CPU (shareB), the whole packed op(B)
// fits sharedMaxBytes, and a K
// chunk has at least two units for each thread, so that the threads pack
// side by side. With fewer (dcgan28's 3136×128×1024, one unit a chunk) a
// thread waited while the other packed each chunk, and read it from the
// other's cache, which saved nothing: the step ran 0.95x at two threads.
func canShare(threads, n, k int, im *impl) bool {
	if !shareB {
		return false
	}
	units := (roundUp(n, im.nr)/im.nr + sharedUnit - 1) / sharedUnit
	return threads > 1 && units >= 2*threads && 4*roundUp(n, im.nr)*k <= sharedMaxBytes
}

// share makes j's parts pack op(B) once between them, into x.sb.
func (x *ctx) share(j *job) {
	im, sb := j.im, &x.sb
	sb.ncr = roundUp(j.n, im.nr)
	if len(sb.buf) < sb.ncr*j.k {
		sb.buf = alignedFloats(sb.ncr * j.k)
	}
	sb.units = (sb.ncr/im.nr + sharedUnit - 1) / sharedUnit
	if len(sb.state) < sb.units*j.nk {
		sb.state = make([]atomic.Int32, sb.units*j.nk)
	}
	for i := range sb.state[:sb.units*j.nk] {
		sb.state[i].Store(unitFree)
	}
	j.sb = sb
}

// sharedB returns K chunk pi's packed op(B) from column jc (a multiple of
// NR) once the units covering columns [jc, jc+nc) are packed: the part of
// ws packs those no part has claimed and waits for those another part is
// packing.
func (j *job) sharedB(ws *workspace, pi, jc, nc int) []float32 {
	im, sb := j.im, j.sb
	p0, p1 := j.kChunk(pi)
	kc := p1 - p0
	chunk := sb.buf[p0*sb.ncr:]
	st := sb.state[pi*sb.units : (pi+1)*sb.units]
	w := sharedUnit * im.nr
	u0, u1 := jc/w, (jc+nc+w-1)/w
	nu := u1 - u0
	first := u0 + nu*ws.part/len(j.ws)
	for t := range nu {
		u := first + t
		if u >= u1 {
			u -= nu
		}
		if st[u].Load() == unitFree && st[u].CompareAndSwap(unitFree, unitPacking) {
			c0 := u * w
			j.packBChunk(chunk[c0*kc:], ws.rows, c0, min(w, j.n-c0), p0, kc)
			st[u].Store(unitPacked)
		}
	}
	for u := u0; u < u1; u++ {
		for spins := 0; st[u].Load() != unitPacked; spins++ {
			if spins >= 64 {
				runtime.Gosched()
			}
		}
	}
	return chunk[jc*kc:]
}
