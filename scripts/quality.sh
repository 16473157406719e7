#!/usr/bin/env bash
# Quality study of a toy preset: trains it with SEEDS seeds (default 10) with
# the preset's own defaults, one run after another, and prints one line per
# run (modes, high-quality share, reverse KL, JSD estimate, wall time) and the
# means. Usage: scripts/quality.sh PRESET [LOSS]   (env: SEEDS, THREADS, OUT,
# FLAGS: more flags for minmax train, e.g. FLAGS="--precision bf16")
set -euo pipefail
preset=${1:?usage: scripts/quality.sh PRESET [LOSS]}
loss=${2:-}
seeds=${SEEDS:-10}
threads=${THREADS:-2}
out=${OUT:-runs/quality-$preset${loss:+-$loss}}
mkdir -p "$out"
bin=$(mktemp -d)/minmax
go build -o "$bin" ./cmd/minmax
printf '%-5s %6s %7s %8s %8s %7s\n' seed modes hq rev_kl jsd seconds
for s in $(seq 1 "$seeds"); do
  dir=$out/seed$s
  rm -rf "$dir"
  start=$(date +%s.%N)
  "$bin" train --preset "$preset" ${loss:+--loss "$loss"} ${FLAGS:-} --seed "$s" --threads "$threads" --run "$dir" >/dev/null 2>"$dir.log" || { cat "$dir.log"; exit 1; }
  end=$(date +%s.%N)
  python3 - "$dir/eval.json" "$s" "$start" "$end" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
print("%-5s %3d/%-2d %7.4f %8.4f %8.4f %7.1f" % (sys.argv[2], e["modes_covered"], e["modes_total"], e["hq_fraction"],
      e["reverse_kl"] if e["reverse_kl"] is not None else float("inf"), e["jsd_estimate"], float(sys.argv[4]) - float(sys.argv[3])))
PY
done | tee "$out/table.txt"
python3 - "$out/table.txt" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
n = len(rows)
m = sum(int(r[1].split('/')[0]) for r in rows) / n
print("mean  %6.2f %7.4f %8.4f %8.4f %7.1f  (max time %.1f s)" % (m, sum(float(r[2]) for r in rows)/n, sum(float(r[3]) for r in rows)/n,
      sum(float(r[4]) for r in rows)/n, sum(float(r[5]) for r in rows)/n, max(float(r[5]) for r in rows)))
PY
