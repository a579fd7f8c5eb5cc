"""Scoring throughput (issue 10, item 7): the scikit-learn pipeline's predict vs paqdb's Arrow UDF vs
paqdb's compiled SQL vs orbital's SQL, over 1,000,000 UCI Adult rows, 2 threads everywhere.

Arms, for each model family (logistic regression, a random forest, gradient boosting):

* ``scikit-learn pipeline``: a Pipeline (ColumnTransformer featurising as paqdb does, then an estimator
  with the paqdb model's hyperparameters) fitted on Adult; its ``predict`` on the rows as a pandas
  DataFrame, featurisation included. The baseline of every ratio.
* ``paqdb Arrow UDF``: ``SELECT PREDICT(income USING MODEL m) FROM adult_big`` through the vectorised
  Python UDF (one predict call per 2,048-row vector), result fetched as Arrow.
* ``paqdb compiled SQL``: for logistic regression, the same query with the model compiled to one SQL
  expression (:mod:`paqdb.udfs.compile`), registered as a DuckDB macro (PREDICT's path); for tree
  ensembles, the model compiled to a chain of projections over ``adult_big`` (``compile_relation``: leaf
  bitmasks), rendered once from its sqlglot AST (in the compile time) and run as one query (PREDICT does
  not take this path: see BENCHMARKS.md), result fetched as Arrow.
* ``orbital``: orbital 0.6 compiles the pipeline to SQL (through skl2onnx and ibis), run in DuckDB. It
  needs a virtual environment of its own (``--orbital-python``; ibis pins other library versions than
  paqdb's); it runs in that process, against that process's own pipeline predict, so its ratio is to
  its own baseline. skl2onnx cannot convert HistGradientBoosting, so its boosting arm is scikit-learn's
  GradientBoostingClassifier with the same number of trees and leaves.

Rounds are interleaved (each round times every in-process arm once); each figure is the median of
``--repeats`` rounds. DuckDB runs with ``SET threads = 2``, scikit-learn under threadpoolctl's limit of 2.

Run: ``python bench/scoring.py [--orbital-python /path/to/venv/bin/python]`` (several minutes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import machine_line, write_section
from scoring_pipelines import CATEGORICAL, LABEL, NUMERIC, pipeline
from sqlglot import exp

import paqdb
from paqdb.udfs import compile as compile_sql

THREADS = 2
TITLE = "Scoring"

# Random forests at their default depth grow past the compiler's node limit; depth 6 keeps 100 trees.
SEARCHES = {
    "logistic": "",
    "random_forest": ", n_estimators => [100], max_depth => [6]",
    "gradient_boosting": "",
}


@dataclass
class Measurement:
    """Seconds per arm for one family, and what the compiled SQL is like."""

    family: str
    model: str
    pipeline: float
    udf: float
    compiled: float
    compile_seconds: float
    sql_bytes: int
    agreement: float
    orbital: dict[str, Any] = field(default_factory=dict)


def _time(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _sklearn_parameters(family: str, estimator: Any) -> dict[str, Any]:
    """The paqdb model's hyperparameters, for the scikit-learn pipeline's estimator of the same kind."""
    p = estimator.get_params()
    if family == "logistic":
        return {k: p[k] for k in ("C", "max_iter", "tol", "solver")}
    if family == "random_forest":
        keys = ("n_estimators", "max_depth", "min_samples_leaf", "max_features", "random_state")
        return {k: p[k] for k in keys}
    keys = ("learning_rate", "max_leaf_nodes", "max_depth", "min_samples_leaf", "l2_regularization")
    # The same number of trees as the paqdb model kept after early stopping.
    return {k: p[k] for k in keys} | {"max_iter": int(estimator.n_iter_), "early_stopping": False}


def _describe(family: str, estimator: Any, n_features: int) -> str:
    if family == "logistic":
        return f"logistic ({n_features} one-hot and scaled features)"
    if family == "random_forest":
        nodes = sum(t.tree_.node_count for t in estimator.estimators_)
        trees = len(estimator.estimators_)
        return f"random forest ({trees} trees, depth {estimator.max_depth}, {nodes:,} nodes)"
    nodes = sum(len(p.nodes) for it in estimator._predictors for p in it)
    leaves = estimator.max_leaf_nodes
    return f"gradient boosting ({estimator.n_iter_} trees, <= {leaves} leaves, {nodes:,} nodes)"


def measure(
    con: paqdb.Connection, family: str, repeats: int, folder: Path, orbital_python: str | None
) -> Measurement:
    """Train paqdb's model of ``family`` on Adult and time every arm on ``adult_big``."""
    from threadpoolctl import threadpool_limits

    name = f"m_{family}"
    con.execute(
        f"CREATE MODEL {name} PREDICT income FROM adult "
        f"USING SEARCH (families => ['{family}'], budget => '1 trials'{SEARCHES[family]})"
    )
    model = con.session.context.models.load(name).model
    engine = con.session.engine
    train = engine.query_arrow("SELECT * FROM adult").to_pandas()
    frame = engine.query_arrow(f"SELECT {', '.join(NUMERIC + CATEGORICAL)} FROM adult_big").to_pandas()
    parameters = _sklearn_parameters(family, model.estimator)
    sk = pipeline(family, parameters)
    sk.fit(train[NUMERIC + CATEGORICAL], train[LABEL])

    started = time.perf_counter()
    relation = None
    if family in compile_sql.TREE_FAMILIES:
        relation = compile_sql.compile_relation(model, "VARCHAR")
        sql_bytes = len(relation.sql())
    else:
        sql_bytes = len(compile_sql.compile_model(model, "VARCHAR").sql())
    compile_seconds = time.perf_counter() - started
    inputs = [
        exp.column(state.name) if state.kind == "categorical" else exp.cast(exp.column(state.name), "DOUBLE")
        for state in model.featurizer.columns_
    ]

    def relation_sql(order: bool = False) -> str:
        assert relation is not None
        inner = relation.query(exp.to_table("adult_big"), inputs, "s").subquery("scored")
        columns = [exp.column("r")] if order else []
        query = exp.select(
            *columns,
            exp.Dot(this=exp.Paren(this=exp.column("s")), expression=exp.to_identifier("prediction")).as_(
                "p"
            ),
        ).from_(inner)
        return (query.order_by("r") if order else query).sql(dialect="duckdb")

    # Rendered once and kept (as a planner would keep it per model): building and rendering the 700 KB
    # AST takes about a second, counted in the compile time.
    started = time.perf_counter()
    relation_text = relation_sql() if relation is not None else ""
    compile_seconds += time.perf_counter() - started

    query = f"SELECT PREDICT(income USING MODEL {name}) AS p FROM adult_big"
    original = compile_sql.planned_path

    def run_udf() -> Any:
        compile_sql.planned_path = lambda *_: "benchmark: the Arrow UDF arm"  # type: ignore[assignment]
        try:
            return con.execute(query).fetch_arrow_table()
        finally:
            compile_sql.planned_path = original  # type: ignore[assignment]

    def run_compiled() -> Any:
        if relation is not None:
            return engine.query_arrow(relation_text)
        compile_sql.planned_path = compile_sql.compile_reason  # type: ignore[assignment]
        try:
            return con.execute(query).fetch_arrow_table()
        finally:
            compile_sql.planned_path = original  # type: ignore[assignment]

    # Warm up: registers both functions. Then check that both paths give the same label for each row
    # (by row id: a parallel scan need not return rows in the same order twice).
    run_udf(), run_compiled()
    ordered = f"SELECT r, PREDICT(income USING MODEL {name}) AS p FROM adult_big ORDER BY r"
    compile_sql.planned_path = lambda *_: "benchmark: the Arrow UDF arm"  # type: ignore[assignment]
    udf_labels = con.execute(ordered).fetch_arrow_table().column(1)
    compile_sql.planned_path = compile_sql.compile_reason  # type: ignore[assignment]
    if relation is not None:
        compiled_labels = engine.query_arrow(relation_sql(order=True)).column(1)
    else:
        compiled_labels = con.execute(ordered).fetch_arrow_table().column(1)
    compile_sql.planned_path = original  # type: ignore[assignment]
    agreement = sum(a == b for a, b in zip(udf_labels.to_pylist(), compiled_labels.to_pylist(), strict=True))
    times: dict[str, list[float]] = {"pipeline": [], "udf": [], "compiled": []}
    for _ in range(repeats):
        with threadpool_limits(THREADS):
            times["pipeline"].append(_time(lambda: sk.predict(frame)))
        times["udf"].append(_time(run_udf))
        times["compiled"].append(_time(run_compiled))
        print(family, {k: round(v[-1], 3) for k, v in times.items()}, flush=True)
    orbital = _orbital(orbital_python, family, parameters, folder, repeats)
    print(family, "orbital", orbital, flush=True)
    return Measurement(
        family,
        _describe(family, model.estimator, model.featurizer.n_output_features(model.encoding)),
        statistics.median(times["pipeline"]),
        statistics.median(times["udf"]),
        statistics.median(times["compiled"]),
        compile_seconds,
        sql_bytes,
        agreement / len(udf_labels),
        orbital,
    )


