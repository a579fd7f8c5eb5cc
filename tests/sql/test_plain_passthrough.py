"""Plain DuckDB SQL passes through paqdb untouched and behaves exactly as in DuckDB.

The corpus (``tests/golden/plain_duckdb.sql``, several hundred varied statements) runs twice in
lock-step: once on plain DuckDB, once through a paqdb session. Every statement must be classified as
plain, keep its exact text, and give the same rows (or the same error class) as DuckDB.
"""

from __future__ import annotations

import duckdb
import pytest
from corpus import load_corpus, load_error_corpus

import paqdb
from paqdb.dbapi import python_rows
from paqdb.statements import parse

PLAIN = load_corpus()
ERRORS = load_error_corpus()


def test_corpus_is_large_and_varied() -> None:
    assert len(PLAIN) >= 300
    first_words = {s.lstrip("(").split(None, 1)[0].upper() for s in PLAIN if not s.startswith("--")}
    assert {"SELECT", "CREATE", "INSERT", "UPDATE", "DELETE", "WITH", "PIVOT"} <= first_words


@pytest.mark.parametrize("sql", PLAIN, ids=range(len(PLAIN)))
def test_plain_statement_is_passed_through_with_its_exact_text(sql: str) -> None:
    statements = parse(sql)
    assert len(statements) == 1, "a corpus entry is one statement"
    statement = statements[0]
    assert statement.is_plain, "plain DuckDB SQL must not be parsed as a paqdb statement"
    assert statement.text == sql.strip().rstrip(";").rstrip(), "the text DuckDB receives is the text written"


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]] | None:
    return con.fetchall() if con.description is not None else None


def test_corpus_gives_the_same_results_through_paqdb_as_in_duckdb() -> None:
    duck = duckdb.connect()
    session = paqdb.Session(autocommit=True)
    mismatches: list[tuple[int, str]] = []
    try:
        for index, sql in enumerate(PLAIN):
            duck.execute(sql)
            count_only = duck.description is not None and [d[0] for d in duck.description] == ["Count"]
            expected = _rows(duck)
            result = session.execute(sql)
            if result.table is None:
                # DuckDB answers DML and DDL with a one-row "Count" result: paqdb turns it into rowcount.
                assert expected is None or count_only, f"entry {index}: rows lost: {sql}"
                if count_only and result.status in {"INSERT", "UPDATE", "DELETE", "MERGE"}:
                    assert expected is not None and result.rowcount == expected[0][0], f"entry {index}: {sql}"
            else:
                assert expected is not None, f"entry {index}: {sql}"
                mismatches.extend(
                    []
                    if [tuple(r) for r in expected]
                    == python_rows(result.table, [c.type for c in result.columns])
                    else [(index, sql)]
                )
        assert not mismatches, mismatches
    finally:
        duck.close()
        session.close()


@pytest.mark.parametrize(("expected", "sql"), ERRORS, ids=range(len(ERRORS)))
def test_duckdb_errors_keep_their_pep249_class(expected: str, sql: str) -> None:
    duck_class = getattr(duckdb, expected.split(".")[-1])
    pep_names = [
        "IntegrityError",
        "DataError",
        "NotSupportedError",
        "InternalError",
        "OperationalError",
        "ProgrammingError",
    ]
    pep_name = next(n for n in pep_names if issubclass(duck_class, getattr(duckdb, n)))
    with paqdb.Session(autocommit=True) as session, pytest.raises(getattr(paqdb, pep_name)) as caught:
        session.execute(sql)
    assert caught.value.sqlstate and len(caught.value.sqlstate) == 5
