"""The README's benchmark tables, generated from the declarations (a test keeps the README in step).

``python -m recipes.videossr.eval.bench.docs`` prints both tables: what each adapter reads and
which rule it applies (with the rule's source), and the lmms-eval 0.7.3 mapping.
"""

from __future__ import annotations

from recipes.videossr.eval.bench.registry import all_benchmarks


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def benchmarks_table() -> str:
    lines = ["| benchmark (`bench NAME`) | table / domain | release | split | files under `--root` | rule | source of the rule |",
             "|---|---|---|---|---|---|---|"]
    for b in all_benchmarks():
        lines.append(f"| {b.title} (`{b.name}`) | {b.table} / {b.domain} | {_cell(b.release)} | {_cell(b.split)} | "
                     f"{_cell(b.layout)} | {_cell(b.rule)} | {_cell(b.source)} |")
    return "\n".join(lines)


def lmms_table() -> str:
    lines = ["| benchmark | lmms-eval 0.7.3 task | what still differs from the paper's protocol there |", "|---|---|---|"]
    for b in all_benchmarks():
        task = f"`{b.lmms_task}`" if b.lmms_task else "none"
        lines.append(f"| {b.title} | {task} | {_cell(b.lmms_note) or '—'} |")
    return "\n".join(lines)


def main() -> int:
    print(benchmarks_table())
    print()
    print(lmms_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
