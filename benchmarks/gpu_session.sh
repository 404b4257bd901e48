#!/usr/bin/env bash
# The GPU checks of issue 12 in ONE device call (~6-8 minutes on an H100): CUDA correctness
# (no host synchronisation, lean cross-entropy on CUDA, float16/bfloat16) and the timings the
# issue asks for, each next to the native built-in in the same run. Not a test: it never
# fails on speed; every result lands under $OUT for the closing note and docs/performance.md.
#
# The device image has torch, jax, optax, pytest and rich but no array-api-compat (nor keras
# or TensorFlow). Before the call, here (the wheel folder is git-ignored):
#
#   echo /.whl/ >> .git/info/exclude
#   .venv/bin/python -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#       --implementation cp --platform manylinux_2_17_x86_64 -d .whl array-api-compat==1.16.0
#
# then call the device tool's run with:
#   command: bash benchmarks/gpu_session.sh      carry: [".whl"]      timeout_s: 590
#
# Each step has its own time limit (540 s in all), so a slow step costs its share only;
# STEPS="tests bench" runs a subset (tests, bench, compile, lean).
set -u
OUT=${OUT:-/tmp/gpu_session}
mkdir -p "$OUT"
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
STEPS=${STEPS:-"tests bench compile lean"}
want() { case " $STEPS " in *" $1 "*) return 0 ;; esac; return 1; }
step() {  # step NAME SECONDS COMMAND...: output to $OUT/NAME.txt, status to $OUT/steps.txt
    local name=$1 limit=$2; shift 2
    local t0=$SECONDS
    timeout "$limit" "$@" >"$OUT/$name.txt" 2>&1
    echo "$name rc=$? $((SECONDS - t0))s" | tee -a "$OUT/steps.txt"
}

{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch, jax; print('torch', torch.__version__, torch.cuda.get_device_name(0)); print('jax', jax.__version__, jax.devices())"
} >"$OUT/device.txt" 2>&1

# 1. correctness on CUDA: torch.cuda.set_sync_debug_mode("error") over every torch loss,
#    forward+backward; the lean cross-entropy's CUDA tests (bf16/f16, compiled chunk body)
want tests && step cuda_tests 120 python3 -m pytest -q -p no:cacheprovider -x \
    tests/test_value_checks.py tests/test_lean_cross_entropy.py -k cuda

# 2. every torch loss and every jax loss, eager (+ jit for jax), f32 and bf16, at the issue's
#    sizes; per-call overhead on tiny inputs; peak memory as a multiple of the input
want bench && step bench_torch 160 python3 -m multiloss bench --backend torch --mode eager \
    --sizes 4096x1000,8192x32000 --dtype float32 --dtype bfloat16 --budget 1 --no-progress \
    --json "$OUT/bench_torch.json" --markdown "$OUT/bench_torch.md"
want bench && step bench_jax 90 python3 -m multiloss bench --backend jax --mode eager --mode jit \
    --sizes 4096x1000,8192x32000 --budget 1 --no-progress \
    --json "$OUT/bench_jax.json" --markdown "$OUT/bench_jax.md"

# 3. torch.compile parity on CUDA (inductor), the cross-entropy family
want compile && step bench_compile 90 python3 -m multiloss bench --backend torch --mode compile \
    --loss CrossEntropyLoss --loss NLLLoss --loss BCELoss --sizes 4096x1000,8192x32000 --budget 1 \
    --no-progress --no-dispatch --json "$OUT/bench_compile.json"

# 4. the lean cross-entropy at an LLM batch's logits (16384 x 128256 bf16, 4.0 GB) against
#    torch's F.cross_entropy and the HBM floor (H100 SXM: 3350 GB/s)
want lean && step lean_ce 80 python3 benchmarks/bench_lean_ce.py --device cuda \
    --sizes 16384x128256 --dtype bfloat16 --bandwidth 3350 --json

cat "$OUT/steps.txt"
