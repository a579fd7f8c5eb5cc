"""The documentation stays true: README examples parse, examples run, options and commands are documented."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

import paqdb
from paqdb.cli.shell import Shell
from paqdb.search.spec import SEARCH_OPTIONS
from paqdb.sql import split
from paqdb.statements import parse_one

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
EXAMPLES = sorted((ROOT / "sql_examples").glob("*.sql"))


def _sql_blocks() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", README, re.S)


def test_readme_sql_parses() -> None:
    """Every ```sql block is runnable SQL (grammar summaries are ```text); most of it is paqdb's."""
    texts = [text for block in _sql_blocks() for _, text in split(block)]
    checked = 0
    for text in texts:
        assert not re.search(r"\[(USING|IF|AS|GIVEN|BY|ANALYZE)\b", text), (
            f"grammar notation in a runnable ```sql block (make it ```text): {text}"
        )
        statement = parse_one(text)
        checked += not statement.is_plain
    assert checked >= 12


def test_every_search_option_is_documented() -> None:
    for option in SEARCH_OPTIONS:
        assert f"| `{option}` |" in README, f"search option {option} is missing from the README table"


def test_every_dot_command_is_documented() -> None:
    shell = Shell(paqdb.Session(), out=io.StringIO(), err=io.StringIO())
    for name in shell.commands:
        assert f"`{name}" in README or f"{name}`" in README or f" {name}" in README, name
    shell.session.close()


def test_every_statement_kind_is_documented() -> None:
    for words in (
        "PREDICT",
        "CREATE MODEL",
        "SHOW MODELS",
        "DESCRIBE MODEL",
        "DROP MODEL",
        "EXPLAIN",
        "LOAD DATASET",
        "CLEAN",
        "CROWD LABEL",
        "CAUSAL FREQ",
        "USING MODEL",
        "GIVEN",
        "EVALUATE MODEL",
        "EXPORT MODEL",
        "IMPORT",
        "PREDICT_PROBA",
        "DESCRIBE MODEL model [VERSION n] FEATURES",
        "WITH (explain => true)",
    ):
        assert words in README


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_sql_example_runs(path: Path, tmp_path: Path) -> None:
    with paqdb.connect(str(tmp_path / "example.duckdb"), autocommit=True) as con:
        for outcome in con.session.run(path.read_text()):
            assert outcome.result is not None
