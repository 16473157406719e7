// Command samesteps compares two runs step by step: for every figure of
// the training-step records of their metrics.jsonl (losses, D's means,
// gradient norms, penalty), the largest relative difference |a−b|/(1+|b|)
// over the steps and the step where it occurs, then the final evaluations
// (eval.json) side by side. It is how docs/distributed.md compares
// mpirun -np 2 with one process:
//
//	mpirun -np 2 minmax train --preset ring8 --steps 200 --threads 1 --run a
//	minmax train --preset ring8 --steps 200 --threads 2 --run b
//	go run ./scripts/samesteps a b
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/minmaxgan/minmax/run"
)

func steps(dir string) ([]map[string]float64, error) {
	f, err := os.Open(filepath.Join(dir, run.MetricsFile))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []map[string]float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var raw map[string]any
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			return nil, err
		}
		if _, ok := raw["eval"]; ok {
			continue
		}
		m := map[string]float64{}
		for k, v := range raw {
			if x, ok := v.(float64); ok && k != "step" && k != "ranks" {
				m[k] = x
			}
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: samesteps RUN_A RUN_B")
		os.Exit(2)
	}
	a, err := steps(os.Args[1])
	if err == nil {
		var b []map[string]float64
		if b, err = steps(os.Args[2]); err == nil {
			compare(a, b)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "samesteps:", err)
		os.Exit(1)
	}
	for _, d := range os.Args[1:] {
		b, err := os.ReadFile(filepath.Join(d, "eval.json"))
		if err != nil {
			continue
		}
		var buf bytes.Buffer
		json.Compact(&buf, b)
		fmt.Printf("%s/eval.json: %s\n", d, buf.String())
	}
}

func compare(a, b []map[string]float64) {
	if len(a) != len(b) {
		fmt.Printf("%d and %d steps: comparing the first %d\n", len(a), len(b), min(len(a), len(b)))
	}
	n := min(len(a), len(b))
	var keys []string
	if n > 0 {
		for k := range a[0] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	fmt.Printf("%d steps; largest relative difference |a-b|/(1+|b|) of each figure (first step, then all):\n", n)
	for _, k := range keys {
		worst, at := 0.0, 0
		for i := range n {
			d := math.Abs(a[i][k]-b[i][k]) / (1 + math.Abs(b[i][k]))
			if d > worst {
				worst, at = d, i+1
			}
		}
		first := math.Abs(a[0][k]-b[0][k]) / (1 + math.Abs(b[0][k]))
		fmt.Printf("  %-12s step 1: %.2g   all steps: %.2g (step %d)\n", k, first, worst, at)
	}
}
