"""Model search: which model family and hyperparameters predict a label best, within a budget.

:class:`ModelSearch` is the interface the PREDICT and CREATE MODEL operators call; :func:`search_for` picks
the implementation for a spec. :class:`RandomSearch` serves the random, grid and tpe strategies (tpe:
optuna's TPE sampler proposes each family's configurations from the scores so far), interleaving families;
:class:`TuPAQSearch` (``strategy => 'tupaq'``, ``'successive_halving'`` or ``'hyperband'``) trains
configurations in rounds, stops those far behind the best (bandit allocation) and trains linear
configurations in batches (physical batching).

Where things are:

- ``spec.py``: the options of ``USING SEARCH`` (:class:`SearchSpec`, budgets) and the plan they resolve to;
- ``base.py``: what a search returns and reports (:class:`SearchResult`, :class:`Trial`, progress);
- ``trials.py``: the data prepared once, and each configuration fitted and scored on it (``TrialRunner``);
- ``run.py``: how every search begins and ends (:class:`SearchStrategy`: the clock, the final refit, the
  result and its notes); a new strategy subclasses it and writes only its loop;
- ``proposals.py``: what configuration a family tries next (random, grid, TPE);
- ``random_search.py``, ``tupaq_search.py``: the two strategies' loops; ``arms.py`` and ``bandit.py``:
  TuPAQ's arms and allocators; ``cost.py``: the cost model EXPLAIN prints.

The strategies (and the scikit-learn and optuna they need) load on first use, not with this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from paqdb.search.base import ModelSearch, ProgressCallback, SearchProgress, SearchResult, Trial
from paqdb.search.spec import BANDIT_STRATEGIES, Budget, SearchSpec, parse_budget

if TYPE_CHECKING:
    from paqdb.search.random_search import RandomSearch
    from paqdb.search.run import SearchStrategy
    from paqdb.search.tupaq_search import TuPAQSearch

_LAZY = {
    "RandomSearch": "paqdb.search.random_search",
    "SearchStrategy": "paqdb.search.run",
    "TuPAQSearch": "paqdb.search.tupaq_search",
}


def __getattr__(name: str) -> Any:
    # PEP 562: the strategies import the trainers (scikit-learn, SciPy) only when a search needs them.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def search_for(spec: SearchSpec) -> ModelSearch:
    """The search implementation that runs ``spec`` (its ``strategy``)."""
    if spec.strategy in BANDIT_STRATEGIES:
        from paqdb.search.tupaq_search import TuPAQSearch

        return TuPAQSearch()
    from paqdb.search.random_search import RandomSearch

    return RandomSearch()


__all__ = [
    "Budget",
    "ModelSearch",
    "ProgressCallback",
    "RandomSearch",
    "SearchProgress",
    "SearchResult",
    "SearchSpec",
    "SearchStrategy",
    "Trial",
    "TuPAQSearch",
    "parse_budget",
    "search_for",
]
