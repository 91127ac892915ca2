#!/usr/bin/env bash
# Peak resident memory of `reluscope run` against its memory estimate, for
# the shapes the estimate must bound: the default, d = 3 width 512 (the
# true sup by a bracket search), width 2048, and m = 10⁶. The estimate is
# read from the refusal a run gives when 1 byte is available; the peak from
# GNU time. Each row: the estimate, the peak, and estimate / peak (≥ 1).
#
#   bash bench/memory.sh          # about 2 minutes on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "needs GNU time (apt-get install time)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
go build -o "$out/reluscope" .
printf '%-34s %12s %12s %8s\n' "run" "estimate" "peak RSS" "ratio"
for args in "" "--dim 3 --width 512 --epochs 20" "--width 2048 --epochs 1" "--samples 1000000 --epochs 1"; do
  # shellcheck disable=SC2086
  est=$( (RELUSCOPE_MEM_AVAILABLE=1 "$out/reluscope" run $args 2>&1 || true) | sed -n 's/.*needs about \([0-9.]*\) \([KMG]\)iB.*/\1 \2/p')
  read -r v unit <<<"$est"
  case $unit in K) mul=1024 ;; M) mul=1048576 ;; G) mul=1073741824 ;; esac
  estb=$(awk -v v="$v" -v m="$mul" 'BEGIN{printf "%.0f", v*m}')
  # shellcheck disable=SC2086
  /usr/bin/time -o "$out/t" -f '%M' "$out/reluscope" run $args >/dev/null 2>&1
  peak=$(( $(tail -1 "$out/t") * 1024 ))
  awk -v a="${args:-(default)}" -v e="$estb" -v p="$peak" 'BEGIN{printf "%-34s %9.1f MiB %9.1f MiB %8.2f\n", a, e/1048576, p/1048576, e/p}'
done
