#!/usr/bin/env bash
# The prepared GPU check (issues 13 and 23), on ONE H100/H200, offline. Three ways to run it:
#
# 1. FULL CHECK, from the repository, in the GPU install (`pip install -e '.[gpu]'`: verl[vllm,fsdp]
#    0.9.1, vLLM 0.24.0, torch 2.11, flash-attn 2.8.3; note verl[vllm] pins transformers 5.9.0) + pytest:
#
#      bash tests/gpu/smoke.sh                    # results in outputs/gpu_smoke/ (or $GPU_SMOKE_OUT, or $OUT)
#      PYTHON=/path/to/gpu-venv/bin/python bash tests/gpu/smoke.sh
#
#    For the real-size Qwen3-VL-8B and Qwen2.5-VL-7B architectures with random bf16 weights (no
#    checkpoint download: config.json of the published models + this repository's tiny
#    tokenizer/processor; vLLM load_format="dummy") and one sample of each task at the paper's settings
#    (grounding, counting: 1 clip; jigsaw: 6 and 8 clips; 48 frames at 256*256; 2,048 response tokens):
#      a. vLLM 0.24 generate from exactly the request verl 0.9.1's agent loop sends (the recipe's worker):
#         RequestOutput.prompt_token_ids == the prompt ids the actor scores, and vLLM's M-RoPE positions
#         == the actor's positions;
#      b. the actor's forward + backward (verl's monkey patch, flash-attention, gradient checkpointing)
#         on the batch verl builds for the actor (prompt + 2,048 response tokens, the trainer's
#         positions and multimodal inputs);
#    and prints peak GPU memory and time per sample as the README's hardware-table rows (also in
#    $GPU_SMOKE_OUT/gpu_smoke.json). Each part runs in its own process (memory is freed).
#    Expected runtime on one H200: about 5 minutes (an estimate: inputs ~30 s on CPU; per family
#    ~1-1.5 min of vLLM start-up + 4 samples, ~1 min of actor); every step has a timeout
#    (GPU_SMOKE_STEP_TIMEOUT, 300 s) and the whole run a deadline (GPU_SMOKE_TIMEOUT, 720 s).
#    Knobs: GPU_SMOKE_DECODE_TOKENS (128; decode time per token is measured on these and extrapolated
#    to 2,048), GPU_SMOKE_EAGER (1; 0 = the recipe's CUDA-graph mode, slower start-up),
#    GPU_SMOKE_GPU_MEMORY_UTILIZATION (default: the recipe's rollout.gpu_memory_utilization, 0.6),
#    GPU_SMOKE_FAMILIES ("qwen3_vl qwen2_5_vl"), GPU_SMOKE_REQUIRE_GPU (1: a machine without CUDA/vLLM fails).
#
# 2. BUNDLE (issue 23), for a GPU machine with torch + transformers only (no vLLM, verl, Ray or
#    flash-attn, no package registry; files arrive as one transfer of at most 64 MiB):
#
#      .venv/bin/python tests/gpu/smoke_lib.py bundle outputs/gpu_bundle    # CPU machine, this repository's env
#      # copy outputs/gpu_bundle/gpu_smoke_bundle.tar.gz (~2 MiB) to the GPU machine, then there:
#      tar xzf gpu_smoke_bundle.tar.gz && bash gpu_smoke_bundle/run.sh    # = smoke.sh --bundle gpu_smoke_bundle
#
#    The bundle carries the exact actor inputs verl's agent-loop worker built on the CPU machine (ids,
#    4-row positions, response mask; the clips as JPEG frames, recomputed there into pixel values by
#    the real transformers processor and checked against the CPU machine's grids and pixel
#    fingerprints), the weight-less model folders and the runner (gpu_side.py, which imports none of
#    verl, ray, vllm). Per family, in its own process: the real-size model with random bf16 weights,
#    sdpa attention, gradient checkpointing; one forward + backward per sample (after a warm-up);
#    peak GPU memory and time per sample -> gpu_smoke.json + the README hardware-table rows. The vLLM
#    part is skipped with one line saying so. Expected: ~2-3 minutes on one H100 (an estimate; per
#    family ~20 s of imports and inputs, ~10-30 s to build the 8B model, ~1-3 s per sample); deadline
#    GPU_SMOKE_TIMEOUT 450 s (7.5 minutes), GPU_SMOKE_STEP_TIMEOUT 240 s per family.
#    `bash tests/gpu/smoke.sh --bundle DIR_OR_TAR_GZ` does the same from a checkout.
#
# 3. CPU DRY RUN (no GPU): the bundle's code on the CPU with each family's tiny config (float32),
#    all samples, about a minute:
#
#      PYTHON=.venv/bin/python bash tests/gpu/smoke.sh --dry-run   # builds the bundle (CPU env), runs it
#      bash gpu_smoke_bundle/run.sh --dry-run                      # an existing bundle
#
# GPU_SMOKE_BUNDLE=PATH and GPU_SMOKE_DRY_RUN=1 are the environment forms of --bundle PATH and --dry-run.
# Nothing is downloaded: HF_HUB_OFFLINE=1 is set.
# Exit status: 0 when every part passed (or, on a machine without CUDA, or with CUDA but without the
# full install and no --bundle, after printing SKIPPED); 1 on any failure, disagreement or timeout.
set -uo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
BUNDLE="${GPU_SMOKE_BUNDLE:-}"
DRY_RUN="${GPU_SMOKE_DRY_RUN:-0}"
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) BUNDLE="${2:?--bundle needs a folder or a .tar.gz}"; shift 2 ;;
    --bundle=*) BUNDLE="${1#--bundle=}"; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "smoke.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
