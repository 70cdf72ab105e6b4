"""Downstream video benchmarks on local data: multiple choice QA and temporal grounding.

Input: a JSON list (or JSONL) of ``{"video": id, "question": ..., "answer": ...}`` items; videos
are looked up under ``--videos DIR``. One module per concern: ``items`` (loading, video lookup),
``prompts`` (the paper's and lmms-eval's prompts), ``parsing`` (option letters, intervals),
``metrics`` (accuracy, mIoU, R@k), ``runner`` (the evaluation loop, outputs).
"""
