"""A run's checkpoint folder across resubmissions: prune to the kept count, size the disk check.

    python -m recipes.videossr.checkpoints preflight --config RUN_DIR/config/resolved-ATTEMPT.yaml [--dry-run]
    python -m recipes.videossr.checkpoints prune --dir RUN_DIR/checkpoints --keep 2 [--dry-run]
    python -m recipes.videossr.checkpoints watch --config RUN_DIR/config/resolved-ATTEMPT.yaml --pid TRAINER_PID

``launch/train.sh`` runs ``preflight`` before every attempt and ``watch`` beside the trainer. Why:
verl 0.9.1 prunes from a list it keeps in memory, so every resubmission starts with an empty list
and keeps each earlier attempt's checkpoints for ever (about 105 GB each at 8B with optimizer
state); its pruning also removes only ``global_step_N/actor`` and leaves ``global_step_N/data.pt``.

What counts as what (verl writes ``latest_checkpointed_iteration.txt`` last, after a whole save):

- complete: ``global_step_N/actor`` exists and N <= the tracker's step;
- in progress or crashed part-way: N > the tracker's step (or no tracker at all);
- leftover: N <= the tracker's step without ``actor/`` (what verl's own pruning leaves behind).

Retention follows verl's own rule, applied to the whole folder instead of one attempt's list:
keep ``trainer.max_actor_ckpt_to_keep`` complete checkpoints; while a save is in progress keep one
fewer when that number is 2 or more (verl's ``ensure_checkpoint_capacity``), so the disk holds at
most max(keep, 2) checkpoints at any time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

TRACKER = "latest_checkpointed_iteration.txt"
STEP_DIR = re.compile(r"^global_step_(\d+)$")
# Bytes per parameter of one FSDP actor checkpoint, by verl save_contents entry: fp32 master
# weights, Adam's two fp32 moments, a bf16 Hugging Face copy; "extra" (RNG, scheduler) is small.
BYTES_PER_PARAM = {"model": 4, "optimizer": 8, "hf_model": 2, "extra": 0}
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8}


@dataclass(frozen=True)
class CheckpointTree:
    """What a checkpoint folder holds, by global step (each list ascending)."""

    root: Path
    tracker: Optional[int]
    complete: list[int]
    unfinished: list[int]  # newer than the tracker: a save in progress or one that crashed
    leftovers: list[int]  # at or below the tracker without actor/: verl's pruning left data.pt

    def path(self, step: int) -> Path:
        return self.root / f"global_step_{step}"


def read_tracker(root: Path) -> Optional[int]:
    """The step verl's tracker names, or None when there is none (or it is not a number)."""
    try:
        text = (root / TRACKER).read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def scan(root: str | os.PathLike) -> CheckpointTree:
    root = Path(root)
    tracker = read_tracker(root)
    steps = sorted(int(m.group(1)) for p in (root.iterdir() if root.is_dir() else ())
                   if p.is_dir() and (m := STEP_DIR.match(p.name)))
    complete, unfinished, leftovers = [], [], []
    for step in steps:
        if tracker is None or step > tracker:
            unfinished.append(step)
        elif (root / f"global_step_{step}" / "actor").is_dir():
            complete.append(step)
        else:
            leftovers.append(step)
    return CheckpointTree(root, tracker, complete, unfinished, leftovers)


def retained(tree: CheckpointTree, keep: Optional[int], saving: bool) -> list[int]:
    """The complete steps to keep: the newest ``keep`` (all when keep is None or < 1)."""
    if not keep or keep < 1:
        return list(tree.complete)
    if saving and keep >= 2:
        keep -= 1  # room for the save in progress, as verl's ensure_checkpoint_capacity
    return tree.complete[-keep:]


def plan_prune(tree: CheckpointTree, keep: Optional[int], *, remove_unfinished: bool) -> list[Path]:
    """Folders to delete. ``remove_unfinished`` only between attempts, when nothing is writing.

    The tracker's own step is never deleted: it is where the next attempt resumes.
    """
    saving = bool(tree.unfinished) and not remove_unfinished
    keep_steps = set(retained(tree, keep, saving)) | ({tree.tracker} if tree.tracker is not None else set())
    doomed = [s for s in tree.complete if s not in keep_steps] + tree.leftovers
    if remove_unfinished and tree.tracker is not None:
        doomed += tree.unfinished  # without a tracker nothing proves a folder is unfinished garbage
    return [tree.path(s) for s in sorted(doomed)]


