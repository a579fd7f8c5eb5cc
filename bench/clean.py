"""CLEAN (issue 11): ActiveClean against its baselines, on synthetic data and on UCI Adult with errors.

For budgets of 100, 200, 500, 1,000 and 2,000 cleaned records, the clean-test accuracy of:

* ``activeclean``: ActiveClean as CLEAN runs it (gradient-norm sampling with half of each draw's probability
  spread uniformly; the dirty part of the objective estimated from every record cleaned so far with
  importance weights, and minimised after each batch), rules detector;
* ``activeclean_proportional``: the same with pure proportional sampling (``uniform_share=0``, the paper's);
* ``activeclean_paper_step``: the paper's literal update, one gradient step per batch on the estimate from
  that batch alone (``estimate='batch', steps=1``; the first version of paqdb's CLEAN);
* ``activeclean_learned``: ActiveClean with the learned detector alone (a classifier trained on the records
  cleaned so far; every record is a candidate until it has seen a changed and an unchanged one);
* ``uniform``: the same update with uniform sampling among the flagged records;
* ``retrain_sample``: a logistic regression trained on a uniform sample of the budget's size, cleaned
  (SampleClean style);
* ``retrain_mix``: the budget cleaned among the flagged records (uniformly), then a retrain on everything;
* ``drop_flagged``: no cleaning; trained on the records the rules detector does not flag (biased in
  general, since the detector selects on the features and the label may depend on them in other ways than the
  model assumes; a reference for what the unflagged records alone give);
* ``dirty`` and ``clean``: trained on the dirty and on the fully clean training data;
* ``activeclean_cleanlab``: ActiveClean with cleanlab's label-issue mask as the detector (cleanlab finds
  *label* errors; these errors are in the features, so this row shows what happens when it does not apply).

The cleaning "person" is an oracle that returns the true record. Every arm is a logistic regression with
scikit-learn's defaults (C = 1); the models ActiveClean starts from are the dirty ones.

Data (fixed by issue 11; the seed varies data, corruption and sampling):

* ``synthetic``: 25,000 rows, 200 standard normal features, labels from a logistic model
  (``w ~ N(0, I)``, logit ``10 * x.w / sqrt(200)``, so the clean model's error is about 6%); 20,000 train /
  5,000 test. Corruption: 4,000 random training records of class 1 get the five features with the largest
  coefficients in the clean model replaced by ``-3 x + 3`` (a sign flip with scaling, and a shift). Rules
  detector: any of those five features above 1.5; it flags about 8,800 records (nearly all 4,000 corrupted
  ones, a few escape, and about 4,800 clean ones).
* ``adult``: UCI Adult (``paqdb.datasets``, 26,048 train / 6,513 test, stratified split). Corruption: 30% of
  the training records with income ``>50K``, chosen at random, have ``hours_per_week`` recorded per day
  (divided by 5) and ``capital_gain`` lost (0), as a form that asked for daily hours and dropped a field
  would. Rules detector: ``hours_per_week < 20`` (flags the corrupted records and the genuine part-timers).
  Features: one-hot categoricals and standardised numbers, the encoder fitted on the dirty training data.

Run: ``.venv/bin/python bench/clean.py`` (about 15 minutes on 2 cores); writes ``bench/results/clean.json``
and with ``--write``, the tables into the "Cleaning (issue 11)" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import machine_line, write_section

from paqdb.clean.activeclean import ActiveClean, ConvexModel
from paqdb.clean.baselines import cleanlab_label_issues, retrain_on_mix, retrain_on_sample, run_activeclean
from paqdb.clean.detectors import LearnedDetector

BUDGETS = (100, 200, 500, 1000, 2000)
BATCH = 50
RESULTS = Path(__file__).resolve().parent / "results" / "clean.json"
METHODS = (
    "activeclean",
    "activeclean_proportional",
    "activeclean_paper_step",
    "activeclean_learned",
    "uniform",
    "retrain_sample",
    "retrain_mix",
    "drop_flagged",
    "dirty",
    "clean",
    "activeclean_cleanlab",
)


@dataclass
class Problem:
    """One dirty training set with its clean truth, a clean test set and a rules detector."""

    X_clean: np.ndarray
    y: np.ndarray
    X_dirty: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    corrupted: np.ndarray  # bool, the records the corruption touched
    rules: np.ndarray  # bool, the rules detector's mask


def logistic() -> LogisticRegression:
    """The model every arm trains (scikit-learn's defaults, as paqdb's logistic family)."""
    return LogisticRegression(C=1.0, max_iter=2000)


def synthetic(seed: int) -> Problem:
    """The issue's synthetic problem (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n, n_train, d = 25_000, 20_000, 200
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    logit = 10.0 * (X @ w) / np.sqrt(d)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    X_train, y_train, X_test, y_test = X[:n_train], y[:n_train], X[n_train:], y[n_train:]
    clean_model = logistic().fit(X_train, y_train)
    top = np.argsort(-np.abs(clean_model.coef_[0]))[:5]
    bad = rng.choice(np.flatnonzero(y_train == 1), 4000, replace=False)
    X_dirty = X_train.copy()
    X_dirty[np.ix_(bad, top)] = -3.0 * X_dirty[np.ix_(bad, top)] + 3.0
    corrupted = np.zeros(n_train, dtype=bool)
    corrupted[bad] = True
    rules = (X_dirty[:, top] > 1.5).any(axis=1)
    return Problem(X_train, y_train, X_dirty, X_test, y_test, corrupted, rules)


