"""Every README option table says what the parsers do: each option of ``python -m data_prep`` and of
``python -m recipes.videossr.eval`` has a row, and the row's default is the parser's.

The tables are read from the README sections that document each CLI (Stage 1 and 2 for data_prep,
Stage 5 for the evaluation). A row is ``| option | default | meaning |``:

* the option cell names one or more flags (``--fps F`` / ``--max-frames N [N ...]``) or a positional
  (``DATA_DIR``); ``(`cmd`)`` after a flag, or ``cmd``, ``cmd2``: at the start of the meaning, limits the
  row to those sub-commands (the evaluation's table is shared by its sub-commands);
* the default cell is ``required``, ``off`` (a switch), a value (converted with the option's own
  type and compared with its default: ``32 48 64`` is ``[32, 48, 64]``), or words for an option
  whose default is None (``all``, ``the mix's``); several flags take ``a / b`` defaults in order.
"""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SECTIONS = {"data_prep.cli": ("## Stage 1", "## Stage 2"), "recipes.videossr.eval.cli": ("## Stage 5",)}
CELL = re.compile(r"(?<!\\)\|")
FLAG = re.compile(r"--[a-z][a-z0-9-]*")
COMMANDS_IN_MEANING = re.compile(r"^((?:`[a-z][a-z-]*`(?:, )?)+):")
SWITCHES = (argparse._StoreTrueAction, argparse._StoreFalseAction, argparse._StoreConstAction)


def section(title: str) -> str:
    start = README.index(title)
    end = README.find("\n## ", start + 1)
    return README[start:end if end > 0 else None]


def option_tables(text: str) -> list[list[list[str]]]:
    """The ``| option | default | meaning |`` tables of ``text``, each a list of rows of cells."""
    tables, current = [], None
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in CELL.split(line.strip())[1:-1]]
            if current is None:
                current = [] if cells[:2] == ["option", "default"] else False
            elif current is not False and not set("".join(cells)) <= set("-: "):
                current.append(cells)
        else:
            if current:
                tables.append(current)
            current = None
    if current:
        tables.append(current)
    return tables


class Row:
    def __init__(self, cells: list[str]):
        option, default, meaning = cells[0], cells[1], cells[2]
        self.text = " | ".join(cells)
        self.flags = FLAG.findall(option)
        self.positionals = re.findall(r"`([A-Z][A-Z_]*)", option) if not self.flags else []
        qualified = re.findall(r"\(`([a-z][a-z-]*)`\)", option)
        found = COMMANDS_IN_MEANING.match(meaning)
        self.commands = set(qualified) | (set(re.findall(r"`([a-z-]+)`", found.group(1))) if found else set())
        names = self.flags or self.positionals
        parts = [p.strip() for p in default.split(" / ")]
        self.defaults = dict(zip(names, parts)) if len(parts) == len(names) else {n: default for n in names}


def subparsers(module: str) -> dict[str, argparse.ArgumentParser]:
    parser = importlib.import_module(module).build_parser()
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """name -> action: ``--flag`` for options, the metavar (or DEST) for positionals. Options that
    share a destination (``--uniform`` / ``--paper-priors``) share its default, the first one's, as
    when argparse parses a command line."""
    found, first = {}, {}
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        first.setdefault(action.dest, action.default)
        effective = first[action.dest]
        if effective is not action.default:
            action = _with_default(action, effective)
        if action.option_strings:
            found.update({flag: action for flag in action.option_strings if flag.startswith("--")})
        else:
            found[action.metavar if isinstance(action.metavar, str) else action.dest.upper()] = action
    return found


def _with_default(action: argparse.Action, default):
    import copy

    action = copy.copy(action)
    action.default = default
    return action


def convert(action: argparse.Action, text: str):
    text = text.strip().strip("`")
    sample = action.default[0] if isinstance(action.default, (list, tuple)) and action.default else action.default
    kind = action.type or (type(sample) if sample is not None else str)
    if action.nargs in ("+", "*") or isinstance(action.nargs, int):
        return [kind(part) for part in text.split()]
    return kind(text)


