#!/bin/bash
# Submits a whole grid to Slurm and sees it through, unattended: the
# arrays (blocks below MaxArraySize, as examples/slurm-array.sh says), then
# a watcher job that starts when they have all ended (--dependency=afterany).
# The watcher asks `sweep status`: while runs are missing (a task killed
# outright: a node lost, the out-of-memory killer) and ROUNDS are
# left, it submits them again and itself after them; when every run is
# finished it merges the shards and writes the report next to them. A run
# stopped at its time limit needs none of this: it requeues itself.
#
#   RELUSCOPE=$HOME/bin/reluscope bash examples/slurm-submit.sh paper-1d [--set K=V ...]
#
# ROUNDS (3) bounds the resubmissions; BLOCK (1000: MaxArraySize − 1) the
# tasks of one array; SBATCH_ARGS (e.g. "--partition=long --time=2-00:00:00")
# goes to every array. Runs that failed (their record says why: diverged,
# refused) are not resubmitted: `sweep status` names them. The watcher's log
# is logs/reluscope-watch-JOB.out; the result, results/PRESET.jsonl and
# results/PRESET-report.txt (and .csv, .png). To stop it all, cancel the
# watcher too (scancel --name reluscope-watch-PRESET): it would resubmit
# the cancelled runs.
set -euo pipefail
# Where slurm-array.sh and this script are (a batch job runs a copy of
# its script elsewhere: the watcher is told by the environment).
here=${RELUSCOPE_EXAMPLES:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
export RELUSCOPE_EXAMPLES=$here
RELUSCOPE=${RELUSCOPE:-reluscope}
command -v "$RELUSCOPE" >/dev/null 2>&1 || { echo "reluscope: $RELUSCOPE is not a program here: set RELUSCOPE=/path/to/reluscope" >&2; exit 127; }
RELUSCOPE=$(command -v "$RELUSCOPE")
export RELUSCOPE
ROUNDS=${ROUNDS:-3}
BLOCK=${BLOCK:-1000}
read -r -a extra <<<"${SBATCH_ARGS:-}"

if [ "${1:-}" = "--watch" ]; then # the watcher: a batch job, ROUND left
  round=$2
  shift 2
fi
PRESET=${1:?usage: bash examples/slurm-submit.sh PRESET [sweep flags]}
shift
name=$(basename "$PRESET" .yaml)
shards="results/shards-$name"
mkdir -p logs results

# watch submits the watcher, with ROUND $2, after the jobs $1
# (colon-separated ids); the rest are the sweep's flags.
watch() {
  local deps=$1 r=$2
  shift 2
  sbatch --parsable --job-name="reluscope-watch-$name" --dependency="afterany:$deps" \
    --cpus-per-task=1 --mem=2G --time=01:00:00 --output="logs/reluscope-watch-%j.out" \
    --export=ALL "$here/slurm-submit.sh" --watch "$r" "$PRESET" "$@"
}

if [ -z "${round:-}" ]; then
  N=$("$RELUSCOPE" sweep count "$PRESET" "$@")
  ids=()
  for K in $(seq 0 "$BLOCK" $((N - 1))); do
    ids+=("$(sbatch --parsable "${extra[@]}" --array=0-$(( N - K < BLOCK ? N - K - 1 : BLOCK - 1 )) "$here/slurm-array.sh" "$PRESET" --offset "$K" "$@")")
  done
  deps=$(IFS=:; echo "${ids[*]}")
  w=$(watch "$deps" "$ROUNDS" "$@")
  echo "submitted $N runs of $name in ${#ids[@]} arrays (${ids[*]}); the watcher $w resubmits what goes missing (at most $ROUNDS times), then merges and reports"
  exit 0
fi

rc=0
"$RELUSCOPE" sweep status "$PRESET" "$shards" "$@" --block "$BLOCK" > "logs/status-$name.txt" || rc=$?
cat "logs/status-$name.txt"
case "$rc" in
0)
  # This grid's variant only (the folder may hold others).
  variant=$(sed -n '1s/^.* (variant \([0-9a-f]*\)) in .*$/\1/p' "logs/status-$name.txt")
  "$RELUSCOPE" sweep merge --variant "$variant" --out "results/$name.jsonl" "$shards"
  "$RELUSCOPE" report "results/$name.jsonl" --csv "results/$name.csv" --png "results/$name.png" > "results/$name-report.txt"
  echo "reluscope: $name complete: results/$name.jsonl, results/$name-report.txt"
  exit 0
  ;;
3) ;;
*) exit "$rc" ;;
esac
lines=$(grep '^  sbatch ' "logs/status-$name.txt" || true)
if [ -z "$lines" ]; then
  echo "reluscope: $name: nothing to resubmit, but not every run finished (failed runs: their records say why; --retry-failed runs them again)" >&2
  exit 3
fi
if [ "$round" -le 0 ]; then
  echo "reluscope: $name: runs still missing after the last round of resubmissions (ROUNDS): resubmit the lines above by hand" >&2
  exit 3
fi
ids=()
while read -r _ array _ rest; do # "sbatch --array=SPEC examples/slurm-array.sh PRESET --offset K FLAGS"
  eval "args=($rest)" # status quotes each word for the shell
  ids+=("$(sbatch --parsable "${extra[@]}" "$array" "$here/slurm-array.sh" "${args[@]}")")
done <<<"$lines"
deps=$(IFS=:; echo "${ids[*]}")
w=$(watch "$deps" "$((round - 1))" "$@")
echo "reluscope: $name: resubmitted what is missing (${ids[*]}); the watcher $w looks again ($((round - 1)) rounds left)"
