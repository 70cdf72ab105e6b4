"""vLLM backend: needs a CUDA GPU and vLLM (GPU install); skipped elsewhere."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.gpu


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_vllm_generates_for_frame_list_videos(viubench_parquet, tiny_qwen25vl_dir):
    pytest.importorskip("vllm")
    from recipes.videossr.eval.backends import GenerationSettings, load_backend
    from recipes.videossr.eval.conversation import build_conversation

    rows = pq.read_table(viubench_parquet).to_pylist()
    conversations = [build_conversation(rows[0]), build_conversation(rows[8])]
    settings = GenerationSettings(max_new_tokens=8, gpu_memory_utilization=0.3, max_model_len=4096)
    backend = load_backend("vllm", str(tiny_qwen25vl_dir), settings)
    answers = backend.generate(conversations)
    assert len(answers) == 2 and all(isinstance(a, str) for a in answers)
    assert backend.generate(conversations) == answers  # greedy
