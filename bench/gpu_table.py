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
    ours, paths, ev, evrun = {}, [], {}, {}
    for name, u in bench.items():
        m = re.fullmatch(r'BenchmarkDeviceStep/W=(\d+)/batch=(\d+)', name)
        if m and 'us/step' in u:
            ours[(int(m[1]), int(m[2]))] = (u['us/step'], u.get('TFLOP/s'))
        m = re.fullmatch(r'BenchmarkDevicePath/(\w+)/W=(\d+)/batch=(\d+)', name)
        if m and 'us/step' in u:
            paths.append((m[1], int(m[2]), int(m[3]), u['us/step']))
        m = re.fullmatch(r'BenchmarkDeviceEval/W=(\d+)', name)
        if m and 's/2^24pts' in u:
            ev[int(m[1])] = u['s/2^24pts']
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


if __name__ == '__main__':
    main(sys.argv[1])
