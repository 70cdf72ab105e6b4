"""The sub-commands of ``python -m data_prep`` (one module each) and their shared argument types."""

from __future__ import annotations

import argparse
import sys
from typing import Callable

# What a command reports as one ``error: ...`` line (exit status 2) instead of a traceback.
USER_ERRORS = (FileNotFoundError, ValueError)


def run_command(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """``run(args)`` as an exit status; a user error (a missing file, a bad value) is one line on
    stderr and status 2, never a traceback.

    >>> def missing(args):
    ...     raise FileNotFoundError("no frames at f")
    >>> run_command(missing, argparse.Namespace())
    2
    """
    try:
        return int(run(args) or 0)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def positive_int(text: str) -> int:
    """An argparse ``type`` for counts that must be >= 1 (``--workers 0`` would start no worker).

    >>> positive_int("2")
    2
    >>> positive_int("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a positive integer, got '0'
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value
