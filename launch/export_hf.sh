#!/usr/bin/env bash
# Export a training checkpoint to a Hugging Face model folder (verl's model merger, FSDP backend).
#
#   RUN_DIR=outputs/runs/videossr_qwen3vl_8b bash launch/export_hf.sh              # last complete step
#   RUN_DIR=... STEP=400 OUT_DIR=outputs/models/videossr-8b bash launch/export_hf.sh
#
# Environment:
#   RUN_DIR   (required)                    the run folder train.sh wrote (checkpoints/global_step_N/actor)
#   STEP      last complete                 global step to export (default: the one verl's
#                                           latest_checkpointed_iteration.txt names)
#   OUT_DIR   $RUN_DIR/hf/global_step_N     target folder (must not exist yet: nothing is overwritten)
#   PYTHON    python
#   DRY_RUN   0                             1: checks + print the command, run nothing
# The merged folder also gets the processor and chat template of the base model (saved by verl
# under actor/huggingface), so it loads with AutoProcessor / vLLM directly.
set -euo pipefail

PYTHON="${PYTHON:-python}"
DRY_RUN="${DRY_RUN:-0}"
die() { echo "export_hf.sh: error: $*" >&2; exit 1; }
note() { echo "export_hf.sh: $*" >&2; }

[[ -n "${RUN_DIR:-}" ]] || die "set RUN_DIR to the run folder of launch/train.sh"
ckpts="$RUN_DIR/checkpoints"
[[ -d "$ckpts" ]] || die "no checkpoints folder in RUN_DIR=$RUN_DIR"
tracker="$ckpts/latest_checkpointed_iteration.txt"
if [[ -z "${STEP:-}" ]]; then
  # verl writes the tracker after a checkpoint is complete, so it names the last whole one; the
  # highest global_step_* folder may be a save that crashed part-way.
  if [[ -f "$tracker" ]]; then
    STEP="$(tr -d '[:space:]' < "$tracker")"
    [[ "$STEP" =~ ^[0-9]+$ ]] || die "$tracker holds '$STEP', not a step number; set STEP"
  else
    STEP="$(ls -d "$ckpts"/global_step_* 2>/dev/null | sed 's/.*global_step_//' | sort -n | tail -n 1)"
    [[ -n "$STEP" ]] || die "no global_step_* checkpoint in $ckpts yet (trainer.save_freq decides when they are written)"
    note "warning: no $tracker (async save, or a run that never finished a save): taking the newest folder, global_step_$STEP, which may be incomplete"
  fi
fi
actor="$ckpts/global_step_$STEP/actor"
[[ -d "$actor" ]] || die "checkpoint $actor not found (have: $(ls "$ckpts" | tr '\n' ' '))"
OUT_DIR="${OUT_DIR:-$RUN_DIR/hf/global_step_$STEP}"
[[ ! -e "$OUT_DIR" ]] || die "OUT_DIR=$OUT_DIR already exists; remove it or choose another"

tmp="$OUT_DIR.partial"
cmd=("$PYTHON" -m verl.model_merger merge --backend fsdp --local_dir "$actor" --target_dir "$tmp")
note "$(printf '%q ' "${cmd[@]}")"
[[ "$DRY_RUN" == "1" ]] && { note "DRY_RUN=1: checks passed, nothing run"; exit 0; }
rm -rf "$tmp"
"${cmd[@]}" || die "model merger failed (see above); nothing written to $OUT_DIR"
mv "$tmp" "$OUT_DIR"  # one rename: a reader never sees half a model
note "exported step $STEP to $OUT_DIR"