def problem(action: argparse.Action, text: str) -> str:
    """Why the README's default ``text`` is not the parser's ("" when it is)."""
    if action.required:
        return "" if text == "required" else f"required in the parser, README says {text!r}"
    if text == "required":
        return f"optional in the parser (default {action.default!r}), README says required"
    if isinstance(action, SWITCHES):  # "off": not given; words only where the default is None (the mix's)
        return "" if text == "off" or action.default is None else f"a switch, README says {text!r}, not off"
    if action.default is None:
        return "" if text else "no default text"  # described in words: the mix's, all, the parquet's folder
    try:
        value = convert(action, text)
    except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:
        return f"README default {text!r} is not a value of the option ({exc}); the parser's is {action.default!r}"
    expected = list(action.default) if isinstance(action.default, tuple) else action.default
    value = list(value) if isinstance(value, tuple) else value
    return "" if value == expected else f"README default {text!r} = {value!r}, the parser's is {action.default!r}"


def rows_for(module: str) -> list[Row]:
    return [Row(cells) for title in SECTIONS[module] for table in option_tables(section(title)) for cells in table]


def data_prep_tables() -> dict[str, list[Row]]:
    """Each Stage 1/2 table belongs to the one data_prep command that has all of its options."""
    commands = subparsers("data_prep.cli")
    owned: dict[str, list[Row]] = {}
    for title in SECTIONS["data_prep.cli"]:
        for table in option_tables(section(title)):
            rows = [Row(cells) for cells in table]
            names = {n for row in rows for n in row.flags + row.positionals}
            owners = [name for name, p in commands.items() if names <= set(options(p))]
            assert len(owners) == 1, f"a README table of {title} matches commands {owners}: {sorted(names)}"
            assert owners[0] not in owned, f"two README tables document `data_prep {owners[0]}`"
            owned[owners[0]] = rows
    return owned


def test_data_prep_tables_match_the_parsers():
    owned = data_prep_tables()
    missing, wrong = [], []
    for command, parser in subparsers("data_prep.cli").items():
        rows = owned.get(command)
        if rows is None:
            missing.append(f"{command}: no option table")
            continue
        for name, action in options(parser).items():
            documented = [row for row in rows if name in row.defaults]
            if not documented:
                missing.append(f"{command} {name}")
            for row in documented:
                if why := problem(action, row.defaults[name]):
                    wrong.append(f"{command} {name}: {why}")
    assert not missing and not wrong, f"README option tables vs data_prep's parsers: missing {missing}, wrong {wrong}"


def test_eval_table_matches_the_parsers():
    rows = rows_for("recipes.videossr.eval.cli")
    missing, wrong = [], []
    for command, parser in subparsers("recipes.videossr.eval.cli").items():
        for name, action in options(parser).items():
            mentioned = [row for row in rows if name in row.defaults]
            documented = [row for row in mentioned if command in row.commands] or \
                [row for row in mentioned if not row.commands]
            if not documented:
                missing.append(f"{command} {name}")
            for row in documented:
                if why := problem(action, row.defaults[name]):
                    wrong.append(f"{command} {name}: {why} (row: {row.text})")
    assert not missing and not wrong, f"README's Stage 5 table vs the eval parsers: missing {missing}, wrong {wrong}"


@pytest.mark.parametrize("text, default, nargs, kind, expected", [
    ("32 48 64", [48], "+", int, "the parser's is [48]"),
    ("`32 48 64`", [32, 48, 64], "+", int, ""),
    ("required", None, None, str, "optional in the parser"),
    ("2", 2.0, None, float, ""),
])
def test_the_comparison_catches_a_stale_default(text, default, nargs, kind, expected):
    parser = argparse.ArgumentParser(allow_abbrev=False)
    action = parser.add_argument("--x", nargs=nargs, type=kind, default=default)
    assert (expected in problem(action, text)) if expected else problem(action, text) == ""
