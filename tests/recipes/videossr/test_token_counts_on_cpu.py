"""Token records: measured through the rollout path, merged per model family, deterministic, staleness."""

from __future__ import annotations

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from data_prep.build import build_dataset
from recipes.videossr import token_counts
from recipes.videossr.token_counts import (
    TokenRecordError,
    file_sha256,
    record_token_counts,
    recorded_prompt_tokens,
    tokens_path,
)


@pytest.fixture(scope="module")
def built(tmp_path_factory, frames_dir):
    """A data_prep build folder with a small VIUBench (viubench.parquet + build.json + card)."""
    out = tmp_path_factory.mktemp("tokens") / "data"
    build_dataset(frames_dir, out, "viubench", per_subtype=1, seed=3, progress=False)
    return out


def test_record_merges_families_and_is_deterministic(built, tiny_qwen25vl_dir, tiny_qwen3vl_dir, tmp_path):
    data = shutil.copytree(built, tmp_path / "data", symlinks=True)  # the dataset folder moves whole
    parquet = data / "viubench.parquet"
    (data / "viubench.tokens.json").unlink(missing_ok=True)
    path = record_token_counts(parquet, tiny_qwen3vl_dir)
    assert path == data / "viubench.tokens.json"
    first = path.read_bytes()
    record = json.loads(first)
    assert first.decode() == json.dumps(record, indent=2, sort_keys=True) + "\n"  # sorted keys
    entry = record["models"]["qwen3_vl"]
    assert record["parquet"] == "viubench.parquet" and record["format"] == 1
    assert entry["parquet_sha256"] == file_sha256(parquet) and entry["parquet_rows"] == 9
    assert entry["processor"]["patch_size"] == 16 and entry["processor"]["size"]["longest_edge"] > 0
    assert entry["measured_with"] == tiny_qwen3vl_dir.name
    assert sum(c["rows"] for c in entry["data_sources"].values()) == 9

    record_token_counts(parquet, tiny_qwen25vl_dir)  # merged: the qwen3_vl record stays as it was
    merged = json.loads(path.read_text())
    assert sorted(merged["models"]) == ["qwen2_5_vl", "qwen3_vl"] and merged["models"]["qwen3_vl"] == entry
    assert merged["models"]["qwen2_5_vl"]["processor"]["patch_size"] == 14
    both = path.read_bytes()
    record_token_counts(parquet, tiny_qwen3vl_dir, force=True)  # measured again: same bytes
    assert path.read_bytes() == both and not list(data.glob(".*tmp*"))  # atomic: no temp file left


def test_recorded_prompt_tokens_checks_freshness(built, tiny_qwen3vl_dir, tmp_path):
    from transformers import AutoProcessor

    parquet = shutil.copytree(built, tmp_path / "data", symlinks=True) / "viubench.parquet"
    parquet.with_name("viubench.tokens.json").unlink(missing_ok=True)
    processor = AutoProcessor.from_pretrained(tiny_qwen3vl_dir)
    with pytest.raises(TokenRecordError, match="no .*viubench.tokens.json: record them with `python -m "
                                               "recipes.videossr.token_counts --data"):
        recorded_prompt_tokens(parquet, tiny_qwen3vl_dir, processor, ["videossr/jigsaw/n8"])
    record_token_counts(parquet, tiny_qwen3vl_dir)
    counts = json.loads(tokens_path(parquet).read_text())["models"]["qwen3_vl"]["data_sources"]
    assert recorded_prompt_tokens(parquet, tiny_qwen3vl_dir, processor, counts) == max(c["max"] for c in counts.values())
    one = "videossr/counting/easy"
    assert recorded_prompt_tokens(parquet, tiny_qwen3vl_dir, processor, [one]) == counts[one]["max"]
    with pytest.raises(TokenRecordError, match="lacks videossr/other/x"):
        recorded_prompt_tokens(parquet, tiny_qwen3vl_dir, processor, ["videossr/other/x"])
    rows = pq.read_table(parquet).to_pylist()
    pq.write_table(pa.Table.from_pylist(rows[:5]), parquet)  # rebuilt smaller
    with pytest.raises(TokenRecordError, match="stale .*the parquet changed"):
        recorded_prompt_tokens(parquet, tiny_qwen3vl_dir, processor, [one])


