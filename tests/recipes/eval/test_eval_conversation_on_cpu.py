"""Parquet row -> chat conversation: same placement rule as verl's RLHFDataset."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from recipes.videossr.eval.conversation import build_conversation, media_files


def test_jigsaw_row_interleaves_clips(viubench_parquet):
    row = next(r for r in pq.read_table(viubench_parquet).to_pylist() if r["data_source"] == "videossr/jigsaw/n8")
    conv = build_conversation(row, {"max_pixels": 128 * 128})
    # like verl, every turn becomes a content list once the row has videos
    assert conv[0] == {"role": "system", "content": [{"type": "text", "text": row["prompt"][0]["content"]}]}
    parts = conv[1]["content"]
    videos = [p for p in parts if p["type"] == "video"]
    assert len(videos) == 8 and parts[0] == {"type": "text", "text": "Clip 1: "}
    assert videos[3]["video"] == row["videos"][3]["video"]  # k-th tag = k-th clip
    assert all(v["max_pixels"] == 128 * 128 and v["sample_fps"] == row["videos"][0]["sample_fps"] for v in videos)
    assert len(media_files(row)) == 48


def test_tag_count_mismatch_is_an_error():
    row = {"prompt": [{"role": "user", "content": "<video> <video>"}], "videos": [{"video": ["a.jpg"]}]}
    with pytest.raises(ValueError, match="more <video> tags than videos"):
        build_conversation(row)


def test_same_conversation_as_verl_rlhf_dataset(viubench_parquet, tiny_qwen25vl_dir, tmp_path):
    """The evaluation prompt is the training prompt: compare with verl's own dataset class."""
    from omegaconf import OmegaConf
    from transformers import AutoProcessor
    from verl.utils.dataset.rl_dataset import RLHFDataset

    processor = AutoProcessor.from_pretrained(tiny_qwen25vl_dir)
    config = OmegaConf.create({"cache_dir": str(tmp_path), "filter_overlong_prompts": False})
    dataset = RLHFDataset(str(viubench_parquet), processor.tokenizer, config, processor)
    rows = pq.read_table(viubench_parquet).to_pylist()
    assert len(dataset) == len(rows)
    for k in (0, 2, 8):  # counting, grounding, 8-clip jigsaw
        assert build_conversation(rows[k]) == dataset[k]["raw_prompt"]
