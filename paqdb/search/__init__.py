"""Model search: which model family and hyperparameters predict a label best, within a budget.

:class:`ModelSearch` is the interface the PREDICT and CREATE MODEL operators call; :func:`search_for` picks
the implementation for a spec. Today :class:`RandomSearch` serves both strategies (random and grid),
interleaving families; TuPAQ's bandit planner will slot in behind the same interface.
"""

from paqdb.search.base import ModelSearch, ProgressCallback, SearchProgress, SearchResult, Trial
from paqdb.search.random_search import RandomSearch
from paqdb.search.spec import Budget, SearchSpec, parse_budget


def search_for(spec: SearchSpec) -> ModelSearch:
    """The search implementation that runs ``spec`` (its ``strategy``)."""
    return RandomSearch()


__all__ = [
    "Budget",
    "ModelSearch",
    "ProgressCallback",
    "RandomSearch",
    "SearchProgress",
    "SearchResult",
    "SearchSpec",
    "Trial",
    "parse_budget",
    "search_for",
]
