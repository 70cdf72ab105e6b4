"""Benchmark the reward function (CPU): typical responses and 1 MB adversarial ones.

Prints, per case, the best-of-N time of one ``rewards.score`` call in each parse mode, and the
throughput on typical short answers. The 1 MB cases are the inputs that make backtracking
regexes blow up (digit runs, tag floods, marker floods); every parser here is linear.

    python bench/bench_rewards.py [--repeat 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from rewards import score
from rewards.scoring import PARSE_MODES

ONE_MB = 1_000_000
SAMPLES = {
    "videossr/grounding/mirror": ("12.3-20.1", "12.0-20.5"),
    "videossr/counting/hard": ("12,1,16", "11,1,16"),
    "videossr/jigsaw/n8": ("73125846", "73125864"),
}
ADVERSARIAL = {
    "digits": "1" * ONE_MB,
    "dashes": "1-" * (ONE_MB // 2),
    "spaces then dash": "1" + " " * ONE_MB + "-",
    "unclosed tag prefixes": "<answer" * (ONE_MB // 7),
    "tag pairs": "<answer>1</answer>" * (ONE_MB // 17),
    "markers": "answer:" * (ONE_MB // 7),
    "unicode digits": "\uff13" * ONE_MB,
    "valid answers": "3,1,4 " * (ONE_MB // 6),
}


def best_time(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here (bench/run_all.py)")
    args = parser.parse_args()
    figures: dict[str, float] = {}

    calls = 20_000
    for mode in PARSE_MODES:
        start = time.perf_counter()
        for i in range(calls):
            data_source = list(SAMPLES)[i % 3]
            truth, answer = SAMPLES[data_source]
            score(
                data_source,
                f"<answer>{answer}</answer>" if mode == "lenient" else answer,
                truth,
                parse_mode=mode,
            )
        per_call = (time.perf_counter() - start) / calls
        figures[f"typical_us_{mode}"] = round(per_call * 1e6, 1)
        print(f"typical answers, {mode:7s}: {per_call * 1e6:7.1f} us/call  ({1 / per_call:,.0f} calls/s)")

    print(f"\n1 MB adversarial responses, worst task, best of {args.repeat} (ms):")
    print(f"{'case':24s} " + " ".join(f"{m:>8s}" for m in PARSE_MODES))
    worst = dict.fromkeys(PARSE_MODES, 0.0)
    for name, response in ADVERSARIAL.items():
        row = []
        for mode in PARSE_MODES:
            row.append(
                max(
                    best_time(lambda d=d, t=t, r=response, m=mode: score(d, r, t, parse_mode=m), args.repeat)
                    for d, (t, _) in SAMPLES.items()
                )
            )
        print(f"{name:24s} " + " ".join(f"{t * 1e3:8.2f}" for t in row))
        worst = {m: max(worst[m], t) for m, t in zip(PARSE_MODES, row)}
    figures |= {f"worst_1mb_ms_{m}": round(t * 1e3, 2) for m, t in worst.items()}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
