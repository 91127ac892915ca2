#!/bin/bash
# Runs a reluscope sweep as Slurm job arrays: one array task per run.
#
#   mkdir -p logs                                # the tasks' logs go there (Slurm does not make it)
#   reluscope sweep plan paper-1d                # the grid's classes: time, memory, cores to ask for
#   N=$(reluscope sweep count paper-1d)          # 4320
#   # An array's indices stay below MaxArraySize (1001 by default): one
#   # array of up to 1000 tasks per block, --offset the block's first run.
#   for K in $(seq 0 1000 $((N - 1))); do
#     sbatch --array=0-$(( N - K < 1000 ? N - K - 1 : 999 ))%200 examples/slurm-array.sh paper-1d --offset "$K"
#   done
#   # what is finished, failed, in progress (a saved state) or missing:
#   reluscope sweep status paper-1d results/shards-paper-1d
#   # when it says nothing is missing:
#   reluscope sweep merge --out results/paper-1d.jsonl results/shards-paper-1d
#   reluscope report results/paper-1d.jsonl --png paper-1d.png
#
# Each task runs run OFFSET + $SLURM_ARRAY_TASK_ID and writes its record to
# results/shards-PRESET/index-NNNNNNN-HASH.jsonl atomically (HASH: the run's
# config, so variants never overwrite each other); a run already finished
# is skipped, so a requeued or repeated task is harmless. Five minutes
# before the time limit Slurm sends SIGTERM (--signal): the run saves its
# state (student, Adam moments, data order, history) next to its shard and
# stops, and the task requeues itself (below): it goes on from there and
# ends with the bits of a run that was never stopped. `sweep status` prints
# the indices still to submit as an --array spec.
#
# --time and --mem below fit paper-1d's small runs; `sweep plan` says what
# its wide classes need. For the GPU engine see examples/slurm-array-gpu.sh.
#SBATCH --job-name=reluscope
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=04:00:00
#SBATCH --signal=B:TERM@300
#SBATCH --requeue
#SBATCH --open-mode=append
#SBATCH --output=logs/reluscope-%A_%a.out
set -euo pipefail
PRESET=${1:?usage: sbatch --array=0-N examples/slurm-array.sh PRESET [--offset K] [extra sweep flags]}
shift
RELUSCOPE=${RELUSCOPE:-reluscope}
# With sbatch --export=NONE (or --export=VAR=…) the job has no PATH of
# yours: name the binary (sbatch --export=NONE,RELUSCOPE=$HOME/bin/reluscope …).
command -v "$RELUSCOPE" >/dev/null 2>&1 || { echo "reluscope: $RELUSCOPE is not a program here (PATH=${PATH:-unset}): set RELUSCOPE=/path/to/reluscope, e.g. sbatch --export=ALL,RELUSCOPE=\$HOME/bin/reluscope" >&2; exit 127; }
# results/shards-NAME: the preset's name, or a preset file's without .yaml
# The run is a child of this script, which forwards Slurm's SIGTERM to it
# (--signal=B: signals the batch shell only) and, when the run stopped with
# its state saved (exit 75), requeues the task: it comes back by itself
# and goes on from its state, up to RELUSCOPE_MAX_REQUEUES times (10).
"$RELUSCOPE" sweep run "$PRESET" --out "results/shards-$(basename "$PRESET" .yaml)" "$@" &
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
