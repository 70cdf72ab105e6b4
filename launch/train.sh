#!/usr/bin/env bash
# Train VideoSSR with verl 0.9.1 (GRPO, FSDP + vLLM) on one node -- or, with RAY_ADDRESS set, on the
# Ray cluster that launch/slurm/train.sbatch started.
#
#   MODEL_PATH=Qwen/Qwen3-VL-8B-Instruct DATA_DIR=outputs/data/videossr30k bash launch/train.sh [hydra overrides...]
#   DRY_RUN=1 MODEL_PATH=... DATA_DIR=... bash launch/train.sh     # check everything, print the config, exit
#   DEVICE=cpu PYTHON=.venv-vllm/bin/python MODEL_PATH=outputs/demo/models/tiny-qwen3_vl \
#     DATA_DIR=outputs/demo/data bash launch/train.sh                # the whole loop on a CPU (videossr_cpu)
#
# Environment (all optional except where the default does not exist on your machine):
#   DEVICE        gpu                   cpu: verl's real trainer with vLLM's CPU build, no GPU (README "Train on
#                                       a CPU first"); default CONFIG_NAME videossr_cpu, no nvidia-smi check
#   CONFIG_NAME   videossr_qwen3vl_8b   a config in CONFIG_DIR (videossr_qwen25vl_7b, videossr_small, videossr_cpu),
#                                       or a config file's path (a fork's my_fork.yaml, kept outside the repo)
#   CONFIG_DIR    recipes/videossr/config   folder of CONFIG_NAME; from another folder (a fork's), the recipe's
#                                       configs stay on Hydra's search path (`defaults: [ppo_trainer,
#                                       shared/videossr_base, _self_]` works there)
#   MODEL_PATH    (the config's)        local HF folder or a hub id (hub ids are downloaded by verl)
#   DATA_DIR      outputs/data          folder of `python -m data_prep build` outputs
#   TRAIN_FILES   $DATA_DIR/train.parquet      VAL_FILES  $DATA_DIR/viubench_val.parquet (the
#                 stratified VIUBench slice the viubench build writes; the full set is for eval)
#   N_GPUS        (the config's)        GPUs per node      NNODES  1 (train.sbatch sets it)
#   RUN_DIR       outputs/runs/$CONFIG_NAME   logs, resolved configs and checkpoints; re-run = resume
#   MIN_FREE_GB   (computed)            free disk required under RUN_DIR; default: the model's size x
#                                       (model+optimizer bytes) x the checkpoints kept (8B: ~105 GB each)
#   PYTHON        python                interpreter with verl installed
#   DRY_RUN       0                     1: run every check + verl's `--cfg job` and validation, then exit
#                                       (a real run too builds the datasets first: rows, batch sizes, levels)
#   STALL_TIMEOUT 0                     seconds without new trainer output after which the run is stopped
#                                       and fails (exit 124); 0 = never (a large model's step can be quiet)
# Any argument is passed to verl as a Hydra override (after ours, so it wins).
set -euo pipefail
# The whole script is one block: bash reads it completely before running it, so editing this file while
# a run is going (a long job) cannot change what the running launcher does next.
{
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "train.sh: error: $*" >&2; exit 1; }
note() { echo "train.sh: $*" >&2; }
DEVICE="${DEVICE:-gpu}"
case "$DEVICE" in
  gpu) CONFIG_NAME="${CONFIG_NAME:-videossr_qwen3vl_8b}" ;;
  cpu) CONFIG_NAME="${CONFIG_NAME:-videossr_cpu}" ;;
  *) die "DEVICE=$DEVICE: use gpu or cpu" ;;
