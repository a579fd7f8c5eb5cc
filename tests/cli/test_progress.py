"""The live progress line of a long statement."""

from __future__ import annotations

import io
from types import SimpleNamespace

from paqdb.cli.progress import ProgressLine, describe_progress


def snapshot(**fields: object) -> SimpleNamespace:
    defaults: dict[str, object] = {
        "trials_done": 4,
        "best_score": 0.91234,
        "best_family": "random_forest",
        "seconds_elapsed": 12.34,
        "seconds_left": 47.66,
        "trials_left": None,
        "metric": "accuracy",
    }
    return SimpleNamespace(**{**defaults, **fields})


def test_describe_a_search_snapshot() -> None:
    assert describe_progress(snapshot()) == (
        "search: 4 trials, best accuracy 0.9123 (random_forest), 12.3 s elapsed, 47.7 s left"
    )
    assert describe_progress(snapshot(trials_done=1, trials_left=9, best_score=None, seconds_left=None)) == (
        "search: 1 trial (9 left), 12.3 s elapsed"
    )
    assert "2 min 05 s elapsed" in describe_progress(snapshot(seconds_elapsed=125.2))


def test_describe_the_real_search_progress_class() -> None:
    from paqdb.search.base import SearchProgress

    progress = SearchProgress(
        trials_done=2, best_score=0.5, best_family="logistic", seconds_elapsed=1.0, seconds_left=2.0
    )
    assert describe_progress(progress).startswith("search: 2 trials, best ")


def test_describe_an_unknown_object_with_str() -> None:
    assert describe_progress("loading rows") == "loading rows"
    assert describe_progress(42) == "42"


def test_terminal_line_is_redrawn_in_place_and_cleared() -> None:
    stream = io.StringIO()
    line = ProgressLine(stream, is_terminal=True)
    line(snapshot(trials_done=1))
    line(snapshot(trials_done=2))
    line.clear()
    text = stream.getvalue()
    assert "\n" not in text
    assert text.count("\r\x1b[K") == 3
    assert text.endswith("\r\x1b[K")
    assert "2 trials" in text


def test_other_streams_get_at_most_one_line_per_interval() -> None:
    stream = io.StringIO()
    now = [0.0]
    line = ProgressLine(stream, is_terminal=False, interval=1.0, clock=lambda: now[0])
    for step in range(10):  # ten reports within 0.9 s
        now[0] = step * 0.1
        line(snapshot(trials_done=step))
    now[0] = 1.5
    line(snapshot(trials_done=10))
    line.clear()
    assert stream.getvalue().splitlines() == [describe_progress(snapshot(trials_done=n)) for n in (0, 10)]


def test_a_failing_report_never_raises() -> None:
    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("cannot describe")

    stream = io.StringIO()
    line = ProgressLine(stream, is_terminal=True)
    line(Broken())  # the RuntimeError is swallowed: a display problem never aborts a search
    line.clear()
    assert stream.getvalue() == ""  # nothing was drawn, so there is nothing to erase
    line(snapshot(trials_done=3))  # and the line keeps working
    assert "3 trials" in stream.getvalue()
