#!/usr/bin/env bash
# Fetches what building the cuda engine needs, without a GPU and without
# installing anything: CUDA 11.8's headers and link stubs (from Debian's
# non-free nvidia-cuda-dev) and its nvcc, cicc and ptxas (nvidia-cuda-toolkit,
# libnvvm4), through a private apt configuration into a cache folder. Prints
# that folder. A second run finds it filled and only prints it.
#
#   dir=$(bash backend/cuda/toolkit.sh)
#   export CGO_CFLAGS=-I$dir/usr/include CGO_LDFLAGS=-L$dir/usr/lib/x86_64-linux-gnu/stubs
#   go build -tags gpu -o reluscope-gpu .
#
# gpu.md: cu does not build against CUDA ≥ 12 headers; 11.8's build runs on
# newer drivers (verified on a CUDA 13 driver).
set -euo pipefail
cache=${RELUSCOPE_CUDA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/reluscope/cuda-11.8}
if [ -f "$cache/.complete" ]; then
  echo "$cache"
  exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/state/lists/partial "$work"/cache/archives/partial "$work"/debs
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm contrib non-free" >"$work/sources.list"
apt=(-o "Dir::State=$work/state" -o "Dir::Cache=$work/cache" -o "Dir::Etc::SourceList=$work/sources.list"
  -o Dir::Etc::SourceParts=/dev/null -o Dir::State::status=/var/lib/dpkg/status -o APT::Sandbox::User=root)
echo "toolkit.sh: fetching CUDA 11.8 headers, stubs and nvcc from Debian into $cache (about 870 MB, once)" >&2
apt-get "${apt[@]}" -qq update >&2
(cd "$work/debs" && apt-get "${apt[@]}" -qq download nvidia-cuda-dev nvidia-cuda-toolkit libnvvm4 >&2)
out="$work/out"
mkdir -p "$out"
dpkg-deb --fsys-tarfile "$work"/debs/nvidia-cuda-dev_*.deb |
  tar -x -C "$out" --wildcards './usr/include/*' './usr/lib/x86_64-linux-gnu/stubs/*'
dpkg-deb -x "$work"/debs/nvidia-cuda-toolkit_*.deb "$out"
dpkg-deb -x "$work"/debs/libnvvm4_*.deb "$out"
# nvcc reads nvcc.profile beside itself; Debian's points at /usr and /etc.
bin="$out/usr/lib/nvidia-cuda-toolkit/bin"
rm -f "$bin/nvcc.profile"
cat >"$bin/nvcc.profile" <<'PROFILE'
NVVMIR_LIBRARY_DIR = $(_HERE_)/../libdevice
PATH		+= $(_HERE_):
INCLUDES	+= "-I$(_HERE_)/../../../include" $(_SPACE_)
PROFILE
rm -rf "$cache"
mv "$out" "$cache"
touch "$cache/.complete"
echo "$cache"
