package gan

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/metrics"
	"github.com/minmaxgan/minmax/tensor"
	"go.yaml.in/yaml/v3"
)

func TestExperiment(t *testing.T) {
	spec := os.Getenv("EXP")
	if spec == "" {
		t.Skip()
	}
	c, _ := Preset(os.Getenv("EXP_PRESET"))
	if err := yaml.Unmarshal([]byte(spec), &c); err != nil {
		t.Fatal(err)
	}
	seeds, _ := strconv.Atoi(os.Getenv("EXP_SEEDS"))
	if seeds == 0 {
		seeds = 3
	}
	var mc, hq, rkl float64
	for s := 1; s <= seeds; s++ {
		c.Seed = uint64(s)
		g, err := NewGame(c)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		var st Stats
		for i := 0; i < c.Steps; i++ {
			st, err = g.Step()
			if err != nil {
				t.Fatal(err)
			}
		}
		n := 2500
		z := tensor.New(n, c.Latent)
		tensor.NewRNG(99).Normal(z.Data, 0, 1)
		out := make([]float32, n*g.P.Dim())
		g.Trainer.Generate(z, out)
		modes, _ := dist.Modes(g.P)
		cov, _ := metrics.ModeCoverage(out, g.P.Dim(), modes)
		t.Logf("seed %d: modes %d/%d hq %.4f rkl %.4f  (%.1fs) last %+v", s, cov.ModesCovered, cov.ModesTotal, cov.HQFraction, cov.ReverseKL, time.Since(start).Seconds(), st)
		mc += float64(cov.ModesCovered)
		hq += cov.HQFraction
		rkl += cov.ReverseKL
	}
	t.Logf("MEAN modes %.2f hq %.4f rkl %.4f", mc/float64(seeds), hq/float64(seeds), rkl/float64(seeds))
}
