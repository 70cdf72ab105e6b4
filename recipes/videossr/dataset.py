"""``VideoSSRDataset``: verl's ``RLHFDataset`` plus row validation, a clip decode cache and fresh jigsaws.

Plug into verl with (the shipped configs already do)::

    data.custom_cls.path=pkg://recipes.videossr.dataset  data.custom_cls.name=VideoSSRDataset

Options, read from ``data.videossr.*`` (verl ignores the block):

====================  =======  ===============================================================
key                   default  meaning
====================  =======  ===============================================================
validate_rows         true     check every row when the dataset is built; one error lists the
                               bad rows as ``<file> row <i>: <problem>``
check_frame_files     true     ... including that the first/last frame of each clip exists
decode_cache_mb       2048     decoded clips kept per rollout worker process (LRU, by bytes)
processor_cache_mb    1024     HF processor outputs shared by a prompt's n sessions, per worker
                               (LRU by bytes; 0 = off; ``recipes.videossr.processor_cache``)
fresh_jigsaw          false    train rows: new clip order (and ground truth) on every access
fresh_jigsaw_seed     null     null = fresh OS entropy; an int = reproducible per (seed, row,
                               access count of this process)
media_root            null     folder the rows' relative frame paths resolve against; null = the
                               folder of each data file (``data_prep.media``; absolute paths of
                               older rows are used as they are)
rollout_trace_dir     null     a folder: every rollout session's prompt ids (actor's and vLLM's),
                               response and reward, one JSON line each
                               (``recipes.videossr.rollout_trace``; checks and tests, not speed)
====================  =======  ===============================================================

Why a cache: in verl 0.9.1 ``process_multi_modal_info`` runs once per rollout session, i.e.
``rollout.n`` times per prompt; the cache makes the n sessions share one decode.

>>> ds = VideoSSRDataset("train.parquet", tokenizer, OmegaConf.create({...}), processor)  # doctest: +SKIP
>>> ds[0]["raw_prompt"][1]["content"][0]["type"]                                           # doctest: +SKIP
'video'
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
from verl.utils.dataset.rl_dataset import RLHFDataset

from data_prep.media import is_portable, media_root_of, resolve_videos
from recipes.videossr.decode_cache import ClipCache
from recipes.videossr.processor_cache import DEFAULT_MB as PROCESSOR_CACHE_MB
from recipes.videossr.jigsaw_reshuffle import reshuffle_messages
from recipes.videossr.row_checks import row_problems
from rewards.naming import parse_data_source

MAX_LISTED_PROBLEMS = 20
DEFAULTS = {
    "validate_rows": True,
    "check_frame_files": True,
    "decode_cache_mb": 2048,
    "processor_cache_mb": PROCESSOR_CACHE_MB,
    "fresh_jigsaw": False,
    "fresh_jigsaw_seed": None,
    "media_root": None,
    "rollout_trace_dir": None,
}


def data_file_list(files: Any) -> list[str]:
    """``data.train_files`` / ``val_files`` as a list of strings (verl takes one path or a list)."""
    if files is None:
        return []
    if isinstance(files, str):
        return [files]
    return [str(f) for f in files]


def recipe_options(config: Any) -> dict[str, Any]:
    """``DEFAULTS`` updated with ``config.videossr`` (a DictConfig or dict; missing = defaults).

    >>> recipe_options({"videossr": {"fresh_jigsaw": True}})["fresh_jigsaw"], recipe_options({})["decode_cache_mb"]
    (True, 2048)
    """
    block = (config.get("videossr") if config is not None else None) or {}
    unknown = set(block) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown data.videossr option(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    return {**DEFAULTS, **{k: block[k] for k in block}}


def _file_row_labels(files: list[str], n_rows: int) -> list[str] | None:
    """``"<file> row <j>"`` per loaded row, from the parquet footers (no rows are read again); None
    when the rows no longer line up with the files (a json file, or a ``max_samples`` subset)."""
    if not all(f.endswith(".parquet") for f in files):
        return None
    counts = _file_counts(files)
    if sum(counts) != n_rows:
        return None
    return [f"{f} row {j}" for f, count in zip(files, counts) for j in range(count)]


def _file_counts(files: list[str]) -> list[int]:
    import pyarrow.parquet as pq

    return [pq.ParquetFile(f).metadata.num_rows for f in files]


def validate_rows(
    rows: Iterable[dict[str, Any]],
    n_rows: int,
    files: list[str],
    check_files: bool = True,
    media_roots: "Sequence[str] | str | None" = None,
) -> None:
    """Raise one ``ValueError`` listing every bad row of the ``n_rows`` loaded from ``files`` (in order)
    as ``<file> row <i>: <problem>``, or as ``row <i>: ...`` when a row's file cannot be told.
    ``media_roots``: where relative frame paths resolve, one folder for all rows or one per row.

    >>> validate_rows(rows, len(rows), ["data/train.parquet"])   # doctest: +SKIP
    ValueError: 2 problem(s) in the VideoSSR data ...
      data/train.parquet row 17: the prompt has 6 <video> tags but 'videos' has 5 entries
    """
    labels = _file_row_labels(files, n_rows)
    where = ""
    if labels is None:
        labels = [f"row {i}" for i in range(n_rows)]
        where = f"; rows are numbered across {files} as loaded"
    roots = [media_roots] * n_rows if media_roots is None or isinstance(media_roots, str) else media_roots
    problems = []
    for label, row, root in zip(labels, rows, roots):
        problems += [f"  {label}: {p}" for p in row_problems(row, check_files=check_files, media_root=root)]
    if problems:
        listed = problems[:MAX_LISTED_PROBLEMS]
        more = f"\n  ... and {len(problems) - len(listed)} more" if len(problems) > len(listed) else ""
        raise ValueError(
            f"{len(problems)} problem(s) in the VideoSSR data (rows are written by `python -m data_prep "
            f"build`; set data.videossr.validate_rows=false to skip this check{where}):\n"
            + "\n".join(listed)
            + more
        )


def _loaded_rows(dataframe) -> Iterator[dict[str, Any]]:
    """The rows of verl's ``datasets.Dataset`` as dicts, converted a batch at a time (Arrow, not per row)."""
    for batch in dataframe.with_format("arrow").iter(batch_size=1024):
        yield from batch.to_pylist()


