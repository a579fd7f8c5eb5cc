"""PREDICT on UCI Adult vs a tuned scikit-learn baseline, same split, same run.

The issue's target: PREDICT on UCI Adult reaches test accuracy within 1 point of a tuned scikit-learn
baseline measured in the same run.

* Split: ``paqdb.datasets.split(adult, 0.2, seed, stratify='income')`` (26,049 train / 6,512 test rows),
  identical for both arms.
* Baseline: scikit-learn ``HistGradientBoostingClassifier`` (ordinal-encoded categoricals as native
  categorical features) tuned by ``GridSearchCV`` (3-fold) over learning rate, leaf count, minimum leaf
  size and L2 regularisation (36 configurations), refit on the whole training split.
* paqdb: ``PREDICT income FROM adult_test GIVEN adult_train USING SEARCH (budget => '60 seconds')``:
  the default search over every classification family.

Run: ``python bench/adult_accuracy.py`` (about five minutes); results go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import machine_line, write_section

import paqdb
from paqdb import datasets

LABEL = "income"


def sklearn_baseline(train, test, seed: int) -> tuple[float, float, dict]:
    """Test accuracy, seconds and best parameters of the tuned scikit-learn baseline."""
    frame_train, frame_test = train.to_pandas(), test.to_pandas()
    categorical = [
        c for c in frame_train.columns if c != LABEL and not pd.api.types.is_numeric_dtype(frame_train[c])
    ]
    numeric = [c for c in frame_train.columns if c != LABEL and c not in categorical]
    for frame in (frame_train, frame_test):
        frame[categorical] = frame[categorical].fillna("missing")
    encode = ColumnTransformer(
        [
            ("categories", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), categorical),
            ("numbers", "passthrough", numeric),
        ]
    )
    model = HistGradientBoostingClassifier(
        categorical_features=list(range(len(categorical))), random_state=seed, early_stopping=False
    )
    pipeline = Pipeline([("encode", encode), ("model", model)])
    grid = {
        "model__learning_rate": [0.05, 0.1, 0.2],
        "model__max_leaf_nodes": [15, 31, 63],
        "model__min_samples_leaf": [20, 50],
        "model__l2_regularization": [0.0, 1.0],
    }
    search = GridSearchCV(pipeline, grid, cv=3, scoring="accuracy", n_jobs=1)
    started = time.perf_counter()
    search.fit(frame_train.drop(columns=[LABEL]), frame_train[LABEL])
    seconds = time.perf_counter() - started
    predictions = search.predict(frame_test.drop(columns=[LABEL]))
    accuracy = float(np.mean(predictions == frame_test[LABEL].to_numpy()))
    return accuracy, seconds, search.best_params_


def paqdb_predict(train, test, budget: str, seed: int) -> tuple[float, float]:
    """Test accuracy and seconds of PREDICT ... GIVEN with a search budget."""
    with tempfile.TemporaryDirectory() as folder:
        con = paqdb.connect(str(Path(folder) / "adult.duckdb"), autocommit=True)
        engine = con.session.engine.connection
        engine.register("train_arrow", train)
        engine.register("test_arrow", test)
        con.execute("CREATE TABLE adult_train AS SELECT * FROM train_arrow")
        con.execute("CREATE TABLE adult_test AS SELECT * FROM test_arrow")
        started = time.perf_counter()
        result = con.execute(
            f"PREDICT {LABEL} FROM adult_test GIVEN adult_train "
            f"USING SEARCH (budget => '{budget}', seed => {seed})"
        ).fetch_arrow_table()
        seconds = time.perf_counter() - started
        correct = np.asarray(result.column(LABEL).to_pylist()) == np.asarray(
            result.column(f"predicted_{LABEL}").to_pylist()
        )
        con.close()
    return float(correct.mean()), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--budget", default="60 seconds")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    adult = datasets.load("adult")
    lines = [
        machine_line(),
        "",
        "Command: `python bench/adult_accuracy.py`. Same stratified 80/20 split for both arms per seed.",
        "Baseline: HistGradientBoostingClassifier tuned by GridSearchCV (36 configurations, 3-fold CV).",
        "paqdb: `PREDICT income FROM adult_test GIVEN adult_train "
        f"USING SEARCH (budget => '{args.budget}')`.",
        "",
        "| seed | scikit-learn tuned accuracy | its time (s) | paqdb PREDICT accuracy | its time (s) | "
        "difference (points) | within 1 point |",
        "|---|---|---|---|---|---|---|",
    ]
    differences = []
    for seed in (int(s) for s in args.seeds.split(",")):
        train, test = datasets.split(adult, 0.2, seed=seed, stratify=LABEL)
        base_accuracy, base_seconds, best = sklearn_baseline(train, test, seed)
        paq_accuracy, paq_seconds = paqdb_predict(train, test, args.budget, seed)
        difference = 100 * (paq_accuracy - base_accuracy)
        differences.append(difference)
        print(
            f"seed {seed}: sklearn {base_accuracy:.4f} ({base_seconds:.0f} s, {best}), "
            f"paqdb {paq_accuracy:.4f} ({paq_seconds:.0f} s)",
            flush=True,
        )
        lines.append(
            f"| {seed} | {base_accuracy:.4f} | {base_seconds:.0f} | {paq_accuracy:.4f} | {paq_seconds:.0f} | "
            f"{difference:+.2f} | {'yes' if difference >= -1.0 else 'NO'} |"
        )
    lines.append("")
    lines.append(f"Mean difference: {np.mean(differences):+.2f} points (paqdb minus baseline).")
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("PREDICT accuracy on UCI Adult (issue 2)", body)


if __name__ == "__main__":
    main()
