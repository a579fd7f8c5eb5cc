"""Review of explanations (issue 10, item 3): ``PREDICT ... GIVEN ... WITH (explain => true)`` trains only
what it can explain, and ``DESCRIBE MODEL m FEATURES`` on a version CLEAN made says which version its
importance was measured for."""

from __future__ import annotations

import pytest

import paqdb
from paqdb import errors


def test_given_with_explain_refuses_a_named_family_it_cannot_explain_before_training(
    con: paqdb.Connection,
) -> None:
    sql = (
        "PREDICT species FROM iris_test GIVEN iris_train "
        "USING SEARCH (families => ['logistic', 'mlp'], budget => '1 trials') WITH (explain => true)"
    )
    with pytest.raises(errors.NotSupportedError) as refused:
        con.execute(sql)
    assert "'mlp'" in refused.value.message and "families" in refused.value.message
    assert refused.value.hint is not None and "leave mlp out of families" in refused.value.hint
    assert refused.value.column == sql.index("explain") + 1
    # Refused while planning: EXPLAIN says so too, and nothing was trained.
    with pytest.raises(errors.NotSupportedError):
        con.execute("EXPLAIN " + sql)


def test_given_with_explain_searches_only_the_families_it_explains(con: paqdb.Connection) -> None:
    plan = "\n".join(
        r[0]
        for r in con.execute(
            "EXPLAIN PREDICT species FROM iris_test GIVEN iris_train "
            "USING SEARCH (budget => '2 trials') WITH (explain => true)"
        ).fetchall()
    )
    assert "explain: the search compares the families it can explain" in plan
    search = next(line for line in plan.splitlines() if "ModelSearch [" in line)
    listed = plan[plan.index(search) :]
    assert "- mlp" not in listed and "- kernel_approximation" not in listed
    assert "- logistic" in listed
    # Without explain the search keeps every family.
    plain = "\n".join(
        r[0]
        for r in con.execute(
            "EXPLAIN PREDICT species FROM iris_test GIVEN iris_train USING SEARCH (budget => '2 trials')"
        ).fetchall()
    )
    assert "- mlp" in plain and "families it can explain" not in plain


@pytest.mark.slow
def test_given_with_explain_on_every_default_search_explains_the_rows(con: paqdb.Connection) -> None:
    # A search over the default families with a budget that reaches every one of them: the model it
    # keeps is always one whose rows are explained (before, an mlp win failed after the search).
    rows = con.execute(
        "PREDICT species FROM iris_test GIVEN iris_train "
        "USING SEARCH (budget => '8 trials', max_iter => [5]) WITH (explain => true)"
    ).fetchall()
    assert rows and all(len(row[-2]) == 4 and isinstance(row[-1], float) for row in rows)


@pytest.mark.slow
def test_describe_features_of_a_cleaned_version_names_the_version_it_was_measured_for(
    con: paqdb.Connection,
) -> None:
    con.execute(
        "CREATE TABLE sensors AS SELECT id, temp, vibration, temp + 4 * vibration > 95 AS failure "
        "FROM (SELECT range AS id, CAST(40 + hash(range) % 40 AS DOUBLE) AS temp, "
        "CAST(hash(range * 7) % 100 AS DOUBLE) / 10 AS vibration FROM range(1000))"
    )
    con.execute("UPDATE sensors SET temp = temp * 10 WHERE id % 9 = 0")
    con.execute(
        "CREATE MODEL fm PREDICT failure FROM (SELECT temp, vibration, failure FROM sensors) "
        "USING SEARCH (families => ['logistic'], budget => '1 trials')"
    )
    trained = con.execute("DESCRIBE MODEL fm FEATURES")
    trained_rows = trained.fetchall()
    assert "measured for version" not in trained.message
    con.execute(
        "CLEAN sensors PREDICT failure USING MODEL fm WITH (detect => 'temp > 100', "
        "repair => 'temp = temp / 10', key => 'id', budget => 60, batch_size => 30)"
    )
    for sql in ("DESCRIBE MODEL fm FEATURES", "DESCRIBE MODEL fm VERSION 2 FEATURES"):
        cleaned = con.execute(sql)
        assert cleaned.fetchall() == trained_rows  # the importance it carries is version 1's
        assert "model fm version 2" in cleaned.message
        assert "measured for version 1 when it was trained" in cleaned.message
        assert "CLEAN updated" in cleaned.message
    # A second cleaning chains back to the trained version.
    con.execute(
        "CLEAN sensors PREDICT failure USING MODEL fm WITH (detect => 'temp > 100', "
        "repair => 'temp = temp / 10', key => 'id', budget => 30, batch_size => 30)"
    )
    third = con.execute("DESCRIBE MODEL fm VERSION 3 FEATURES")
    third.fetchall()
    assert "measured for version 1 when it was trained" in third.message
    assert "measured for" not in con.execute("DESCRIBE MODEL fm VERSION 1 FEATURES").message
