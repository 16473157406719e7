package amx

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/cpu"
)

// The configuration is palette 1 with tiles 0-7 of 16 rows of 64 bytes and
// the rest unused; Available never claims AMX on a CPU without it, and
// asks once.
func TestConfigAndAvailable(t *testing.T) {
	if Config[0] != 1 || Config[1] != 0 {
		t.Fatalf("palette %d, start row %d; want 1, 0", Config[0], Config[1])
	}
	for tile := range 16 {
		cols := binary.LittleEndian.Uint16(Config[16+2*tile:])
		rows := Config[48+tile]
		want := [2]int{0, 0}
		if tile < 8 {
			want = [2]int{64, 16}
		}
		if int(cols) != want[0] || int(rows) != want[1] {
			t.Errorf("tile %d: %d rows of %d bytes, want %d of %d", tile, rows, cols, want[1], want[0])
		}
	}
	a := Available()
	if a && !(cpu.X86.HasAMXTile && cpu.X86.HasAMXBF16) {
		t.Error("AMX claimed on a CPU without AMX-TILE and AMX-BF16")
	}
	if Available() != a {
		t.Error("a second call answered differently")
	}
	t.Logf("AMX available: %v", a)
}
