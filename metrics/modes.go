package metrics

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/minmaxgan/minmax/dist"
)

// Coverage is the outcome of ModeCoverage.
type Coverage struct {
	Samples      int     `json:"samples"`
	ModesCovered int     `json:"modes_covered"`
	ModesTotal   int     `json:"modes_total"`
	HQFraction   float64 `json:"hq_fraction"`
	// ReverseKL is KL(q || w) in nats; +Inf when no sample is high quality.
	ReverseKL float64 `json:"reverse_kl"`
	// PerMode counts the high-quality samples nearest to each mode.
	PerMode []int `json:"per_mode"`
}

// ModeCoverage scores samples (n×dim, row-major) against modes.
func ModeCoverage(samples []float32, dim int, modes []dist.Mode) (Coverage, error) {
	if len(modes) == 0 {
		return Coverage{}, fmt.Errorf("no modes given")
	}
	if dim < 1 || len(samples)%dim != 0 {
		return Coverage{}, fmt.Errorf("%d numbers do not make samples of dimension %d", len(samples), dim)
	}
	for i, m := range modes {
		if len(m.Center) != dim {
			return Coverage{}, fmt.Errorf("mode %d has dimension %d, samples have %d", i, len(m.Center), dim)
		}
	}
	n := len(samples) / dim
	c := Coverage{Samples: n, ModesTotal: len(modes), PerMode: make([]int, len(modes))}
	hq := 0
	for i := 0; i < n; i++ {
		x := samples[i*dim : (i+1)*dim]
		best, bestD := -1, math.Inf(1)
		for k, m := range modes {
			var d2 float64
			for j, v := range x {
				d := float64(v) - m.Center[j]
				d2 += d * d
			}
			if d2 < bestD {
				best, bestD = k, d2
			}
		}
		if math.IsNaN(bestD) || best < 0 {
			continue // a NaN sample is never high quality
		}
		sd := modes[best].SD
		if bestD <= 9*sd*sd {
			hq++
			c.PerMode[best]++
		}
	}
	for _, k := range c.PerMode {
		if k > 0 {
			c.ModesCovered++
		}
	}
	if n > 0 {
		c.HQFraction = float64(hq) / float64(n)
	}
	if hq == 0 {
		c.ReverseKL = math.Inf(1)
		return c, nil
	}
	var wsum float64
	for _, m := range modes {
		wsum += m.Weight
	}
	for k, cnt := range c.PerMode {
		if cnt == 0 {
			continue
		}
		q := float64(cnt) / float64(hq)
		c.ReverseKL += q * math.Log(q/(modes[k].Weight/wsum))
	}
	return c, nil
}

// MarshalJSON writes an infinite ReverseKL (no high-quality sample) as null.
func (c Coverage) MarshalJSON() ([]byte, error) {
	type plain Coverage
	var rkl *float64
	if !math.IsInf(c.ReverseKL, 0) && !math.IsNaN(c.ReverseKL) {
		rkl = &c.ReverseKL
	}
	return json.Marshal(struct {
		plain
		ReverseKL *float64 `json:"reverse_kl"`
	}{plain(c), rkl})
}

// UnmarshalJSON reads what MarshalJSON writes (null as +Inf).
func (c *Coverage) UnmarshalJSON(b []byte) error {
	type plain Coverage
	var v struct {
		plain
		ReverseKL *float64 `json:"reverse_kl"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*c = Coverage(v.plain)
	c.ReverseKL = math.Inf(1)
	if v.ReverseKL != nil {
		c.ReverseKL = *v.ReverseKL
	}
	return nil
}