# smoke.sh inside an unpacked bundle (run.sh calls it that way) runs that bundle.
if [ -z "$BUNDLE" ] && [ -f "$HERE/manifest.json" ] && [ -f "$HERE/gpu_side.py" ]; then BUNDLE="$HERE"; fi

PYTHON="${PYTHON:-python}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
export TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1

say() { printf '[gpu smoke] %s\n' "$*"; }

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

# --- CPU dry run from the repository: build the bundle first -------------------------------------
if [ -z "$BUNDLE" ] && [ "$DRY_RUN" = "1" ]; then
  cd "$HERE/../.."
  OUT_DIR="${GPU_SMOKE_OUT:-${OUT:-outputs/gpu_smoke_dry_run}}"
  mkdir -p "$OUT_DIR/logs"
  OUT_DIR="$(cd "$OUT_DIR" && pwd)"
  STEP_TIMEOUT="${GPU_SMOKE_STEP_TIMEOUT:-300}"
  DEADLINE=$(( $(date +%s) + ${GPU_SMOKE_TIMEOUT:-900} ))
  run_step bundle "$PYTHON" tests/gpu/smoke_lib.py bundle "$OUT_DIR" --work "${GPU_SMOKE_WORK:-$OUT_DIR/inputs}"
  if [ "$status" -ne 0 ]; then say "FAILED: could not build the bundle"; exit 1; fi
  BUNDLE="$OUT_DIR/gpu_smoke_bundle.tar.gz"
  export GPU_SMOKE_OUT="$OUT_DIR"
fi

# --- the bundle: actor part only, torch + transformers -------------------------------------------
if [ -n "$BUNDLE" ]; then
  if [ -f "$BUNDLE" ]; then  # a .tar.gz: unpack it next to the results
    OUT_DIR="${GPU_SMOKE_OUT:-${OUT:-$(cd "$(dirname "$BUNDLE")" && pwd)/gpu_smoke_out}}"
    mkdir -p "$OUT_DIR/unpacked"
    rm -rf "$OUT_DIR/unpacked/gpu_smoke_bundle"
    tar xzf "$BUNDLE" -C "$OUT_DIR/unpacked" || { say "FAILED: cannot unpack $BUNDLE"; exit 1; }
    BUNDLE="$OUT_DIR/unpacked/gpu_smoke_bundle"
  fi
  [ -f "$BUNDLE/manifest.json" ] || { say "FAILED: $BUNDLE is not a bundle (no manifest.json)"; exit 1; }
  BUNDLE="$(cd "$BUNDLE" && pwd)"
  OUT_DIR="${GPU_SMOKE_OUT:-${OUT:-$BUNDLE/out}}"
  mkdir -p "$OUT_DIR/logs"
  OUT_DIR="$(cd "$OUT_DIR" && pwd)"
  STEP_TIMEOUT="${GPU_SMOKE_STEP_TIMEOUT:-240}"
  DEADLINE=$(( $(date +%s) + ${GPU_SMOKE_TIMEOUT:-450} ))
  FAMILIES="${GPU_SMOKE_FAMILIES:-qwen3_vl qwen2_5_vl}"
  RUNNER=("$PYTHON" "$BUNDLE/gpu_side.py")
  DRY=(); [ "$DRY_RUN" = "1" ] && DRY=(--dry-run)
  say "bundle $BUNDLE, results in $OUT_DIR"

  probe="$(timeout 120 "${RUNNER[@]}" probe "${DRY[@]}" 2>&1)"
  device_line="$(printf '%s\n' "$probe" | grep -E '^(OK|SKIP|FAIL) ' | head -n 1)"
  case "$device_line" in
    OK*) say "device: ${device_line#OK }" ;;
    SKIP*)
      say "SKIPPED: ${device_line#SKIP } -- the bundle's check needs one CUDA GPU (H100/H200) with torch + transformers."
      [ "${GPU_SMOKE_REQUIRE_GPU:-0}" = "1" ] && exit 1
      exit 0 ;;
    *) say "FAILED: cannot run $PYTHON with torch + transformers:"; printf '%s\n' "$probe" | tail -n 20 | sed 's/^/  | /'; exit 1 ;;
  esac
  printf '%s\n' "$probe" | grep -E '^\[gpu smoke\]'  # the vLLM line

  rm -f "$OUT_DIR/gpu_smoke.json"
  if [ "$DRY_RUN" = "1" ]; then  # one process: nothing to free between families on a CPU
    fam_args=(); for family in $FAMILIES; do fam_args+=(--family "$family"); done
    run_step "dry-run" "${RUNNER[@]}" run "$BUNDLE" --out "$OUT_DIR" "${fam_args[@]}" --dry-run
  else
    for family in $FAMILIES; do
      run_step "actor-$family" "${RUNNER[@]}" run "$BUNDLE" --out "$OUT_DIR" --family "$family"
    done
  fi
  "${RUNNER[@]}" check "$OUT_DIR" --families "$FAMILIES" || status=1
  echo
  say "README hardware-table rows ($OUT_DIR/gpu_smoke.json):"
  echo
  "${RUNNER[@]}" table "$OUT_DIR" || status=1
  echo
  if [ "$status" -eq 0 ]; then say "PASSED"; else say "FAILED (logs in $OUT_DIR/logs)"; fi
  exit "$status"
