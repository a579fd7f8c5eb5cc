"""A small synthetic table shared by the ml and search tests (a few hundred rows, so every test trains in
well under a second)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def synthetic_table(n_rows: int = 300, seed: int = 0) -> pa.Table:
    """Mixed features with NULLs, a string class label ``label`` and a float target ``amount``."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n_rows).astype(float)
    salary = rng.normal(50_000, 15_000, n_rows)
    city = rng.choice(["paris", "oslo", "lima", "kyoto", "quito"], n_rows)
    member = rng.random(n_rows) < 0.4
    signal = (age - 45) / 15 + (salary - 50_000) / 15_000 + (city == "oslo") * 1.5 + member * 0.8
    label = np.where(signal + rng.normal(0, 0.5, n_rows) > 0.3, "yes", "no")
    amount = 2.0 * signal + rng.normal(0, 0.3, n_rows)
    age_nulls = rng.random(n_rows) < 0.1
    city_nulls = rng.random(n_rows) < 0.1
    return pa.table(
        {
            "age": pa.array(age.astype(np.int64), mask=age_nulls),
            "salary": pa.array(salary),
            "city": pa.array(city.tolist(), mask=city_nulls),
            "member": pa.array(member, mask=rng.random(n_rows) < 0.05),
            "label": pa.array(label.tolist()),
            "amount": pa.array(amount),
        }
    )
