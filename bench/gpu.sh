#!/usr/bin/env bash
# The cuda engine's device check, in two halves, and the same check on the
# fake driver.
#
#   bash bench/gpu.sh build    on the CPU machine: fetches CUDA 11.8's headers
#                              (backend/cuda/toolkit.sh), builds the tagged
#                              test binaries and reluscope into .dev/gpu/ (git
#                              ignores it) and copies bench/torch_gpu.py (the
#                              PyTorch twin, ../shared's copy) beside them
#   bash bench/gpu.sh device [STAGE…]
#                              on the GPU machine, from the repository root
#                              with .dev/gpu carried: the cross-check against the
#                              native engine, the benchmarks and PyTorch's twin
#                              in one go, then one side-by-side table; STAGEs
#                              (smoke tests sanitizer paths steps ncu eval
#                              torch run) run only those, after the smoke test
#   bash bench/gpu.sh fake     here, in CI: builds as build does, then runs the
#                              device half on the fake driver and cuBLAS
#                              (backend/cuda/fakecuda: the kernels on the CPU)
#                              at tiny shapes, with a stub in place of PyTorch,
#                              and requires a number in every cell of the table
#                              it fills: the plumbing is proven on every CI run
#
# Each stage's output is copied into $OUT (when set) as soon as the stage
# ends, so that a device command cut short still returns what it finished.
# The stages' time limits add up to 520 s, under the 600 s one device
# command may run; every test binary is also bounded by -test.timeout.
# Stages: a smoke test (15 s: a device failing it skips the rest), tests
# (50 s, then 10 s of whole runs), compute-sanitizer racecheck, synccheck
# and memcheck (20 s each), the narrow networks' three paths (50 s), the
# handoff and raw cuBLAS products (20 s), ncu on the fused step (25 s) — on the fake driver the two tools
# are stand-ins (backend/cuda/fakecuda) that take the same options and run
# the same programs, so that the stages' plumbing is proven —, the
# evaluation benchmarks (20 + 15 + 35 s: Compare, its two paths at widths
# 16-64, a run's evaluator), then the path table (out/paths.json: which
# path each narrow shape takes, from the path benchmarks — commit it as
# backend/cuda/paths.json), the step benchmarks with that table (40 s:
# one step and an epoch's steps in one request, as runs take them),
# PyTorch's twin (120 s), reluscope run on the device with that table and
# on the native engine (20 s each, final errors compared to 1e-9).
set -euo pipefail
cd "$(dirname "$0")/.."

build() { # build DIR
  local dir=$1 cuda
  cuda=$(bash backend/cuda/toolkit.sh)
  export CGO_CFLAGS="-I$cuda/usr/include" CGO_LDFLAGS="-L$cuda/usr/lib/x86_64-linux-gnu/stubs"
  mkdir -p "$dir"
  # Stripped: what the device call carries is limited to 64 MiB.
  go test -tags gpu -ldflags='-s -w' -c -o "$dir/cuda.test" ./backend/cuda
  go test -tags gpu -ldflags='-s -w' -c -o "$dir/experiment.test" ./experiment
  go build -tags gpu -ldflags='-s -w' -o "$dir/reluscope" .
}

