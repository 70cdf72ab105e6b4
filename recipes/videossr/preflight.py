"""Build the training and validation datasets as verl's trainer will, before Ray or a model starts.

verl 0.9.1 builds its datasets inside the trainer actor, after Ray, the workers and the model have
started; a run that cannot train fails only then ("Train dataloader is empty!", a row whose frames
moved, a fork's task module that does not import). ``launch/train.sh`` runs this on the resolved
config of each attempt (``DRY_RUN=1`` too) and stops on the first problem with one line naming the
fix. In a few seconds, on a CPU, it:

* loads the model's tokenizer and processor (``actor_rollout_ref.model``, as verl's ``HFModelConfig``);
* builds ``data.train_files`` and ``data.val_files`` with the configured dataset class
  (``data.custom_cls`` through verl's own ``get_dataset_class`` / ``create_rl_dataset``): the
  recipe's row checks run (``data.videossr.validate_rows``: schema, rewards of fork tasks, the first
  and last frame of each clip), a fork's dataset class or task modules must import;
* checks the rows against the batch sizes: verl's train dataloader drops the last incomplete batch
  (``drop_last=True``), so fewer rows than ``data.train_batch_size`` is an empty dataloader; the
  validation dataloader needs one row;
* refuses an adaptive-levels run (``+adaptive=levels``) whose training rows carry no levels: the
  level controller would silently do nothing (``recipes.videossr.adaptive.dataset.level_pools``);
* fetches the first row of each set through the dataset's ``__getitem__``.

verl's overlong-prompt filter (``data.filter_overlong_prompts``; off in the recipe: it decodes
every video) runs here only with ``--full`` (``DRY_RUN=1``); without it the counts are taken before
that filter.

Command line::

    python -m recipes.videossr.preflight --config RUN_DIR/config/resolved-ATTEMPT.yaml [--full] [--validate]

Exit status 0 with a summary on stderr, or 1 with ``error: ...`` lines.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import os
import re
import sys
from pathlib import Path
from typing import Any, Optional

from omegaconf import DictConfig, OmegaConf, open_dict

from recipes.videossr.dataset import data_file_list

ROWS_PROBLEMS = re.compile(r"^(\d+) problem\(s\) in the VideoSSR data")
GRADED_FIX = ("build a graded training set (python -m data_prep build --frames FRAMES_DIR --out DATA_DIR "
              "--recipe videossr_graded) and set TRAIN_FILES=DATA_DIR/graded.parquet, or drop +adaptive=levels "
              "(+adaptive=metrics measures the groups without moving levels)")


EMPTY_FIX = {
    "train": "rebuild it (python -m data_prep build --frames FRAMES_DIR --out DATA_DIR --recipe videossr30k; "
             "its summary says why rows were skipped) or set TRAIN_FILES",
    "val": "rebuild it (python -m data_prep build --frames FRAMES_DIR --out DATA_DIR --recipe viubench) or set "
           "VAL_FILES; verl's validation dataloader would be empty",
}


class PreflightError(Exception):
    """One line: what would fail and the fix."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}".rstrip(": ")


@contextlib.contextmanager
def _quiet():
    """verl and ``datasets`` print banners and progress bars while a dataset is built."""
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:  # pragma: no cover - verl needs datasets
        pass
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def load_tokenizer(cfg: DictConfig, log=print) -> tuple[Any, Any]:
    """The tokenizer and processor verl's ``HFModelConfig`` loads (``tokenizer_path`` or ``path``,
    ``trust_remote_code``, ``custom_chat_template``). A hub id that cannot be fetched here (an
    offline login node) only warns: the data checks need no tokenizer."""
    from verl.utils import hf_processor, hf_tokenizer

    model = cfg.actor_rollout_ref.model
    path = str(model.get("tokenizer_path") or model.path)
    trust = bool(model.get("trust_remote_code", False))
    try:
        with _quiet():
            tokenizer = hf_tokenizer(path, trust_remote_code=trust)
            processor = hf_processor(path, trust_remote_code=trust)
    except Exception as exc:
        if os.path.exists(path):
            raise PreflightError(f"cannot load the tokenizer/processor of {path}: {_first_line(exc)} "
                                 "(a complete Hugging Face model folder? MODEL_PATH)") from exc
        log(f"warning: could not load the tokenizer of {path} here ({_first_line(exc)}); "
            "the data checks run without it")
        return None, None
    if processor is not None and not getattr(processor, "chat_template", None) and \
            getattr(tokenizer, "chat_template", None):
        processor.chat_template = tokenizer.chat_template
    template = model.get("custom_chat_template")
    if template is not None:
        (processor if processor is not None else tokenizer).chat_template = template
    return tokenizer, processor