def prune(root: str | os.PathLike, keep: Optional[int], *, remove_unfinished: bool = False,
          dry_run: bool = False, log=print) -> list[Path]:
    """Delete what ``plan_prune`` names (whole ``global_step_N`` folders); returns them."""
    doomed = plan_prune(scan(root), keep, remove_unfinished=remove_unfinished)
    for path in doomed:
        log(f"checkpoints: {'would remove' if dry_run else 'removing'} {path}")
        if not dry_run:
            shutil.rmtree(path, ignore_errors=True)
    return doomed


def parameter_count(model_dir: str | os.PathLike) -> Optional[int]:
    """Parameters of a local Hugging Face model folder, from its weight files; None if unknown."""
    model_dir = Path(model_dir)
    if not (model_dir / "config.json").is_file():
        return None
    config = json.loads((model_dir / "config.json").read_text())
    dtype = config.get("torch_dtype") or config.get("dtype") or (config.get("text_config") or {}).get("dtype")
    width = DTYPE_BYTES.get(str(dtype), 2)
    index = model_dir / "model.safetensors.index.json"
    if index.is_file():
        total = json.loads(index.read_text()).get("metadata", {}).get("total_size")
        if total:
            return int(total) // width
    weights = [p for pattern in ("*.safetensors", "*.bin") for p in model_dir.glob(pattern)]
    if not weights:
        return None
    return sum(p.stat().st_size for p in weights) // width


def checkpoint_bytes(params: int, save_contents: Iterable[str]) -> int:
    """Size of one actor checkpoint for ``params`` parameters and verl's ``save_contents``."""
    return params * sum(BYTES_PER_PARAM.get(c, 0) for c in save_contents)


def peak_checkpoints(keep: Optional[int]) -> Optional[int]:
    """Most checkpoints on disk at once under the retention rule (None: unbounded)."""
    if not keep or keep < 1:
        return None
    return max(keep, 2)  # keep=1: the old one stays until the new save is complete


def required_free_bytes(tree: CheckpointTree, keep: Optional[int], one_checkpoint: int,
                        total_saves: Optional[int] = None) -> int:
    """Free space the coming attempt needs: the peak count minus what already sits on disk.

    With no bound (keep None) every remaining save stays, so ``total_saves`` sizes it.
    """
    peak = peak_checkpoints(keep)
    if peak is None:
        peak = len(tree.complete) + (total_saves if total_saves is not None else 1)
    return max(peak - len(retained(tree, keep, saving=False)), 0) * one_checkpoint


def _free_bytes(path: Path) -> int:
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


@dataclass(frozen=True)
class RunSettings:
    """What this module reads from an attempt's resolved verl config."""

    root: Path  # trainer.default_local_dir
    keep: Optional[int]  # trainer.max_actor_ckpt_to_keep
    contents: list[str]  # actor_rollout_ref.actor.checkpoint.save_contents
    model: str  # actor_rollout_ref.model.path


def read_settings(config_path: str | os.PathLike) -> RunSettings:
    import yaml

    cfg = yaml.safe_load(Path(config_path).read_text())
    trainer, actor = cfg["trainer"], cfg["actor_rollout_ref"]["actor"]
    contents = (actor.get("checkpoint") or {}).get("save_contents") or ["model", "optimizer", "extra"]
    return RunSettings(Path(trainer["default_local_dir"]), trainer.get("max_actor_ckpt_to_keep"), list(contents),
                       str(cfg["actor_rollout_ref"]["model"]["path"]))


