package main

import (
	"math"
	"testing"
)

func TestFormatRate(t *testing.T) {
	for _, c := range []struct {
		rate float64
		want string
	}{
		{312.4, "312 step/s"},
		{38.44, "38.4 step/s"},
		{3.844, "3.84 step/s"},
		{1, "1.00 step/s"},
		{0.5, "2.00 s/step"},
		{0.04, "25.00 s/step"},
		{0, "- step/s"},
		{math.Inf(1), "- step/s"},
		{math.NaN(), "- step/s"},
	} {
		if got := formatRate(c.rate); got != c.want {
			t.Errorf("formatRate(%g) = %q, want %q", c.rate, got, c.want)
		}
	}
}
