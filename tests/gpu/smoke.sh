#!/usr/bin/env bash
# The prepared GPU check (issue 13): run after `make test`, on ONE H100/H200, offline.
#
#   bash tests/gpu/smoke.sh                    # results in outputs/gpu_smoke/ (or $GPU_SMOKE_OUT, or $OUT)
#   PYTHON=/path/to/gpu-venv/bin/python bash tests/gpu/smoke.sh
#
# What it checks, for the real-size Qwen3-VL-8B and Qwen2.5-VL-7B architectures with random bf16
# weights (no checkpoint download: config.json of the published models + this repository's tiny
# tokenizer/processor; vLLM load_format="dummy") and one sample of each task at the paper's settings
# (grounding, counting: 1 clip; jigsaw: 6 and 8 clips; 48 frames at 256*256; 2,048 response tokens):
#   1. vLLM 0.24 generate from exactly the request verl 0.9.1's agent loop sends (the recipe's worker):
#      RequestOutput.prompt_token_ids == the prompt ids the actor scores, and vLLM's M-RoPE positions
#      == the actor's positions;
#   2. the actor's forward + backward (verl's monkey patch, flash-attention, gradient checkpointing)
#      on the batch verl builds for the actor (prompt + 2,048 response tokens, the trainer's
#      positions and multimodal inputs);
# and prints peak GPU memory and time per sample as the README's hardware-table rows
# (also in $GPU_SMOKE_OUT/gpu_smoke.json). Each part runs in its own process (memory is freed).
#
# Environment: the GPU install of this repository, `pip install -e '.[gpu]'` (verl[vllm,fsdp] 0.9.1:
# vLLM 0.24.0, torch 2.11, flash-attn 2.8.3; note verl[vllm] pins transformers 5.9.0), plus pytest.
# Nothing is downloaded: HF_HUB_OFFLINE=1 is set.
# Expected runtime on one H200: about 5 minutes (inputs ~30 s on CPU; per family ~1-1.5 min of vLLM
# start-up + 4 samples, ~1 min of actor); every step has a timeout (GPU_SMOKE_STEP_TIMEOUT, 300 s)
# and the whole run a deadline (GPU_SMOKE_TIMEOUT, 720 s).
# Knobs: GPU_SMOKE_DECODE_TOKENS (128; decode time per token is measured on these and extrapolated to
# 2,048), GPU_SMOKE_EAGER (1; 0 = the recipe's CUDA-graph mode, slower start-up),
# GPU_SMOKE_GPU_MEMORY_UTILIZATION (default: the recipe's rollout.gpu_memory_utilization, 0.6),
# GPU_SMOKE_FAMILIES ("qwen3_vl qwen2_5_vl"), GPU_SMOKE_REQUIRE_GPU (1: a machine without CUDA/vLLM fails).
#
# Exit status: 0 when every part passed (or, on a machine without CUDA or vLLM, after printing
# SKIPPED); 1 on any failure, disagreement or timeout.
set -uo pipefail
cd "$(dirname "$0")/../.."

PYTHON="${PYTHON:-python}"
OUT_DIR="${GPU_SMOKE_OUT:-${OUT:-outputs/gpu_smoke}}"
mkdir -p "$OUT_DIR/logs"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
WORK_DIR="${GPU_SMOKE_WORK:-$OUT_DIR/inputs}"
STEP_TIMEOUT="${GPU_SMOKE_STEP_TIMEOUT:-300}"
DEADLINE=$(( $(date +%s) + ${GPU_SMOKE_TIMEOUT:-720} ))
FAMILIES="${GPU_SMOKE_FAMILIES:-qwen3_vl qwen2_5_vl}"
export GPU_SMOKE_OUT="$OUT_DIR" GPU_SMOKE_WORK="$WORK_DIR"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
export TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1

say() { printf '[gpu smoke] %s\n' "$*"; }

# --- a machine without CUDA or vLLM: skip, clearly ------------------------------------------------
probe="$("$PYTHON" - <<'EOF' 2>&1
import torch
if not torch.cuda.is_available():
    print(f"SKIP no CUDA GPU visible to torch {torch.__version__}")
else:
    try:
        import vllm
    except Exception as err:
        print(f"SKIP vLLM not importable: {err!r}")
    else:
        props = torch.cuda.get_device_properties(0)
        print(f"OK {props.name}, {props.total_memory / 2**30:.0f} GiB, torch {torch.__version__}, vllm {vllm.__version__}")
