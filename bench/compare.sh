#!/usr/bin/env bash
# Side-by-side speed of reluscope's engines and PyTorch on the CPU, in one go:
# every reference shape of the paper (d ∈ {1,3}, W ∈ {32,512}, batch ∈ {20,200,2000}),
# evaluation, and this machine's dgemm peak. Prints one table; ratios are
# against the best PyTorch setting (1 or 2 threads) measured in the same run.
#
#   bash bench/compare.sh            # everything (about 10 minutes on 2 cores)
#   QUICK=1 bash bench/compare.sh    # W=32 shapes and evaluation only
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
if ! $PY -c 'import torch' 2>/dev/null || ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "installing python3-torch and libopenblas0-pthread (Debian)…" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-torch libopenblas0-pthread >/dev/null
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

shapes="1:32 3:32 1:512 3:512"
[ -n "${QUICK:-}" ] && shapes="1:32 3:32"
filter='TrainStep/(native_float64|native_float32|gorgonia_float64)/d[13]_w32_|Eval/native_float64'
[ -z "${QUICK:-}" ] && filter='TrainStep/|Eval/native_float64'

echo "building and running the Go benchmarks…" >&2
go test -c -o "$out/backend.test" ./backend
go test -c -o "$out/gemm.test" ./backend/gemm
# Five short runs per benchmark, the median reported: the PyTorch twin takes
# the median of five repetitions too, and one long run is at the mercy of a
# noisy neighbour.
"$out/backend.test" -test.run '^$' -test.bench "$filter" -test.benchtime 0.4s -test.count 5 > "$out/go.txt"
"$out/gemm.test" -test.run '^$' -test.bench 'Gemm/n1024' -test.benchtime 1s -test.count 3 > "$out/gogemm.txt"
kern=$("$out/gemm.test" -test.run TestGemmMatchesReference -test.v 2>&1 | grep -o 'default [a-z0-9-]*' || true)

echo "running the PyTorch twins…" >&2
: > "$out/torch.jsonl"
for t in 1 2; do
  for s in $shapes; do
    d=${s%:*}; W=${s#*:}
    for b in 20 200 2000; do
      OPENBLAS_NUM_THREADS=$t $PY bench/torch_step.py train --threads $t --d $d --W $W --batch $b >> "$out/torch.jsonl"
    done
  done
  for W in 32 512; do
    OPENBLAS_NUM_THREADS=$t $PY bench/torch_step.py eval --threads $t --W $W >> "$out/torch.jsonl"
  done
  OPENBLAS_NUM_THREADS=$t $PY bench/torch_step.py gemm --threads $t >> "$out/torch.jsonl"
done

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; reluscope GEMM kernel: ${kern#default }"
$PY - "$out" <<'PYEOF'
import json, re, sys
out = sys.argv[1]
go = {}
for line in open(out + '/go.txt').read().splitlines() + open(out + '/gogemm.txt').read().splitlines():
    m = re.match(r'Benchmark(\S+?)-\d+\s+\d+\s+([\d.]+) ns/op(.*)', line)
    if m:
        allocs = re.search(r'(\d+) allocs/op', m.group(3))
        per2048 = re.search(r'([\d.]+) us/2048pts', m.group(3))
        us = float(per2048.group(1)) if per2048 else float(m.group(2)) / 1e3
        go.setdefault(m.group(1), []).append((us, int(allocs.group(1)) if allocs else None))
go = {k: sorted(v)[len(v) // 2] for k, v in go.items()}  # the median run
torch = [json.loads(l) for l in open(out + '/torch.jsonl')]
def best(kind, **kw):
    c = [r for r in torch if r['kind'] == kind and all(r.get(k) == v for k, v in kw.items())]
    return min(c, key=lambda r: r['us']) if c else None
peak = best('gemm')
gopeak = go.get('Gemm/n1024_t2') or go.get('Gemm/n1024_t1')
peak_gf = max(peak['gflops'], 2 * 1024**3 / gopeak[0] / 1e3 if gopeak else 0)
print(f"dgemm 1024³: OpenBLAS (torch, best of 1/2 threads) {peak['gflops']:.1f} GFLOP/s; reluscope gemm "
      f"{2*1024**3/go['Gemm/n1024_t2'][0]/1e3:.1f} (2 threads), {2*1024**3/go['Gemm/n1024_t1'][0]/1e3:.1f} (1 thread); "
      f"peak used below = {peak_gf:.1f} GFLOP/s")
print(f"torch BLAS: {peak['blas']}")
print()
print(f"{'shape':<18}{'engine':<18}{'µs/step':>10}{'torch µs':>10}{'×torch':>8}{'GFLOP/s':>9}{'%peak':>7}{'allocs':>7}")
for d in (1, 3):
    for W in (32, 512):
        for b in (20, 200, 2000):
            t = best('train', d=d, W=W, batch=b)
            if not t:
                continue
            P = t['params']
            for eng in ('native_float64', 'native_float32', 'gorgonia_float64'):
                g = go.get(f'TrainStep/{eng}/d{d}_w{W}_b{b}')
                if not g:
                    continue
                gf = 6 * P * b / g[0] / 1e3
                print(f"{f'd{d} W{W} b{b}':<18}{eng:<18}{g[0]:>10.1f}{t['us']:>10.1f}{t['us']/g[0]:>8.2f}{gf:>9.1f}{100*gf/peak_gf:>6.0f}%{g[1]:>7}")
            print(f"{'':<18}{'torch (best)':<18}{t['us']:>10.1f}{'':>10}{'':>8}{t['gflops']:>9.1f}{100*t['gflops']/peak_gf:>6.0f}%   threads={t['threads']}")
for W in (32, 512):
    t = best('eval', W=W)
    g = go.get(f'Eval/native_float64/d1_w{W}_n2048')
    if t and g:
        print(f"{f'eval W{W} 2048pts':<18}{'native_float64':<18}{g[0]:>10.1f}{t['us']:>10.1f}{t['us']/g[0]:>8.2f}{'':>9}{'':>7}{g[1]:>7}   torch threads={t['threads']}")
PYEOF
