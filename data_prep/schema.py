"""The row format every dataset builder writes and every consumer (verl, rewards, eval) reads.

One parquet row = one question, in verl's native layout::

    data_source   str   "videossr/<task>/<subtype>"  (see ``rewards.naming``; routes rewards and
                        gives verl one validation metric line per subtype)
    prompt        list  [{"role": "system", "content": SYSTEM_PROMPT},
                         {"role": "user", "content": "<video>\\n<question>"}]   (jigsaw: one
                        "Clip k: <video>" line per clip; k-th <video> tag = videos[k])
    videos        list  one dict per <video> tag: {"video": [absolute frame paths],
                        "sample_fps": float, "max_pixels": int, "min_pixels": int}
    ability       str   "video/<task>"
    reward_model  dict  {"style": "rule", "ground_truth": str}
    extra_info    dict  EXTRA_INFO_KEYS, every key present with a concrete value in every row
                        (parquet unions struct keys across rows; None breaks qwen-vl-utils)

Ground truth strings: grounding "s.s-e.e" (seconds, one decimal); counting "c,s,t";
jigsaw n digits, digit k = shown position (1-based) of original clip k.
"""

from __future__ import annotations

import os

from data_prep import prompts

SYSTEM_PROMPT = prompts.SYSTEM  # the paper's; every prompt text lives in data_prep.prompts

# Paper: training frames at most 256*256 pixels (min 128*128); VIUBench evaluation at 512*512.
TRAIN_MAX_PIXELS = 256 * 256
TRAIN_MIN_PIXELS = 128 * 128
EVAL_MAX_PIXELS = 512 * 512
EVAL_MIN_PIXELS = 128 * 128

# One source per pipeline number (every stage reads these; a fork changes them here).
NUM_FRAMES = 48  # frames kept per video (the paper's): the frame stage, its sampling plan, eval budgets
MAX_JIGSAW_CLIPS = 9  # jigsaw answers are one digit per clip

ROW_KEYS = ("data_source", "prompt", "videos", "ability", "reward_model", "extra_info")

# extra_info: the same keys, with concrete values, in every row of every task.
EXTRA_INFO_KEYS = {
    "index": int,  # row index within its split file (verl reads extra_info.index)
    "split": str,  # "train" or "eval"
    "task": str,  # grounding | counting | jigsaw
    "subtype": str,  # perturbation name | easy/hard | n6/n8
    "difficulty": str,  # easy | hard | standard
    "video_id": str,  # frames-manifest id of the source video
    "sample_id": str,  # "<file stem>-<task>-<subtype>-NNNNNN", unique in its dataset folder (new frames live
    # under DATA_DIR/frames/<sample_id>/)
    "seed": int,  # seed of this sample's randomness (re-creates it exactly)
    "num_frames": int,  # frames shown in total (48)
    "sample_fps": float,  # fps of the 48-frame sequence (answers in seconds use it)
    "answer": str,  # == reward_model.ground_truth
    "meta": str,  # JSON: task-specific facts that verify the answer (spans, shapes, order)
}


def check_extra_info(extra: dict) -> None:
    """Raise ``ValueError`` unless ``extra`` has exactly ``EXTRA_INFO_KEYS`` with concrete values.

    >>> try:
    ...     check_extra_info({"index": 0})
    ... except ValueError as exc:
    ...     print("missing" in str(exc))
    True
    """
    missing = sorted(set(EXTRA_INFO_KEYS) - set(extra))
    unknown = sorted(set(extra) - set(EXTRA_INFO_KEYS))
    if missing or unknown:
        raise ValueError(f"extra_info keys differ from schema.EXTRA_INFO_KEYS: missing {missing}, unknown {unknown}")
    for key, kind in EXTRA_INFO_KEYS.items():
        value = extra[key]
        if value is None or not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"extra_info[{key!r}] must be {kind.__name__}, got {value!r}")


# FRAMES_DIR layout (``<video_id>/<tier>/NNN.jpg``): here, in the bottom layer, because the task
# generators read it as much as the frame stage writes it.
def frame_name(k: int) -> str:
    return f"{k:03d}.jpg"


def frame_paths(frames_dir: "os.PathLike[str] | str", record: dict, tier: str) -> list[str]:
    """Absolute frame paths of a manifest record for one tier.

    Plain string joins: builders call this for every frame they load, and a ``Path`` division
    per name cost ~10% of a VIUBench build.
    """
    folder = os.path.join(frames_dir, record["video_id"], tier, "")
    return [folder + frame_name(k) for k in range(record["num_frames"])]
