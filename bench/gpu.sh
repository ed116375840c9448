#!/usr/bin/env bash
# The benchmark on a GPU in one call of under 10 minutes, compiles included:
#   1. the dispatch and train-step families (every public callable at a tiny size, the MLP step);
#   2. the other families (losses, metrics, RMSprop, fused loss) at the accelerator's small and
#      medium sizes, float32;
#   3. the fused loss at an LLM size, bfloat16 and float32: fused against the materialised logits,
#      and the default block size against fixed block sizes (each with its compiled memory);
#   4. the compiled temporary memory of every block size (nothing runs).
# Each part stops starting new figures at its soft limit (--max-time) and writes what it has; a
# hard limit (timeout) 45 s later stops a part that hangs. Worst case 30 + 105 + 215 + 165 + 75 s.
#
# Run from the repository root:   bash bench/gpu.sh
# Output: $OUT/bench_gpu when OUT is set, else bench/out/gpu: dispatch/, suite/ and fused_llm/
# (results.json, results.md, results.png = jaxent / fastest peer, results_times.png = absolute
# times), fused_memory.md, and log.txt with everything printed.
# Environment: PYTHON (default python), SUITE_SIZES, SUITE_DTYPES, LLM_SIZE, LLM_DTYPES, BUDGET,
# DISPATCH_SECONDS, SUITE_SECONDS, LLM_SECONDS, MEMORY_SIZES (defaults below); BENCH_GPU_SMOKE=1
# shrinks everything to toy sizes, to check the script on a CPU.
set -uo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python}
DEST=${OUT:+$OUT/bench_gpu}
DEST=${DEST:-bench/out/gpu}
if [ "${BENCH_GPU_SMOKE:-0}" = 1 ]; then
    : "${SUITE_SIZES:=toy}" "${LLM_SIZE:=64x32x512}" "${MEMORY_SIZES:=64x32x512}" "${BUDGET:=0.01}"
    : "${DISPATCH_SECONDS:=20}" "${SUITE_SECONDS:=20}" "${LLM_SECONDS:=20}"
fi
SUITE_SIZES=${SUITE_SIZES:-small,medium}
SUITE_DTYPES=${SUITE_DTYPES:-float32}
LLM_SIZE=${LLM_SIZE:-8192x4096x131072}
LLM_DTYPES=${LLM_DTYPES:-bfloat16,float32}
MEMORY_SIZES=${MEMORY_SIZES:-4096x512x65536 8192x4096x131072}
BUDGET=${BUDGET:-0.3}
DISPATCH_SECONDS=${DISPATCH_SECONDS:-60}
SUITE_SECONDS=${SUITE_SECONDS:-170}
LLM_SECONDS=${LLM_SECONDS:-120}
mkdir -p "$DEST"
LOG="$DEST/log.txt"
: > "$LOG"
status=0

step() {  # step SECONDS_HARD_LIMIT COMMAND...: run, log, keep going on failure
    local limit=$1
    shift
    echo "+ $*" | tee -a "$LOG"
    local began=$SECONDS
    timeout --signal=INT --kill-after=20 "$limit" "$@" 2>&1 | tee -a "$LOG"
    local rc=${PIPESTATUS[0]}
    echo "  (exit $rc, $((SECONDS - began)) s)" | tee -a "$LOG"
    [ "$rc" -eq 0 ] || status=1
}

step 30 "$PYTHON" -c "import jax, jaxent; print('jax', jax.__version__, jax.devices(), '| jaxent', jaxent.__file__)"

# 1. Dispatch and the train step first: small programs, and the figures issue 11 asks for.
step $((DISPATCH_SECONDS + 45)) "$PYTHON" -m bench --ops dispatch,train_step --sizes small --budget "$BUDGET" \
    --max-time "$DISPATCH_SECONDS" --no-progress --out "$DEST/dispatch"

# 2. The other families.
step $((SUITE_SECONDS + 45)) "$PYTHON" -m bench --ops losses,metrics,optimizers,fused --sizes "$SUITE_SIZES" \
    --dtype "$SUITE_DTYPES" --budget "$BUDGET" --max-time "$SUITE_SECONDS" --no-progress --out "$DEST/suite"

# 3. The fused loss at an LLM size: against the materialised logits, and the block sizes.
step $((LLM_SECONDS + 45)) "$PYTHON" -m bench --ops 'linear_sparse_softmax_ce*' --sizes "$LLM_SIZE" \
    --dtype "$LLM_DTYPES" --budget "$BUDGET" --max-time "$LLM_SECONDS" --no-progress --out "$DEST/fused_llm"

# 4. Compiled temporaries of every block size against the materialised form (compile only).
step 75 sh -c "\"$PYTHON\" -m bench.fused_memory $MEMORY_SIZES --dtype float32,bfloat16 > \"$DEST/fused_memory.md\""
cat "$DEST/fused_memory.md" | tee -a "$LOG"

echo "wrote $DEST (exit $status)" | tee -a "$LOG"
exit $status
