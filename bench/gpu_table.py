#!/usr/bin/env python3
"""The device check's side-by-side table from bench/gpu.sh's outputs.

    python3 bench/gpu_table.py OUT   (OUT holds bench.txt and torch.jsonl)

A Go benchmark line is NAME ITERATIONS then value-unit pairs, the extra
metrics in whatever order Go prints them (sorted by unit): they are read by
unit, never by position.
"""
import json
import os
import re
import sys


def benchmarks(path):
    """{name: {unit: value}} of every benchmark line in path."""
    out = {}
    for line in open(path, errors='replace'):
        f = line.split()
        if len(f) < 4 or not f[0].startswith('Benchmark') or not f[1].isdigit():
            continue
        name = re.sub(r'-\d+$', '', f[0])  # the GOMAXPROCS suffix
        units = {}
        for v, u in zip(f[2::2], f[3::2]):
            try:
                units[u] = float(v)
            except ValueError:
                pass
        out[name] = units
    return out


def main(out):
    bench = benchmarks(os.path.join(out, 'bench.txt'))
    ours, paths, ev, evrun, gemm, handoff, evpath = {}, [], {}, {}, {}, None, {}
    for name, u in bench.items():
        m = re.fullmatch(r'BenchmarkDeviceStep/W=(\d+)/batch=(\d+)', name)
        if m and 'us/step' in u:
            ours[(int(m[1]), int(m[2]))] = (u['us/step'], u.get('TFLOP/s'))
        m = re.fullmatch(r'BenchmarkDevicePath/(\w+)/W=(\d+)/batch=(\d+)', name)
        if m and 'us/step' in u:
            paths.append((m[1], int(m[2]), int(m[3]), u['us/step']))
        m = re.fullmatch(r'BenchmarkDeviceGemm/W=(\d+)/batch=(\d+)/(\w+)', name)
        if m and 'us/gemm' in u:
            gemm.setdefault((int(m[1]), int(m[2])), {})[m[3]] = (u['us/gemm'], u.get('TFLOP/s'))
        if name == 'BenchmarkDeviceHandoff' and 'us/handoff' in u:
            handoff = u['us/handoff']
        m = re.fullmatch(r'BenchmarkDeviceEval/W=(\d+)', name)
        if m and 's/2^24pts' in u:
            ev[int(m[1])] = u['s/2^24pts']
        m = re.fullmatch(r'BenchmarkDeviceEvalPath/(\w+)/W=(\d+)', name)
        if m and 's/2^24pts' in u:
            evpath[m[1]] = u['s/2^24pts']
        m = re.fullmatch(r'BenchmarkDeviceEvaluator/W=(\d+)', name)
        if m and 's/2^24pts' in u:
            evrun[int(m[1])] = u['s/2^24pts']
    torch, tev = {}, {}
    for line in open(os.path.join(out, 'torch.jsonl'), errors='replace'):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if r.get('kind') == 'train' and r.get('d') == 1:
            torch[(r['W'], r['batch'])] = r
        if r.get('kind') == 'eval':
            tev[r['W']] = r['s_per_2p24']

    def num(v, fmt):
        return format(v, fmt) if isinstance(v, (int, float)) else '—'

    print('| W | batch | reluscope µs/step | TFLOP/s | torch eager µs | torch graph µs | speed-up vs torch best |')
    print('|---|---|---|---|---|---|---|')
    for k in sorted(set(ours) | set(torch)):
        o, t = ours.get(k), torch.get(k, {})
        best = min(t.get('eager_us', 1e30), t.get('graph_us', 1e30))
        ratio = f'{best / o[0]:.2f}×' if o and best < 1e30 else '—'
        print(f'| {k[0]} | {k[1]} | {num(o and o[0], ".1f")} | {num(o and o[1], ".3g")} | '
              f'{num(t.get("eager_us"), ".1f")} | {num(t.get("graph_us"), ".1f")} | {ratio} |')
    if paths:
        print()
        print('| path | W | batch | µs/step |')
        print('|---|---|---|---|')
        for p in sorted(paths):
            print(f'| {p[0]} | {p[1]} | {p[2]} | {p[3]:.1f} |')
    print()
    print("| W | reluscope Compare s / 2^24 pts | a run's evaluation s / 2^24 pts | torch s / 2^24 pts | speed-up (run vs torch) |")
    print('|---|---|---|---|---|')
    for W in sorted(set(ev) | set(tev) | set(evrun)):
        o, r, t = ev.get(W), evrun.get(W), tev.get(W)
        print(f'| {W} | {num(o, ".4g")} | {num(r, ".4g")} | {num(t, ".4g")} | {f"{t / r:.2f}×" if r and t else "—"} |')

    if evpath:
        print()
        print('| Compare path (W = 32) | s / 2^24 pts |')
        print('|---|---|')
        for k in sorted(evpath):
            print(f'| {k} | {evpath[k]:.4g} |')
    if gemm:
        print()
        print("| W | batch | cuBLAS forward µs (TFLOP/s) | weight grad µs | input grad µs | a step's products (3 layers W×W) µs | reluscope step µs |")
        print('|---|---|---|---|---|---|---|')
        for (W, n), g in sorted(gemm.items()):
            cells = [g.get(k) for k in ('forward', 'weightgrad', 'inputgrad')]
            total = 3 * sum(c[0] for c in cells) if all(cells) else None
            fwd = cells[0]
            print(f'| {W} | {n} | {num(fwd and fwd[0], ".1f")} ({num(fwd and fwd[1], ".3g")}) | '
                  f'{num(cells[1] and cells[1][0], ".1f")} | {num(cells[2] and cells[2][0], ".1f")} | '
                  f'{num(total, ".1f")} | {num(ours.get((W, n), (None,))[0], ".1f")} |')
    if handoff is not None:
        print()
        print(f'host ↔ device-thread handoff alone: {handoff:.2f} µs a round trip')
    runs = [final_errors(os.path.join(out, f)) for f in ('run.txt', 'run-native.txt')]
    if any(runs):
        print()
        print('| run | cuda L1 | cuda L2 | cuda L∞ | native L2 | largest relative difference | within 1e-9 |')
        print('|---|---|---|---|---|---|---|')
        a, b = runs
        if a and b:
            rel = max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(a, b))
            print(f'| run | {a[0]:.6e} | {a[1]:.6e} | {a[2]:.6e} | {b[1]:.6e} | {rel:.2e} | {"yes" if rel <= 1e-9 else "no"} |')
        else:
            print(f'| run | {num(a and a[0], ".6e")} | {num(a and a[1], ".6e")} | {num(a and a[2], ".6e")} | '
                  f'{num(b and b[1], ".6e")} | — | no |')


def final_errors(path):
    """(L1, L2, L∞) of a run's last --json event (type done), or None."""
    try:
        r = json.loads(open(path, errors='replace').read().strip().splitlines()[-1])
        f = r['final']
        return (float(f['l1']), float(f['l2']), float(f['linf']))
    except (OSError, ValueError, IndexError, KeyError, TypeError):
        return None


if __name__ == '__main__':
    main(sys.argv[1])
