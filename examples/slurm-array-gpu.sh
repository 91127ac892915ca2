#!/bin/bash
# The GPU variant of slurm-array.sh: one GPU per task, the cuda engine
# (a binary built with -tags gpu, see the README's GPU section). Submit it
# as slurm-array.sh, in blocks of at most 1000 with --offset:
#
#   mkdir -p logs
#   sbatch --array=0-999%16 examples/slurm-array-gpu.sh paper-1d --offset 0
#
# The cuda engine cannot save its Adam state yet: a task stopped by the
# time limit starts its run over when submitted again; ask for a --time
# that `reluscope sweep plan paper-1d` gives for the class.
#SBATCH --job-name=reluscope-gpu
#SBATCH --gres=gpu:1
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=04:00:00
#SBATCH --signal=B:TERM@300
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=logs/reluscope-gpu-%A_%a.out
set -euo pipefail
PRESET=${1:?usage: sbatch --array=0-N examples/slurm-array-gpu.sh PRESET [--offset K] [extra sweep flags]}
shift
RELUSCOPE=${RELUSCOPE:-reluscope}
# With sbatch --export=NONE (or --export=VAR=…) the job has no PATH of
# yours: name the binary (sbatch --export=NONE,RELUSCOPE=$HOME/bin/reluscope …).
command -v "$RELUSCOPE" >/dev/null 2>&1 || { echo "reluscope: $RELUSCOPE is not a program here (PATH=${PATH:-unset}): set RELUSCOPE=/path/to/reluscope, e.g. sbatch --export=ALL,RELUSCOPE=\$HOME/bin/reluscope" >&2; exit 127; }
# The run is a child of this script, which forwards Slurm's SIGTERM to it
# (--signal=B: signals the batch shell only) and, when the run stopped with
# its state saved (exit 75), requeues the task: it comes back by itself
# and goes on from its state, up to RELUSCOPE_MAX_REQUEUES times (10).
"$RELUSCOPE" sweep run "$PRESET" --out "results/shards-$(basename "$PRESET" .yaml)" --set backend=cuda "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
rc=0
wait "$pid" || rc=$?
while kill -0 "$pid" 2>/dev/null; do # the trap ended the wait: the run is saving
  rc=0
  wait "$pid" || rc=$?
done
# A job cancelled (scancel) is not RUNNING any more: it stays stopped.
if [ "$rc" = 75 ] && [ -n "${SLURM_JOB_ID:-}" ] && [ "${SLURM_RESTART_COUNT:-0}" -lt "${RELUSCOPE_MAX_REQUEUES:-10}" ] &&
  [ "$(squeue -h -j "$SLURM_JOB_ID" -o %T 2>/dev/null)" = RUNNING ]; then
  echo "reluscope: run stopped with its state saved: requeued (restart $(( ${SLURM_RESTART_COUNT:-0} + 1 )))" >&2
  scontrol requeue "$SLURM_JOB_ID" && exit 0
fi
exit "$rc"
