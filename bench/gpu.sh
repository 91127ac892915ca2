#!/usr/bin/env bash
# The cuda engine's device check, in two halves.
#
#   bash bench/gpu.sh build    on the CPU machine: fetches CUDA 11.8's headers
#                              (backend/cuda/toolkit.sh), builds the tagged
#                              test binary and reluscope into .dev/gpu/ (git
#                              ignores it) and copies torch_gpu.py beside them
#   bash bench/gpu.sh device   on the GPU machine, from the repository root
#                              with .dev carried: the cross-check against the
#                              native engine, the benchmarks and PyTorch's twin
#                              in one go, then one side-by-side table
#
# The device half takes a few minutes on an H100/H200 (most of it PyTorch's
# twin); its outputs go to .dev/gpu/out/ and, when $OUT is set, to $OUT too.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.dev/gpu

case "${1:-}" in
build)
  cuda=$(bash backend/cuda/toolkit.sh)
  export CGO_CFLAGS="-I$cuda/usr/include" CGO_LDFLAGS="-L$cuda/usr/lib/x86_64-linux-gnu/stubs"
  mkdir -p "$dir"
  # Stripped: what the device call carries is limited to 64 MiB.
  go test -tags gpu -ldflags='-s -w' -c -o "$dir/cuda.test" ./backend/cuda
  go test -tags gpu -ldflags='-s -w' -c -o "$dir/experiment.test" ./experiment
  go build -tags gpu -ldflags='-s -w' -o "$dir/reluscope" .
  cp ../shared/bench/torch_gpu.py "$dir/"
  ls -la "$dir"
  ;;
device)
  [ -x "$dir/cuda.test" ] || { echo "gpu.sh: no $dir/cuda.test: run bash bench/gpu.sh build first and carry .dev" >&2; exit 1; }
  out="$dir/out"
  mkdir -p "$out"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt" || true
  # 1. Correctness: the device against the native engine (1e-10 relative in
  #    float64), StepRows against Step (bit for bit), the pause latency.
  set +e
  (cd "$dir" && timeout 120 ./cuda.test -test.run 'Device' -test.v) 2>&1 | tee "$out/tests.txt"
  tests=${PIPESTATUS[0]}
  # 2. reluscope's benchmarks.
  (cd "$dir" && timeout 240 ./cuda.test -test.run '^$' -test.bench 'Device' -test.benchtime 0.3s) 2>&1 | tee "$out/bench.txt"
  (cd "$dir" && timeout 120 ./experiment.test -test.run '^$' -test.bench 'DeviceEvaluator' -test.benchtime 2x) 2>&1 | tee -a "$out/bench.txt"
  # 3. PyTorch on the same GPU, in the same call.
  (cd "$dir" && PYTHONUNBUFFERED=1 timeout 240 python3 torch_gpu.py) 2>&1 | tee "$out/torch.jsonl"
  # 4. A run of the real binary on the GPU.
  (timeout 60 "$dir/reluscope" run --backend cuda --width 512 --samples 100000 --epochs 3 --eval-points 1000000 --sup sampled) 2>&1 | tail -5 | tee "$out/run.txt"
  set -e
  python3 - "$out" <<'PY' | tee "$out/table.md"
import json, re, sys, os
out = sys.argv[1]
ours, ev, evrun = {}, {}, {}
for line in open(os.path.join(out, 'bench.txt')):
    m = re.match(r'BenchmarkDeviceStep/W=(\d+)/batch=(\d+)\S*\s+\d+\s+\S+ ns/op\s+([\d.e+-]+) us/step\s+([\d.e+-]+) TFLOP/s', line)
    if m:
        ours[(int(m[1]), int(m[2]))] = (float(m[3]), float(m[4]))
    m = re.match(r'BenchmarkDeviceEval/W=(\d+)\S*\s+\d+\s+\S+ ns/op\s+([\d.e+-]+) s/2\^24pts', line)
    if m:
        ev[int(m[1])] = float(m[2])
    m = re.match(r'BenchmarkDeviceEvaluator/W=(\d+)\S*\s+\d+\s+\S+ ns/op\s+([\d.e+-]+) s/2\^24pts', line)
    if m:
        evrun[int(m[1])] = float(m[2])
torch, tev = {}, {}
for line in open(os.path.join(out, 'torch.jsonl')):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get('kind') == 'train' and r['d'] == 1:
        torch[(r['W'], r['batch'])] = r
    if r.get('kind') == 'eval':
        tev[r['W']] = r['s_per_2p24']
print('| W | batch | reluscope µs/step | TFLOP/s | torch eager µs | torch graph µs | speed-up vs torch best |')
print('|---|---|---|---|---|---|---|')
for k in sorted(set(ours) | set(torch)):
    o, t = ours.get(k), torch.get(k, {})
    best = min(t.get('eager_us', 1e30), t.get('graph_us', 1e30))
    ratio = f'{best / o[0]:.2f}×' if o and best < 1e30 else '—'
    print(f'| {k[0]} | {k[1]} | {o[0]:.1f} | {o[1]:.2f} | {t.get("eager_us", float("nan")):.1f} | {t.get("graph_us", float("nan")):.1f} | {ratio} |' if o else
          f'| {k[0]} | {k[1]} | — | — | {t.get("eager_us", float("nan")):.1f} | {t.get("graph_us", float("nan")):.1f} | — |')
paths = []
for line in open(os.path.join(out, 'bench.txt')):
    m = re.match(r'BenchmarkDevicePath/(\w+)/W=(\d+)/batch=(\d+)\S*\s+\d+\s+\S+ ns/op\s+([\d.e+-]+) us/step', line)
    if m:
        paths.append((m[1], int(m[2]), int(m[3]), float(m[4])))
if paths:
    print()
    print('| path | W | batch | µs/step |')
    print('|---|---|---|---|')
    for p in paths:
        print(f'| {p[0]} | {p[1]} | {p[2]} | {p[3]:.1f} |')
print()
print('| W | reluscope Compare s / 2^24 pts | a run\'s evaluation s / 2^24 pts | torch s / 2^24 pts | speed-up (run vs torch) |')
print('|---|---|---|---|---|')
for W in sorted(set(ev) | set(tev) | set(evrun)):
    o, r, t = ev.get(W), evrun.get(W), tev.get(W)
    print(f'| {W} | {o if o is not None else "—"} | {r if r is not None else "—"} | {t if t is not None else "—"} | {f"{t / r:.2f}×" if r and t else "—"} |')
PY
  if [ -n "${OUT:-}" ]; then cp -r "$out"/. "$OUT"/; fi
  exit "$tests"
  ;;
*)
  echo "usage: bash bench/gpu.sh build|device" >&2
  exit 2
  ;;
esac