fi

# --- the full check (repository + GPU install) -----------------------------------------------------
cd "$HERE/../.."
OUT_DIR="${GPU_SMOKE_OUT:-${OUT:-outputs/gpu_smoke}}"
mkdir -p "$OUT_DIR/logs"
OUT_DIR="$(cd "$OUT_DIR" && pwd)"
WORK_DIR="${GPU_SMOKE_WORK:-$OUT_DIR/inputs}"
STEP_TIMEOUT="${GPU_SMOKE_STEP_TIMEOUT:-300}"
DEADLINE=$(( $(date +%s) + ${GPU_SMOKE_TIMEOUT:-720} ))
FAMILIES="${GPU_SMOKE_FAMILIES:-qwen3_vl qwen2_5_vl}"
export GPU_SMOKE_OUT="$OUT_DIR" GPU_SMOKE_WORK="$WORK_DIR"

# --- a machine without CUDA, or without vLLM/verl: skip, clearly ---------------------------------
probe="$("$PYTHON" - <<'EOF' 2>&1
import torch
if not torch.cuda.is_available():
    print(f"SKIP no CUDA GPU visible to torch {torch.__version__}")
else:
    missing = []
    for name in ("vllm", "verl"):
        try:
            __import__(name)
        except Exception as err:
            missing.append(f"{name} ({err!r})")
    if missing:
        print(f"NOFULL {', '.join(missing)} not importable")
    else:
        import vllm
        props = torch.cuda.get_device_properties(0)
        print(f"OK {props.name}, {props.total_memory / 2**30:.0f} GiB, torch {torch.__version__}, vllm {vllm.__version__}")
EOF
)"
case "$probe" in
  OK*) say "device: ${probe#OK }" ;;
  SKIP*)
    say "SKIPPED: ${probe#SKIP } -- this check needs one CUDA GPU (H100/H200) and the GPU install (pip install -e '.[gpu]')."
    say "CPU dry run of the bundle's actor check: PYTHON=.venv/bin/python bash tests/gpu/smoke.sh --dry-run"
    [ "${GPU_SMOKE_REQUIRE_GPU:-0}" = "1" ] && exit 1
    exit 0 ;;
  NOFULL*)
    say "vLLM part SKIPPED: vllm not importable on this machine (the full check runs on a GPU node with \`pip install -e '.[gpu]'\`)"
    say "SKIPPED: ${probe#NOFULL }. The actor part runs here from a bundle built on a CPU machine:"
    say "  .venv/bin/python tests/gpu/smoke_lib.py bundle OUT (CPU machine), then bash tests/gpu/smoke.sh --bundle OUT/gpu_smoke_bundle.tar.gz"
    [ "${GPU_SMOKE_REQUIRE_GPU:-0}" = "1" ] && exit 1
    exit 0 ;;
  *) say "FAILED: cannot run $PYTHON with torch: $probe"; exit 1 ;;
esac

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
