package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// `minmax bench --workload peak --json` prints one line per kind of peak
// loop, the float32 one first, then the float32 kernel's ceiling, each with the fields of every bench line
// (which ../shared/bench/compare.sh reads) and its kind.
func TestBenchPeakJSON(t *testing.T) {
	out, err := runCLI(t, "bench", "--workload", "peak", "--threads", "1", "--json", "--windows", "1")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i, line := range lines {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("line %d %q: %v", i, line, err)
		}
		for _, k := range []string{"workload", "kind", "threads", "rate", "unit", "gflops", "windows", "seconds"} {
			if _, ok := r[k]; !ok {
				t.Errorf("line %d %s: no %q", i, line, k)
			}
		}
		kind, _ := r["kind"].(string)
		rate, _ := r["rate"].(float64)
		if r["workload"] != "peak" || r["unit"] != "GFLOP/s" || r["threads"] != 1.0 || rate <= 0 || r["gflops"] != rate ||
			(i <= 1) != strings.HasPrefix(kind, "fp32-") || (i == 1) != strings.HasPrefix(kind, "fp32-kernel-") {
			t.Errorf("line %d: %s", i, line)
		}
		// The kernel's ceiling (line 1) is the only line with a fraction:
		// of the float32 peak on line 0, and never above it by more than
		// the windows' noise.
		if f, ok := r["peak_fraction"].(float64); (i == 1) != ok || (ok && (f <= 0 || f > 1.3)) {
			t.Errorf("line %d: peak_fraction %v", i, r["peak_fraction"])
		}
	}
	t.Logf("%s", out)
}