def _meta_with_shown_order(extra_info: dict[str, Any], shown_order: list[int]) -> str:
    """``extra_info.meta`` with its ``shown_order`` replaced (left as is when it has none)."""
    try:
        meta = json.loads(extra_info.get("meta") or "{}")
    except json.JSONDecodeError:
        return extra_info.get("meta", "")
    if not (isinstance(meta, dict) and "shown_order" in meta):
        return extra_info.get("meta", "")
    meta["shown_order"] = shown_order
    return json.dumps(meta, sort_keys=True, separators=(",", ":"))


class VideoSSRDataset(RLHFDataset):
    """verl ``RLHFDataset`` for VideoSSR rows; see the module docstring for the options."""

    # One cache per process: rollout workers call the classmethods below without an instance.
    _clip_cache = ClipCache(max_bytes=DEFAULTS["decode_cache_mb"] << 20)

    def __init__(self, data_files, tokenizer, config, processor=None, max_samples: int = -1):
        self.options = recipe_options(config)
        self._media_root: str | None = None  # set when verl hands over the loaded rows
        super().__init__(data_files, tokenizer, config, processor=processor, max_samples=max_samples)
        self._access_counts: dict[int, int] = defaultdict(int)

    def maybe_filter_out_long_prompts(self, dataframe=None):
        # verl calls this on the rows it has just loaded. Validate them here, before its length filter,
        # which would silently drop a row it cannot process (a missing frame) instead of naming it.
        files = [str(f) for f in self.data_files]
        dataframe, roots = self._with_media_roots(dataframe, files, [str(f) for f in self.original_data_files])
        if self.options["validate_rows"]:
            validate_rows(_loaded_rows(dataframe), len(dataframe), files,
                          check_files=self.options["check_frame_files"], media_roots=roots)
        return super().maybe_filter_out_long_prompts(dataframe)

    # -- frame paths relative to a media root (data_prep.media) --------------------------------
    def _with_media_roots(self, dataframe, files: list[str], original: list[str]):
        """(rows, roots): one root for every row (kept, resolved per access in ``_build_messages``),
        or, for data files in several folders, the rows with their frame paths resolved once.

        A file's root is the folder of the path the config names (``original``), not of the local
        copy verl may read instead (``data.use_shm``); a remote file needs ``media_root``."""
        remote = [f for f in original if "://" in f]
        if remote and not self.options["media_root"]:
            if not any(row[self.video_key] and is_portable(row[self.video_key]) for row in _loaded_rows(dataframe)):
                self._media_root = None  # rows of the older layout: absolute paths, nothing to resolve
                return dataframe, None
            raise ValueError(f"data files {remote} are remote: set data.videossr.media_root to the folder their "
                             "frame paths resolve against (a copy of the dataset folder this machine reads)")
        roots = [media_root_of(f, self.options["media_root"]) for f in original]
        if len(set(roots)) <= 1:
            self._media_root = roots[0] if roots else None
            return dataframe, self._media_root
        self._media_root = None
        counts = _file_counts(files) if all(f.endswith(".parquet") for f in files) else None
        if counts is None or sum(counts) != len(dataframe):
            raise ValueError(
                f"data files in several folders {sorted(set(roots))} with a row subset (max_samples) or json "
                "files: their relative frame paths cannot be told apart; set data.videossr.media_root, or "
                "build the datasets into one folder"
            )
        per_row = [root for root, count in zip(roots, counts) for _ in range(count)]
        key = self.video_key
        dataframe = dataframe.map(
            lambda row, i: {key: resolve_videos(row[key], per_row[i])}, with_indices=True, keep_in_memory=True
        )
        return dataframe, None

    def _build_messages(self, example: dict, key: str):
        videos = example.get(self.video_key)
        if videos and self._media_root is not None:
            example = {**example, self.video_key: resolve_videos(videos, self._media_root)}
        return super()._build_messages(example, key)

    # -- fresh jigsaw ------------------------------------------------------------------------
    def _jigsaw_rng(self, item: int) -> np.random.Generator:
        seed = self.options["fresh_jigsaw_seed"]
        if seed is None:
            return np.random.default_rng()
        count = self._access_counts[item]
        self._access_counts[item] += 1
        return np.random.default_rng([int(seed), int(item), count])

    def __getitem__(self, item):
        row = super().__getitem__(item)
        if self.options["fresh_jigsaw"] and self._is_train_jigsaw(row):
            answer, shown_order = reshuffle_messages(
                row["raw_prompt"], row["reward_model"]["ground_truth"], self._jigsaw_rng(item)
            )
            row["reward_model"] = {**row["reward_model"], "ground_truth": answer}
            meta = _meta_with_shown_order(row["extra_info"], shown_order)
            row["extra_info"] = {**row["extra_info"], "answer": answer, "meta": meta}
        return row

    @staticmethod
    def _is_train_jigsaw(row: dict[str, Any]) -> bool:
        # Validation rows (split "eval") keep their stored puzzle so scores stay comparable.
        extra = row.get("extra_info") or {}
        return parse_data_source(row["data_source"]).task == "jigsaw" and extra.get("split", "train") == "train"

    # -- decode cache (rollout side) -----------------------------------------------------------
    @classmethod
    def _process_multi_modal_info(cls, messages: list[dict], image_patch_size, config) -> tuple:
        """Like ``RLHFDataset``'s, but each video item is decoded once per process (cached)."""
        items = [
            item
            for message in messages
            if isinstance(message.get("content"), list)
            for item in message["content"]
            if isinstance(item, dict) and item.get("type") in {"image", "video"}
        ]
        if not items or any(item["type"] != "video" for item in items):
            return super()._process_multi_modal_info(messages, image_patch_size, config)
        budget = int(recipe_options(config)["decode_cache_mb"]) << 20
        if budget != cls._clip_cache.max_bytes:
            cls._clip_cache.resize(budget)
        videos = [cls._decode_clip(item, image_patch_size) for item in items]
        return None, videos, cls._extract_audio_info(messages)

    @classmethod
    def _decode_clip(cls, item: dict, image_patch_size) -> tuple:
        from qwen_vl_utils import process_vision_info

        key = (json.dumps(item, sort_keys=True, default=str), int(image_patch_size))

        def decode():
            _, videos = process_vision_info(
                [{"role": "user", "content": [item]}], image_patch_size=image_patch_size, return_video_metadata=True
            )
            return videos[0]

        frames, metadata = cls._clip_cache.get_or_compute(key, decode)
        return frames, dict(metadata)  # metadata per caller: processors may annotate it

    @classmethod
    def cache_stats(cls) -> dict[str, int]:
        """Decode-cache counters of this process: ``clips``, ``bytes``, ``hits``, ``decodes``."""
        return cls._clip_cache.stats()


__all__ = ["VideoSSRDataset", "recipe_options", "validate_rows"]
