"""``python -m oembeddings``: the command line."""

from ._cli import main

# Importing the module (as stubtest and pydoc do) must not run the command line.
if __name__ == "__main__":
    main()
