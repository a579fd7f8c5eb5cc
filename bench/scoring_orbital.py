"""The orbital arm of bench/scoring.py, run in a virtual environment that has orbital (ibis pins other
versions than paqdb's): fit the family's scikit-learn pipeline on Adult, compile it with orbital to
DuckDB SQL, and time that SQL over the benchmark's rows; print one JSON object.

Run by bench/scoring.py: ``<orbital python> bench/scoring_orbital.py FAMILY PARAMETERS_JSON TRAIN.parquet
ROWS.parquet REPEATS``.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scoring_pipelines import CATEGORICAL, LABEL, NUMERIC, pipeline


def main() -> None:
    family, parameters, train_path, rows_path, repeats = sys.argv[1:6]
    import duckdb
    import orbital
    import orbital.types

    con = duckdb.connect()
    con.execute("SET threads = 2")
    casts = ", ".join([f'CAST("{c}" AS DOUBLE) AS "{c}"' for c in NUMERIC] + [f'"{c}"' for c in CATEGORICAL])
    train = con.sql(f"SELECT {casts}, {LABEL} FROM '{train_path}'").df()
    con.execute(f"CREATE TABLE rows AS SELECT {casts} FROM '{rows_path}'")
    model = pipeline(family, json.loads(parameters), for_orbital=True)
    model.fit(train[NUMERIC + CATEGORICAL], train[LABEL])
    types = {c: orbital.types.DoubleColumnType() for c in NUMERIC}
    types.update({c: orbital.types.StringColumnType() for c in CATEGORICAL})
    started = time.perf_counter()
    parsed = orbital.parse_pipeline(model, features=types)
    sql = orbital.export_sql("rows", parsed, dialect="duckdb")
    compile_seconds = time.perf_counter() - started
    times = []
    for _ in range(int(repeats)):
        started = time.perf_counter()
        result = con.sql(sql).to_arrow_table()
        times.append(time.perf_counter() - started)
    frame = con.sql("SELECT * FROM rows").df()
    pipeline_times = []
    for _ in range(int(repeats)):
        started = time.perf_counter()
        expected = model.predict(frame)
        pipeline_times.append(time.perf_counter() - started)
    labels = result.column(0).to_pylist()
    labels = [v.decode() if isinstance(v, bytes) else v for v in labels]
    agree = sum(a == b for a, b in zip(labels, expected, strict=True)) / len(labels)
    print(
        json.dumps(
            {
                "orbital": statistics.median(times),
                "pipeline": statistics.median(pipeline_times),
                "compile": compile_seconds,
                "sql_bytes": len(sql),
                "agree": agree,
                "estimator": type(model[-1]).__name__,
            }
        )
    )


if __name__ == "__main__":
    main()
