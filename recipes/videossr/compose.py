"""Compose a VideoSSR config exactly as ``verl.trainer.main_ppo`` does, and validate it, on a CPU.

``main_ppo`` checks its config only after Hydra composed it and just before Ray starts; on a
cluster a typo then costs a queue wait. This runs the same two steps -- Hydra composition against
verl's ``ppo_trainer`` (a bad key fails with Hydra's "Could not override ..." error) and verl's own
``validate_config`` (batch sizes vs GPUs, micro-batch settings, ...) -- in a few seconds, no GPU.

>>> cfg = compose_recipe("videossr_qwen3vl_8b", ["data.train_files=t.parquet", "data.val_files=v.parquet"])  # doctest: +SKIP
>>> validate_recipe(cfg)                                                                                    # doctest: +SKIP

Command line (``launch/train.sh`` runs it when ``DRY_RUN=1``)::

    python -m recipes.videossr.compose --config-name videossr_small data.train_files=... [overrides]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

from omegaconf import DictConfig

CONFIG_DIR = Path(__file__).resolve().parent / "config"


def config_names() -> list[str]:
    """Names of the runnable configs (top-level YAML files; ``shared/`` holds fragments).

    >>> "videossr_qwen3vl_8b" in config_names()
    True
    """
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))


def compose_recipe(config_name: str, overrides: list[str] | None = None, config_dir: Path = CONFIG_DIR) -> DictConfig:
    """The config ``main_ppo --config-path <config_dir> --config-name <config_name> <overrides>`` would run."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        return compose(config_name=config_name, overrides=list(overrides or []))


def validate_recipe(cfg: DictConfig) -> None:
    """verl 0.9.1's own start-up validation (raises ``AssertionError``/``ValueError`` like main_ppo)."""
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config

    with contextlib.redirect_stdout(io.StringIO()):  # validate_config prints a success banner
        validate_config(cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--config-name", required=True, choices=config_names())
    parser.add_argument("--print", metavar="KEY", help="print this key's composed value instead of a summary")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, as given to main_ppo")
    args = parser.parse_args(argv)
    try:
        cfg = compose_recipe(args.config_name, args.overrides)
        validate_recipe(cfg)
        if args.print:
            from omegaconf import OmegaConf

            print(OmegaConf.select(cfg, args.print, throw_on_missing=True))
            return 0
    except Exception as exc:  # one clear line for the launcher; the type says which check failed
        print(f"config check failed ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 1
    print(f"config {args.config_name}: composed and validated by verl", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