def _adaptive_controller(cfg: DictConfig):
    """The level controller verl's replay buffer would install before the datasets are built
    (``AdaptiveReplayBuffer.__init__``), or None when the run does not move levels."""
    sampler = OmegaConf.select(cfg, "trainer.v1.sampler")
    custom = sampler.get("custom_sampler") if sampler is not None else None
    if not custom or not custom.get("path"):
        return None
    from verl.utils.import_utils import load_extern_object

    from recipes.videossr.adaptive.controller import LevelController
    from recipes.videossr.adaptive.replay_buffer import AdaptiveReplayBuffer, sampler_options

    try:
        sampler_cls = load_extern_object(custom.path, custom.name)
    except Exception as exc:
        raise PreflightError(f"trainer.v1.sampler.custom_sampler ({custom.path}, {custom.name}) does not load: "
                             f"{_first_line(exc)} (is its package installed in this environment?)") from exc
    if not (isinstance(sampler_cls, type) and issubclass(sampler_cls, AdaptiveReplayBuffer)):
        return None
    options = sampler_options(sampler.get("sampler_kwargs"))["adaptive"]
    controller = LevelController(options)
    return controller if controller.enabled else None


def build_dataset(cfg: DictConfig, which: str, tokenizer: Any, processor: Any):
    """``create_rl_dataset`` on ``data.<which>_files``, exactly as verl's trainer calls it."""
    from verl.trainer.ppo.utils import create_rl_dataset
    from verl.utils.dataset.rl_dataset import get_dataset_class

    data = cfg.data
    files = data_file_list(data.get(f"{which}_files"))
    what = f"{which} data ({', '.join(files)})"
    for f in files:  # `datasets` cannot read a 0-row parquet ("BatchSize must be greater than 0")
        if f.endswith(".parquet") and os.path.isfile(f) and _parquet_rows(f) == 0:
            raise PreflightError(f"{which} data: {f} has 0 rows: {EMPTY_FIX[which]}")
    custom = data.get("custom_cls") or {}
    try:
        with _quiet():
            cls = get_dataset_class(data)
    except Exception as exc:
        raise PreflightError(f"data.custom_cls ({custom.get('path')}, {custom.get('name')}) does not load: "
                             f"{_first_line(exc)} (is the fork's package installed in this environment? "
                             "README: Forking)") from exc
    try:
        with _quiet():
            dataset = create_rl_dataset(data.get(f"{which}_files"), data, tokenizer, processor,
                                        is_train=which == "train",
                                        max_samples=data.get(f"{which}_max_samples", -1))
    except Exception as exc:
        raise PreflightError(f"{what}: {_rows_problem(exc, cls.__name__)}") from exc
    return dataset


def _parquet_rows(path: str) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _rows_problem(exc: BaseException, cls_name: str) -> str:
    """One line for a dataset that refused its rows: the recipe's row check lists them (each with
    its fix, e.g. the ``data_prep media`` command for moved frames); anything else is quoted."""
    text = str(exc).strip()
    found = ROWS_PROBLEMS.match(text)
    if found:
        rows = [line.strip() for line in text.splitlines()[1:] if line.startswith("  ")]
        first = rows[0] if rows else ""
        return f"{found.group(1)} problem(s) in the rows ({cls_name}'s row check), the first: {first}"
    return f"{cls_name} could not be built: {_first_line(exc)}"


def check_counts(cfg: DictConfig, n_train: int, n_val: int) -> list[str]:
    """The summary lines; raises ``PreflightError`` where verl's dataloaders would be empty."""
    data = cfg.data
    train_files, val_files = ", ".join(data_file_list(data.train_files)), ", ".join(data_file_list(data.val_files))
    batch = int(data.train_batch_size)
    gen_batch = data.get("gen_batch_size") or batch
    need = max(batch, int(gen_batch))
    if n_train == 0:
        raise PreflightError(f"train data ({train_files}) has 0 rows (after the dataset's filters): {EMPTY_FIX['train']}")
    if n_train < need:
        key = "data.train_batch_size" if need == batch else "data.gen_batch_size"
        raise PreflightError(
            f"train data ({train_files}) has {n_train} rows, fewer than {key}={need}: verl drops the last "
            f"incomplete batch, so its train dataloader would be empty (\"Train dataloader is empty!\" after "
            f"Ray and the model started); build more rows (python -m data_prep build ... --size N) or lower "
            f"data.train_batch_size (and actor_rollout_ref.actor.ppo_mini_batch_size) to at most {n_train}")
    if n_val == 0:
        raise PreflightError(f"val data ({val_files}) has 0 rows (after the dataset's filters): {EMPTY_FIX['val']}")
    steps = n_train // batch
    epochs = int(cfg.trainer.total_epochs)
    total = cfg.trainer.get("total_training_steps")
    lines = [f"train: {n_train} rows, {steps} step(s) of {batch} prompts per epoch"
             + (f" ({n_train - steps * batch} rows of the last incomplete batch left out each epoch)"
                if n_train % batch else "")
             + (f", {total} step(s) in all (trainer.total_training_steps)" if total is not None
                else f", {steps * epochs} step(s) in {epochs} epoch(s)")]
    val_batch = data.get("val_batch_size")
    if val_batch:
        lines.append(f"validation: {n_val} rows in {-(-n_val // int(val_batch))} batch(es) of up to {val_batch}")
    else:
        lines.append(f"validation: {n_val} rows in one batch (data.val_batch_size is null: verl takes the whole "
                     "set at once, every prompt's video tensors held until it ends)")
    return lines


