"""``python -m recipes.videossr.agreement --data PARQUET --model MODEL_DIR [--model ...] [--rows-per-source 1]``

Prints the agreement table (data_source x model family -> trainer tokens, tokens verl sent, vLLM
tokens, ids equal, positions differing), then the same rows as a markdown table for a closing note
(``--format`` picks one). Exit status 0 when every row agrees, 1 otherwise.
Needs one environment with verl 0.9.1 and vLLM 0.24 (see ``recipes/videossr/agreement/README.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(allow_abbrev=False, description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, action="append", help="a parquet written by data_prep (repeatable)")
    parser.add_argument("--model", required=True, action="append", help="a Qwen2.5-VL / Qwen3-VL folder (repeatable)")
    parser.add_argument("--rows-per-source", type=int, default=1, help="rows per data_source (<= 0: all)")
    parser.add_argument("--rows", type=int, nargs="*", help="explicit row indices instead")
    parser.add_argument("--json", help="also write the results here (a JSON list)")
    parser.add_argument("--format", choices=("text", "markdown", "both"), default="both",
                        help="table(s) to print (default both: plain text, then markdown)")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for the recipe config (key=value)")
    args = parser.parse_args(argv)
    os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")

    from recipes.videossr.agreement import check_parquet, format_markdown, format_table

    results = []
    for parquet in args.data:
        results += check_parquet(parquet, args.model, rows_per_source=args.rows_per_source, rows=args.rows,
                                 overrides=args.overrides)
    bad = [r for r in results if not r.equal]
    summary = f"{len(results) - len(bad)}/{len(results)} rows agree (token ids and mrope positions)"
    workers = sorted({r.trainer_worker for r in results if r.trainer_worker})
    if workers:
        summary += f"; trainer side: {', '.join(workers)}"
    if args.format in ("text", "both"):
        print(format_table(results))
        print(f"\n{summary}.")
    if args.format in ("markdown", "both"):
        if args.format == "both":
            print("\nMarkdown:\n")
        print(format_markdown(results))
        print(f"\n{summary}.")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([r.as_dict() for r in results], fh, indent=2)
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
