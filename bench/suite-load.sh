#!/usr/bin/env bash
# The README's test command under load: runs `go test -race ./...` with N
# CPU-bound processes beside it (default 4: `yes > /dev/null`), as a busy
# laptop would, and prints each package's time and its share of Go's
# 10-minute package limit.
#
#   bash bench/suite-load.sh [N]     # N = 0: a quiet run
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-4}
pids=()
for _ in $(seq "$n"); do
  yes >/dev/null &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null' EXIT
log=$(mktemp)
start=$(date +%s)
go test -race -count=1 ./... 2>&1 | tee "$log" | grep -E '^(ok|FAIL|---|panic)'
rc=${PIPESTATUS[0]}
end=$(date +%s)
echo "wall $((end - start)) s with $n busy processes beside it; exit $rc"
awk '$1 == "ok" || $1 == "FAIL" { t = $3; sub("s", "", t); if (t + 0 > 0) printf "%-55s %7.1f s  %3.0f %% of 600 s\n", $2, t, t / 6 }' "$log" | sort -k2 -rn
rm -f "$log"
exit "$rc"
