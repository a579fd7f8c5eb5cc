"""Random, grid and TPE search over model families, within a time or trial budget.

Configurations of the chosen families are tried in turn, one family after another (round-robin), so that
even a short budget tries every family; each family's next configuration comes from its proposal stream
(:mod:`paqdb.search.proposals`: random draws, the grid, or optuna's TPE sampler). :class:`RandomSearch` is
that loop and nothing else: the data prepared once and each configuration fitted and scored are
:mod:`paqdb.search.trials`, the clock, the final refit and the result :mod:`paqdb.search.run`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paqdb.errors import SearchInterrupted, TrainingError
from paqdb.search.base import SearchOutcome, Trial
from paqdb.search.proposals import configuration_stream
from paqdb.search.run import SearchFinding, SearchRun, SearchStrategy
from paqdb.search.trials import interrupted_trial, trained_configuration

if TYPE_CHECKING:  # scikit-learn loads when a search runs, not when paqdb is imported
    from sklearn.base import BaseEstimator


class RandomSearch(SearchStrategy):
    """Random, grid or TPE search over model families; implements :class:`~paqdb.search.base.ModelSearch`.

    The families take turns (round-robin), one configuration each, until the budget or every family's
    configurations run out. The time limit (the budget's duration, or the default cap of a budget of
    trials) holds inside a trial too: a fit that can stop itself stops at the deadline and its model
    competes with the score it reached (:meth:`~paqdb.search.trials.TrialRunner.evaluate`).

    Examples
    --------
    >>> result = RandomSearch().run(table, "income", SearchSpec(budget=parse_budget("30 seconds")))
    ... # doctest: +SKIP
    >>> result.model.predict_arrow(...)  # doctest: +SKIP
    """

    def search(self, run: SearchRun) -> SearchFinding:
        """Try the families' configurations in turn on ``run``'s data; see :meth:`SearchStrategy.search`."""
        plan, runner, budget, clock, deadline = run.plan, run.runner, run.budget, run.clock, run.deadline
        streams = {family.name: configuration_stream(family, plan) for family in plan.families}
        trials: list[Trial] = []
        best: tuple[Trial, BaseEstimator] | None = None
        slowest_trial_seconds: dict[str, float] = {}
        active = list(plan.families)
        interrupted = False
        outcome: SearchOutcome = "complete"
        overrun: str | None = None

        def refit_reserve() -> float:
            # Refitting on every row costs about one trial scaled by the row count; time is kept for it.
            return 0.0 if best is None else run.refit_seconds(best[0])

        try:
            while active:
                tried_any = False
                for family in list(active):
                    if budget.trials is not None and len(trials) >= budget.trials:
                        outcome = "trial budget reached"
                        active.clear()
                        break
                    remaining = deadline - clock()
                    # Time is kept for the refit only while it can still fit; once it cannot, the refit
                    # will be skipped and the time is better spent on trials.
                    if refit_reserve() < remaining:
                        remaining -= refit_reserve()
                    if remaining <= 0:
                        outcome = "time budget reached"
                        active.clear()
                        break
                    # A trial measured to take longer than the time left is not started (a fit that cannot
                    # stop itself would overrun; one that can would end as a worse model).
                    if slowest_trial_seconds.get(family.name, 0.0) > remaining:
                        continue
                    configuration = streams[family.name].next()
                    if configuration is None:
                        active.remove(family)
                        continue
                    trial_started = clock()
                    runner.deadline = trial_started + remaining
                    try:
                        trial, estimator = runner.evaluate(len(trials), family, configuration)
                    except KeyboardInterrupt:
                        trials.append(
                            interrupted_trial(
                                len(trials), family, configuration, plan, clock() - trial_started
                            )
                        )
                        raise
                    if overrun is None and clock() > deadline:
                        overrun = f"a {family.name} trial could not stop sooner ({trial.seconds:.1f} s)"
                    trials.append(trial)
                    streams[family.name].report(configuration, trial.validation_score)
                    tried_any = True
                    slowest_trial_seconds[family.name] = max(
                        trial.seconds, slowest_trial_seconds.get(family.name, 0.0)
                    )
                    if (
                        estimator is not None
                        and trial.validation_score is not None
                        and plan.metric.is_better(trial.validation_score, _score(best))
                    ):
                        best = (trial, estimator)
                    run.report(len(trials), _score(best), None if best is None else best[0].family, trial)
                if not tried_any and active:
                    # Every family left is measured to take longer than the time left.
                    outcome = "time budget reached"
                    break
        except KeyboardInterrupt:
            interrupted = True

        if best is None:
            if interrupted:
                raise SearchInterrupted(
                    f"the model search was interrupted after {len(trials)} trials, before any model finished",
                    hint="run it again and let at least one trial finish",
                )
            if not any(t.error for t in trials) and outcome == "time budget reached":
                raise TrainingError(
                    "the search's time budget ran out before any trial finished training"
                    + (f" ({len(trials)} were cut short)" if trials else ""),
                    hint="give the search more time, e.g. budget => '1 minute', or train on fewer rows",
                )
            first_error = next((t.error for t in trials if t.error), "no trial could run")
            raise TrainingError(
                f"every one of the {len(trials)} trials failed; the first failed with: {first_error}",
                hint="check the hyperparameter values and the training data",
            )
        best_trial, estimator = best
        best_family = next(f for f in plan.families if f.name == best_trial.family)
        assert best_trial.validation_score is not None
        return SearchFinding(
            trials=trials,
            best_trial=best_trial,
            family=best_family,
            configuration=trained_configuration(best_trial, best_family),
            estimator=estimator,
            validation_score=best_trial.validation_score,
            outcome=outcome,
            interrupted=interrupted,
            overrun=overrun,
        )


def _score(best: tuple[Trial, BaseEstimator] | None) -> float | None:
    return None if best is None else best[0].validation_score


__all__ = ["RandomSearch"]