def _orbital(
    python: str | None, family: str, parameters: dict[str, Any], folder: Path, repeats: int
) -> dict[str, Any]:
    if python is None:
        return {"error": "not run (no --orbital-python)"}
    command = [
        python,
        str(Path(__file__).resolve().parent / "scoring_orbital.py"),
        family,
        json.dumps(parameters),
        str(folder / "adult.parquet"),
        str(folder / "adult_big.parquet"),
        str(repeats),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last[:200]}
    return json.loads(lines[-1])


def report(measurements: list[Measurement], rows: int, repeats: int) -> str:
    """The BENCHMARKS.md section for ``measurements``."""
    lines = [
        machine_line(),
        "",
        f"Command: `python bench/scoring.py --orbital-python <venv with orbital 0.6>/bin/python`. {rows:,} "
        f"UCI Adult rows (resampled), {THREADS} threads everywhere (DuckDB `SET threads = {THREADS}`, "
        f"threadpoolctl for scikit-learn), median of {repeats} interleaved rounds. Ratios are throughput "
        "relative to the scikit-learn pipeline's predict on a pandas DataFrame, featurisation included. "
        "orbital runs in its own process against its own pipeline's predict (ratio to that).",
        "",
        "| model | scikit-learn pipeline (s) | paqdb Arrow UDF (s, ratio) | paqdb compiled SQL (s, ratio) | "
        "orbital SQL (s, ratio) | compile time, SQL size | labels equal (compiled vs UDF) | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    targets = {"logistic": 8.0, "gradient_boosting": 1.5}
    for m in measurements:
        orbital = m.orbital
        if "orbital" in orbital:
            orbital_ratio = orbital["pipeline"] / orbital["orbital"]
            orbital_cell = f"{orbital['orbital']:.2f} ({orbital_ratio:.2f}x; {orbital['estimator']})"
        else:
            orbital_ratio = None
            orbital_cell = f"failed: {orbital.get('error', '?')}"
        ratio = m.pipeline / m.compiled
        target = targets.get(m.family)
        if target is None:
            verdict = "-"
        else:
            met = ratio >= target and (orbital_ratio is None or ratio > orbital_ratio)
            verdict = f">= {target}x and > orbital: {'met' if met else 'NOT met'}"
        lines.append(
            f"| {m.model} | {m.pipeline:.2f} | {m.udf:.2f} ({m.pipeline / m.udf:.2f}x) | "
            f"{m.compiled:.2f} ({ratio:.2f}x) | {orbital_cell} | {m.compile_seconds:.2f} s, "
            f"{m.sql_bytes / 1024:.0f} KB | {m.agreement:.4%} | {verdict} |"
        )
    lines += ["", *FINDINGS]
    return "\n".join(lines)


FINDINGS = [
    "What the figures say, and what PREDICT does with them:",
    "",
    "- Linear models compile to one expression: median imputation, standardisation, missing indicators,",
    "  and per categorical column one lookup of its weight by the value's position in the vocabulary",
    "  (`[w_a, w_b, ..., w_other][coalesce(list_position(['a', 'b', ...], x), n + 1)]`), which ran 2x",
    "  faster in DuckDB than the branch-free `w * CAST(x = 'v' AS DOUBLE)` sums and those 4x faster than",
    "  CASE chains. `PREDICT` scores logistic regression, linear SVMs and ridge this way in DuckDB (a",
    "  temporary macro with the Arrow UDF's signature); EXPLAIN says `compiled SQL`.",
    "- Tree ensembles compile two ways, both bit-identical to the estimator (tests in",
    "  tests/udfs/test_compile.py). As one scalar expression (nested CASE per tree, a macro) they ran",
    "  several times slower than scikit-learn: DuckDB substitutes the macro's arguments into every node",
    "  and binding a 391 KB expression costs seconds. As a chain of projections over the rows",
    "  (`compile_relation`, the compiled arm above for trees): featurise once, code each feature as its",
    "  interval among the ensemble's split bounds (a binary search, or a list lookup for category slots),",
    "  then QuickScorer's leaf bitmasks (Lucchese et al. 2015): per tree and feature a constant list",
    "  indexed by the interval gives the leaves still reachable, the AND over features leaves the row's",
    "  leaf as the lowest set bit, four 31-leaf trees share one HUGEINT word, leaf values summed in",
    "  scikit-learn's order. Forms measured on the way (boosting, same run each): nested CASE over",
    "  precomputed conditions 1.0, flat `CASE WHEN a AND b` leaves 2.0 (slower), branch-free",
    "  `v * CAST(c AS DOUBLE)` bottoms 1.5-2.3, one bitmask per tree 0.9, four trees per word 0.75.",
    "  `PREDICT` still scores trees through the Arrow UDF: the chain needs the query restructured (a",
    "  subquery around the user's FROM), which the planner does not do yet, and it beat the UDF by",
    "  under 10% for boosting while forests (100 trees of up to 64 leaves; continuous columns with",
    "  hundreds of bounds) ran slower. orbital's boosting arm is a different, smaller model",
    "  (GradientBoostingClassifier of depth 3: 840 splits against our 3,600), so its ratio is not the",
    "  same model's. The gradient-boosting target is NOT met: the 1.5x reached here owes to a loaded",
    "  machine slowing scikit-learn's OpenMP predict more than DuckDB (the UDF moved from 1.32x to 1.45x",
    "  between the quiet and the loaded run), the SQL is not faster than orbital's, and PREDICT does not",
    "  run it. Left to try: the planner wrapping single-table queries in the chain (EXPLAIN naming the",
    "  path), and fewer lookups per row (trees grouped by the features they share).",
    "- Labels equal (compiled vs UDF) is over all rows; the tests compare compiled SQL with the model's own",
    "  predict on rows with NULLs, NaN, infinities and unseen categories, per family (labels exactly,",
    "  probabilities within 1e-12 relative).",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--families", default="logistic,random_forest,gradient_boosting")
    parser.add_argument("--orbital-python", help="python of a virtual environment with orbital installed")
    parser.add_argument("--no-write", action="store_true", help="print only, do not update BENCHMARKS.md")
    args = parser.parse_args()

    measurements = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        con = paqdb.connect(str(folder / "bench.duckdb"), autocommit=True)
        con.execute(f"SET threads = {THREADS}")
        con.execute("LOAD DATASET adult")
        con.execute(
            "CREATE TABLE adult_big AS SELECT * EXCLUDE (k) FROM "
            "(SELECT *, row_number() OVER () AS k FROM adult) JOIN "
            f"(SELECT range AS r, (hash(range) % 32561) + 1 AS k FROM range({args.rows})) USING (k)"
        )
        con.execute(f"COPY adult TO '{folder / 'adult.parquet'}'")
        con.execute(f"COPY (SELECT * EXCLUDE (r) FROM adult_big) TO '{folder / 'adult_big.parquet'}'")
        rows = con.execute("SELECT count(*) FROM adult_big").fetchone()[0]
        for family in args.families.split(","):
            measurements.append(measure(con, family, args.repeats, folder, args.orbital_python))
        con.close()
    body = report(measurements, rows, args.repeats)
    print(body)
    if not args.no_write:
        write_section(TITLE, body)


if __name__ == "__main__":
    main()
