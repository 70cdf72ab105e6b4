"""Downstream video benchmarks from your own item files: multiple choice QA and temporal grounding.

For the paper's 16 benchmarks read from their releases, see ``recipes.videossr.eval.bench``.

Input: a JSON list (or JSONL) of ``{"video": id, "question": ..., "answer": ...}`` items; videos
are looked up under ``--videos DIR``. One module per concern: ``items`` (loading, video lookup),
``prompts`` (the released vqa.py / vtg.py prompts), ``parsing`` (option letters, intervals),
``metrics`` (accuracy, mIoU, R@k), ``runner`` (the evaluation loop, outputs).
"""
