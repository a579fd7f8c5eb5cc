"""Every example in the README runs as written (issue 8), as datasette tests its documentation.

Each ```python block and each ```sql block runs in README order: the Python blocks in a fresh working
directory, the SQL blocks one after another through the shell on one fresh database, so a block may use
what the blocks before it made. Grammar summaries (with optional parts in brackets) are ```text blocks.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

import paqdb
from paqdb.cli.shell import Shell

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
BLOCKS = re.findall(r"```(python|sql)\n(.*?)```", README, re.S)


def test_the_readme_has_runnable_examples() -> None:
    languages = [language for language, _ in BLOCKS]
    assert "python" in languages and "sql" in languages


@pytest.mark.slow
def test_every_readme_example_runs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    session = paqdb.Session(str(tmp_path / "readme.duckdb"))
    shell = Shell(session, out=out, err=err)
    try:
        for number, (language, code) in enumerate(BLOCKS, 1):
            where = f"README block {number} ({language}):\n{code}"
            if language == "python":
                namespace: dict[str, object] = {"__name__": f"readme_block_{number}"}
                exec(compile(code, f"README.md block {number}", "exec"), namespace)
            else:
                try:
                    shell.run_script(code)
                except paqdb.Error as error:
                    pytest.fail(f"{where}\nfailed: {error}")
        assert os.path.exists(tmp_path / "my.duckdb")
    finally:
        session.close()
