#!/usr/bin/env python3
"""The device check's side-by-side table from bench/gpu.sh's outputs.

    python3 bench/gpu_table.py OUT           the table (OUT holds bench.txt,
                                             torch.jsonl, the runs)
    python3 bench/gpu_table.py --paths OUT   writes OUT/paths.json, the cuda
                                             engine's path table, from the
                                             path benchmarks in OUT/bench.txt
    python3 bench/gpu_table.py --self-test   checks the path table's making

A Go benchmark line is NAME ITERATIONS then value-unit pairs, the extra
metrics in whatever order Go prints them (sorted by unit): they are read by
unit, never by position.
"""
import json
import math
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
    ours, req, ev, evrun, gemm, handoff = {}, {}, {}, {}, {}, None
    paths, evpath = path_benchmarks(bench)
    for name, u in bench.items():
        m = re.fullmatch(r'BenchmarkDeviceStep/W=(\d+)/batch=(\d+)', name)
        if m and 'us/step' in u:
            ours[(int(m[1]), int(m[2]))] = (u['us/step'], u.get('TFLOP/s'))
        # The steps as runs take them: an epoch's in StepsRows requests.
        m = re.fullmatch(r'BenchmarkDeviceSteps/W=(\d+)/batch=(\d+)', name)
        if m and 'us/step' in u:
            req[(int(m[1]), int(m[2]))] = (u['us/step'], u.get('TFLOP/s'))
        m = re.fullmatch(r'BenchmarkDeviceGemm/W=(\d+)/batch=(\d+)/(\w+)', name)
        if m and 'us/gemm' in u:
            gemm.setdefault((int(m[1]), int(m[2])), {})[m[3]] = (u['us/gemm'], u.get('TFLOP/s'))
        if name == 'BenchmarkDeviceHandoff' and 'us/handoff' in u:
            handoff = u['us/handoff']
        m = re.fullmatch(r'BenchmarkDeviceEval/W=(\d+)', name)
        if m and 's/2^24pts' in u:
            ev[int(m[1])] = u['s/2^24pts']
        m = re.fullmatch(r'BenchmarkDeviceEvaluator/W=(\d+)', name)
        if m and 's/2^24pts' in u:
            evrun[int(m[1])] = u['s/2^24pts']
    torch, tev = {}, {}
    for line in (read(os.path.join(out, 'torch.jsonl')) or '').splitlines():  # not run: no PyTorch column
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

    # The speed-up is of the steps as runs take them (in requests), the
    # single StepRows beside them.
    print('| W | batch | reluscope µs/step in a run\'s requests | TFLOP/s | one StepRows µs | torch eager µs | torch graph µs | speed-up vs torch best |')
    print('|---|---|---|---|---|---|---|---|')
    for k in sorted(set(ours) | set(req) | set(torch)):
        o, r, t = ours.get(k), req.get(k), torch.get(k, {})
        best = min(t.get('eager_us', 1e30), t.get('graph_us', 1e30))
        ratio = f'{best / r[0]:.2f}×' if r and best < 1e30 else '—'
        print(f'| {k[0]} | {k[1]} | {num(r and r[0], ".1f")} | {num(r and r[1], ".3g")} | {num(o and o[0], ".1f")} | '
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
        print('| Compare path | W | s / 2^24 pts |')
        print('|---|---|---|')
        for k in sorted(evpath):
            print(f'| {k[0]} | {k[1]} | {evpath[k]:.4g} |')
    try:
        table = json.load(open(os.path.join(out, 'paths.json')))
        print()
        print(f'path table ({table["source"]}): eval_pair up to width {table["pair_max_width"]}')
        print()
        print('| up to width | fused up to MFLOP a step | multi-block up to MFLOP | its rows a block | then |')
        print('|---|---|---|---|---|')
        for r in table['steps']:
            print(f'| {r["max_width"]} | {r["fused_max_flops"] / 1e6:.4g} | {r["multi_max_flops"] / 1e6:.4g} | '
                  f'{r.get("multi_rows", 128)} | cuBLAS |')
    except (OSError, ValueError, KeyError, TypeError):
        pass
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
    checks = [('smoke test', go_test(os.path.join(out, 'smoke.txt'))), ('tests', go_test(os.path.join(out, 'tests.txt')))]
    checks += [(f'compute-sanitizer {t}', sanitizer(os.path.join(out, f'sanitizer-{t}.txt'))) for t in ('racecheck', 'synccheck', 'memcheck')]
    checks.append(('ncu, the fused step at width 32, batch 200', profile(os.path.join(out, 'ncu.txt'))))
    if any(c for _, c in checks):
        print()
        print('| check | result |')
        print('|---|---|')
        for name, c in checks:
            print(f'| {name} | {c or "—"} |')
    rows = [(name, final_errors(os.path.join(out, f'{f}.txt')), final_errors(os.path.join(out, f'{f}-native.txt')))
            for name, f in (('run', 'run'), ('run, width 32', 'run32'))]
    if any(a or b for _, a, b in rows):
        print()
        print('| run | cuda L1 | cuda L2 | cuda L∞ | native L2 | largest relative difference | within 1e-9 |')
        print('|---|---|---|---|---|---|---|')
        for name, a, b in rows:
            if a and b:
                rel = max(abs(x - y) / max(abs(y), 1e-300) for x, y in zip(a, b))
                print(f'| {name} | {a[0]:.6e} | {a[1]:.6e} | {a[2]:.6e} | {b[1]:.6e} | {rel:.2e} | {"yes" if rel <= 1e-9 else "no"} |')
            else:
                print(f'| {name} | {num(a and a[0], ".6e")} | {num(a and a[1], ".6e")} | {num(a and a[2], ".6e")} | '
                      f'{num(b and b[1], ".6e")} | — | no |')


def path_benchmarks(bench):
    """The path benchmarks: steps [(path, W, batch, µs)] and the
    evaluation's {(path, W): s per 2^24 points}."""
    steps, evpath = [], {}
    for name, u in bench.items():
        m = re.fullmatch(r'BenchmarkDevicePath/(\w+)/W=(\d+)/batch=(\d+)', name)
        if m and 'us/step' in u:
            steps.append((m[1], int(m[2]), int(m[3]), u['us/step']))
        m = re.fullmatch(r'BenchmarkDeviceEvalPath/(\w+)/W=(\d+)', name)
        if m and 's/2^24pts' in u:
            evpath[(m[1], int(m[2]))] = u['s/2^24pts']
    return steps, evpath


def params(W):
    """Parameters of the benchmarks' network [1, W, W, W, W, 1]."""
    return 2 * W + 3 * (W * W + W) + W + 1


def path_table(steps, evpath, builtin, source):
    """The cuda engine's path table (backend/cuda/paths.go) from the path
    benchmarks: steps [(path, W, batch, us)], evpath {(path, W): s}; what
    was not measured is the built-in table's. A width's rule: the fused
    step while it is the fastest from the smallest batch up, the multi-block
    step while it beats cuBLAS; each bound between the last batch that wins
    and the first that loses (geometric mean of their flops); the fused
    bound never past the batches measured, the multi-block one beyond them
    when it never lost (cuBLAS at 20000 rows is the largest measured)."""
    by = {}
    for p, W, n, us in steps:
        by.setdefault(W, {}).setdefault(n, {})['multi128' if p == 'multi' else p] = us
    rules = []
    for W in sorted(by):
        rows = sorted(by[W].items())
        flops = {n: 6 * params(W) * n for n, _ in rows}
        # The multi-block step's rows a block: the variant of the least
        # geometric mean over the batches where every variant was timed;
        # its times stand for "multi" below.
        variants = sorted({p for _, t in rows for p in t if p.startswith('multi')})
        block = None
        if variants:
            common = [t for _, t in rows if all(v in t for v in variants)]

            def gmean(v):
                return sum(math.log(t[v]) for t in common) / max(1, len(common))
            best = min(variants, key=lambda v: (gmean(v), v))
            block = int(best[len('multi'):])
            for _, t in rows:
                if best in t:
                    t['multi'] = t[best]
                for v in variants:
                    t.pop(v, None)

        def bound(wins, keep_going):
            last = 0.0
            for n, t in rows:
                if not wins(t):
                    return (last * flops[n]) ** 0.5
                last = flops[n]
            return 1e30 if keep_going else last

        fused = bound(lambda t: 'fused' in t and all(t['fused'] <= v for v in t.values()), False)
        multi = bound(lambda t: 'multi' in t and t['multi'] <= t.get('cublas', 1e30), True)
        rule = {'max_width': W, 'fused_max_flops': float(f'{fused:.4g}'), 'multi_max_flops': float(f'{multi:.4g}')}
        if block:
            rule['multi_rows'] = block
        rules.append(rule)
    pair = builtin['pair_max_width']
    widths = sorted({W for _, W in evpath})
    if widths:
        pair = 0
        for W in widths:
            if ('pair', W) in evpath and evpath[('pair', W)] <= evpath.get(('cublas', W), 1e30):
                pair = W
            else:
                break
    notes = []
    if not rules:
        rules = builtin['steps']
        notes.append('steps not measured: estimates')
    if not widths:
        notes.append('pair_max_width not measured: an estimate')
    return {'source': source + ''.join('; ' + x for x in notes), 'steps': rules, 'pair_max_width': pair}


def write_paths(out):
    steps, evpath = path_benchmarks(benchmarks(os.path.join(out, 'bench.txt')))
    here = os.path.dirname(os.path.abspath(__file__))
    builtin = json.load(open(os.path.join(here, '..', 'backend', 'cuda', 'paths.json')))
    try:
        gpu = open(os.path.join(out, 'gpu.txt')).read().strip().splitlines()[0].split(',')[0]
    except (OSError, IndexError):
        gpu = 'an unnamed GPU'
    import datetime
    table = path_table(steps, evpath, builtin, f'measured on {gpu} by bench/gpu.sh, {datetime.date.today()}')
    tmp = os.path.join(out, 'paths.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(table, f, indent=2)
        f.write('\n')
    os.replace(tmp, os.path.join(out, 'paths.json'))
    print(json.dumps(table))


def self_test():
    """The crossovers on made-up timings, against bounds worked by hand."""
    builtin = {'source': 'b', 'steps': [{'max_width': 64, 'fused_max_flops': 1.6e7, 'multi_max_flops': 1e30}], 'pair_max_width': 64}
    f = 6 * params(32)  # flops a row at width 32: 6 × 3457
    steps = []
    for n, fused, multi, cublas in [(20, 10, 20, 90), (200, 30, 25, 95), (2000, 300, 60, 100), (20000, 3000, 400, 300)]:
        # blocks of 64 rows the fastest (geometric mean), 32 and 128 slower
        steps += [('fused', 32, n, fused), ('multi64', 32, n, multi), ('multi32', 32, n, 1.5 * multi),
                  ('multi128', 32, n, 1.2 * multi), ('cublas', 32, n, cublas)]
    steps += [('fused', 16, 20, 50), ('multi', 16, 20, 40), ('cublas', 16, 20, 30)]  # cuBLAS wins at once
    t = path_table(steps, {('pair', 16): 1, ('cublas', 16): 2, ('pair', 32): 3, ('cublas', 32): 2, ('pair', 64): 1}, builtin, 's')
    want32 = {'max_width': 32, 'fused_max_flops': float(f'{(20 * f * 200 * f) ** 0.5:.4g}'),
              'multi_max_flops': float(f'{(2000 * f * 20000 * f) ** 0.5:.4g}'), 'multi_rows': 64}
    assert t['steps'] == [{'max_width': 16, 'fused_max_flops': 0.0, 'multi_max_flops': 0.0, 'multi_rows': 128}, want32], t
    assert t['pair_max_width'] == 16 and t['source'] == 's', t
    # Fused winning everywhere stops at the last batch measured; multi
    # beating cuBLAS everywhere goes on; nothing measured keeps the estimates.
    t = path_table([('fused', 64, 20, 1), ('multi', 64, 20, 2), ('cublas', 64, 20, 3)], {}, builtin, 's')
    assert t['steps'] == [{'max_width': 64, 'fused_max_flops': float(f'{6 * params(64) * 20:.4g}'), 'multi_max_flops': 1e30, 'multi_rows': 128}], t
    assert t['pair_max_width'] == 64 and t['source'] == 's; pair_max_width not measured: an estimate', t
    t = path_table([], {}, builtin, 's')
    assert t['steps'] == builtin['steps'] and t['source'].startswith('s; steps not measured'), t
    # The sanitizers' summaries, as each tool prints its own.
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        for text, want in [
                ('========= RACECHECK SUMMARY: 0 hazards displayed (0 errors, 0 warnings)\nexit status 0\n', 'pass: 0 hazards (0 errors, 0 warnings), exit status 0'),
                ('========= RACECHECK SUMMARY: 3 hazards displayed (1 error, 2 warnings)\nexit status 3\n', 'FAIL: 3 hazards (1 errors, 2 warnings), exit status 3'),
                ('========= ERROR SUMMARY: 0 errors\nexit status 0\n', 'pass: 0 errors, exit status 0'),
                ('========= ERROR SUMMARY: 2 errors\nexit status 3\n', 'FAIL: 2 errors, exit status 3'),
                ('killed\nexit status 124\n', None)]:
            path = os.path.join(d, 's.txt')
            open(path, 'w').write(text)
            assert sanitizer(path) == want, (text, sanitizer(path))
    print('gpu_table.py self-test: ok')


def read(path):
    """The text of path, or None."""
    try:
        return open(path, errors='replace').read()
    except OSError:
        return None


def go_test(path):
    """Whether the Go test binaries whose -test.v output is in path passed
    (every "exit status" line gpu.sh adds after each is 0; a binary killed
    by its timeout prints no verdict of its own), or None (not run)."""
    text = read(path)
    if not text:
        return None
    passed = len(re.findall(r'^--- PASS', text, re.M))
    failed = len(re.findall(r'^--- FAIL', text, re.M))
    status = re.findall(r'^exit status (\d+)$', text, re.M)
    bad = [s for s in status if s != '0']
    ok = failed == 0 and status and not bad
    why = f', exit status {bad[0]}{" (timed out)" if bad[0] in ("124", "137") else ""}' if bad else ''
    return f'{"pass" if ok else "FAIL"}: {passed} passed, {failed} failed{why}'


def sanitizer(path):
    """compute-sanitizer's summary and the test binary's exit status, or
    None (not run). memcheck, synccheck and initcheck end with "ERROR
    SUMMARY: N errors"; racecheck with "RACECHECK SUMMARY: N hazards
    displayed (E errors, W warnings)" — its errors are E."""
    text = read(path) or ''
    errs = re.findall(r'ERROR SUMMARY: (\d+) error', text)
    race = re.findall(r'RACECHECK SUMMARY: (\d+) hazards? displayed \((\d+) errors?, (\d+) warnings?\)', text)
    status = re.findall(r'^exit status (\d+)$', text, re.M)
    if not status or not (errs or race):
        return None
    if race:
        hazards, e, w = race[-1]
        ok = status[-1] == '0' and e == '0'
        return f'{"pass" if ok else "FAIL"}: {hazards} hazards ({e} errors, {w} warnings), exit status {status[-1]}'
    ok = status[-1] == '0' and errs[-1] == '0'
    return f'{"pass" if ok else "FAIL"}: {errs[-1]} errors, exit status {status[-1]}'


def profile(path):
    """The profiled kernel and, from a real ncu report, its duration, or
    None (not profiled)."""
    text = read(path) or ''
    m = re.search(r'==PROF== fake: would profile (\S+)', text)
    if m:
        return f'{m[1]} launched (fake: not profiled)'
    m = re.search(r'^\s*(step_small_f(?:64|32))\b', text, re.M)
    if not m:
        return None
    d = re.search(r'^\s*Duration\s+(\S+)\s+([\d.,]+)', text, re.M)
    return m[1] + (f', {d[2]} {d[1]}' if d else '')


def final_errors(path):
    """(L1, L2, L∞) of a run's last --json event (type done), or None."""
    try:
        r = json.loads(open(path, errors='replace').read().strip().splitlines()[-1])
        f = r['final']
        return (float(f['l1']), float(f['l2']), float(f['linf']))
    except (OSError, ValueError, IndexError, KeyError, TypeError):
        return None


if __name__ == '__main__':
    if sys.argv[1] == '--self-test':
        self_test()
    elif sys.argv[1] == '--paths':
        write_paths(sys.argv[2])
    else:
        main(sys.argv[1])
