"""One place per statement (issue 9): a statement is one module plus its registration, and capability
statements receive a bound, checked request."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

import paqdb
from paqdb import errors, statements
from paqdb.capability import CapabilityContext, CapabilityRequest
from paqdb.cli.shell import Shell
from paqdb.statements.causal_freq import CausalFreq

from . import toy


@pytest.fixture
def registered() -> Iterator[None]:
    statements.register(toy.__name__)  # the one registration line
    yield
    statements.unregister(toy.__name__)


def test_a_new_statement_runs_from_the_dbapi(con: paqdb.Connection, registered: None) -> None:
    rows = con.execute("SUMMARIZE COLUMN petal_length_cm FROM iris WITH (scale => 2)").fetchall()
    assert len(rows) == 1
    title, n, scaled = rows[0]
    mean = con.execute("SELECT avg(petal_length_cm) FROM iris").fetchone()
    assert title == "summary" and n == 150 and mean is not None
    assert scaled == pytest.approx(2 * mean[0])


def test_a_new_statement_runs_from_the_shell(con: paqdb.Connection, registered: None) -> None:
    out, err = io.StringIO(), io.StringIO()
    shell = Shell(con.session, out=out, err=err, mode="csv")
    assert shell.run_batch("SUMMARIZE COLUMN sepal_width_cm FROM iris WITH (title => 'sepals');") == 0
    assert out.getvalue().splitlines()[0] == "title,n,scaled_mean"
    assert out.getvalue().splitlines()[1].startswith("sepals,150,")


def test_a_new_statement_explains_parses_back_and_is_a_keyword(
    con: paqdb.Connection, registered: None
) -> None:
    plan = [r[0] for r in con.execute("EXPLAIN SUMMARIZE COLUMN petal_length_cm FROM iris").fetchall()]
    text = "\n".join(plan)
    assert "Capability" in text and "one scan of iris for petal_length_cm" in text and "scale 1" in text
    canonical = "SUMMARIZE COLUMN x FROM t WITH (scale => 3)"
    assert statements.parse_one(canonical).ast.sql(dialect=statements.grammar().dialect) == canonical
    assert "SUMMARIZE" in statements.grammar().keywords
    assert "SUMMARIZE COLUMN" in statements.grammar().phrases


def test_a_new_statement_checks_its_options(con: paqdb.Connection, registered: None) -> None:
    with pytest.raises(errors.InvalidParameterError) as unknown:
        con.execute("SUMMARIZE COLUMN petal_length_cm FROM iris WITH (scael => 2)")
    assert "unknown option 'scael'" in unknown.value.message
    assert unknown.value.hint == "SUMMARIZE COLUMN takes: scale, title"
    assert (unknown.value.line, unknown.value.column) == (1, 50)
    with pytest.raises(errors.InvalidParameterError, match="at least 0"):
        con.execute("SUMMARIZE COLUMN petal_length_cm FROM iris WITH (scale => -1)")
    with pytest.raises(errors.InvalidParameterError, match="takes a number"):
        con.execute("SUMMARIZE COLUMN petal_length_cm FROM iris WITH (scale => 'big')")


def test_unregistered_the_words_are_duckdbs_again(con: paqdb.Connection) -> None:
    assert statements.parse_one("SUMMARIZE COLUMN x FROM t").is_plain
    assert toy.Summarize not in statements.declarations()


def test_causal_freq_hands_its_implementation_exactly_its_columns(
    con: paqdb.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[CapabilityRequest] = []

    class Recorder:
        def run(self, request: CapabilityRequest, context: CapabilityContext) -> object:
            import pyarrow as pa

            seen.append(request)
            return pa.table({"ok": [True]})

    con.execute(
        "CREATE TABLE ticks AS SELECT range AS ts, range * 1.5 AS bid, range * 2.5 AS ask, "
        "0 AS spread, 'X' AS symbol FROM range(10)"
    )
    monkeypatch.setattr(CausalFreq, "load_implementation", classmethod(lambda cls: Recorder()))
    con.execute("CAUSAL FREQ bid, ask FROM ticks TIME ts")
    con.execute("CAUSAL FREQ ask, bid FROM ticks TIME ts BY symbol WITH (segments => 4)")
    first, second = seen
    assert first.columns == ("bid", "ask") and first.time == "ts" and first.by is None
    assert first.options["segments"] == 16  # the default, filled in
    assert second.columns == ("ask", "bid") and second.by == "symbol" and second.options["segments"] == 4
    assert [c.name for c in first.source_columns] == ["ts", "bid", "ask", "spread", "symbol"]


@pytest.mark.parametrize(
    ("sql", "column", "words"),
    [
        ("CAUSAL FREQ bid, nope FROM iris TIME sepal_width_cm", 13, "column 'bid'"),
        ("CAUSAL FREQ sepal_length_cm FROM iris TIME when_", 44, "column 'when_'"),
        ("CAUSAL FREQ sepal_length_cm FROM iris TIME species BY series", 55, "column 'series'"),
        ("CLEAN iris PREDICT labelz", 20, "column 'labelz'"),
        ("CLEAN iris PREDICT species USING MODEL ghost", 40, "model 'ghost'"),
        ("CROWD LABEL kind FROM iris", 13, "column 'kind'"),
        ("CROWD LABEL species FROM iris GIVEN nowhere", 37, "table 'nowhere'"),
    ],
)
def test_unknown_names_are_positioned_errors_before_anything_runs(
    con: paqdb.Connection, sql: str, column: int, words: str
) -> None:
    with pytest.raises(errors.ProgrammingError) as caught:
        con.execute(sql)
    assert words in caught.value.message
    assert (caught.value.line, caught.value.column) == (1, column)
