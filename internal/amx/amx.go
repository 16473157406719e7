package amx

import (
	"sync"

	"golang.org/x/sys/cpu"
)

// Config is the 64-byte tile configuration (LDTILECFG's operand) of the
// kernels: palette 1, tiles 0 to 7 each of 16 rows of 64 bytes (16
// float32 accumulators, or 16 pairs of bfloat16, per row).
var Config = func() (c [64]byte) {
	c[0] = 1 // palette
	for t := range 8 {
		c[16+2*t] = 64 // bytes per row, little-endian uint16
		c[48+t] = 16   // rows
	}
	return c
}()

var (
	once      sync.Once
	available bool
)

// Available reports whether this process can run AMX's bfloat16 tile
// instructions: the CPU has AMX-TILE and AMX-BF16 and the operating
// system granted the tile state (see the package documentation). The
// request is made on the first call.
func Available() bool {
	once.Do(func() {
		available = cpu.X86.HasAMXTile && cpu.X86.HasAMXBF16 && requestTileData()
	})
	return available
}
