#!/usr/bin/env bash
# Data-parallel speed on this machine, and the inputs of the scaling model
# in docs/distributed.md, one JSON line per result (minmax bench --json):
#  1. for each workload (toy, dcgan28, biggan32), ROUNDS times (default 2):
#     mpirun -np 2 with one thread per rank, then one process with two
#     threads (the lines with "ranks":2 carry allreduce_share);
#  2. ROUNDS times, one thread at the per-rank batches of 1 to 64 ranks
#     sharing the global batch of 64 (--batch 64, 32, ..., 1): the compute
#     of a step on each of N nodes; the lines carry params_g, params_d,
#     allreduce_bytes. `go run ./scripts/scaling < mpi.jsonl` makes the
#     model's tables of them.
# Usage: scripts/mpi-bench.sh > mpi.jsonl
# Needs Open MPI (apt-get install -y openmpi-bin libopenmpi-dev) and, for
# dcgan28, Fashion-MNIST (apt-get install -y dataset-fashion-mnist).
set -euo pipefail
rounds=${ROUNDS:-2}
bin=$(mktemp -d)/minmax
go build -tags mpi -o "$bin" ./cmd/minmax
mpirun=(mpirun -np 2)
[ "$(id -u)" = 0 ] && mpirun+=(--allow-run-as-root)
for w in ${WORKLOADS:-toy dcgan28 biggan32}; do
  for _ in $(seq "$rounds"); do
    "${mpirun[@]}" "$bin" bench --workload "$w" --threads 1 --json
    "$bin" bench --workload "$w" --threads 2 --json
  done
done
for w in ${SCALING:-dcgan28 biggan32}; do
  for _ in $(seq "$rounds"); do
    for b in 64 32 16 8 4 2 1; do
      "$bin" bench --workload "$w" --threads 1 --batch "$b" --windows 3 --json
    done
  done
done
