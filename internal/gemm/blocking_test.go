package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func TestFitCaches(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mr, nr     int
		l1d, l2    int
		kc, mc, nc int
	}{
		{"AVX-512 on Zen 5", 12, 32, 48 << 10, 1 << 20, 256, 192, 1024},
		{"AVX-512 on Zen 4", 12, 32, 32 << 10, 1 << 20, 256, 192, 1024},
		{"AVX-512, 2 MiB L2", 12, 32, 48 << 10, 2 << 20, 256, 384, 2048},
		{"AVX-512, 1.25 MiB L2", 12, 32, 48 << 10, 1280 << 10, 256, 240, 1280},
		{"AVX2 on Zen 3", 6, 16, 32 << 10, 512 << 10, 256, 96, 1024},
		{"AVX2, 256 KiB L2", 6, 16, 32 << 10, 256 << 10, 256, 48, 1024},
		{"AVX-512, 16 KiB L1d", 12, 32, 16 << 10, 128 << 10, 128, 48, 1024},
		{"AVX-512, 8 KiB L1d", 12, 32, 8 << 10, 64 << 10, 64, 48, 1024},
		{"AVX-512, huge L2", 12, 32, 48 << 10, 64 << 20, 256, 12288, 4096},
	} {
		im := &impl{mr: tc.mr, nr: tc.nr}
		fitCaches(im, tc.l1d, tc.l2)
		if im.kc != tc.kc || im.mc != tc.mc || im.nc != tc.nc {
			t.Errorf("%s: KC, MC, NC = %d, %d, %d; want %d, %d, %d", tc.name, im.kc, im.mc, im.nc, tc.kc, tc.mc, tc.nc)
		}
		if im.mc%im.mr != 0 || im.nc%im.nr != 0 {
			t.Errorf("%s: MC %d or NC %d not a multiple of the tile %d×%d", tc.name, im.mc, im.nc, im.mr, im.nr)
		}
	}
	kc, mc, nc, caches := Blocking()
	t.Logf("this CPU: KC %d, MC %d, NC %d for L1d %d KiB, L2 %d KiB (%s)", kc, mc, nc, caches.L1D>>10, caches.L2>>10, caches.Source)
}

// TestSgemmSmallCaches runs products under the blocks of a CPU with small
// caches (16 KiB L1d, 128 KiB L2: KC 128, MC 48, NC 1024 for AVX-512), so
// that every loop of the blocked product takes several turns (the column
// blocks in the 2000-column shape): the results
// are still right, and bit-identical across thread counts.
func TestSgemmSmallCaches(t *testing.T) {
	saved := map[*impl][3]int{}
	saveRes, saveTap, saveW, saveRB := residentBytes, tapResidentBytes, tapsWChunkBytes, rowBlocksBytes
	for _, im := range append(append(archImpls(), bf16Impl), genericImpl) {
		if im != nil {
			saved[im] = [3]int{im.kc, im.mc, im.nc}
			fitCaches(im, 16<<10, 128<<10)
		}
	}
	fitOthers(128 << 10)
	t.Cleanup(func() {
		for im, b := range saved {
			im.kc, im.mc, im.nc = b[0], b[1], b[2]
		}
		residentBytes, tapResidentBytes, tapsWChunkBytes, rowBlocksBytes = saveRes, saveTap, saveW, saveRB
	})
	rng := rand.New(rand.NewPCG(11, 12))
	shapes := [][3]int{{300, 700, 555}, {700, 300, 129}, {64, 2000, 300}, {1000, 40, 1000}}
	for _, kern := range Available() {
		t.Run(kern.String(), func(t *testing.T) {
			useKernel(t, kern)
			for x, s := range shapes {
				tr := x % 4
				tc := newCase(rng, tr&1 != 0, tr&2 != 0, s[0], s[1], s[2], 5, 300)
				ref := tc.run(pool(1), 0.5, 0.75)
				tc.check(t, fmt.Sprintf("%v threads=1", kern), 0.5, 0.75, ref)
				c := tc.run(pool(3), 0.5, 0.75)
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
						t.Fatalf("%v: threads=3 differs from threads=1 at %d: %v vs %v", tc, i, c[i], ref[i])
					}
				}
			}
		})
	}
}
