"""The ``oembeddings`` console script: the command line, run in this process."""

from __future__ import annotations

import sys

from . import _native


def main() -> None:
    """Runs ``oembeddings`` with this process's arguments and exits with its code."""
    sys.exit(_native.run_cli(["oembeddings", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