def test_command_records_and_rewrites_the_card(built, tiny_qwen25vl_dir, tiny_qwen3vl_dir, tmp_path, capsys):
    built = shutil.copytree(built, tmp_path / "data", symlinks=True)  # rows' paths are relative to the folder
    before = (built / "README.md").read_text()
    assert "Not recorded: `python -m recipes.videossr.token_counts" in before
    argv = ["--data", str(built), "--model", str(tiny_qwen25vl_dir), str(tiny_qwen3vl_dir)]
    assert token_counts.main(argv) == 0
    out = capsys.readouterr().out
    assert "qwen3_vl processor, viubench.parquet" in out and "longest prompt:" in out and "dataset card:" in out
    record = json.loads((built / "viubench.tokens.json").read_text())
    assert sorted(record["models"]) == ["qwen2_5_vl", "qwen3_vl"]
    card = (built / "README.md").read_text()
    for family, entry in record["models"].items():
        for source, c in entry["data_sources"].items():
            assert f"| `{family}` | `{entry['measured_with']}` | `{source}` | {c['rows']} | {c['min']} |" in card
    assert token_counts.main(argv) == 0  # fresh records are reused: same file, same card
    assert (built / "README.md").read_text() == card
    assert token_counts.main(["--data", str(built / "nope.parquet"), "--model", str(tiny_qwen3vl_dir)]) == 2
    assert "no parquet at" in capsys.readouterr().err


def test_demo_step_records_the_demo_data(built, tiny_qwen25vl_dir, tiny_qwen3vl_dir, tmp_path):
    out = tmp_path / "demo"
    shutil.copytree(built, out / "data")
    (out / "models").mkdir()
    for kind, model in (("qwen2_5_vl", tiny_qwen25vl_dir), ("qwen3_vl", tiny_qwen3vl_dir)):
        (out / "models" / f"tiny-{kind}").symlink_to(model, target_is_directory=True)
    report = token_counts.demo_step(out, None)
    assert report[0].startswith("prompt tokens per task")
    record = json.loads((out / "data" / "viubench.tokens.json").read_text())
    assert sorted(record["models"]) == ["qwen2_5_vl", "qwen3_vl"]
    assert "### Prompt tokens" in (out / "data" / "README.md").read_text()
    assert "Not recorded" not in (out / "data" / "README.md").read_text()


def test_unchanged_inputs_reuse_the_record_without_the_processor(built, tiny_qwen3vl_dir, tmp_path, monkeypatch):
    """A resumed demo must not pay for transformers: same parquet + same processor files -> no measuring."""
    parquet = shutil.copytree(built, tmp_path / "data", symlinks=True) / "viubench.parquet"
    parquet.with_name("viubench.tokens.json").unlink(missing_ok=True)
    model = shutil.copytree(tiny_qwen3vl_dir, tmp_path / "model")
    path = record_token_counts(parquet, model)
    first = path.read_bytes()
    assert json.loads(first)["models"]["qwen3_vl"]["processor_files_sha256"] == token_counts.processor_files_sha256(model)

    def refuse(*args, **kwargs):
        raise AssertionError("measured again although nothing changed")

    monkeypatch.setattr(token_counts, "prompt_token_counts", refuse)
    monkeypatch.setattr("transformers.AutoProcessor.from_pretrained", refuse)
    assert record_token_counts(parquet, model).read_bytes() == first

    # A processor file changes (same settings): the processor is loaded and checked, the counts kept.
    monkeypatch.undo()
    (model / "tokenizer_config.json").write_text((model / "tokenizer_config.json").read_text() + "\n")
    monkeypatch.setattr(token_counts, "prompt_token_counts", refuse)
    entry = json.loads(record_token_counts(parquet, model).read_text())["models"]["qwen3_vl"]
    assert entry["processor_files_sha256"] == token_counts.processor_files_sha256(model) != json.loads(first)[
        "models"]["qwen3_vl"]["processor_files_sha256"]
    assert entry["data_sources"] == json.loads(first)["models"]["qwen3_vl"]["data_sources"]