def preflight(config_path: str | os.PathLike, *, dry_run: bool = False, min_free_gb: Optional[float] = None,
              log=print) -> int:
    """Before an attempt: prune across earlier attempts, then check the disk. Returns an exit code.

    ``min_free_gb`` replaces the computed requirement (for a model folder we cannot size). In a
    dry run nothing is deleted and a shortfall is a warning.
    """
    settings = read_settings(config_path)
    root, keep, contents, model = settings.root, settings.keep, settings.contents, settings.model

    tree = scan(root)
    if tree.complete or tree.unfinished or tree.leftovers:
        log(f"checkpoints: {root}: complete {tree.complete or '-'}, tracker {tree.tracker}, "
            f"unfinished {tree.unfinished or '-'}, leftovers {tree.leftovers or '-'}; keeping {keep or 'all'}")
    prune(root, keep, remove_unfinished=True, dry_run=dry_run, log=log)
    after = scan(root) if not dry_run else tree

    if min_free_gb is not None:
        need, why = int(min_free_gb * 1024**3), f"MIN_FREE_GB={min_free_gb:.10g}"
    else:
        params = parameter_count(model)
        if params is None:
            log(f"checkpoints: cannot size {model} (not a local model folder with weights): "
                "skipping the disk check; set MIN_FREE_GB to have one")
            return 0
        one = checkpoint_bytes(params, contents)
        need = required_free_bytes(after, keep, one)
        why = (f"{params / 1e9:.2f}B parameters x {sum(BYTES_PER_PARAM.get(c, 0) for c in contents)} B "
               f"({'+'.join(contents)}) = {one / 1024**3:.1f} GB per checkpoint, up to "
               f"{peak_checkpoints(keep) or 'all'} on disk, {len(retained(after, keep, False))} already there")
    free = _free_bytes(root)
    if free >= need:
        log(f"checkpoints: {free / 1024**3:.1f} GB free under {root}, {need / 1024**3:.1f} GB needed ({why})")
        return 0
    message = (f"only {free / 1024**3:.1f} GB free under {root} but {need / 1024**3:.1f} GB needed ({why}); "
               "free space, lower trainer.max_actor_ckpt_to_keep, or set MIN_FREE_GB if you know better")
    if dry_run:
        log(f"checkpoints: warning: {message}")
        return 0
    log(f"checkpoints: error: {message}")
    return 1


def watch(root: str | os.PathLike, keep: Optional[int], pid: int, interval: float = 30.0, log=print) -> None:
    """Prune while the trainer (``pid``) lives, so resubmissions never pile up checkpoints."""
    while True:
        prune(root, keep, log=log)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass  # alive, owned by someone else
        time.sleep(interval)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recipes.videossr.checkpoints", description=__doc__.splitlines()[0],
                                     allow_abbrev=False)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("preflight", help="prune across attempts and check the disk before an attempt",
                       allow_abbrev=False)
    p.add_argument("--config", required=True, help="resolved verl config of the attempt (train.sh writes it)")
    p.add_argument("--min-free-gb", type=float, default=None, help="replace the computed requirement")
    p.add_argument("--dry-run", action="store_true", help="delete nothing; a disk shortfall only warns")
    q = sub.add_parser("prune", allow_abbrev=False, help="prune a checkpoint folder once")
    q.add_argument("--dir", required=True, help="trainer.default_local_dir")
    q.add_argument("--keep", type=int, default=None, help="trainer.max_actor_ckpt_to_keep (default: all)")
    q.add_argument("--dry-run", action="store_true")
    w = sub.add_parser("watch", allow_abbrev=False, help="prune while a trainer runs")
    w.add_argument("--config", required=True, help="resolved verl config of the attempt (as for preflight)")
    w.add_argument("--pid", type=int, required=True, help="stop when this process ends")
    w.add_argument("--interval", type=float, default=30.0, help="seconds between checks")
    args = parser.parse_args(argv)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    try:
        if args.command == "preflight":
            return preflight(args.config, dry_run=args.dry_run, min_free_gb=args.min_free_gb, log=log)
        if args.command == "prune":
            prune(args.dir, args.keep, dry_run=args.dry_run, log=log)
            return 0
        settings = read_settings(args.config)
    except (OSError, KeyError, TypeError) as exc:  # a missing or foreign config: one line, no traceback
        log(f"checkpoints: error: cannot read {getattr(args, 'config', args.command)}: {type(exc).__name__}: {exc}")
        return 2
    watch(settings.root, settings.keep, args.pid, args.interval, log=log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
