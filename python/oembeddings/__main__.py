"""``python -m oembeddings``: the command line."""

from ._cli import main

main()