def check_adaptive(controller, dataset) -> str:
    """The adaptive-levels summary line; raises ``PreflightError`` when the training rows cannot serve it."""
    from recipes.videossr.adaptive.dataset import AdaptiveVideoSSRDataset

    if not isinstance(dataset, AdaptiveVideoSSRDataset):
        raise PreflightError(
            f"trainer.v1.sampler.sampler_kwargs.adaptive.enable=true but the dataset class "
            f"{type(dataset).__name__} does not follow the level controller: levels would never change; use the "
            "+adaptive=levels preset (data.custom_cls AdaptiveVideoSSRDataset) or a subclass of it")
    if not controller.pools:
        raise PreflightError(f"+adaptive=levels: no training row carries a difficulty level, so the levels would "
                             f"never change; {GRADED_FIX}")
    levels = {family: sorted(by_level) for family, by_level in controller.pools.items()}
    if all(len(v) < 2 for v in levels.values()):
        raise PreflightError(f"+adaptive=levels: every task family has a single level ({levels}), so there is "
                             f"nothing to move; {GRADED_FIX}")
    return "adaptive levels: " + ", ".join(f"{family} l{v[0]}..l{v[-1]}" for family, v in sorted(levels.items()))


def run(cfg: DictConfig, full: bool = False, log=print) -> list[str]:
    """Every check on a resolved config; the summary lines, or ``PreflightError`` on the first failure."""
    from recipes.videossr.adaptive import controller as level_control

    cfg = copy.deepcopy(cfg)
    if not full and cfg.data.get("filter_overlong_prompts", False):
        with open_dict(cfg):
            cfg.data.filter_overlong_prompts = False  # verl runs it right after; here it would decode every video
        log("note: data.filter_overlong_prompts is on: the counts below are before verl's length filter "
            "(DRY_RUN=1 runs it)")
    tokenizer, processor = load_tokenizer(cfg, log=log)
    controller = _adaptive_controller(cfg)
    level_control.install(controller)
    try:
        train = build_dataset(cfg, "train", tokenizer, processor)
        adaptive_line = check_adaptive(controller, train) if controller is not None else None
    finally:
        level_control.install(None)
    val = build_dataset(cfg, "val", tokenizer, processor)
    lines = check_counts(cfg, len(train), len(val))
    for which, dataset in (("train", train), ("val", val)):
        try:
            with _quiet():
                dataset[0]
        except Exception as exc:
            raise PreflightError(f"{which} data: {type(dataset).__name__}[0] failed: {_first_line(exc)}") from exc
    if adaptive_line:
        lines.append(adaptive_line)
    return lines


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, type=Path, help="a resolved config (train.sh: RUN_DIR/config/resolved-*.yaml)")
    parser.add_argument("--full", action="store_true", help="also run verl's overlong-prompt filter when the config enables it")
    parser.add_argument("--validate", action="store_true",
                        help="then verl's validate_config, as main_ppo runs it right before Ray starts (train.sh "
                             "DRY_RUN=1: in this process, which has verl imported already)")
    args = parser.parse_args(argv)
    log = lambda line: print(f"preflight: {line}", file=sys.stderr)  # noqa: E731
    cfg = OmegaConf.load(args.config)
    try:
        lines = run(cfg, full=args.full, log=log)
    except PreflightError as exc:
        print(f"preflight: error: {exc}", file=sys.stderr)
        return 1
    for line in lines:
        log(line)
    if args.validate:
        from recipes.videossr.compose import validate_recipe

        try:
            validate_recipe(cfg)
        except Exception as exc:  # one line, the type says which check failed (as compose's command line)
            print(f"preflight: error: verl's config validation failed ({type(exc).__name__}): {exc}", file=sys.stderr)
            return 1
        log("the config is composed and validated by verl (validate_config)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
