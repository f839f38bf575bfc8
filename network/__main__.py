"""``python -m network``: the command line (see cli.py)."""

from .cli import main

main()
