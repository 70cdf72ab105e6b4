"""Compose a VideoSSR config exactly as ``verl.trainer.main_ppo`` does, and validate it, on a CPU.

``main_ppo`` checks its config only after Hydra composed it and just before Ray starts; on a
cluster a typo then costs a queue wait. This runs the same two steps -- Hydra composition against
verl's ``ppo_trainer`` (a bad key fails with Hydra's "Could not override ..." error) and verl's own
``validate_config`` (batch sizes vs GPUs, micro-batch settings, ...) -- in a few seconds, no GPU.

>>> cfg = compose_recipe("videossr_qwen3vl_8b", ["data.train_files=t.parquet", "data.val_files=v.parquet"])  # doctest: +SKIP
>>> validate_recipe(cfg)                                                                                    # doctest: +SKIP

Command line (by hand; ``launch/train.sh DRY_RUN=1`` runs ``validate_recipe`` on verl's ``--cfg job`` output
in its pre-flight check, ``recipes.videossr.preflight --validate``)::

    python -m recipes.videossr.compose --config-name videossr_small data.train_files=... [overrides]
    python -m recipes.videossr.compose --config-path /path/to/fork/configs --config-name my_fork ...

A config outside this folder (a fork's, ``--config-path``) is composed as ``main_ppo --config-path
DIR --config-name NAME --config-dir <this folder>`` composes it (``launch/train.sh`` runs that): the
recipe's configs (``shared/videossr_base``, ``videossr_small``, ...) resolve from its ``defaults``;
``ppo_trainer`` resolves through its own ``hydra.searchpath`` (``pkg://verl.trainer.config``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from pathlib import Path

from omegaconf import DictConfig

CONFIG_DIR = Path(__file__).resolve().parent / "config"


def config_names(config_dir: Path = CONFIG_DIR) -> list[str]:
    """Names of the runnable configs (top-level YAML files; ``shared/`` holds fragments).

    >>> "videossr_qwen3vl_8b" in config_names()
    True
    """
    return sorted(p.stem for p in Path(config_dir).glob("*.yaml"))


def compose_recipe(config_name: str, overrides: list[str] | None = None, config_dir: Path = CONFIG_DIR) -> DictConfig:
    """The config ``main_ppo --config-path <config_dir> --config-name <config_name> <overrides>`` would run
    (for a folder other than the recipe's, with ``--config-dir <the recipe's folder>``, as train.sh runs it)."""
    from hydra import compose, version
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.config_search_path import SearchPathQuery
    from hydra.core.global_hydra import GlobalHydra

    config_dir = Path(config_dir).resolve()
    search_path = create_config_search_path(search_path_dir=str(config_dir))
    if config_dir != CONFIG_DIR:
        # what Hydra's --config-dir does (hydra/_internal/utils.py): the recipe's folder after the primary one
        search_path.prepend(provider="command-line", path=f"file://{CONFIG_DIR}",
                            anchor=SearchPathQuery(provider="schema"))
    GlobalHydra.instance().clear()
    version.setbase(None)
    Hydra.create_main_hydra2(task_name="app", config_search_path=search_path)
    try:
        return compose(config_name=config_name, overrides=list(overrides or []))
    finally:
        GlobalHydra.instance().clear()


def validate_recipe(cfg: DictConfig) -> None:
    """verl 0.9.1's own start-up validation (raises ``AssertionError``/``ValueError`` like main_ppo)."""
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import validate_config

    with contextlib.redirect_stdout(io.StringIO()):  # validate_config prints a success banner
        validate_config(cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--config-path", type=Path, default=CONFIG_DIR, metavar="DIR",
                        help="folder of the config (a fork's; default: the recipe's, %(default)s)")
    parser.add_argument("--config-name", required=True, help="a config in --config-path (default folder: "
                        + ", ".join(config_names()) + ")")
    parser.add_argument("--print", metavar="KEY", help="print this key's composed value instead of a summary")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides, as given to main_ppo")
    args = parser.parse_args(argv)
    names = config_names(args.config_path)
    if args.config_name not in names:
        parser.error(f"argument --config-name: invalid choice: {args.config_name!r} (choose from "
                     f"{', '.join(map(repr, names)) or f'nothing: no *.yaml in {args.config_path}'})")
    try:
        cfg = compose_recipe(args.config_name, args.overrides, args.config_path)
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
