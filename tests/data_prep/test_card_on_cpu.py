"""Dataset card: counts per subtype, answer statistics, priors next to random guessing, the command."""

from __future__ import annotations

import json
import re

from data_prep.build import build_dataset, read_rows
from data_prep.card import answer_statistics, storage_bytes


def test_card_reports_counts_priors_and_command(frames_dir, tmp_path):
    out = tmp_path / "data"
    build_dataset(frames_dir, out, "viubench", per_subtype=3, seed=2, progress=False, command="CMD-VIU")
    build_dataset(
        frames_dir, out, "videossr30k", size=6, seed=2, uniform=True, progress=False, command="CMD-TRAIN"
    )
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and "config_name: viubench" in card and "config_name: train" in card
    assert "CMD-VIU" in card and "CMD-TRAIN" in card
    assert "| uniform | `True` |" in card and "| uniform | `False` |" in card
    rows = read_rows(out / "viubench.parquet")
    for source in {r["data_source"] for r in rows}:
        videos = len({r["extra_info"]["video_id"] for r in rows if r["data_source"] == source})
        assert re.search(rf"\| `{re.escape(source)}` \| 3 \| {videos} \|", card), source
    # the priors table: one line per subtype with random guess and best constant
    prior_lines = [line for line in card.splitlines() if line.startswith("| `videossr/") and line.count("|") == 10]
    assert len(prior_lines) == 9 + len({r["data_source"] for r in read_rows(out / "train.parquet")})
    counting_easy = next(line for line in prior_lines if "counting/easy" in line).split("|")
    assert float(counting_easy[3]) == 0.111  # random acc = 1/9
    jig8 = next(line for line in prior_lines if "jigsaw/n8" in line).split("|")
    assert float(jig8[3]) == 0.0
    assert "Validation slice: `viubench_val.parquet`, 27 rows = the first 3 rows of each of its 9 data sources" in card


def test_answer_statistics_per_task():
    rows = [{"extra_info": {"task": "counting", "answer": a}} for a in ("3,3,3", "1,2,9", "3,3,3")]
    assert answer_statistics(rows) == "per-type count mean 3.33, range 1-9; most common answer `3,3,3` (2x)"
    meta = '{"start_frame": %d, "end_frame": %d}'
    rows = [
        {"extra_info": {"task": "grounding", "answer": "x", "meta": meta % se}} for se in ((0, 8), (10, 26))
    ]
    assert (
        answer_statistics(rows) == "start frame mean 5.0 (range 0-10), length mean 12.0 frames (range 8-16)"
    )


def test_card_lists_recorded_prompt_tokens_and_flags_stale_ones(frames_dir, tiny_qwen3vl_dir, tmp_path):
    import json

    from data_prep.card import write_card
    from recipes.videossr.token_counts import record_token_counts

    out = tmp_path / "data"
    build_dataset(frames_dir, out, "viubench", per_subtype=1, seed=2, progress=False, command="CMD-VIU")
    card = (out / "README.md").read_text()
    assert "### Prompt tokens" in card
    assert "Not recorded: `python -m recipes.videossr.token_counts --data <this folder> --model <model folder>`" in card

    record = json.loads(record_token_counts(out / "viubench.parquet", tiny_qwen3vl_dir).read_text())
    first = write_card(out).read_bytes()
    assert write_card(out).read_bytes() == first  # byte-deterministic
    card = first.decode()
    counts = record["models"]["qwen3_vl"]["data_sources"]
    assert len(counts) == 9 and "Not recorded" not in card
    for source, c in counts.items():
        assert f"| `qwen3_vl` | `{tiny_qwen3vl_dir.name}` | `{source}` | {c['rows']} | {c['min']} | {c['mean']} | {c['max']} |" in card
    assert f"Longest prompt: `qwen3_vl` {max(c['max'] for c in counts.values())} tokens." in card
    assert "Stale" not in card

    # the parquet changes after the record (a rebuild): the card flags the record, lists no counts
    import pyarrow.parquet as pq

    table = pq.read_table(out / "viubench.parquet")
    pq.write_table(table.slice(0, 8), out / "viubench.parquet")
    card = write_card(out).read_text()
    assert "Stale (recorded for another build of `viubench.parquet`; record again): `qwen3_vl`." in card
    assert "| `qwen3_vl` |" not in card


def test_card_reports_bytes_per_video(frames_dir, tmp_path):
    out = tmp_path / "data"
    build_dataset(frames_dir, out, "viubench", per_subtype=2, seed=4, progress=False)
    rows = read_rows(out / "viubench.parquet")
    sizes = storage_bytes(out, rows)
    written = sum(p.stat().st_size for p in (out / "frames").rglob("*.jpg"))  # one build: all its new frames
    assert sizes["new"] == written > 0 and sizes["missing"] == 0 and sizes["referenced"] > 0
    assert sizes["videos"] == len({r["extra_info"]["video_id"] for r in rows} | {
        json.loads(r["extra_info"]["meta"]).get("partner_video_id") for r in rows} - {"", None})
    card = (out / "README.md").read_text()
    both = sizes["referenced"] + sizes["new"]
    assert f"| both | {both / 1e6:.2f} MB | {both / sizes['videos'] / 1e6:.2f} MB |" in card
    gone = [{**rows[0], "videos": [{"video": [str(tmp_path / "moved" / "000.jpg")]}]}]  # the frames folder moved
    assert storage_bytes(out, gone)["missing"] == 1
