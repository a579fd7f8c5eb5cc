"""Parameters wherever a value may stand (issue 8, defect 4): plain SQL, PREDICT(...) queries and the
relations of paqdb statements, in the qmark, numeric and named styles DuckDB accepts, with executemany."""

from __future__ import annotations

import duckdb
import pytest

import paqdb


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("params") / "params.duckdb")
    with paqdb.connect(path) as con:
        con.execute("LOAD DATASET iris")
        con.execute(
            "CREATE MODEL m PREDICT species FROM iris "
            "USING SEARCH (families => ['logistic'], budget => '2 trials')"
        )
    return path


@pytest.fixture
def con(trained: str) -> paqdb.Connection:
    connection = paqdb.connect(trained)
    yield connection
    connection.close()


def test_the_readme_parameter_example_runs_and_keeps_the_work(con: paqdb.Connection) -> None:
    count = con.execute(
        "SELECT count(*) FROM iris WHERE PREDICT(species USING MODEL m) = ?", ["setosa"]
    ).fetchone()
    assert count is not None and 40 <= count[0] <= 60
    # The transaction goes on after it.
    con.execute("CREATE TABLE kept AS SELECT 1 AS a")
    con.commit()
    assert con.execute("SELECT a FROM kept").fetchone() == (1,)


@pytest.mark.parametrize(
    ("sql", "parameters"),
    [
        ("SELECT count(*) FROM iris WHERE PREDICT(species USING MODEL m) = ?", ["virginica"]),
        ("SELECT count(*) FROM iris WHERE PREDICT(species USING MODEL m) = $1", ["virginica"]),
        ("SELECT count(*) FROM iris WHERE PREDICT(species USING MODEL m) = $s", {"s": "virginica"}),
    ],
)
def test_every_style_in_a_predict_query(con: paqdb.Connection, sql: str, parameters: object) -> None:
    expected = con.execute(
        "SELECT count(*) FROM iris WHERE PREDICT(species USING MODEL m) = 'virginica'"
    ).fetchone()
    assert con.execute(sql, parameters).fetchone() == expected  # type: ignore[arg-type]


def test_parameters_in_the_relation_of_a_paqdb_statement(con: paqdb.Connection) -> None:
    rows = con.execute(
        "PREDICT species FROM (SELECT * FROM iris WHERE petal_length_cm < ?) USING MODEL m", [2.0]
    ).fetchall()
    expected = con.execute("SELECT count(*) FROM iris WHERE petal_length_cm < 2.0").fetchone()
    assert expected is not None and len(rows) == expected[0] > 0
    named = con.execute(
        "PREDICT species FROM (SELECT * FROM iris WHERE species = $kind AND petal_length_cm > $min) "
        "USING MODEL m",
        {"kind": "virginica", "min": 6},
    ).fetchall()
    assert named and all(row[4] == "virginica" for row in named)


def test_parameters_in_the_training_relation(con: paqdb.Connection) -> None:
    rows = con.execute(
        "PREDICT species FROM (SELECT * FROM iris WHERE petal_length_cm > ?) "
        "GIVEN (SELECT * FROM iris WHERE petal_length_cm <= ? OR species = ?) "
        "USING SEARCH (families => ['logistic'], budget => '1 trials')",
        [6.0, 6.0, "virginica"],
    ).fetchall()
    assert rows and {row[-2] for row in rows} <= {"setosa", "versicolor", "virginica"}


def test_executemany_with_a_predict_query(con: paqdb.Connection) -> None:
    con.execute("CREATE TABLE counts (species VARCHAR, n BIGINT)")
    con.executemany(
        "INSERT INTO counts SELECT ?, count(*) FROM iris WHERE PREDICT(species USING MODEL m) = ?",
        [["setosa", "setosa"], ["virginica", "virginica"]],
    )
    rows = con.execute("SELECT species, n FROM counts ORDER BY species").fetchall()
    assert [r[0] for r in rows] == ["setosa", "virginica"]
    assert all(n > 0 for _, n in rows)


def test_a_dict_binds_values_not_keys(con: paqdb.Connection) -> None:
    assert con.execute("SELECT $x AS a, $y AS b", {"x": 1, "y": 2}).fetchone() == (1, 2)
    plain = duckdb.connect()
    with pytest.raises(duckdb.Error):
        plain.execute("SELECT ? AS a, ? AS b", {"x": 1, "y": 2})
    with pytest.raises(paqdb.Error):
        con.execute("SELECT ? AS a, ? AS b", {"x": 1, "y": 2})


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ([], "1 parameter marker"),
        ([1.0, 2.0], "1 parameter marker"),
        ({"other": 1}, "no value given"),
    ],
)
def test_mismatched_parameters_in_a_paqdb_statement(
    con: paqdb.Connection, parameters: object, message: str
) -> None:
    with pytest.raises(paqdb.ProgrammingError, match=message):
        con.execute(
            "PREDICT species FROM (SELECT * FROM iris WHERE petal_length_cm < ?) USING MODEL m",
            parameters,  # type: ignore[arg-type]
        )


def test_typed_values_survive_binding_into_a_paqdb_statement(con: paqdb.Connection) -> None:
    import datetime
    import decimal

    con.execute(
        "CREATE TABLE typed AS SELECT *, DATE '2024-01-01' + (row_number() OVER ())::INT AS day, "
        "(petal_width_cm * 10)::DECIMAL(6, 2) AS dec FROM iris"
    )
    rows = con.execute(
        "PREDICT species FROM (SELECT * FROM typed WHERE day <= ? AND dec >= ? AND species <> ?) "
        "USING MODEL m",
        [datetime.date(2024, 1, 11), decimal.Decimal("1.50"), "it's"],
    ).fetchall()
    expected = con.execute(
        "SELECT count(*) FROM typed WHERE day <= DATE '2024-01-11' AND dec >= 1.5"
    ).fetchone()
    assert expected is not None and len(rows) == expected[0]
