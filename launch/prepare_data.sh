#!/usr/bin/env bash
# Prepare VideoSSR training data: source videos -> 48 frames per video -> VideoSSR-30K + VIUBench parquet.
#
#   VIDEOS="/data/llava-video/part1 /data/llava-video/part2" bash launch/prepare_data.sh
#   DRY_RUN=1 VIDEOS=... bash launch/prepare_data.sh        # checks + prints the commands, runs nothing
#
# Environment:
#   VIDEOS          (required)            space-separated video folders or files (searched recursively)
#   FRAMES_DIR      outputs/frames        frame-stage output (resumable; never inside a VIDEOS folder)
#   DATA_DIR        outputs/data          dataset folder: train.parquet, viubench(_val).parquet, card (= train.sh's DATA_DIR)
#   SIZE            30000                 VideoSSR-30K size cap (scaled to the training videos available)
#   PER_SUBTYPE     300                   VIUBench questions per subtype (9 subtypes; 30 is enough for validation)
#   SEED            0                     build seed: same inputs + seed -> same bytes
#   WORKERS         4                     local worker processes
#   RAY             (unset)               'auto' / HOST:PORT: run the stages as Ray tasks on a cluster instead
#   MIN_FREE_GB     50                    free disk required under FRAMES_DIR and DATA_DIR
#   PYTHON          python
# Re-running resumes both stages; changed options are refused instead of mixing two builds.
set -euo pipefail

FRAMES_DIR="${FRAMES_DIR:-outputs/frames}"
DATA_DIR="${DATA_DIR:-outputs/data}"
SIZE="${SIZE:-30000}"
PER_SUBTYPE="${PER_SUBTYPE:-300}"
SEED="${SEED:-0}"
WORKERS="${WORKERS:-4}"
MIN_FREE_GB="${MIN_FREE_GB:-50}"
PYTHON="${PYTHON:-python}"
DRY_RUN="${DRY_RUN:-0}"

die() { echo "prepare_data.sh: error: $*" >&2; exit 1; }
note() { echo "prepare_data.sh: $*" >&2; }

[[ -n "${VIDEOS:-}" ]] || die "set VIDEOS to the folder(s) of source videos"
read -r -a video_dirs <<< "$VIDEOS"
for v in "${video_dirs[@]}"; do [[ -e "$v" ]] || die "VIDEOS entry $v does not exist"; done
"$PYTHON" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("data_prep") is None)' 2>/dev/null ||
  die "PYTHON=$PYTHON cannot import data_prep (pip install -e . in this repo)"
for d in "$FRAMES_DIR" "$DATA_DIR"; do
  mkdir -p "$d" || die "cannot create $d"
  free_gb=$(( $(df -Pk "$d" | awk 'NR==2 {print $4}') / 1024 / 1024 ))
  (( free_gb >= MIN_FREE_GB )) || die "only ${free_gb} GB free under $d, MIN_FREE_GB=$MIN_FREE_GB"
done

parallel=(--workers "$WORKERS")
[[ -z "${RAY:-}" ]] || parallel=(--ray "$RAY")
steps=(
  "$PYTHON -m data_prep frames --videos ${video_dirs[*]} --out $FRAMES_DIR ${parallel[*]}"
  "$PYTHON -m data_prep build --frames $FRAMES_DIR --out $DATA_DIR --recipe videossr30k --size $SIZE --seed $SEED ${parallel[*]}"
  "$PYTHON -m data_prep build --frames $FRAMES_DIR --out $DATA_DIR --recipe viubench --per-subtype $PER_SUBTYPE --seed $SEED ${parallel[*]}"
)
for step in "${steps[@]}"; do
  note "$step"
  if [[ "$DRY_RUN" != "1" ]]; then
    # Paths with spaces are not supported here (word splitting); call data_prep directly for those.
    $step || die "step failed: $step"
  fi
done
[[ "$DRY_RUN" == "1" ]] && { note "DRY_RUN=1: checks passed, nothing run"; exit 0; }
note "done: train with DATA_DIR=$DATA_DIR bash launch/train.sh"
