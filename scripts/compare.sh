#!/usr/bin/env bash
# minmax against PyTorch on this machine, side by side: the ratios of
# README.md's "Speed against PyTorch".
#
#   scripts/compare.sh [WORKLOAD...]    mm1024 toy dcgan28 biggan32 (default: all four)
#   env: THREADS="1 2"  ROUNDS=2  MINMAX_BIN=path (skip the build)  PYTHON=/usr/bin/python3
#
# It builds ./cmd/minmax, then for each workload and thread count runs the
# PyTorch twin (bench/peer/torch_twin.py) and `minmax bench` alternately,
# ROUNDS times each, and prints both rates and the ratio minmax/PyTorch
# (> 1: minmax is faster), each the median over the rounds. The first line
# names the OpenBLAS kernel PyTorch ran on; the last line is one JSON object
# of every ratio, keyed WORKLOAD_tTHREADS.
#
# PyTorch is measured with the OpenMP build of OpenBLAS and the kernel that
# OpenBLAS picks for the CPU: OPENBLAS_CORETYPE (which some machines pin to
# Haswell, halving OpenBLAS's GEMM on AVX-512 CPUs) and OPENBLAS_L2_SIZE are
# removed from the twin's environment.
#
# Set-up (Debian or Ubuntu):
#   apt-get update && apt-get install -y python3-torch libopenblas0-openmp dataset-fashion-mnist
set -euo pipefail
cd "$(dirname "$0")/.."
workloads=${*:-mm1024 toy dcgan28 biggan32}
threads=${THREADS:-1 2}
rounds=${ROUNDS:-2}
PY=${PYTHON:-/usr/bin/python3} # Debian's python sees Debian's python3-torch; a pyenv python does not
# Debian's OpenMP OpenBLAS (libopenblas0-openmp), for this machine's architecture
LP=/usr/lib/$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu")' 2>/dev/null || echo x86_64-linux-gnu)/openblas-openmp
twin=bench/peer/torch_twin.py
setup='apt-get update && apt-get install -y python3-torch libopenblas0-openmp dataset-fashion-mnist'

for w in $workloads; do
  case $w in
    mm1024 | toy | dcgan28 | biggan32) ;;
    *) echo "compare.sh: unknown workload $w; want mm1024, toy, dcgan28 or biggan32" >&2; exit 2 ;;
  esac
done
if ! [[ $rounds =~ ^[1-9][0-9]*$ ]]; then
  echo "compare.sh: ROUNDS must be a positive whole number, got '$rounds'" >&2
  exit 2
fi
for t in $threads; do
  if ! [[ $t =~ ^[1-9][0-9]*$ ]]; then
    echo "compare.sh: THREADS must be positive whole numbers, got '$t'" >&2
    exit 2
  fi
done

if ! "$PY" -c 'import torch' 2>/dev/null || [ ! -e "$LP/libblas.so.3" ]; then
  echo "compare.sh: PyTorch with the OpenMP OpenBLAS is not installed (for $PY); run:" >&2
  echo "  $setup" >&2
  exit 2
fi

bin=${MINMAX_BIN:-}
if [ -z "$bin" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  bin=$tmp/minmax
  go build -o "$bin" ./cmd/minmax
fi

# The twin runs in the environment PyTorch is measured in; it also checks
# this itself, but saying it here keeps the measurement independent of that.
twin_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "LD_LIBRARY_PATH=$LP${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")

# pick WORKLOAD THREADS: the rate of the JSON line for them on stdin
pick() {
  "$PY" -c '
import json, sys
w, t = sys.argv[1], int(sys.argv[2])
rate = None
for line in sys.stdin:  # read to the end: leaving early would break the pipe
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line)
        if rate is None and r.get("workload") == w and int(r.get("threads", -1)) == t:
            rate = r["rate"]
if rate is None:
    sys.exit("compare.sh: %s printed no JSON result for %s at %d thread(s)" % (sys.argv[3], w, t))
print(rate)
' "$@"
}

# Errors of a run are kept and shown only when it fails.
peer_rate() { # WORKLOAD THREADS
  local err
  err=$(mktemp)
  if ! "${twin_env[@]}" "$PY" "$twin" --workload "$1" --threads "$2" 2>"$err" | pick "$1" "$2" "the PyTorch twin"; then
    cat "$err" >&2
    rm -f "$err"
    return 1
  fi
  rm -f "$err"
}

ours_rate() { # WORKLOAD THREADS
  local err
  err=$(mktemp)
  if ! "$bin" bench --workload "$1" --threads "$2" --json 2>"$err" | pick "$1" "$2" "minmax bench"; then
    cat "$err" >&2
    rm -f "$err"
    return 1
  fi
  rm -f "$err"
}

echo "PyTorch: $("${twin_env[@]}" "$PY" "$twin" --info | "$PY" -c '
import json, sys
e = json.loads(sys.stdin.read())
kernel = e["openblas_core"] or "none (not OpenBLAS)"
pinned = sys.argv[1]
how = "picked by OpenBLAS for this CPU" if e["openblas_coretype_env"] is None else "pinned by OPENBLAS_CORETYPE"
note = "; OPENBLAS_CORETYPE=%s of this environment not used" % pinned if pinned and e["openblas_coretype_env"] is None else ""
print("torch %s, BLAS %s, OpenBLAS kernel %s (%s%s)" % (e["torch"], e["blas"], kernel, how, note))
' "${OPENBLAS_CORETYPE:-}")"
echo "minmax: $("$bin" --version 2>/dev/null | sed "s/ (commit unknown.*//" || echo "$bin"), CPU: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"

results=()
printf '%-9s %7s %12s %12s %8s  %s\n' workload threads minmax pytorch ratio unit
for w in $workloads; do
  case $w in mm1024) unit=call/s ;; *) unit=step/s ;; esac
  for t in $threads; do
    ours=() peer=() ratios=()
    for ((r = 0; r < rounds; r++)); do
      p=$(peer_rate "$w" "$t")
      o=$(ours_rate "$w" "$t")
      peer+=("$p") ours+=("$o")
      ratios+=("$("$PY" -c 'import sys; print(float(sys.argv[1]) / float(sys.argv[2]))' "$o" "$p")")
    done
    read -r mo mp mr < <("$PY" -c '
import statistics, sys
n = int(sys.argv[1]); v = [float(x) for x in sys.argv[2:]]
print("%.3f %.3f %.3f" % (statistics.median(v[:n]), statistics.median(v[n:2 * n]), statistics.median(v[2 * n:])))
' "$rounds" "${ours[@]}" "${peer[@]}" "${ratios[@]}")
    printf '%-9s %7s %12s %12s %8s  %s\n' "$w" "$t" "$mo" "$mp" "$mr" "$unit"
    results+=("\"${w}_t${t}\": $mr")
  done
done
(
  IFS=,
  echo "{${results[*]}}"
)
