// Package gemm is minmax's single-precision matrix multiply,
//
//	C = alpha*op(A)*op(B) + beta*C
//
// for row-major float32 matrices with optional transposes, in pure Go with
// hand-written amd64 assembly micro-kernels chosen at run time from the CPU's
// features (AVX-512F, else AVX2+FMA, else portable Go; see Available and
// Use).
//
// # Algorithm
//
// Sgemm follows the usual Goto/BLIS structure: operands are copied
// ("packed") into contiguous buffers laid out exactly in the order a
// register-blocked micro-kernel reads them, in blocks sized for the caches,
// and the micro-kernel does all the arithmetic on an MR×NR tile of C held in
// registers.
//
// For each chunk of C it computes (rows [i0,i1), columns [j0,j1); see
// Threads below), a thread runs
//
//	for jc over [j0,j1) by NC:                   // B block: KC×NC, in L2
//	  for each K chunk [p0,p0+kc), kc ≈ KC:      // chunk cuts depend on k only
//	    pack op(B)[p0:p0+kc, jc:jc+NC] into NR-column micro-panels
//	    for ic over [i0,i1) by MC:
//	      (op(A) transposed in memory: pack the MC×kc block of A now)
//	      for ir over the block by MR:           // A micro-panel: MR×kc, in L1
//	        (A not transposed: pack this micro-panel now, prefetching the
//	         source rows of the next one into L2; or, for a product on
//	         one thread with at most 512 columns and a K chunk of at
//	         least 16, read it in place with the rows kernel below)
//	        for jr over the B block by NR:
//	          micro-kernel: C[ir:ir+MR, jr:jr+NR] (+)= Apanel · Bpanel
//	        after the last K chunk: the epilogue, if any, on the MR rows
//	        of the block (SgemmPost)
//
// so one A micro-panel (12×256 floats = 12 KiB for AVX-512) stays in L1
// while the packed B block streams past it from L2, and each micro-kernel
// call runs kc×MR×NR multiply-adds (98,304 for AVX-512 at kc = 256) against
// one load and one store of its C tile. On the first K chunk the kernel
// applies beta (beta == 0 stores without reading C, so NaNs in C are
// ignored); later chunks add.
//
// The assembly kernels' block sizes are fitted at start-up to the core's
// L1 data cache and L2, read with CPUID (internal/cpucache; blocking.go
// has the rules and Blocking reports them): the A micro-panel takes at
// most 3/8 of L1d (KC a multiple of 64, at most 256), the packed B block
// about all of L2 (NC), a transposed A block about 3/16 of it (MC). On
// Zen 4 (32 KiB L1d, 1 MiB L2) and Zen 5 (48 KiB, 1 MiB) that gives the
// sizes measured best there, KC = 256, MC = 192, NC = 1024. MC matters
// mainly for transposed A, whose packing reads MC contiguous floats per k
// step (MC = 12 cost 25% on 1024×64×6272 with A transposed); KC from 128
// to 512 measured within a few percent; NC = 512 was about 5% slower than
// 1024 on 1024³. KC also decides where the sums over K are cut, so results
// are bit-identical on CPUs with the same kernel and KC (every AVX-512 CPU
// has the L1d for KC = 256). While the micro-kernel works on one block, the source of the next
// A micro-panel (or, for transposed A, of the next block) is prefetched
// into L2, which hides most of the cost of reading A from memory when N is
// small (6272×64×1024: 80 → 92 GFLOP/s).
//
// # Packing layout
//
// An A micro-panel holds, for p = 0..kc-1, the MR values
// alpha*op(A)[i..i+MR][p] contiguously (alpha is folded in here); a B
// micro-panel holds, for each p, the NR values op(B)[p][j..j+NR]. Rows or
// columns past the matrix edge are zero, so the micro-kernel can always
// compute a full tile; edge tiles are computed into a small scratch tile
// and merged into C with the same arithmetic as the kernel (edge tiles
// that an AVX-512 edge variant covers exactly go straight to C, see below). Transposes cost
// nothing extra: whichever of op(X)'s rows or columns is contiguous in
// memory, packing reads it as such. Contiguous runs are copied (packCopyAVX,
// one source row at a time so that memory is read sequentially); the other
// orientation is transposed 8×8 (or 4×8) in AVX registers (packT8, packT4).
// Packed buffers are 64-byte aligned.
//
// # Micro-kernels
//
// AVX-512, 12×32: the 32 zmm registers hold 24 accumulators (Z8..Z31, two
// per C row), the current B row (Z0, Z1, 32 floats) and six registers of A
// values (Z2..Z7, in turn). Each k step loads the B row, and for each of the
// 12 rows broadcasts the A value into a register once (VBROADCASTSS) for the
// two VFMADD231PS of its row. (Taking it from memory in each FMA, as an
// embedded-broadcast operand, measured 10% slower on Zen 4: 164-177 against
// 194-203 GFLOP/s on a 1024³ product.) The k loop is unrolled four times.
//
// The direct convolution kernel (sgemmTapsAVX512, SgemmTaps) is the same
// tile with A read in place: its 12 rows are 12 positions of a padded
// image, a fixed stride apart, addressed from four base registers and one
// stride register; the rows of C are written through a table of offsets
// (positions past the output are dropped), the bias or accumulation in the
// store. sgemmTapsBF16 is its bfloat16 form (TapsAvailable(c) for even c):
// the padded image is held as bfloat16 (Taps.XB, or rounded by SgemmTaps
// itself), each step broadcasts a pair of consecutive channels (one 32-bit
// word) and VDPBF16PS multiplies it into the pair rows of the packed
// kernel, the same pairs as the packed bfloat16 product. At one 512-bit
// FMA per cycle the 12×32 tile takes 24 cycles per k step with 24
// independent dependency chains, enough to cover the 4-cycle FMA latency
// twice over.
//
// The rows kernel (sgemmRowsAVX512, rowsa.go) is the same tile with A read
// in place through 12 row pointers, for a computed A whose rows lie in
// memory in runs (StridedRows: the patches of a strided convolution, which
// are not a fixed stride apart): per run of contiguous columns, a segment
// of 12 addresses and a step count; rows over the padding are gathered,
// rows past the edge of C read zeros. Its 12 pointers, B's and the step
// count take 14 general registers, so the segment table's position lives
// in the frame. Each element sees the packed kernel's multiply-adds in the
// same order: the bits are the packed path's. dcgan28's 3136×128×1024
// convolution (BenchmarkConvStrided, one thread, three alternations) ran
// at 174-200 GFLOP/s against 140-175 packed. It also reads a stored,
// untransposed A where packing it would cost more than a 16th of its
// products (inPlace: B at most 512 columns, one thread, rows not a
// multiple of 4 KB apart), and in the first K chunk it adds the bias as it
// stores a tile (the bits of C filled with the bias first).
//
// The direct kernel gradient (sgemmTapsWAVX512r12/r8/r4 and the BF16
// forms, SgemmTapsW) computes dw = dyᵀ·A for the same operand: a tile is
// 12 (8, 4) output channels by 32 input channels of one tap, each step
// broadcasts 12 consecutive values of a row of dy and loads 32 channels of
// the padded image at the tap's offset, both read in place with a stride
// per step (in bfloat16 from pairs of the positions of two consecutive
// outputs, made once per call, or at stride 1 given in Taps.XP); the
// positions come in segments, one per output row. The image's step may be
// the convolution's stride (Taps.Stride: DCGAN's 4×4 convolutions of
// stride 2, whose packed patches copy each value of the image four
// times). In float32 on AVX-512 the image need not be padded
// (Taps.Unpadded, sgemmTapsWSegAVX512r12/r8/r4): each tap gets its own
// segments, the outputs whose tap lies inside the image, with the offset
// of their first row of dy, and the padding's products are skipped;
// every other product is summed in the same order and the same chunks,
// so the bits are the padded copy's.
//
// For the edges of C the AVX-512 kernel has variants for the top-left 8 or
// 4 rows and/or 16 columns of the tile, which run only the FMAs of what
// exists (each element computed exactly as in the full kernel): m = 64, for
// instance, is 5×12 + 4 rows, n = 100 is 3×32 + 4 columns.
//
// AVX2+FMA, 6×16: 12 ymm accumulators (Y4..Y15), the B row in Y0, Y1 and A
// broadcasts alternating in Y2, Y3; 12 FMAs per k step, unrolled four
// times. It has a rows form (sgemmRowsAVX2: A read in place through the
// first 6 row pointers of the common 13-word segments) and direct
// weight-gradient kernels (sgemmTapsWAVX2r4/r8/r12: the AVX-512 kernels'
// 12×32 tiles and arithmetic, in passes of a 6×16 or 4×16 sub-tile over
// blocks of about 64 positions, the partial sums kept in the frame), but
// no direct convolution (SgemmTaps) and no unpadded weight gradient:
// there the rows kernel reads the padded copy the forward makes for the
// kernel gradient, or the images in place where no gradient needs one
// (tensor's KeepLen). On Zen 3 (family 25, AVX2 only, 512 KiB L2,
// 2026-12-07) the kernel runs at 0.98 of internal/peak's loop in isolation
// (BenchmarkMicroKernel 98 GFLOP/s, kc 256) and 1024³ at 0.84-0.89 of it
// at one thread (91% of the product's time in the kernel); the direct
// weight gradient at 0.55-0.72 (each pass reads its block's rows again,
// from L2 where the 512-byte strides of dcgan28's operands crowd a few
// sets of L1).
//
// On Zen 4 a 512-bit FMA occupies both 256-bit FMA pipes, so both kernels
// have the same peak (32 flop/cycle/core, about 117 GFLOP/s per core at
// 3.67 GHz); in isolation (data in L1) both run at 95-99% of it. Per flop
// the AVX-512 kernel issues a third of the instructions and streams half as
// many bytes of packed A and B; it measured 1-2% faster on 1024³ (both about
// 106 GFLOP/s on one core) and 2-7% faster on the small shapes of the
// benchmarks, so it is the default where available. On a CPU with two
// 512-bit FMA pipes (AMD family 26, Zen 5: 64 flop/cycle/core, 221 GFLOP/s
// per core measured by internal/peak) the AVX-512 kernel has twice the
// AVX2 one's peak: 182-186 against 100-102 GFLOP/s on 1024³ at one thread
// (BenchmarkSgemm1024, 2026-12-06). Its micro-kernel runs at 0.95-1.0 of
// the peak in isolation (BenchmarkMicroKernel 211-228 GFLOP/s against
// peaks of 217-225 measured around it) and at about 0.9 inside that
// product (perf: 89% of the product's time in the kernel at 180 GFLOP/s
// overall; packing takes 6%).
//
// AVX-512 BF16, 12×32 (SetPrecision(BFloat16), on CPUs with AVX512_BF16):
// the same tile, blocking and drivers, but each packed panel is turned, right
// after packing, into rows of 32-bit words holding two bfloat16 values, k
// steps 2q and 2q+1 (toPairs: round to nearest even, NaN kept; AVX-512 in
// packBF16Pairs, with a Go twin for tests). The kernel loads a row of B
// pairs into Z0, Z1 and issues, per row of A, two VDPBF16PS with the A pair
// broadcast into a register once (VPBROADCASTD): each multiplies 16 pairs and adds both products
// into the float32 accumulator, 64 flop per instruction against
// VFMADD231PS's 32. The Go assembler has no mnemonic for VDPBF16PS, so
// asm_gen.go writes its EVEX encoding as bytes (checked against objdump's
// disassembly when it was written, and by the tests' exact products). An
// odd k pads the last pair with zero. The error bound, checked by the tests
// against float64: each product is within 2u + u² (u = 2^-8) of the exact
// one relatively, plus float32's k roundings of the sums. Measured on the
// 2-core Zen VM: 1024³ at 286 against 148 GFLOP/s in float32 on one thread
// (1.93x), 518 against 266 on two (1.95x).
//
// AMX BF16, 32×32 (the bfloat16 kernel where the CPU has AMX-TILE and
// AMX-BF16 and Linux grants the tile state: Intel Sapphire Rapids and
// later; package internal/amx). Eight tile registers of 16 rows × 64
// bytes: four hold a 32×32 tile of C in float32, two the A rows 0-15 and
// 16-31 of a block of 16 pairs of k steps, two the B columns 0-15 and
// 16-31 of it. One TDPBF16PS multiplies a 16×16-pair A tile by a 16-pair
// × 16 B tile and adds into a C tile: 16384 flop per instruction, against
// 64 for VDPBF16PS; internal/peak's loop of them runs at 2.6 TFLOP/s on
// one core of the Xeon measured, 13 times its float32 FMA loop. B keeps
// the BF16 kernel's pair panels (a tile is 16 pair rows of a panel, 128
// bytes apart), zeroed up to a multiple of 16 pair rows (padAMXB). A
// needs the transpose of that layout, each row's 16 pairs side by side:
// packAMXA converts a stored A's rows straight into it; packed transposed
// panels are turned into it by pairsAMX (scatters) or toAMXAGo, and a
// computed A's strided runs (a strided convolution's patches) where they
// lie, only the rows over the padding gathered. The kernel
// (sgemmKernelAMX, or sgemmPanelsAMX for a row of full panels) loads the
// tile configuration on entry and releases the tiles before returning,
// so no tile state outlives a call; LDTILECFG with TILERELEASE costs
// about 54 ns, an eighth of a 32×32×256 tile, so a row of panels shares
// one. It sums onto C inside the tiles: C (or the bias) is loaded first and
// the products are added to it, where the other kernels add C to their
// sum at the end; edge tiles are computed on a copy of C's corner the
// same way (amxEdge), so every element sees the same operations whatever
// its tile. The direct convolution has an AMX form (sgemmTapsAMX): strips
// of 32 grid positions whose A tiles are loaded in place from the
// bfloat16 padded image, rows C·2 bytes apart, for channels in multiples
// of 32; its K chunks are cut at multiples of 32, so that no tap's
// channels are padded. The rows and direct weight-gradient kernels have
// no AMX form: products of computed rows pack them (the convolutions that
// would use the rows kernel go direct instead, tensor's rowsPadded), and
// so do the kernel gradients, whose patches are packed straight into
// bfloat16 pairs (packPairsStrided, on both bfloat16 kernels). Summing those in float32 with the direct
// AVX-512 kernel instead, which packs nothing, was slower: biggan32 in
// bfloat16 1.32 against 1.57 step/s at 1 thread, dcgan28 15.5 against
// 19.0. The Go assembler knows
// no AMX instruction: asm_gen.go encodes LDTILECFG, TILELOADD,
// TILESTORED, TILEZERO, TILERELEASE and TDPBF16PS (VEX, with the
// mandatory SIB byte of the tile loads), checked against GNU as when
// written and by the tests' products. The VDPBF16PS kernel stays for
// CPUs with AVX512_BF16 but no AMX (Zen 4, Zen 5, Cooper Lake), and the
// tests run both where both exist.
//
// Generic, 4×4: plain Go with 16 scalar accumulators, for other
// architectures and for tests.
//
// # Threads and determinism
//
// C is cut into a grid of tm×tn thread tiles (tm*tn <= threads, chosen to
// minimise a thread's padded multiply-adds plus packing; small M splits N
// and vice versa), with every cut on a multiple of MR or NR. The
// micro-tile grid is therefore the same for every thread count, and the K
// chunk boundaries depend only on k: each element of C receives each
// chunk's sum, formed from zero in the micro-kernel's registers, in order
// of the chunks. Results are thus bit-identical for any pool size (for a
// given kernel).
//
// The one split over K keeps that order (ksplit.go): where C is small (at
// most kSplitMaxOutputs elements) and K has at least two chunks but no
// more than there are threads, part p computes chunk p over all of C,
// part 0 into C, the others into buffers from zero, and the caller adds
// the buffers to C in order of the chunks. These are the weight gradients
// of training, whose K runs over the batch: the previous products split
// the batch's rows between the threads, and so does this one, where a
// split over C had each thread read half of K from the other core's
// cache (the toy step at 2 threads: 597-640 against 522-555 step/s).
//
// Products under parallelMinFlops (4 MFLOP) run on the calling goroutine,
// unless C has parallelMinOutputs (16,384) elements or more:
// on the 2-vCPU VM this was tuned on, a parked pool worker starts about
// 100µs after it is handed work, so smaller products gain nothing; but a
// product of a few terms with a large C (the toy's layers of 2 inputs)
// costs its writes of C, and the next op would read half of C from the
// other core's cache if one thread wrote it all. For the
// same reason, products under dynamicMaxFlops with a single K chunk cut
// each thread tile into up to 8 chunks that the threads take in turn from
// a shared counter (a late worker simply takes fewer); a thread keeps its
// packed B block from one chunk to the next when they share it. So do
// row splits of any size whose whole B is resident (blockResident): on
// the virtual machine the two cores' speeds differ from moment to moment,
// and with one static tile each, biggan32's main thread computed alone
// for milliseconds at the end of its convolutions. Chunks are unions of
// micro-tiles, so the result does not depend on who computes which.
//
// Where several chunks of rows read the same op(B) and it is wide (two
// units of four micro-panels a thread or more, as on 1024³), the threads
// pack it once between them into a buffer of the call (shared.go): each
// claims units from its own share on, packs those no thread has claimed
// and waits only for a unit another thread is in the middle of packing.
// A unit holds the values a thread's own packing would, so the bits are
// unchanged. They do so on L2s of up to 1 MiB (Zen 4 and Zen 5, where it
// was measured to pay); on the Xeon's 2 MiB L2 each thread packed its own
// faster, reading nothing from the other core's cache (shareB).
//
// Matrix-vector shapes (m == 1 or n == 1) skip packing, which would pad a
// single row or column to a whole micro-tile, and run dot- or axpy-shaped
// loops (AVX2 assembly where available: four dot products at a time
// sharing the vector's loads), split over outputs only. Every output is
// accumulated with one fixed pattern whichever group or thread computes it.
//
// Thin products, with K, M or N of at most 4 (a layer of two inputs or
// outputs), skip the tiles too, which would pad them to 12×32 and pack
// the large operand for one use: each row of C (or of Cᵀ) is computed as
// a combination of rows of the other operand (thin.go, the rowVec
// kernel), each element's K chunks as fused multiply-add chains from +0
// in K order, stored or added as the tile kernels store them. The bits
// are the tiled path's.
//
// # Memory
//
// Packing buffers live in per-call contexts that are recycled through a
// free list, one workspace per thread part, grown when a larger problem
// needs it. Steady-state calls do not allocate, and concurrent calls (with
// different pools) never share a buffer.
package gemm
