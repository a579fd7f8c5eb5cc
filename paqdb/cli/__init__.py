"""The ``paqdb`` command: an interactive SQL shell and a script runner over :class:`paqdb.Session`.

Modules: :mod:`~paqdb.cli.shell` (the command, the :class:`~paqdb.cli.shell.Shell` and its dot commands),
:mod:`~paqdb.cli.render` (result tables as box, CSV, JSON, Markdown or line text),
:mod:`~paqdb.cli.completion` (tab completion), :mod:`~paqdb.cli.highlight` (syntax colours) and
:mod:`~paqdb.cli.progress` (the live progress line of a model search).
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``paqdb`` command with ``argv`` (default: the process arguments); return its exit status."""
    from paqdb.cli.shell import main as shell_main

    return shell_main(argv)


__all__ = ["main"]
