#!/usr/bin/env bash
# The paper's Tables 2-3 for one model on a GPU node: every downstream benchmark (32/48/64 frames,
# the paper's protocol), then the tables. Each benchmark resumes; a finished one is only re-tabled.
#
#   MODEL=Qwen/Qwen3-VL-8B-Instruct BENCH_ROOT=/data/benchmarks OUT=outputs/eval/qwen3vl8b \
#       bash launch/eval_downstream.sh
#   BENCHMARKS="mvbench charades" MODEL=outputs/models/videossr-8b BENCH_ROOT=... OUT=... bash launch/eval_downstream.sh
#
# Environment:
#   MODEL        (required)        Hugging Face model folder or hub id
#   BENCH_ROOT   (required)        one folder per benchmark, named as in `python -m recipes.videossr.eval
#                                  bench --list` (BENCH_ROOT/mvbench, BENCH_ROOT/videomme, ...), each
#                                  holding that benchmark's release as downloaded
#   OUT          (required)        OUT/<benchmark>/frames_N/... and OUT/tables/tables.{md,csv,png}
#   BENCHMARKS   all 16            space-separated subset, in any order
#   BACKEND      vllm              vllm (GPU) or hf
#   FRAMES       "32 48 64"        the sweep
#   LABEL        model folder name the row name in the tables
#   VIUBENCH     (none)            an `eval viubench` run folder of the same LABEL: the 17-benchmark average
#   EXTRA        (none)            more `bench` options, e.g. "--tensor-parallel-size 2 --max-missing 0.05"
#   PYTHON       python
#   DRY_RUN      0                 1: print the commands, run nothing
# A benchmark whose folder is absent is skipped with a note (the tables show "—" for it); any other
# failure stops the script with that benchmark's one-line error.
set -euo pipefail

PYTHON="${PYTHON:-python}"
BACKEND="${BACKEND:-vllm}"
FRAMES="${FRAMES:-32 48 64}"
DRY_RUN="${DRY_RUN:-0}"
die() { echo "eval_downstream.sh: error: $*" >&2; exit 1; }
note() { echo "eval_downstream.sh: $*" >&2; }

[[ -n "${MODEL:-}" ]] || die "set MODEL to a Hugging Face model folder or hub id"
[[ -n "${BENCH_ROOT:-}" ]] || die "set BENCH_ROOT to the folder holding one release folder per benchmark"
[[ -d "$BENCH_ROOT" ]] || die "BENCH_ROOT=$BENCH_ROOT is not a folder"
[[ -n "${OUT:-}" ]] || die "set OUT to the output folder"
cd "$(dirname "$0")/.."

if [[ -z "${BENCHMARKS:-}" ]]; then
  BENCHMARKS="$("$PYTHON" -c 'from recipes.videossr.eval.bench.registry import BENCHMARKS; print(" ".join(BENCHMARKS))')"
fi
label_args=()
[[ -n "${LABEL:-}" ]] && label_args=(--label "$LABEL")
read -r -a frames <<< "$FRAMES"
read -r -a extra <<< "${EXTRA:-}"

run() {
  if [[ "$DRY_RUN" == 1 ]]; then printf '%q ' "$@"; echo; else "$@"; fi
}

done_runs=()
for name in $BENCHMARKS; do
  if [[ ! -d "$BENCH_ROOT/$name" ]]; then
    note "skipping $name: no $BENCH_ROOT/$name (python -m recipes.videossr.eval bench --list shows its release)"
    continue
  fi
  run "$PYTHON" -m recipes.videossr.eval bench "$name" --root "$BENCH_ROOT/$name" --model "$MODEL" \
    --out "$OUT/$name" --backend "$BACKEND" --max-frames "${frames[@]}" "${label_args[@]}" "${extra[@]}" --quiet \
    || die "$name failed (its error is above); fix it and run the same command again: finished work is kept"
  done_runs+=("$OUT/$name")
done
[[ ${#done_runs[@]} -gt 0 ]] || die "no benchmark folder found under BENCH_ROOT=$BENCH_ROOT"
viu_args=()
[[ -n "${VIUBENCH:-}" ]] && viu_args=(--viubench "$VIUBENCH")
run "$PYTHON" -m recipes.videossr.eval tables "${done_runs[@]}" "${viu_args[@]}" --out "$OUT/tables"
