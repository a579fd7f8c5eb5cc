"""Bad CLEAN input: a clear error with a hint, at its place in the SQL, and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

import paqdb
from paqdb import errors

from .conftest import catalog_state

BASE = (
    "CLEAN donations PREDICT is_fraud USING MODEL fraud_model "
    "WITH (detect => {detect}, repair => {repair}, key => {key}, budget => 100, batch_size => 20)"
)


def _clean(
    detect: str = "'amount < 0 OR recipient IS NULL'", repair: str = "'donations_fixed'", key: str = "'id'"
) -> str:
    return BASE.format(detect=detect, repair=repair, key=key)


def _fails(con: paqdb.Connection, sql: str, kind: type[Exception], *words: str) -> paqdb.Error:
    before = catalog_state(con)
    with pytest.raises(kind) as caught:
        con.execute(sql)
    error = caught.value
    assert isinstance(error, paqdb.Error)
    for word in words:
        assert word in str(error), (word, str(error))
    assert error.hint, "every CLEAN error says how to fix it"
    assert catalog_state(con) == before, "a failed CLEAN changes nothing"
    return error


@pytest.mark.parametrize(
    ("detect", "bad_at", "words"),
    [
        ("'amount < 0 OR'", "OR'", "does not parse"),
        ("'amount < 0 AND (recipient IS NULL'", "NULL'", "does not parse"),
        ("'amount <> = 3'", "= 3", "does not parse"),
        ("'amount < 0 OR hour > ''x'' AND'", "AND'", "does not parse"),
    ],
)
def test_a_detect_predicate_that_does_not_parse_is_positioned_inside_the_string(
    cdb: paqdb.Connection, detect: str, bad_at: str, words: str
) -> None:
    sql = _clean(detect=detect)
    error = _fails(cdb, sql, errors.ParseError, words, "option 'detect'")
    assert error.line == 1 and error.column is not None
    assert sql[error.column - 1 :].startswith(bad_at), sql[error.column - 1 :]


def test_a_detect_predicate_over_an_unknown_column_is_an_error_at_the_option(cdb: paqdb.Connection) -> None:
    sql = _clean(detect="'amout < 0'")
    error = _fails(cdb, sql, errors.InvalidParameterError, "the predicate fails on donations", "amout")
    assert sql[error.column - 1 :].startswith("'amout")  # type: ignore[operator]


def test_a_repair_function_that_raises_names_the_failing_keys(cdb: paqdb.Connection) -> None:
    calls: list[Any] = []

    def fix(row: dict[str, Any]) -> dict[str, Any]:
        calls.append(row["id"])
        if row["recipient"] is None:
            raise ValueError("no recipient to fill in")
        return {"amount": abs(row["amount"])}

    cdb.register_cleaner("fix_donation", fix)
    nulls = [r[0] for r in cdb.execute("SELECT id FROM donations WHERE recipient IS NULL").fetchall()]
    error = _fails(
        cdb,
        _clean(repair="'fix_donation'"),
        errors.DataError,
        "the repair function 'fix_donation' failed for",
        "ValueError: no recipient to fill in",
        "nothing of the batch was applied",
    )
    failing = [k for k in nulls if k in calls]
    assert failing and all(str(k) in error.message for k in failing[:10])


@pytest.mark.parametrize(
    ("result", "words"),
    [
        ({"colour": "red"}, "returned column 'colour'"),
        ({"id": -5}, "changed the key column id"),
        ("fixed", "returned str"),
        ({"amount": "lots"}, "does not fit its column"),
    ],
)
def test_a_repair_function_that_returns_nonsense_fails_the_batch(
    cdb: paqdb.Connection, result: object, words: str
) -> None:
    cdb.register_cleaner("fix_donation", lambda row: result)
    _fails(cdb, _clean(repair="'fix_donation'"), errors.DataError, words)


def test_a_repair_table_missing_keys(cdb: paqdb.Connection) -> None:
    cdb.execute("CREATE TABLE partly_fixed AS SELECT * FROM donations_fixed WHERE id % 2 = 0")
    error = _fails(
        cdb,
        _clean(repair="'partly_fixed'"),
        errors.DataError,
        "the repair table partly_fixed has no row for id",
    )
    assert "are missing" in error.message


def test_a_repair_table_with_two_rows_for_a_key(cdb: paqdb.Connection) -> None:
    cdb.execute("CREATE TABLE twice AS SELECT * FROM donations_fixed UNION ALL SELECT * FROM donations_fixed")
    _fails(cdb, _clean(repair="'twice'"), errors.DataError, "more than one row for id")


def test_a_budget_larger_than_the_flagged_set_is_clamped_and_said(cdb: paqdb.Connection) -> None:
    flagged = cdb.execute("SELECT count(*) FROM donations WHERE amount < 0 OR recipient IS NULL").fetchone()[
        0
    ]
    cursor = cdb.execute(_clean().replace("budget => 100", "budget => 100000"))
    assert cursor.fetchall()[-1][1] == flagged
    assert f"budget 100000 is more than the {flagged} records the detector flags" in str(cursor.message)


def test_a_key_that_is_not_unique(cdb: paqdb.Connection) -> None:
    sql = _clean(key="'hour'")
    error = _fails(cdb, sql, errors.InvalidParameterError, "option 'key': hour is not unique", "repeated")
    assert sql[error.column - 1 :].startswith("'hour'")  # type: ignore[operator]


def test_a_key_with_nulls(cdb: paqdb.Connection) -> None:
    cdb.execute("INSERT INTO donations VALUES (NULL, 5.0, 3, 'oxfam', false)")
    _fails(cdb, _clean(), errors.InvalidParameterError, "option 'key': id is NULL in 1 records")


def test_a_key_column_that_does_not_exist(cdb: paqdb.Connection) -> None:
    sql = _clean(key="'donation_id'")
    error = _fails(cdb, sql, errors.UndefinedColumnError, "column 'donation_id' does not exist", "id, amount")
    assert sql[error.column - 1 :].startswith("'donation_id'")  # type: ignore[operator]


def test_a_label_column_that_does_not_exist(cdb: paqdb.Connection) -> None:
    sql = _clean().replace("PREDICT is_fraud", "PREDICT is_frauds")
    error = _fails(cdb, sql, errors.UndefinedColumnError, "column 'is_frauds' does not exist")
    assert sql[error.column - 1 :].startswith("is_frauds")  # type: ignore[operator]


def test_a_model_that_does_not_exist(cdb: paqdb.Connection) -> None:
    sql = _clean().replace("fraud_model", "fraud_modle")
    error = _fails(cdb, sql, errors.UndefinedModelError, "model 'fraud_modle' does not exist", "fraud_model")
    assert sql[error.column - 1 :].startswith("fraud_modle")  # type: ignore[operator]


def test_a_model_of_an_unsupported_family_names_the_supported_ones(cdb: paqdb.Connection) -> None:
    cdb.execute(
        "CREATE MODEL forest PREDICT is_fraud FROM (SELECT amount, hour, is_fraud FROM donations) "
        "USING SEARCH (families => ['random_forest'], budget => '1 trials')"
    )
    sql = _clean().replace("fraud_model", "forest")
    error = _fails(cdb, sql, errors.InvalidParameterError, "random_forest", "logistic, linear_svm, ridge")
    assert sql[error.column - 1 :].startswith("forest")  # type: ignore[operator]


def test_a_model_of_another_label(cdb: paqdb.Connection) -> None:
    _fails(
        cdb,
        _clean().replace("PREDICT is_fraud", "PREDICT hour"),
        errors.InvalidParameterError,
        "model 'fraud_model' predicts is_fraud, not hour",
    )


@pytest.mark.parametrize(
    ("sql", "kind", "words"),
    [
        (
            "CLEAN donations PREDICT is_fraud USING MODEL fraud_model "
            "WITH (detect => 'amount < 0', key => 'id')",
            errors.InvalidParameterError,
            "needs the option 'repair'",
        ),
        (
            "CLEAN donations PREDICT is_fraud USING MODEL fraud_model WITH (repair => 'manual', key => 'id')",
            errors.InvalidParameterError,
            "detector 'rules' needs the option 'detect'",
        ),
        (
            "CLEAN donations PREDICT is_fraud USING MODEL fraud_model WITH (detect => 'amount < 0', "
            "repair => 'manual')",
            errors.InvalidParameterError,
            "needs the option 'key'",
        ),
        (
            "CLEAN donations PREDICT is_fraud USING MODEL fraud_model WITH (detect => 'amount < 0', "
            "repair => 'nowhere', key => 'id')",
            errors.InvalidParameterError,
            "repair 'nowhere' is not 'manual'",
        ),
        (
            "CLEAN donations PREDICT is_fraud USING MODEL fraud_model WITH (detect => 'amount < 0', "
            "repair => 'amount = amount +', key => 'id')",
            errors.ParseError,
            "the repair assignment list does not parse",
        ),
        (
            "CLEAN donations PREDICT is_fraud USING MODEL fraud_model WITH (detect => 'amount < 0', "
            "repair => 'amont = 1', key => 'id')",
            errors.InvalidParameterError,
            "assigns column 'amont'",
        ),
        (
            "CLEAN donations PREDICT is_fraud USING MODEL fraud_model WITH (detect => 'amount < 0', "
            "repair => 'id = 1', key => 'id')",
            errors.InvalidParameterError,
            "assigns the key column id",
        ),
        (
            "CLEAN donations PREDICT is_fraud USING MODEL fraud_model WITH (detect => 'amount < 0', "
            "repair => 'sensors', key => 'id')",
            errors.InvalidParameterError,
            "the repair table sensors has no column of the cleaned table",
        ),
        (
            "CLEAN (SELECT * FROM donations) PREDICT is_fraud WITH (detect => 'amount < 0', "
            "repair => 'manual', key => 'id')",
            errors.InvalidParameterError,
            "CLEAN cleans a table, not a query",
        ),
        (
            "CLEAN donations PREDICT is_fraud USING MODEL fraud_model WITH (detect => 'amount < 0', "
            "repair => 'manual', key => 'id', detector => 'magic')",
            errors.InvalidParameterError,
            "option 'detector' must be one of",
        ),
        (
            "CLEAN donations PREDICT is_fraud USING MODEL fraud_model WITH (detect => 'amount < 0', "
            "repair => 'manual', key => 'is_fraud')",
            errors.InvalidParameterError,
            "is_fraud is not unique",
        ),
        (
            "CLEAN donations APPLY CORRECTIONS BATCH 0",
            errors.ParseError,
            "expected a batch number after BATCH",
        ),
    ],
)
def test_bad_options_are_errors_that_change_nothing(
    cdb: paqdb.Connection, sql: str, kind: type[Exception], words: str
) -> None:
    _fails(cdb, sql, kind, words)


def test_a_failure_in_a_late_batch_writes_nothing_of_the_earlier_ones(cdb: paqdb.Connection) -> None:
    calls: list[int] = []

    def fix(row: dict[str, Any]) -> dict[str, Any]:
        calls.append(row["id"])
        if len(calls) > 45:
            raise RuntimeError("the cleaner's service is down")
        return {"amount": abs(row["amount"]), "recipient": row["recipient"] or "unknown"}

    cdb.register_cleaner("flaky", fix)
    _fails(cdb, _clean(repair="'flaky'"), errors.DataError, "RuntimeError: the cleaner's service is down")
    assert len(calls) > 45  # earlier batches were repaired and folded in, then all of it was dropped


def test_a_failed_clean_inside_a_transaction_aborts_it_and_keeps_nothing(clean_db: str) -> None:
    with paqdb.connect(clean_db) as con:
        con.execute("CREATE TABLE partly_fixed AS SELECT * FROM donations_fixed WHERE id % 2 = 0")
        con.commit()
        before = catalog_state(con)
        with pytest.raises(errors.DataError):
            con.execute(_clean(repair="'partly_fixed'"))
        con.rollback()
        assert catalog_state(con) == before
