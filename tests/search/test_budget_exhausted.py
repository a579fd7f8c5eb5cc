"""A time budget too small for any trial to finish: the error says so, for every strategy."""

from __future__ import annotations

import pytest

import paqdb
from paqdb.errors import TrainingError


@pytest.mark.parametrize("strategy", ["tupaq", "random"])
def test_a_budget_spent_before_any_trial_finishes_says_so(strategy: str) -> None:
    con = paqdb.connect(autocommit=True)
    con.execute("CREATE TABLE t AS SELECT i AS x, i % 2 AS y FROM range(20000) r(i)")
    with pytest.raises(TrainingError, match="time budget ran out before any") as caught:
        con.execute(
            "CREATE MODEL m PREDICT y FROM t "
            f"USING SEARCH (budget => '0.001 seconds', strategy => '{strategy}')"
        )
    assert "failed" not in caught.value.message
    assert "more time" in (caught.value.hint or "")
    assert con.execute("SHOW MODELS").fetchall() == []