# device DIR MODE [STAGE…]: the device half; MODE is device or fake.
device() {
  local dir=$1 mode=$2 out="$1/out"
  shift 2
  local stages=" $* "
  # want STAGE: whether STAGE runs (all when none were named).
  want() { [ "$stages" = "  " ] || [[ $stages == *" $1 "* ]]; }
  local s
  for s in $stages; do
    case $s in smoke | tests | sanitizer | paths | steps | ncu | eval | torch | run) ;; *) echo "gpu.sh: no stage '$s' (smoke tests sanitizer paths steps ncu eval torch run)" >&2; return 2 ;; esac
  done
  [ -x "$dir/cuda.test" ] || { echo "gpu.sh: no $dir/cuda.test: run bash bench/gpu.sh build first and carry .dev/gpu" >&2; exit 1; }
  rm -rf "$out"
  mkdir -p "$out"
  stage_done() { if [ -n "${OUT:-}" ]; then cp -r "$out"/. "$OUT"/; fi; }
  # checked FILE COMMAND…: runs COMMAND in $dir, its output and then its
  # exit status ("exit status N", which the table reads: a binary killed by
  # its timeout prints no verdict of its own) appended to FILE.
  checked() {
    local file=$1 rc
    shift
    (cd "$dir" && "$@") >>"$file" 2>&1
    rc=$?
    echo "exit status $rc" >>"$file"
    return "$rc"
  }
  # The shapes: the paper's on a GPU; one small one on the fake driver.
  local tests bench_eval bench_evalpath bench_evaluator points run_args run32_args torch bench_steps bench_gemm bench_paths
  if [ "$mode" = fake ]; then
    tests='^TestDeviceStepRowsEqualsStep$|^TestDeviceStepsRowsEqualsStepRows$|^TestDeviceMatchesNative$/\[1_32_32_32_32_1\]_b20_|^TestDeviceMatchesNative$/\[2_64_64_1\]'
    # (one pattern per depth: a pattern deeper than a benchmark's name
    # would match it only partly, and Go would not time it)
    bench_steps='^BenchmarkDeviceSteps?$/^W=32$/^batch=20$'
    bench_paths='^BenchmarkDevicePath$/./^W=32$/^batch=20$'
    bench_eval='^BenchmarkDeviceEval$/^W=32$'
    bench_evalpath='^BenchmarkDeviceEvalPath$/./^W=32$'
    bench_evaluator='^BenchmarkDeviceEvaluator$/^W=32$'
    bench_gemm='^BenchmarkDeviceHandoff$|^BenchmarkDeviceGemm$/^W=32$'
    points=32768
    run_args=(--width 16 --teacher-width 16 --depth 3 --samples 300 --epochs 3 --eval-points 20000 --sup sampled)
    run32_args=(--width 32 --teacher-width 16 --depth 3 --samples 300 --epochs 3 --eval-points 20000 --sup sampled)
    torch=(python3 "$PWD/bench/torch_stub.py")
    echo "fake GPU (backend/cuda/fakecuda: the kernels on the CPU)" | tee "$out/gpu.txt"
  else
    tests='Device'
    bench_steps='^BenchmarkDeviceSteps?$'
    bench_paths='^BenchmarkDevicePath$'
    bench_eval='^BenchmarkDeviceEval$'
    bench_evalpath='^BenchmarkDeviceEvalPath$'
    bench_evaluator='^BenchmarkDeviceEvaluator$'
    bench_gemm='^BenchmarkDevice(Handoff|Gemm)$'
    points=""
    # Width 512 through cuBLAS (8.3 s native on 2 cores: a few on the
    # GPU machine's 16, a third of the stage's 20 s), and width 32 through
    # the fused step and eval_pair.
    run_args=(--width 512 --samples 20000 --epochs 3 --eval-points 50000 --sup sampled)
    run32_args=(--width 32 --samples 2000 --epochs 3 --eval-points 200000 --sup sampled)
    torch=(python3 "$PWD/$dir/torch_gpu.py")
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt" || true
    # cuBLAS where ld.so finds it, and the toolkit's folders for a machine
    # whose cache does not list it (the engine also tries those paths).
    local d
    for d in /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda/lib64; do
      [ -d "$d" ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d"
    done
    { echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"; ldconfig -p 2>/dev/null | grep -i cublas || echo "ldconfig: no cublas listed"; } | tee -a "$out/gpu.txt"
  fi
  stage_done
  set +e
  # 0. Smoke (15 s): a few steps on each path and one Compare at small
  #    shapes against the native engine. A device that fails it would fail
  #    or hang everything after: the stages are skipped (the device time is
  #    kept for a rerun once it is fixed) and the check fails.
  checked "$out/smoke.txt" timeout 15 ./cuda.test -test.timeout 13s -test.run '^TestDeviceSanitized$' -test.v
  local smoke_rc=$?
  tail -3 "$out/smoke.txt"
  stage_done
  if [ "$smoke_rc" != 0 ]; then
    echo "gpu.sh: the smoke test failed (exit $smoke_rc, out/smoke.txt): the other stages are skipped" | tee -a "$out/smoke.txt" >&2
    stage_done
    return 1
  fi
  # 1. Correctness (50 s): StepRows against Step bit for bit first, then the
  #    device against the native engine (1e-10 relative in float64).
  local tests_rc=0
  if want tests; then
    checked "$out/tests.txt" timeout 50 ./cuda.test -test.timeout 45s -test.run "$tests" -test.skip '^TestDeviceSanitized$' -test.v
    tests_rc=$?
    #  And whole runs on the device, headless and controlled as the explorer
    #  controls them, against the native engine (10 s).
    checked "$out/tests.txt" timeout 10 ./experiment.test -test.timeout 9s -test.run '^TestDeviceRunOnGPU$' -test.v
    tests_rc=$((tests_rc | $?))
    tail -30 "$out/tests.txt"
    stage_done
  fi
  # 2. compute-sanitizer's racecheck, synccheck and memcheck (out-of-bounds
  #    accesses: the likeliest first-device bug) on the fused step, a
  #    cuBLAS-path step and the error statistics at small shapes (20 s each).
  local tool san
  san=$(command -v compute-sanitizer || ls /usr/local/cuda*/bin/compute-sanitizer 2>/dev/null | head -1 || true)
  # (on the fake driver, stand-ins that take the same options and run the
  # same programs: the stages' plumbing, not the tools)
  [ "$mode" = fake ] && san=$PWD/backend/cuda/fakecuda/compute-sanitizer
  for tool in racecheck synccheck memcheck; do
    want sanitizer || break
    if [ -z "$san" ]; then
      echo "$tool: not run (no compute-sanitizer)" >"$out/sanitizer-$tool.txt"
    else
      checked "$out/sanitizer-$tool.txt" timeout 20 "$san" --tool "$tool" --error-exitcode 3 ./cuda.test -test.timeout 18s -test.run '^TestDeviceSanitized$' -test.v
    fi
    tail -3 "$out/sanitizer-$tool.txt"
  done
  stage_done
  # 3. reluscope's benchmarks: the three paths of narrow networks (50 s:
  #    120 shapes), the handoff and raw cuBLAS products (20 s); the steps
  #    come after the path table they take their paths from.
  : >"$out/bench.txt"
  if want paths; then
    (cd "$dir" && timeout 50 ./cuda.test -test.timeout 45s -test.run '^$' -test.bench "$bench_paths" -test.benchtime 0.1s) >>"$out/bench.txt" 2>&1
    (cd "$dir" && timeout 20 ./cuda.test -test.timeout 18s -test.run '^$' -test.bench "$bench_gemm" -test.benchtime 0.1s) >>"$out/bench.txt" 2>&1
    stage_done
  fi
  # 4. One ncu profile of the fused step at width 32, batch 200 (25 s).
  local ncu
  ncu=$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -1 || true)
  [ "$mode" = fake ] && ncu=$PWD/backend/cuda/fakecuda/ncu
  if ! want ncu; then
    :
  elif [ -z "$ncu" ]; then
    echo "ncu: not run (no ncu)" >"$out/ncu.txt"
  else
    (cd "$dir" && timeout 25 "$ncu" --kernel-name regex:step_small --launch-skip 5 --launch-count 1 --set full \
      ./cuda.test -test.timeout 23s -test.run '^$' -test.bench '^BenchmarkDevicePath$/^fused$/^W=32$/^batch=200$' -test.benchtime 20x) >"$out/ncu.txt" 2>&1
  fi
  [ -f "$out/ncu.txt" ] && tail -3 "$out/ncu.txt"
  stage_done
  if want eval; then
    (cd "$dir" && RELUSCOPE_BENCH_POINTS=$points timeout 20 ./cuda.test -test.timeout 18s -test.run '^$' -test.bench "$bench_eval" -test.benchtime 2x) >>"$out/bench.txt" 2>&1
    (cd "$dir" && RELUSCOPE_BENCH_POINTS=$points timeout 15 ./cuda.test -test.timeout 13s -test.run '^$' -test.bench "$bench_evalpath" -test.benchtime 2x) >>"$out/bench.txt" 2>&1
    (cd "$dir" && RELUSCOPE_BENCH_POINTS=$points timeout 35 ./experiment.test -test.timeout 33s -test.run '^$' -test.bench "$bench_evaluator" -test.benchtime 2x) >>"$out/bench.txt" 2>&1
  fi
  # The path table from the path benchmarks (what was not measured stays
  # the built-in estimate, and its source says so).
  python3 bench/gpu_table.py --self-test
  python3 bench/gpu_table.py --paths "$out" >"$out/paths.txt" 2>&1
  cat "$out/paths.txt"
  stage_done
  # The step benchmarks (40 s) with that table, as runs choose their paths
  # (RELUSCOPE_CUDA_PATHS): width 32 at batch 200 times the path the
  # measured table gives it, not the built-in estimate's.
  local table=()
  [ -f "$out/paths.json" ] && table=("RELUSCOPE_CUDA_PATHS=$(cd "$out" && pwd)/paths.json")
  if want steps; then
    (cd "$dir" && env "${table[@]}" timeout 40 ./cuda.test -test.timeout 35s -test.run '^$' -test.bench "$bench_steps" -test.benchtime 0.3s) >>"$out/bench.txt" 2>&1
  fi
  grep -E '^Benchmark|^(ok|FAIL|PASS)' "$out/bench.txt"
  stage_done
  # 5. PyTorch on the same GPU, in the same call (120 s).
  if want torch; then
    (cd "$dir" && PYTHONUNBUFFERED=1 timeout 120 "${torch[@]}") >"$out/torch.jsonl" 2>&1
    stage_done
  fi
  # 6. Runs of the real binary on the device and the same on the native
  #    engine (20 s each at width 512 through cuBLAS, 10 s each at width 32
  #    through the fused step and eval_pair): the table compares their
  #    final errors.
  #    (--json: the final errors in full precision.)
  #    (with the measured path table when one was made)
  if want run; then
    (env "${table[@]}" timeout 20 "$dir/reluscope" run --backend cuda --json "${run_args[@]}") 2>&1 | tail -1 >"$out/run.txt"
    (timeout 20 "$dir/reluscope" run --backend native --json "${run_args[@]}") 2>&1 | tail -1 >"$out/run-native.txt"
    (env "${table[@]}" timeout 10 "$dir/reluscope" run --backend cuda --json "${run32_args[@]}") 2>&1 | tail -1 >"$out/run32.txt"
    (timeout 10 "$dir/reluscope" run --backend native --json "${run32_args[@]}") 2>&1 | tail -1 >"$out/run32-native.txt"
    cat "$out/run.txt" "$out/run-native.txt" "$out/run32.txt" "$out/run32-native.txt"
    stage_done
  fi
  set -e
  python3 bench/gpu_table.py "$out" | tee "$out/table.md"
  stage_done
  if [ "$mode" = fake ] && [ "$stages" = "  " ]; then
    # Every cell filled: the parsing of every stage works.
    if grep -E '—|nan' "$out/table.md"; then
      echo "gpu.sh fake: a table cell is empty (above)" >&2
      exit 1
    fi
    grep -q '"type":"done"' "$out/run.txt" || { echo "gpu.sh fake: the run on the fake device did not finish" >&2; exit 1; }
    grep -q '"source": "measured on fake GPU' "$out/paths.json" || { echo "gpu.sh fake: no path table made from the path benchmarks" >&2; exit 1; }
    for check in 'smoke test | pass' 'tests | pass' 'compute-sanitizer racecheck | pass: 0 hazards' 'compute-sanitizer synccheck | pass' 'compute-sanitizer memcheck | pass' 'batch 200 | step_small_f64 launched'; do
      grep -qF "$check" "$out/table.md" || { echo "gpu.sh fake: the table lacks '$check'" >&2; exit 1; }
    done
    [ "$(grep -c '^| run.* | yes |$' "$out/table.md")" = 2 ] || { echo "gpu.sh fake: a device run does not equal the native engine's to 1e-9" >&2; exit 1; }
  fi
  return "$tests_rc"
}

case "${1:-}" in
build)
  build .dev/gpu
  cp bench/torch_gpu.py .dev/gpu/
  # What travels is limited to 64 MiB: the binaries go gzipped (about a
  # third of their 58 MiB) and are unpacked on the device.
  gzip -9f .dev/gpu/cuda.test .dev/gpu/experiment.test .dev/gpu/reluscope
  ls -la .dev/gpu
  du -ch .dev/gpu/* | tail -1
  ;;
device)
  for f in .dev/gpu/*.gz; do [ -e "$f" ] && gunzip -kf "$f" && chmod +x "${f%.gz}"; done
  shift
  device .dev/gpu device "$@"
  ;;
fake)
  dir=${GPU_FAKE_DIR:-.dev/gpu-fake}
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  build "$dir"
  bash backend/cuda/fakecuda/build.sh "$dir/fake" "$dir/cuda.test" "$dir/experiment.test" "$dir/reluscope"
  export LD_LIBRARY_PATH="$dir/fake${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  shift
  device "$dir" fake "$@"
  ;;
*)
  echo "usage: bash bench/gpu.sh build | device [STAGE…] | fake [STAGE…]" >&2
  exit 2
  ;;
esac
