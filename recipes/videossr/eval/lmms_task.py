"""Write a ready-to-run copy of the lmms-eval VIUBench task pointing at a local parquet.

lmms-eval reads the data location from the task YAML (``dataset_kwargs.data_files``), so this
copies ``lmms_eval_task/`` (YAML + utils.py) to ``out`` with that path filled in; the packaged
template itself is never edited.

>>> # write_lmms_task("outputs/demo/data/viubench.parquet", "outputs/lmms_task") -> Path(".../viubench.yaml")
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from data_prep.jsonl import write_atomic
from recipes.videossr.eval.viubench import viubench_parquet

TEMPLATE_DIR = Path(__file__).parent / "lmms_eval_task"
PLACEHOLDER = "test: VIUBENCH_PARQUET"


def write_lmms_task(data: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Copy the task to ``out`` with ``data_files.test`` = the absolute parquet path."""
    parquet = str(viubench_parquet(data).resolve())
    out = Path(out).resolve()
    if out == TEMPLATE_DIR.resolve():
        raise ValueError("--out must not be the packaged template folder")
    template = (TEMPLATE_DIR / "viubench.yaml").read_text()
    if PLACEHOLDER not in template:
        raise ValueError(f"{TEMPLATE_DIR / 'viubench.yaml'} lost its '{PLACEHOLDER}' line")
    text = template.replace(PLACEHOLDER, f"test: {json.dumps(parquet)}")  # a JSON string is valid YAML
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "viubench.yaml", text.encode())
    write_atomic(out / "utils.py", (TEMPLATE_DIR / "utils.py").read_bytes())
    return out / "viubench.yaml"