EOF
)"
case "$probe" in
  OK*) say "device: ${probe#OK }" ;;
  SKIP*)
    say "SKIPPED: ${probe#SKIP } -- this check needs one CUDA GPU (H100/H200) and the GPU install (pip install -e '.[gpu]')."
    [ "${GPU_SMOKE_REQUIRE_GPU:-0}" = "1" ] && exit 1
    exit 0 ;;
  *) say "FAILED: cannot run $PYTHON with torch: $probe"; exit 1 ;;
esac

status=0
remaining() { echo $(( DEADLINE - $(date +%s) )); }
run_step() {  # run_step NAME COMMAND...: with a timeout, log in $OUT_DIR/logs/NAME.log
  local name="$1"; shift
  local left; left=$(remaining)
  if [ "$left" -le 10 ]; then say "FAILED: $name not started, the deadline (GPU_SMOKE_TIMEOUT) has passed"; status=1; return; fi
  local limit=$(( left < STEP_TIMEOUT ? left : STEP_TIMEOUT ))
  local log="$OUT_DIR/logs/$name.log" start; start=$(date +%s)
  say "$name (timeout ${limit} s, log $log)"
  timeout --kill-after=30 "$limit" "$@" >"$log" 2>&1
  local rc=$?
  grep -E '^\[gpu smoke\]' "$log" | sed 's/^/  /'
  if [ "$rc" -ne 0 ]; then
    status=1
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then say "FAILED: $name timed out after ${limit} s"; else say "FAILED: $name (exit $rc)"; fi
    tail -n 40 "$log" | sed 's/^/  | /'
  elif [ "${1:-}" = "$PYTHON" ] && [ "${2:-}" = "-m" ] && [ "${3:-}" = "pytest" ] && ! grep -qE '[0-9]+ passed' "$log"; then
    status=1  # pytest exits 0 when everything was skipped
    say "FAILED: $name ran no test:"; grep -E 'SKIPPED|deselected|no tests ran' "$log" | sed 's/^/  | /'
  else
    say "$name passed in $(( $(date +%s) - start )) s"
  fi
}

rm -f "$OUT_DIR/gpu_smoke.json"
run_step prepare "$PYTHON" tests/gpu/smoke_lib.py prepare "$WORK_DIR"
if [ "$status" -ne 0 ]; then say "FAILED: could not build the inputs"; exit 1; fi

PYTEST=("$PYTHON" -m pytest -q -s -rs -p no:cacheprovider tests/gpu/test_smoke_on_gpu.py)
for family in $FAMILIES; do
  run_step "vllm-$family" "${PYTEST[@]}" -k "test_vllm_generate_matches_trainer and $family"
  run_step "actor-$family" "${PYTEST[@]}" -k "test_actor_forward_backward and $family"
done

# Every part must have produced its rows (a skipped test exits 0 but records nothing).
"$PYTHON" - "$OUT_DIR/gpu_smoke.json" $FAMILIES <<'EOF' || status=1
import json, sys
path, families = sys.argv[1], sys.argv[2:]
try:
    entries = json.load(open(path))["entries"]
except FileNotFoundError:
    sys.exit(f"[gpu smoke] FAILED: no results at {path}")
missing = [f"{part} {family}" for family in families for part in ("vllm", "actor")
           if sum(e["part"] == part and e["family"] == family for e in entries) != 4]
bad = [f"{e['family']} {e['data_source']}" for e in entries if e["part"] == "vllm"
       and not (e["ids_equal"] and e["positions_equal"] and e["gpu_ids_equal_cpu_processor"])]
if missing:
    print(f"[gpu smoke] FAILED: no (or not 4) results for {missing}")
if bad:
    print(f"[gpu smoke] FAILED: rollout and actor disagree for {bad}")
sys.exit(1 if missing or bad else 0)
EOF

echo
say "README hardware-table rows ($OUT_DIR/gpu_smoke.json):"
echo
"$PYTHON" tests/gpu/smoke_lib.py table "$OUT_DIR" || status=1
echo
if [ "$status" -eq 0 ]; then say "PASSED"; else say "FAILED (logs in $OUT_DIR/logs)"; fi
exit "$status"
