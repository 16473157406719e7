package metrics

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/minmaxgan/minmax/dist"
	"github.com/minmaxgan/minmax/tensor"
)

func ringModes(t *testing.T) []dist.Mode {
	d, err := dist.Parse("ring(8, r=2, sd=0.02)")
	if err != nil {
		t.Fatal(err)
	}
	m, ok := dist.Modes(d)
	if !ok {
		t.Fatal("ring has no modes")
	}
	return m
}

func TestCoverageOfTheTruth(t *testing.T) {
	d, _ := dist.Parse("ring(8, r=2, sd=0.02)")
	rng := tensor.NewRNG(1)
	const n = 2500
	buf := make([]float64, 2*n)
	dist.SampleN(d, rng.Rand(), n, buf)
	s := make([]float32, 2*n)
	for i, v := range buf {
		s[i] = float32(v)
	}
	c, err := ModeCoverage(s, 2, ringModes(t))
	if err != nil {
		t.Fatal(err)
	}
	// Within 3 sd in 2-D: P(χ²₂ <= 9) = 1 - e^{-4.5} = 98.9%.
	if c.ModesCovered != 8 || math.Abs(c.HQFraction-(1-math.Exp(-4.5))) > 0.01 || c.ReverseKL > 0.01 {
		t.Fatalf("samples of the truth: %+v", c)
	}
}

func TestCoverageOfACollapse(t *testing.T) {
	// Every sample at mode 0 (2, 0), plus one far away.
	s := []float32{2, 0, 2.01, 0, 1.99, 0.01, 5, 5}
	c, err := ModeCoverage(s, 2, ringModes(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.ModesCovered != 1 || c.HQFraction != 0.75 || math.Abs(c.ReverseKL-math.Log(8)) > 1e-12 {
		t.Fatalf("collapse: %+v, want 1 mode, 75%% HQ, reverse KL log 8", c)
	}
	c, _ = ModeCoverage([]float32{9, 9}, 2, ringModes(t))
	if !math.IsInf(c.ReverseKL, 1) || c.ModesCovered != 0 {
		t.Fatalf("no high-quality sample: %+v", c)
	}
	if _, err := ModeCoverage([]float32{1, 2, 3}, 2, ringModes(t)); err == nil {
		t.Fatal("ragged samples accepted")
	}
}

func TestCoverageJSONRoundTrip(t *testing.T) {
	for _, c := range []Coverage{{Samples: 3, ModesCovered: 1, ModesTotal: 8, HQFraction: 0.5, ReverseKL: 0.25, PerMode: []int{1, 0}},
		{Samples: 1, ModesTotal: 8, ReverseKL: math.Inf(1)}} {
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var back Coverage
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.ReverseKL != c.ReverseKL || back.ModesTotal != c.ModesTotal || back.HQFraction != c.HQFraction {
			t.Fatalf("%s read back as %+v", b, back)
		}
	}
}