esac
RECIPE_CONFIG_DIR="$REPO_ROOT/recipes/videossr/config"
CONFIG_DIR="${CONFIG_DIR:-$RECIPE_CONFIG_DIR}"
if [[ "$CONFIG_NAME" == */* || ( "$CONFIG_NAME" == *.yaml && -f "$CONFIG_NAME" ) ]]; then
  # a config file's path: its folder is the config folder
  [[ -f "$CONFIG_NAME" ]] || die "CONFIG_NAME=$CONFIG_NAME: no such config file"
  CONFIG_DIR="$(dirname "$CONFIG_NAME")"
  CONFIG_NAME="$(basename "$CONFIG_NAME")"
fi
CONFIG_NAME="${CONFIG_NAME%.yaml}"
[[ -d "$CONFIG_DIR" ]] || die "CONFIG_DIR=$CONFIG_DIR is not a folder"
CONFIG_DIR="$(cd "$CONFIG_DIR" && pwd)"
DATA_DIR="${DATA_DIR:-outputs/data}"
TRAIN_FILES="${TRAIN_FILES:-$DATA_DIR/train.parquet}"
VAL_FILES="${VAL_FILES:-$DATA_DIR/viubench_val.parquet}"
NNODES="${NNODES:-1}"
RUN_DIR="${RUN_DIR:-outputs/runs/$CONFIG_NAME}"
MIN_FREE_GB="${MIN_FREE_GB:-}"
PYTHON="${PYTHON:-python}"
DRY_RUN="${DRY_RUN:-0}"
STALL_TIMEOUT="${STALL_TIMEOUT:-0}"

# A Hydra override value, single-quoted (Hydra's grammar): any character a path can hold -- spaces,
# unicode, `=`, `,`, quotes -- reaches verl as it is. Backslashes are doubled only before a quote,
# `${` or the end (where Hydra/OmegaConf read them as escapes), quotes become \', `${` becomes \${
# (OmegaConf would read an interpolation). A plain absolute path stays as it is (readable commands).
hq() {
  local s="$1" out="" run="" c i
  if [[ "$s" =~ ^/[A-Za-z0-9_./-]*$ ]]; then printf '%s' "$s"; return; fi
  for ((i = 0; i < ${#s}; i++)); do
    c="${s:i:1}"
    if [[ "$c" == "\\" ]]; then run+="$c"; continue; fi
    if [[ "$c" == "'" ]]; then out+="$run$run\\'"
    elif [[ "$c" == '$' && "${s:i+1:1}" == '{' ]]; then out+="$run$run\\\$"
    else out+="$run$c"; fi
    run=""
  done
  printf "'%s'" "$out$run$run"
}

# --- checks, before anything starts --------------------------------------------------------------
[[ -f "$CONFIG_DIR/$CONFIG_NAME.yaml" ]] ||
  die "CONFIG_NAME=$CONFIG_NAME: no $CONFIG_DIR/$CONFIG_NAME.yaml (have: $(cd "$CONFIG_DIR" && ls *.yaml 2>/dev/null | sed 's/\.yaml$//' | tr '\n' ' '))"
# main_ppo's and the compose check's arguments naming the config; a config of another folder (a fork's)
# keeps the recipe's folder on Hydra's search path (--config-dir), so its defaults can name shared/videossr_base.
config_args=(--config-path "$CONFIG_DIR" --config-name "$CONFIG_NAME")
compose_args=(--config-name "$CONFIG_NAME")
if [[ "$CONFIG_DIR" != "$RECIPE_CONFIG_DIR" ]]; then
  config_args+=(--config-dir "$RECIPE_CONFIG_DIR")
  compose_args+=(--config-path "$CONFIG_DIR")
fi
"$PYTHON" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("verl") is None)' 2>/dev/null || die "PYTHON=$PYTHON cannot import verl (activate the training environment)"

if [[ "$DEVICE" == "cpu" ]]; then
  # verl's CPU platform and its variables (recipes/videossr/cpu): exported before Ray starts, so every
  # Ray actor and vLLM process inherits them.
  cpu_env="$(cd "$REPO_ROOT" && "$PYTHON" -m recipes.videossr.cpu --exports)" || die "PYTHON=$PYTHON cannot load the CPU mode (recipes/videossr/cpu; install: make vllm-venv)"
  eval "$cpu_env"
fi

overrides=()
if [[ -n "${MODEL_PATH:-}" ]]; then
  if [[ -e "$MODEL_PATH" ]]; then
    [[ -f "$MODEL_PATH/config.json" ]] || die "MODEL_PATH=$MODEL_PATH has no config.json (not a Hugging Face model folder)"
    MODEL_PATH="$(cd "$MODEL_PATH" && pwd)"
  elif [[ "$MODEL_PATH" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]]; then
    [[ "${HF_HUB_OFFLINE:-0}" != "1" ]] || die "MODEL_PATH=$MODEL_PATH is a hub id but HF_HUB_OFFLINE=1 and no such local folder exists"
    note "MODEL_PATH=$MODEL_PATH is not a local folder: verl will download it from the hub"
  else
    die "MODEL_PATH=$MODEL_PATH does not exist"
  fi
  overrides+=("actor_rollout_ref.model.path=$(hq "$MODEL_PATH")")
fi

for f in "$TRAIN_FILES" "$VAL_FILES"; do
  [[ -f "$f" ]] || die "data file $f not found (build it: python -m data_prep build --frames FRAMES_DIR --out $DATA_DIR --recipe videossr30k|viubench; or set DATA_DIR / TRAIN_FILES / VAL_FILES)"
done
TRAIN_FILES="$(cd "$(dirname "$TRAIN_FILES")" && pwd)/$(basename "$TRAIN_FILES")"
VAL_FILES="$(cd "$(dirname "$VAL_FILES")" && pwd)/$(basename "$VAL_FILES")"
overrides+=("data.train_files=$(hq "$TRAIN_FILES")" "data.val_files=$(hq "$VAL_FILES")")

if [[ -n "${N_GPUS:-}" ]]; then
  [[ "$N_GPUS" =~ ^[1-9][0-9]*$ ]] || die "N_GPUS=$N_GPUS is not a positive integer"
  overrides+=("trainer.n_gpus_per_node=$N_GPUS")
fi
[[ "$NNODES" =~ ^[1-9][0-9]*$ ]] || die "NNODES=$NNODES is not a positive integer"
overrides+=("trainer.nnodes=$NNODES")

mkdir -p "$RUN_DIR"/{logs,config,checkpoints} || die "cannot create RUN_DIR=$RUN_DIR"
RUN_DIR="$(cd "$RUN_DIR" && pwd)"
[[ -z "$MIN_FREE_GB" || "$MIN_FREE_GB" =~ ^[0-9]+([.][0-9]+)?$ ]] || die "MIN_FREE_GB=$MIN_FREE_GB is not a number"
[[ "$STALL_TIMEOUT" =~ ^[0-9]+$ ]] || die "STALL_TIMEOUT=$STALL_TIMEOUT is not a whole number of seconds"

if [[ "$DRY_RUN" != "1" && "$NNODES" == "1" && "$DEVICE" == "gpu" ]]; then
  command -v nvidia-smi >/dev/null || die "nvidia-smi not found: no NVIDIA GPU on this machine (DRY_RUN=1 checks the config without one)"
  have=$(nvidia-smi -L | grep -c '^GPU' || true)
  want="${N_GPUS:-$("$PYTHON" -m recipes.videossr.compose --print trainer.n_gpus_per_node "${compose_args[@]}" "${overrides[@]}" "$@")}"
  (( have >= want )) || die "$want GPUs requested (trainer.n_gpus_per_node) but nvidia-smi lists $have; set N_GPUS=$have"
fi

# --- one run folder: logs, resolved config, checkpoints; re-running resumes -----------------------
attempt="$(date -u +%Y%m%dT%H%M%SZ)"
overrides+=(
  "trainer.default_local_dir=$(hq "$RUN_DIR/checkpoints")"
  "trainer.resume_mode=auto"
  "hydra.run.dir=$(hq "$RUN_DIR/logs/hydra-$attempt")"
)
export VERL_FILE_LOGGER_PATH="$RUN_DIR/logs/metrics-$attempt.jsonl"  # verl truncates its file: one per attempt
# The trainer actor may land on any Ray node, and verl forwards only a fixed list of variables:
# hand the logger path to every actor through the job's runtime env.
overrides+=("+ray_kwargs.ray_init.runtime_env.env_vars.VERL_FILE_LOGGER_PATH=$(hq "$VERL_FILE_LOGGER_PATH")")
export PYTHONPATH="$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}"
export HYDRA_FULL_ERROR="${HYDRA_FULL_ERROR:-0}"
export PYTHONUNBUFFERED=1  # the log grows as the run goes (and STALL_TIMEOUT reads its growth)

cmd=("$PYTHON" -m verl.trainer.main_ppo "${config_args[@]}" "${overrides[@]}" "$@")
printf '%q ' "${cmd[@]}" > "$RUN_DIR/config/command-$attempt.sh"; echo >> "$RUN_DIR/config/command-$attempt.sh"

# verl's own composition (`--cfg job` exits 1 on a bad key) writes the resolved config of this attempt.
resolved="$RUN_DIR/config/resolved-$attempt.yaml"
if ! "${cmd[@]}" --cfg job > "$resolved.partial" 2> "$RUN_DIR/logs/cfg-$attempt.err"; then
  grep -v '^WARNING' "$RUN_DIR/logs/cfg-$attempt.err" >&2 || true
  rm -f "$resolved.partial"
  die "verl rejected the configuration (see above; full output in $RUN_DIR/logs/cfg-$attempt.err)"
fi
mv "$resolved.partial" "$resolved"

# The datasets verl builds in its trainer actor -- after Ray, the workers and the model started --
# built here first with the configured class and the model's tokenizer (recipes/videossr/preflight.py):
# row checks, fork imports, rows vs data.train_batch_size, adaptive levels. One line per failure.
data_check=("$PYTHON" -m recipes.videossr.preflight --config "$resolved")
# DRY_RUN=1 also runs verl's validate_config (main_ppo's last check before Ray) in the same process.
[[ "$DRY_RUN" == "1" ]] && data_check+=(--full --validate)
"${data_check[@]}" || die "the data check failed (see above); nothing was started"

# Checkpoints across attempts: verl prunes only what this attempt saved, so earlier attempts' stay.
# Prune the folder to trainer.max_actor_ckpt_to_keep (crashed saves go too), then size the disk
# check from the model and the kept count. DRY_RUN=1 deletes nothing and only warns.
preflight=("$PYTHON" -m recipes.videossr.checkpoints preflight --config "$resolved")
[[ -n "$MIN_FREE_GB" ]] && preflight+=(--min-free-gb "$MIN_FREE_GB")
[[ "$DRY_RUN" == "1" ]] && preflight+=(--dry-run)
"${preflight[@]}" || die "not enough disk for the checkpoints (see above)"

if [[ "$DRY_RUN" == "1" ]]; then
  note "DRY_RUN=1: all checks passed; resolved config: $resolved"
  note "would run: $(cat "$RUN_DIR/config/command-$attempt.sh")"
  exit 0
fi

if [[ -n "$(ls -A "$RUN_DIR/checkpoints" 2>/dev/null)" ]]; then
  note "resuming from the latest checkpoint in $RUN_DIR/checkpoints"
fi
log="$RUN_DIR/logs/train-$attempt.log"
note "logs: $log"
# Keeps the folder at the kept count while this attempt saves (it stops when this script ends).
"$PYTHON" -m recipes.videossr.checkpoints watch --config "$resolved" --pid $$ \
  >> "$RUN_DIR/logs/checkpoints-$attempt.log" 2>&1 &
watcher=$!
shm_before="$RUN_DIR/logs/shm-$attempt.before"
"$PYTHON" -m recipes.videossr.shm snapshot "$shm_before"

# The trainer runs in a session of its own (setsid): however it ends -- finished, failed, killed,
# stalled, or this script interrupted -- every process of that session is stopped with it (Ray's
# workers and vLLM's engine processes make process groups of their own, but stay in the session),
# and the shared memory they left in /dev/shm is removed (recipes/videossr/shm.py).
setsid "${cmd[@]}" > >(tee "$log") 2>&1 &
trainer=$!
session=$(ps -o sid= -p "$trainer" | tr -d ' ')
[[ "$session" == "$trainer" ]] || session=""  # setsid had to fork: only the trainer itself can be signalled
signal_run() { if [[ -n "$session" ]]; then pkill "-$1" -s "$session"; else kill "-$1" "$trainer" 2>/dev/null; fi; }
stop_trainer() {
  signal_run TERM || return 0
  for _ in $(seq 30); do signal_run 0 || return 0; sleep 0.5; done
  signal_run KILL || true
}
finish() {
  stop_trainer
  kill "$watcher" 2>/dev/null || true
  "$PYTHON" -m recipes.videossr.shm clean "$shm_before" >&2 || true
}
trap finish EXIT
trap 'note "interrupted: stopping the trainer"; exit 130' INT TERM

# STALL_TIMEOUT (seconds, 0 = off): a run whose log has not grown for that long is stopped and fails
# (exit 124): verl can wait forever on a worker that died.
if [[ "$STALL_TIMEOUT" -gt 0 ]]; then
  while kill -0 "$trainer" 2>/dev/null; do
    sleep 5
    idle=$(( $(date +%s) - $(stat -c %Y "$log" 2>/dev/null || date +%s) ))
    if (( idle > STALL_TIMEOUT )); then
      note "error: no output for ${idle} s (STALL_TIMEOUT=$STALL_TIMEOUT): stopping the trainer"
      exit 124
    fi
  done
fi
wait "$trainer"
rc=$?
(( rc == 0 )) || note "error: the trainer exited with status $rc (log: $log)"
exit "$rc"
}
