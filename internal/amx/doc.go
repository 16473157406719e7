// Package amx says whether this process may run Intel AMX's bfloat16 tile
// instructions (TDPBF16PS and the tile loads and stores around it), and
// holds the tile configuration the kernels that use them load.
//
// AMX needs three things: the CPU's AMX-TILE and AMX-BF16 features
// (Sapphire Rapids and later Xeons), an operating system that saves the
// 8 KiB of tile data on a context switch, and, on Linux, the process's
// request for that state (arch_prctl ARCH_REQ_XCOMP_PERM with
// XFEATURE_XTILEDATA), without which the first tile instruction faults.
// Available asks once and remembers the answer. The kernels (package
// internal/gemm's sgemmKernelAMX, internal/peak's loop) load Config with
// LDTILECFG on entry and release the tiles (TILERELEASE) before they
// return, so that no tile state outlives a call or follows a goroutine to
// another thread.
package amx
