"""Built rows load through verl's own RLHFDataset and a real Qwen-VL processor (tiny, built offline)."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf
from transformers import AutoProcessor, AutoTokenizer
from verl.utils.dataset.rl_dataset import RLHFDataset

from data_prep.build import read_rows


@pytest.mark.parametrize("model_fixture", ["tiny_qwen25vl_dir", "tiny_qwen3vl_dir"])
@pytest.mark.parametrize("file", ["train.parquet", "viubench.parquet"])
def test_rows_load_and_placeholders_match_videos(model_fixture, file, videossr_data_dir, request, tmp_path, monkeypatch):
    # verl's stock class reads frame paths as they are: the rows' are relative to their dataset folder
    # (data_prep.media; VideoSSRDataset resolves them from anywhere, tests/recipes/videossr/test_dataset_on_cpu.py).
    monkeypatch.chdir(videossr_data_dir)
    model_dir = request.getfixturevalue(model_fixture)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    processor = AutoProcessor.from_pretrained(model_dir)
    config = OmegaConf.create(
        {
            "max_prompt_length": 100000,
            "filter_overlong_prompts": False,
            "filter_overlong_prompts_workers": None,
            "cache_dir": str(tmp_path),
        }
    )
    parquet = videossr_data_dir / file
    dataset = RLHFDataset(str(parquet), tokenizer, config, processor)
    rows = read_rows(parquet)
    assert len(dataset) == len(rows)
    video_token = processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")
    start_token = processor.tokenizer.convert_tokens_to_ids("<|vision_start|>")
    seen_tasks = set()
    for i, row in enumerate(rows):
        task = row["extra_info"]["task"]
        if task in seen_tasks:  # one row per task keeps this fast; the rows share the code path
            continue
        seen_tasks.add(task)
        item = dataset[i]
        assert item["data_source"] == row["data_source"] and item["index"] == i
        messages = item["raw_prompt"]
        _, videos, _ = RLHFDataset._process_multi_modal_info(messages, dataset.image_patch_size, config)
        assert len(videos) == len(row["videos"]) == row["prompt"][1]["content"].count("<video>")
        frames, metadata = zip(*videos)
        for clip, entry in zip(frames, row["videos"]):
            assert clip.shape[0] == len(entry["video"])  # frame lists are not subsampled
        text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        inputs = processor(
            text=[text],
            videos=list(frames),
            video_metadata=list(metadata),
            do_sample_frames=False,
            return_tensors="pt",
        )
        ids = inputs["input_ids"][0]
        merge = processor.video_processor.merge_size**2
        assert int((ids == video_token).sum()) == int(inputs["video_grid_thw"].prod(-1).sum()) // merge
        assert int((ids == start_token).sum()) >= len(videos)
        assert inputs["video_grid_thw"].shape[0] in (
            len(videos),
            sum(len(v["video"]) // 2 for v in row["videos"]),
        )
    assert seen_tasks == {"grounding", "counting", "jigsaw"}
