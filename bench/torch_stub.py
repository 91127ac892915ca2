#!/usr/bin/env python3
"""The PyTorch twin's stand-in for `bash bench/gpu.sh fake` (no PyTorch, no
GPU): the lines torch_gpu.py prints, for the shapes the fake check runs, with
the H200 anchors of ../shared/docs/gpu.md as their numbers. It tests the
plumbing (parsing, table), not speed."""
import json

print(json.dumps(dict(kind='info', torch='stub', gpu='none (bench/torch_stub.py)')))
print(json.dumps(dict(kind='train', d=1, W=32, batch=20, params=3265, eager_us=1484.0, graph_us=173.0)))
print(json.dumps(dict(kind='eval', d=1, W=32, npts=1 << 24, s=0.061, s_per_2p24=0.061)))
