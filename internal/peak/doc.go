// Package peak measures the machine's own arithmetic limit, the reference
// against which `minmax bench` states how close a workload comes to it: a
// loop of independent multiply-adds on every thread, in GFLOP/s.
//
// # The loops
//
// Each loop keeps its accumulators in registers and issues one instruction
// per accumulator in turn, nothing else but the loop counter, so the only
// limits are how many of these instructions the core starts per cycle and
// their latency. With two FMA pipes and a 4-cycle latency eight chains are
// in flight at once; the loops use 24 (zmm) or 12 (ymm), enough for any
// current x86 core, VDPBF16PS's longer latency included:
//
//	fp32-fma-avx512   VFMADD231PS zmm, 24 chains    32 FLOP per instruction (16 lanes × multiply and add)
//	fp32-fma-avx2     VFMADD231PS ymm, 12 chains    16 FLOP per instruction (8 lanes × 2)
//	bf16-dot-avx512   VDPBF16PS zmm, 24 chains      64 FLOP per instruction (16 lanes × 2 products × 2)
//	bf16-amx          TDPBF16PS, 6 tile chains          16384 FLOP per instruction (16×16 sums of 32 products × 2)
//	fp32-scalar-go    x = x·0.75 + 0.25 in Go, 12 chains, 2 FLOP per step
//
// The AMX loop (where package internal/amx finds the CPU's AMX-BF16 and
// the OS's tile state) keeps six 16×16 float32 accumulator tiles and one
// A and one B tile of bfloat16 pairs. Intel documents one TDPBF16PS per
// 16 cycles per core on Sapphire Rapids (1024 FLOP per cycle, sixteen
// times two 512-bit FMAs); six independent chains cover any latency up
// to 96 cycles. On the Xeon measured (2026-12-07) the loop read 2615-3251
// GFLOP/s on one core against 198-238 for fp32-fma-avx512. Its
// instructions are encoded by the generator too (VEX.128.F3.0F38.W0 5C
// and the tile loads, stores and configuration).
//
// The assembly (kernel_amd64.s) is written by a committed generator,
// asm_gen.go (`go generate`). The Go assembler has no mnemonic for
// VDPBF16PS, so the generator encodes it (EVEX.512.F3.0F38.W0 52 /r, any
// registers Z0-Z31) and emits the bytes; a test runs the encoded
// instruction on several register triples and checks it against a Go model
// of its arithmetic.
//
// Which loops run is decided at run time (golang.org/x/sys/cpu): the
// AVX-512 loops need AVX-512F (and AVX512_BF16 for the BF16 one), the AVX2
// loop AVX2 and FMA; the Go loop runs anywhere and is labelled as what it
// is, scalar code, not the SIMD peak. FP32 picks the widest float32 loop
// the CPU runs: on a core with one 512-bit FMA per cycle (or two 256-bit
// pipes that a 512-bit FMA occupies together, as Zen 4) the AVX-512 and
// AVX2 loops reach the same rate; on a core with two 512-bit FMA pipes the
// AVX-512 loop reaches twice the AVX2 one.
//
// # Measuring
//
// Measure runs a loop on T goroutines at once, each locked to its OS
// thread, in windows of fixed length after a warm-up; each thread's rate
// is its FLOPs over its own time in the window, a window's rate the sum
// over threads, and the result the median window. The loops compute
// exactly known sums (each instruction adds 2⁻²⁰ per lane until an
// accumulator reaches 16), so the tests check from the checksum that the
// number of instructions the FLOP count assumes is the number that ran.
package peak
