"""Deterministic train/test splits of pyarrow tables, optionally stratified by a column."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from paqdb.errors import InvalidParameterError

__all__ = ["split"]


def _allocate(group_sizes: list[int], test_fraction: float, total_test: int) -> list[int]:
    """How many test rows each group gives so that the groups add up to ``total_test``.

    Each group gets the floor of its exact share; the rows left over go to the groups with the largest
    fractional parts (the earlier group first on a tie), never more than a group has.
    """
    exact = [size * test_fraction for size in group_sizes]
    quota = [math.floor(share) for share in exact]
    left = total_test - sum(quota)
    order = sorted(range(len(group_sizes)), key=lambda i: (-(exact[i] - quota[i]), i))
    for i in order:
        if left <= 0:
            break
        if quota[i] < group_sizes[i]:
            quota[i] += 1
            left -= 1
    return quota


def split(
    table: pa.Table,
    test_fraction: float = 0.2,
    seed: int = 0,
    stratify: str | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Split ``table`` into ``(train, test)`` tables, deterministically for a given ``seed``.

    The test table holds ``round(num_rows * test_fraction)`` rows chosen at random (numpy's
    ``default_rng(seed)``); both tables keep the rows in their original order. With ``stratify`` naming
    a column (usually the label), each distinct value of that column, NULL included, is split in the same
    proportion, so the class balance of train and test matches the whole table's.

    Raises :class:`~paqdb.errors.InvalidParameterError` when ``test_fraction`` is not strictly between
    0 and 1 or ``stratify`` is not a column of the table.
    """
    if not isinstance(table, pa.Table):
        raise InvalidParameterError(f"split() takes a pyarrow.Table, not {type(table).__name__}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, int | float):
        raise InvalidParameterError(f"test_fraction must be a number, not {test_fraction!r}")
    if not 0.0 < float(test_fraction) < 1.0:
        raise InvalidParameterError(f"test_fraction must be strictly between 0 and 1, not {test_fraction!r}")
    if stratify is not None and stratify not in table.column_names:
        raise InvalidParameterError(
            f"cannot stratify by {stratify!r}: the table has no such column",
            hint=f"columns: {', '.join(table.column_names)}",
        )

    n = table.num_rows
    total_test = round(n * float(test_fraction))
    rng = np.random.default_rng(seed)

    if stratify is None:
        groups = [np.arange(n)]
    else:
        values = table.column(stratify).combine_chunks()
        encoded = values.dictionary_encode()
        codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        # groups ordered by first appearance (the dictionary's order), NULL last
        keys = [*range(len(encoded.dictionary)), -1]
        groups = [np.flatnonzero(codes == key) for key in keys]
        groups = [group for group in groups if len(group)]

    quotas = _allocate([len(group) for group in groups], float(test_fraction), total_test)
    test_parts = [rng.permutation(group)[:quota] for group, quota in zip(groups, quotas, strict=True)]
    test_index = np.sort(np.concatenate(test_parts)) if test_parts else np.empty(0, dtype=np.int64)
    is_test = np.zeros(n, dtype=bool)
    is_test[test_index] = True
    train_index = np.flatnonzero(~is_test)
    return table.take(pa.array(train_index)), table.take(pa.array(test_index))
