"""Fast start (issue 9): what ``import paqdb`` and the shell's ``-c`` load, checked in fresh processes.

Only which modules load is checked here, never how long it takes: the timings are ``bench/startup.py``'s
(recorded in BENCHMARKS.md). A failure names the heavy packages that loaded; ``python -X importtime -c
"import paqdb"`` shows which paqdb module imported them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

HEAVY = ("sklearn", "scipy", "skops", "optuna")
"""What issue 9 says ``import paqdb`` must not load: only a statement that trains, searches or loads a
model needs them."""

INTERACTIVE = ("prompt_toolkit", "pygments")
"""What only the interactive shell needs (the prompt, completion, colours)."""


def _loaded_after(code: str, watched: tuple[str, ...]) -> list[str]:
    """Run ``code`` in a fresh interpreter; the packages of ``watched`` it left in ``sys.modules``."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json as _json, sys as _sys
        print(_json.dumps(sorted(name for name in {watched!r} if name in _sys.modules)))
        """
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"the child failed:\n{done.stdout}\n{done.stderr}"
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_import_paqdb_loads_no_learning_library() -> None:
    loaded = _loaded_after("import paqdb", HEAVY + INTERACTIVE)
    assert loaded == [], f"import paqdb loaded {loaded}; see python -X importtime -c 'import paqdb'"


def test_connecting_and_plain_sql_load_no_learning_library() -> None:
    # A PG-wire connection or an HTTP worker opens a connection and runs plain SQL first.
    code = """
    import paqdb
    with paqdb.connect() as connection:
        assert connection.cursor().execute("SELECT 42").fetchall() == [(42,)]
    """
    assert _loaded_after(code, HEAVY + INTERACTIVE) == []


def test_shell_command_loads_neither_learning_nor_interactive_libraries(tmp_path: Path) -> None:
    database = tmp_path / "start.duckdb"
    code = f"""
    import contextlib, io
    from paqdb.cli.shell import main
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = main([{str(database)!r}, "-c", "SELECT 1 AS one;"])
    assert status == 0 and "one" in out.getvalue(), out.getvalue()
    """
    assert _loaded_after(code, HEAVY + INTERACTIVE) == []


def test_model_modules_import_without_learning_library() -> None:
    # A server or a DuckDB function reads model records and metadata before it scores anything.
    code = """
    import paqdb.ml.families, paqdb.ml.features, paqdb.ml.metrics, paqdb.ml.model, paqdb.ml.training
    import paqdb.models
    assert paqdb.ml.families.get_family("logistic").tasks == ("classification",)
    """
    assert _loaded_after(code, HEAVY) == []


@pytest.mark.slow
def test_learning_library_loads_when_a_model_trains() -> None:
    # The other side of deferring: the imports still happen, inside the functions that need them.
    code = """
    import paqdb
    with paqdb.connect() as connection:
        cursor = connection.cursor()
        cursor.execute("CREATE TABLE t AS SELECT i::DOUBLE AS x, (i % 2 = 0) AS y FROM range(40) r(i)")
        cursor.execute(
            "CREATE MODEL m PREDICT y FROM t USING SEARCH (families => ['logistic'], budget => '1 trials')"
        )
        cursor.execute("PREDICT y FROM t USING MODEL m")
        assert len(cursor.fetchall()) == 40
    """
    assert "sklearn" in _loaded_after(code, HEAVY)


def test_ml_package_names_load_on_first_use() -> None:
    import paqdb.ml as ml
    from paqdb.ml.model import TrainedModel
    from paqdb.ml.tasks import MAX_CLASSIFICATION_INTEGERS, infer_task
    from paqdb.ml.training import MAX_CLASSIFICATION_INTEGERS as from_training

    assert ml.TrainedModel is TrainedModel
    assert ml.infer_task is infer_task
    assert from_training == MAX_CLASSIFICATION_INTEGERS  # its home before, still importable
    assert set(ml.__all__) <= set(dir(ml))
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = ml.Nothing  # type: ignore[attr-defined]


def test_engines_package_loads_duckdb_engine_on_first_use() -> None:
    import paqdb.engines as engines
    from paqdb.engines.duckdb import DuckDBEngine

    assert engines.DuckDBEngine is DuckDBEngine
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = engines.Nothing  # type: ignore[attr-defined]
