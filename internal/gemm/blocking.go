package gemm

import "github.com/minmaxgan/minmax/internal/cpucache"

// The assembly kernels' blocks are sized at start-up from the core's
// caches (cpucache.Detect), by the rules of fitCaches. The rules were
// measured on two CPUs, and reproduce the sizes measured best there:
//
//   - Zen 4 (32 KiB L1d, 1 MiB L2): KC = 256, MC = 192, NC = 1024. KC from
//     128 to 512 measured within a few percent, NC = 512 about 5% slower
//     on 1024³.
//   - Zen 5 (48 KiB L1d, 1 MiB L2), 1024³, five alternations: NC = 1024
//     against 512 gave 194-202 against 177-202 GFLOP/s on one thread and
//     349-383 against 314-353 on two; KC = 384 and 512 were no faster
//     than 256.
//
// The sizes found are reported by Blocking (and by minmax bench's peak
// lines).
var cache = cpucache.Detect()

// Sizes of the other blocked loops, set from the L2 (fitOthers):
//   - residentBytes bounds the packed B that blockResident keeps whole,
//     all of K at once, in L2 beside the A panels and the C strip: a
//     quarter of L2;
//   - tapResidentBytes is the largest packed kernel of a direct
//     convolution kept whole in L2 (tapJob.Run): half of it, the rest for
//     the images' rows and C;
//   - tapsWChunkBytes is about how many bytes of dy and image a chunk of
//     images of the direct kernel gradient holds (tapsWJob): 5/16 of it;
//   - rowBlocksBytes is the packed B of a column block of RowBlocks.Rows:
//     half of it.
//
// On a 1 MiB L2: 256 KiB, 512 KiB, 320 KiB and 512 KiB, the first three
// measured on Zen 4 (and the last takes all of dcgan28's 128×1024 kernel
// in one block there, as before it was blocked).
var (
	residentBytes    = 256 << 10
	tapResidentBytes = 512 << 10
	tapsWChunkBytes  = 320 << 10
	rowBlocksBytes   = 512 << 10
)

// fitCaches sizes im's blocks for an L1 data cache of l1d bytes and an L2
// of l2 bytes:
//
//   - KC: the A micro-panel (MR×KC floats), which stays in L1 while the
//     B block streams past it, takes at most 3/8 of L1d; KC is a multiple
//     of 64 from 64 to 256. Above 256 measured no faster, and KC sets
//     where the sums of K are cut (every element is rounded once per K
//     chunk), so capping it keeps results the same on every CPU whose L1
//     holds that panel: all CPUs with AVX-512 (32 KiB L1d at least).
//   - NC: the packed B block (KC×NC floats) is about the size of L2, NC a
//     multiple of NR from ncFloor to 4096. It streams from L2 once per A
//     micro-panel; half the L2 cost 5% on Zen 4 and Zen 5.
//   - MC: the packed block of a transposed A (MC×KC floats) takes about
//     3/16 of L2, MC a multiple of MR of at least MR.
func fitCaches(im *impl, l1d, l2 int) {
	im.kc = min(256, max(64, (3*l1d/8)/(im.mr*4)/64*64))
	im.nc = min(4096, max(ncFloor/im.nr*im.nr, l2/(4*im.kc)/im.nr*im.nr))
	im.mc = max(im.mr, (3*l2/16)/(4*im.kc)/im.mr*im.mr)
}

// ncFloor is the least NC: every column block repacks A, and on a
// 512 KiB L2 (Zen 3, AVX2) a B block of twice the L2, streamed from L2
// and L3, beat one of the L2's size on 1024³ (three alternations, GFLOP/s:
// NC 1024 against 512, 84-89 against 81-85 at 1 thread, 163-173 against
// 134-159 at 2); on 1 MiB L2s (Zen 4, Zen 5) 1024 is the L2 rule's own.
const ncFloor = 1024

// fitOthers sets the other loops' sizes (residentBytes and its kin) for
// an L2 of l2 bytes.
func fitOthers(l2 int) {
	residentBytes = l2 / 4
	tapResidentBytes = l2 / 2
	tapsWChunkBytes = 5 * l2 / 16
	rowBlocksBytes = l2 / 2
	shareB = l2 <= shareMaxL2
}

// shareB says whether the parts of a product pack its op(B) once between
// them (canShare, sharedB): on L2s of up to shareMaxL2. It was measured
// on two kinds of core. On Zen 4 and Zen 5 (1 MiB of L2), packing B
// twice at two threads had cost 5.3% of 1024³'s samples, and sharing it
// paid. On the Sapphire-Rapids-class Xeon (2 MiB), where a part reads the
// half the other packed from the other core's cache, 1024³ at two threads
// ran faster with each part packing its own (eight alternations, medians
// 145.5 against 139.2 call/s, seven of eight ahead), and the training
// workloads measured the same either way.
var shareB = true

// shareMaxL2 is the largest L2 on which parts share op(B) (shareB).
const shareMaxL2 = 1 << 20

func init() {
	for _, im := range append(archImpls(), bf16DotImpl) {
		if im != nil {
			fitCaches(im, cache.L1D, cache.L2)
		}
	}
	if amxImpl != nil {
		fitAMX(amxImpl, cache.L2)
	}
	fitOthers(cache.L2)
}

// Blocking returns the block sizes of the current kernel (KC, MC and NC:
// see the package documentation) and the cache sizes they were fitted
// to, with where those came from.
func Blocking() (kc, mc, nc int, caches cpucache.Sizes) {
	im := current.Load()
	return im.kc, im.mc, im.nc, cache
}

// fitAMX sizes the AMX kernel's blocks: KC 256, the K chunks of every
// other kernel; the packed B block (bfloat16 pairs, 2·KC·NC bytes) about
// half of L2; MC as fitCaches.
func fitAMX(im *impl, l2 int) {
	im.kc = 256
	im.nc = min(4096, max(ncFloor/im.nr*im.nr, l2/(2*2*im.kc)/im.nr*im.nr))
	im.mc = max(im.mr, (3*l2/16)/(4*im.kc)/im.mr*im.mr)
}
