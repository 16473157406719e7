// Command scaling turns the measurements of scripts/mpi-bench.sh into the
// scaling model of docs/distributed.md: for N nodes sharing a global batch
// of 64, the step takes the compute of one node at the per-rank batch
// 64/N (measured: one thread at --batch 64/N) plus the all-reduce of the
// step's gradients (measured bytes) over a ring, 2(N-1)/N of the bytes
// through each node's link plus 2(N-1) message latencies per all-reduce
// (three per step: D's gradients, G's, and the flag that says whether to go
// on). It prints, per workload and link speed, the predicted speed-up over
// one node and the efficiency (speed-up over N).
//
//	scripts/mpi-bench.sh > mpi.jsonl
//	go run ./scripts/scaling -latency 20us < mpi.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"time"
)

type line struct {
	Workload       string  `json:"workload"`
	Threads        int     `json:"threads"`
	Rate           float64 `json:"rate"`
	Ranks          int     `json:"ranks"`
	Batch          int     `json:"batch"`
	AllReduceBytes int     `json:"allreduce_bytes"`
}

func main() {
	latency := flag.Duration("latency", 20*time.Microsecond, "one message's latency between nodes (TCP over Ethernet: 10-50 µs; RDMA: 1-3 µs)")
	global := flag.Int("batch", 64, "the global batch")
	flag.Parse()
	compute := map[string]map[int]float64{} // workload → per-rank batch → seconds per step, one thread
	bytes := map[string]int{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var l line
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Rate <= 0 || l.Threads != 1 || l.Ranks > 0 {
			continue
		}
		b := l.Batch
		if b == 0 {
			b = *global
		}
		if compute[l.Workload] == nil {
			compute[l.Workload] = map[int]float64{}
		}
		// Of repeated measurements, the fastest: the least disturbed by
		// whatever else the machine was doing.
		if t, ok := compute[l.Workload][b]; !ok || 1/l.Rate < t {
			compute[l.Workload][b] = 1 / l.Rate
		}
		bytes[l.Workload] = l.AllReduceBytes
	}
	names := make([]string, 0, len(compute))
	for w := range compute {
		names = append(names, w)
	}
	slices.Sort(names)
	const perStep = 3 // all-reduces per step
	for _, w := range names {
		t1, ok := compute[w][*global]
		if !ok {
			continue
		}
		fmt.Printf("%s: one node %.1f ms per step, %.2f MB of gradients all-reduced per step\n\n", w, 1e3*t1, float64(bytes[w])/1e6)
		fmt.Println("| nodes | per-rank batch | compute (ms) | 10 Gb/s: step (ms), speed-up, efficiency | 25 Gb/s | 100 Gb/s |")
		fmt.Println("|---:|---:|---:|---|---|---|")
		for n := 1; n <= *global; n *= 2 {
			b := *global / n
			tc, ok := compute[w][b]
			if !ok {
				continue
			}
			fmt.Printf("| %d | %d | %.1f |", n, b, 1e3*tc)
			for _, gbps := range []float64{10, 25, 100} {
				ar := 0.0
				if n > 1 {
					ar = 2*float64(n-1)/float64(n)*float64(bytes[w])/(gbps*1e9/8) + perStep*2*float64(n-1)*latency.Seconds()
				}
				t := tc + ar
				fmt.Printf(" %.1f, %.1fx, %.0f%% |", 1e3*t, t1/t, 100*t1/t/float64(n))
			}
			fmt.Println()
		}
		fmt.Println()
	}
}
