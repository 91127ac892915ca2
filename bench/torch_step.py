#!/usr/bin/python3
"""PyTorch CPU twin of reluscope's benchmarks (backend/bench_test.go).

usage: /usr/bin/python3 bench/torch_step.py MODE [--threads T] [--d D] [--W W] [--batch B] [--npts N] [--n N]
  MODE = train | eval | gemm
Prints one JSON line per measurement: the median µs per step over repetitions.
  train: one Adam step (lr 1e-4) of a [d, W, W, W, W, 1] float64 ReLU MLP on a
         fixed batch, as BenchmarkTrainStep does;
  eval:  forward pass and max |student - teacher| over 2048-point chunks, as
         the engine's evaluation does (µs per 2048 points);
  gemm:  an n×n×n float64 product (the machine's BLAS peak).
"""
import argparse, json, time

import torch
import torch.nn as nn


def blas():
    libs = set()
    with open('/proc/self/maps') as f:
        for line in f:
            p = line.split()[-1]
            if 'blas' in p or 'lapack' in p:
                libs.add(p.rsplit('/', 1)[-1])
    return ','.join(sorted(libs)) or 'builtin'


def mlp(d, W):
    layers, inp = [], d
    for _ in range(4):
        layers += [nn.Linear(inp, W), nn.ReLU()]
        inp = W
    layers.append(nn.Linear(inp, 1))
    return nn.Sequential(*layers).double()


def timeit(f, target=0.4, reps=5):
    f()
    t0 = time.perf_counter(); n = 0
    while n < 3 or time.perf_counter() - t0 < 0.2:
        f(); n += 1
    k = max(1, int(target / ((time.perf_counter() - t0) / n)))
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(k):
            f()
        ts.append((time.perf_counter() - t) / k)
    ts.sort()
    return ts[len(ts) // 2] * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--d', type=int, default=1)
    ap.add_argument('--W', type=int, default=32)
    ap.add_argument('--batch', type=int, default=20)
    ap.add_argument('--npts', type=int, default=2048)
    ap.add_argument('--n', type=int, default=1024)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = dict(engine='torch', threads=a.threads, blas=blas())
    if a.mode == 'gemm':
        A = torch.rand(a.n, a.n, dtype=torch.float64); B = torch.rand(a.n, a.n, dtype=torch.float64); C = torch.empty(a.n, a.n, dtype=torch.float64)
        us = timeit(lambda: torch.mm(A, B, out=C), 1.0)
        out.update(kind='gemm', n=a.n, us=us, gflops=2 * a.n ** 3 / us / 1e3)
    elif a.mode == 'train':
        torch.manual_seed(1)
        net = mlp(a.d, a.W)
        x = torch.rand(a.batch, a.d, dtype=torch.float64) - 0.5
        y = torch.rand(a.batch, 1, dtype=torch.float64) - 0.5
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)
        lossf = nn.MSELoss()

        def step():
            opt.zero_grad(set_to_none=True)
            lossf(net(x), y).backward()
            opt.step()
        P = sum(p.numel() for p in net.parameters())
        us = timeit(step)
        out.update(kind='train', d=a.d, W=a.W, batch=a.batch, params=P, us=us, gflops=6 * P * a.batch / us / 1e3)
    elif a.mode == 'eval':
        torch.manual_seed(1)
        teacher, student = mlp(a.d, 32), mlp(a.d, a.W)
        x = torch.rand(a.npts, a.d, dtype=torch.float64) - 0.5

        def ev():
            with torch.no_grad():
                return (student(x) - teacher(x)).abs().max().item()
        us = timeit(ev)
        out.update(kind='eval', d=a.d, W=a.W, npts=a.npts, us=us, points_per_s=a.npts / us * 1e6)
    print(json.dumps(out), flush=True)


if __name__ == '__main__':
    main()
