#!/bin/bash
# Runs a reluscope sweep as a Slurm job array: one array task per run.
#
#   N=$(reluscope sweep count paper-1d)              # 4320
#   sbatch --array=0-$((N-1))%200 examples/slurm-array.sh paper-1d
#   # when the array has finished:
#   reluscope sweep merge --out results/paper-1d.jsonl results/shards-paper-1d
#   reluscope report results/paper-1d.jsonl --png paper-1d.png
#
# Each task reads its index from $SLURM_ARRAY_TASK_ID, writes one line to
# results/shards-PRESET/index-NNNNNNN.jsonl atomically, and skips a run that
# already finished, so a requeued or repeated task is harmless.
#SBATCH --job-name=reluscope
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=04:00:00
#SBATCH --output=logs/reluscope-%A_%a.out
set -euo pipefail
PRESET=${1:?usage: sbatch --array=0-N examples/slurm-array.sh PRESET [extra sweep flags]}
shift
RELUSCOPE=${RELUSCOPE:-reluscope}
exec "$RELUSCOPE" sweep run "$PRESET" --out "results/shards-$PRESET" "$@"
