#!/usr/bin/env bash
# float32 against bfloat16 in one run: the machine's peaks, then mm1024,
# dcgan28 and biggan32 at 1 and 2 threads, each in fp32 then bf16, ROUNDS
# times (default 2), one JSON line per result (minmax bench --json).
# Usage: scripts/bf16-bench.sh > bf16.jsonl   (needs a CPU with AVX-512 BF16)
set -euo pipefail
rounds=${ROUNDS:-2}
bin=$(mktemp -d)/minmax
go build -o "$bin" ./cmd/minmax
for t in 1 2; do "$bin" bench --workload peak --threads "$t" --json; done
for w in ${WORKLOADS:-mm1024 dcgan28 biggan32}; do
  for t in 1 2; do
    for _ in $(seq "$rounds"); do
      for p in fp32 bf16; do "$bin" bench --workload "$w" --threads "$t" --precision "$p" --json; done
    done
  done
done
