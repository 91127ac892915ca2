#!/usr/bin/env bash
# Regenerates kernels.ptx from kernels.cu with CUDA 11.8's nvcc (fetched by
# ../toolkit.sh; no GPU needed) and checks that ptxas assembles it for the
# oldest target (sm_52) and for Hopper (sm_90).
#   bash backend/cuda/kernels/gen.sh [OUT.ptx]     (default: kernels.ptx beside this script)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(bash "$here/../toolkit.sh")
out=${1:-$here/kernels.ptx}
"$dir/usr/lib/nvidia-cuda-toolkit/bin/nvcc" -ccbin "$(command -v "${CC_HOST:-gcc}")" -allow-unsupported-compiler \
  -ptx -arch=compute_52 -O3 -o "$out" "$here/kernels.cu"
for sm in sm_52 sm_90; do
  "$dir/usr/bin/ptxas" -arch=$sm -o /dev/null "$out"
done
