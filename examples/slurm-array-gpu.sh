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
#SBATCH --output=logs/reluscope-gpu-%A_%a.out
set -euo pipefail
PRESET=${1:?usage: sbatch --array=0-N examples/slurm-array-gpu.sh PRESET [--offset K] [extra sweep flags]}
shift
RELUSCOPE=${RELUSCOPE:-reluscope}
exec "$RELUSCOPE" sweep run "$PRESET" --out "results/shards-$(basename "$PRESET" .yaml)" --set backend=cuda "$@"
