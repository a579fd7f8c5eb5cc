"""Model search: which model family and hyperparameters predict a label best, within a budget.

:class:`ModelSearch` is the interface the PREDICT and CREATE MODEL operators call; :func:`search_for` picks
the implementation for a spec. :class:`RandomSearch` serves the random, grid and tpe strategies (tpe:
optuna's TPE sampler proposes each family's configurations from the scores so far), interleaving families;
:class:`TuPAQSearch` (``strategy => 'tupaq'``, ``'successive_halving'`` or ``'hyperband'``) trains
configurations in rounds, stops those far behind the best (bandit allocation) and trains linear
configurations in batches (physical batching).
"""

from paqdb.search.base import ModelSearch, ProgressCallback, SearchProgress, SearchResult, Trial
from paqdb.search.random_search import RandomSearch
from paqdb.search.spec import BANDIT_STRATEGIES, Budget, SearchSpec, parse_budget
from paqdb.search.tupaq_search import TuPAQSearch


def search_for(spec: SearchSpec) -> ModelSearch:
    """The search implementation that runs ``spec`` (its ``strategy``)."""
    if spec.strategy in BANDIT_STRATEGIES:
        return TuPAQSearch()
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
    "TuPAQSearch",
    "parse_budget",
    "search_for",
]
