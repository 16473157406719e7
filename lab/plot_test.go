package lab

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPlotWritesPNGs(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("MINMAX_PLOT_DIR"); d != "" {
		dir = d
	}
	for _, c := range [][2]string{{"mix(0.3:N(-2, 0.5), 0.7:N(1, 1))", "Laplace(0, 1.5)"}, {"ring(8, r=2, sd=0.3)", "N2(0, 0, 1.5)"}} {
		p, q := mustParse(t, c[0]), mustParse(t, c[1])
		ex, err := ComputeExact(p, q)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Train(p, q, ex, Options{Seed: 1, Steps: 300, EvalN: 2000})
		if err != nil {
			t.Fatal(err)
		}
		paths, err := Plot(p, q, r, dir, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			st, err := os.Stat(path)
			if err != nil || st.Size() < 10000 {
				t.Fatalf("%s: %v (size %d)", path, err, st.Size())
			}
			b, _ := os.ReadFile(path)
			if string(b[1:4]) != "PNG" {
				t.Fatalf("%s is not a PNG", filepath.Base(path))
			}
		}
	}
}
