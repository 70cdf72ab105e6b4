"""The sub-commands of ``python -m data_prep`` (one module each) and their shared argument types."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

from data_prep import validate
from data_prep.executors import JobFailed
from data_prep.locks import FolderBusy

# What a command reports as one ``error: ...`` line (exit status 2) instead of a traceback: a
# missing or wrong-kind path, a bad value, a folder another run holds, a cluster that cannot be reached.
USER_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError, FolderBusy, ConnectionError)
EXIT_USER_ERROR = 2
EXIT_FAILED = 1  # a program or environment error stopped the run (nothing was recorded for it)
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


def run_command(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """``run(args)`` as an exit status; a user error (a missing file, a bad value) is one line on
    stderr and status 2, a failed run (``JobFailed``) one line and status 1, Ctrl-C one line and
    status 130: never a traceback. What finished before an error or Ctrl-C is kept for the resume.

    >>> def missing(args):
    ...     raise FileNotFoundError("no frames at f")
    >>> run_command(missing, argparse.Namespace())
    2
    """
    try:
        return int(run(args) or 0)
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except JobFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\ninterrupted: finished work is kept; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


def arg_type(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse ``type`` from a ``data_prep.validate`` checker (its ValueError becomes argparse's
    error: usage, the option and the reason, exit status 2)."""

    def convert(text: str) -> Any:
        try:
            return check(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = check.__name__.replace("_", " ")  # argparse names it in "invalid <name> value"
    return convert


positive_int = arg_type(validate.positive_int)
positive_int.__doc__ = """An argparse ``type`` for counts that must be >= 1 (``--workers 0`` would start no worker).

    >>> positive_int("2")
    2
    >>> positive_int("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be a positive integer, got '0'
    """
non_negative_int = arg_type(validate.non_negative_int)
positive_float = arg_type(validate.positive_float)
fraction = arg_type(validate.fraction)
jpeg_quality = arg_type(validate.jpeg_quality)
tiers = arg_type(validate.tiers)
ray_address = arg_type(validate.ray_address)


class SpanAction(argparse.Action):
    """``--span START END``: each a fraction, and START < END (checked together, as argparse's error)."""

    def __call__(self, parser, namespace, values, option_string=None):
        try:
            setattr(namespace, self.dest, validate.span(values))
        except ValueError as exc:
            parser.error(f"argument {option_string}: {exc}")