def adult(seed: int) -> Problem:
    """UCI Adult with systematic errors injected (see the module docstring)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from paqdb import datasets

    train, test = datasets.split(datasets.load("adult"), test_fraction=0.2, seed=seed, stratify="income")
    frame, frame_test = train.to_pandas(), test.to_pandas()
    rng = np.random.default_rng(seed)
    y = (frame.pop("income") == ">50K").to_numpy().astype(np.int64)
    y_test = (frame_test.pop("income") == ">50K").to_numpy().astype(np.int64)
    high = np.flatnonzero(y == 1)
    bad = rng.choice(high, int(0.3 * len(high)), replace=False)
    dirty = frame.copy()
    dirty["hours_per_week"] = dirty["hours_per_week"].astype(float)
    dirty.loc[dirty.index[bad], "hours_per_week"] = dirty["hours_per_week"].iloc[bad] / 5.0
    dirty.loc[dirty.index[bad], "capital_gain"] = 0
    import pandas as pd

    categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    numeric = [c for c in frame.columns if c not in categorical]
    for f in (frame, dirty, frame_test):
        f[categorical] = f[categorical].astype(object).fillna("missing")
        f[numeric] = f[numeric].astype(float)
    encoder = ColumnTransformer(
        [
            ("categories", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
            ("numbers", StandardScaler(), numeric),
        ]
    ).fit(dirty)
    corrupted = np.zeros(len(y), dtype=bool)
    corrupted[bad] = True
    rules = (dirty["hours_per_week"] < 20).to_numpy()
    return Problem(
        encoder.transform(frame),
        y,
        encoder.transform(dirty),
        encoder.transform(frame_test),
        y_test,
        corrupted,
        rules,
    )


def run_seed(problem: Problem, seed: int) -> dict[str, dict[int, float]]:
    """Test accuracy of every method at every budget for one seed."""
    p = problem
    out: dict[str, dict[int, float]] = {m: {} for m in METHODS}
    dirty_estimator = logistic().fit(p.X_dirty, p.y)
    clean_estimator = logistic().fit(p.X_clean, p.y)
    kept_estimator = logistic().fit(p.X_dirty[~p.rules], p.y[~p.rules])
    for b in BUDGETS:
        out["drop_flagged"][b] = float(kept_estimator.score(p.X_test, p.y_test))
        out["dirty"][b] = float(dirty_estimator.score(p.X_test, p.y_test))
        out["clean"][b] = float(clean_estimator.score(p.X_test, p.y_test))

    def oracle(positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return p.X_clean[positions], p.y[positions]

    def record(name: str) -> Callable[[int, ActiveClean], None]:
        def checkpoint(count: int, run: ActiveClean) -> None:
            out[name][count] = run.model.score(p.X_test, p.y_test)

        return checkpoint

    n = len(p.y)
    arms: dict[str, tuple[np.ndarray | None, str, LearnedDetector | None, dict[str, object]]] = {
        "activeclean": (p.rules, "gradient", None, {}),
        "activeclean_proportional": (p.rules, "gradient", None, {"uniform_share": 0.0}),
        "activeclean_paper_step": (p.rules, "gradient", None, {"estimate": "batch", "steps": 1}),
        "uniform": (p.rules, "uniform", None, {}),
        "activeclean_learned": (None, "gradient", LearnedDetector(seed=seed), {}),
    }
    for name, (mask, sampling, detector, options) in arms.items():
        model = ConvexModel.from_estimator(dirty_estimator, n)
        run = run_activeclean(
            model,
            p.X_dirty,
            p.y,
            mask,
            oracle,
            max(BUDGETS),
            batch_size=BATCH,
            sampling=sampling,  # type: ignore[arg-type]
            detector=detector,
            checkpoints=BUDGETS,
            on_checkpoint=record(name),
            seed=seed,
            **options,
        )
        for b in BUDGETS:  # nothing flagged left before the budget: the final model stands
            out[name].setdefault(b, run.model.score(p.X_test, p.y_test))
    # cleanlab's label issues as the detector.
    issues = cleanlab_label_issues(logistic(), p.X_dirty, p.y, seed=seed)
    model = ConvexModel.from_estimator(dirty_estimator, n)
    run = run_activeclean(
        model,
        p.X_dirty,
        p.y,
        issues,
        oracle,
        max(BUDGETS),
        batch_size=BATCH,
        checkpoints=BUDGETS,
        on_checkpoint=record("activeclean_cleanlab"),
        seed=seed,
    )
    for b in BUDGETS:
        out["activeclean_cleanlab"].setdefault(b, run.model.score(p.X_test, p.y_test))
    out["_cleanlab_flagged"] = {0: float(issues.sum())}
    out["_cleanlab_recall"] = {0: float((issues & p.corrupted).sum() / max(p.corrupted.sum(), 1))}
    # The retraining baselines: nested uniform samples, so a larger budget extends a smaller one.
    rng = np.random.default_rng(seed + 1000)
    everyone = rng.permutation(n)
    flagged = rng.permutation(np.flatnonzero(p.rules))
    for b in BUDGETS:
        sample = everyone[:b]
        out["retrain_sample"][b] = float(
            retrain_on_sample(logistic(), p.X_clean[sample], p.y[sample]).score(p.X_test, p.y_test)
        )
        mix = flagged[:b]
        estimator = retrain_on_mix(logistic(), p.X_dirty, p.y, mix, p.X_clean[mix], p.y[mix])
        out["retrain_mix"][b] = float(estimator.score(p.X_test, p.y_test))
    return out


def summarise(runs: list[dict[str, dict[int, float]]]) -> dict[str, dict[str, list[float]]]:
    """Per method and budget: the accuracies over seeds."""
    table: dict[str, dict[str, list[float]]] = {}
    for method in METHODS:
        table[method] = {str(b): [r[method][b] for r in runs] for b in BUDGETS}
    return table


def format_table(name: str, table: dict[str, dict[str, list[float]]]) -> str:
    """A Markdown table: test error (%) mean over seeds, and the standard deviation."""
    head = "| method | " + " | ".join(f"B = {b}" for b in BUDGETS) + " |"
    lines = [head, "|---|" + "---|" * len(BUDGETS)]
    for method in METHODS:
        cells = []
        for b in BUDGETS:
            errors = 100.0 * (1.0 - np.asarray(table[method][str(b)]))
            cells.append(f"{errors.mean():.2f} ± {errors.std():.2f}")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return f"**{name}**: test error (%), mean ± sd over seeds\n\n" + "\n".join(lines)


def main() -> None:
    """Run both problems over the seeds, print the tables, write the JSON and BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="replace the section of BENCHMARKS.md")
    args = parser.parse_args()
    started = time.perf_counter()
    results: dict[str, object] = {"budgets": list(BUDGETS), "batch_size": BATCH, "seeds": args.seeds}
    tables = []
    for name, make in (("synthetic", synthetic), ("adult", adult)):
        runs = []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            problem = make(seed)
            runs.append(run_seed(problem, seed))
            print(f"{name} seed {seed}: {time.perf_counter() - t0:.1f} s", flush=True)
        table = summarise(runs)
        results[name] = {
            "accuracy": table,
            "flagged": int(problem.rules.sum()),
            "corrupted": int(problem.corrupted.sum()),
            "cleanlab_flagged": [r["_cleanlab_flagged"][0] for r in runs],
            "cleanlab_recall_of_corrupted": [r["_cleanlab_recall"][0] for r in runs],
        }
        text = format_table(name, table)
        tables.append(text)
        print(text, flush=True)
    seconds = time.perf_counter() - started
    results["seconds"] = seconds
    results["machine"] = machine_line()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    print(f"total {seconds:.0f} s; wrote {RESULTS}")
    if args.write:
        body = (
            f"{machine_line()} Command: `.venv/bin/python bench/clean.py` ({seconds:.0f} s, "
            f"{args.seeds} seeds, batches of {BATCH}); raw figures in `bench/results/clean.json`.\n\n"
            + "\n\n".join(tables)
        )
        write_section("Cleaning (issue 11)", body)


if __name__ == "__main__":
    main()
