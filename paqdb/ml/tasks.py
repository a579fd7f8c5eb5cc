"""What a label means: the two tasks, and the rule that tells classes from quantities.

This module imports nothing heavy (pyarrow only; its compute functions when a label is inspected), so the
planner can read :data:`MAX_CLASSIFICATION_INTEGERS` and :data:`Task` at start-up without loading the
learning library (issue 9, fast start). :mod:`paqdb.ml.families` and :mod:`paqdb.ml.training` re-export
these names, their home before.
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import pyarrow as pa

from paqdb.errors import TrainingError

Task: TypeAlias = Literal["classification", "regression"]
TASKS: tuple[Task, ...] = ("classification", "regression")

MAX_CLASSIFICATION_INTEGERS = 20
"""An integer label with at most this many distinct values is taken as classes, above it as a quantity."""


def infer_task(label: pa.Array | pa.ChunkedArray) -> Task:
    """The task a label column implies.

    Strings, booleans and dictionaries are classes; floats and decimals are quantities; integers are classes
    when they take at most :data:`MAX_CLASSIFICATION_INTEGERS` distinct values, quantities otherwise.
    Raises :class:`~paqdb.errors.TrainingError` for a type that is neither (a list, a date...).
    """
    arrow_type = label.type
    if (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
        or pa.types.is_boolean(arrow_type)
        or pa.types.is_dictionary(arrow_type)
    ):
        return "classification"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "regression"
    if pa.types.is_integer(arrow_type):
        import pyarrow.compute as pc  # about 20 ms to import, so not with the module

        distinct = pc.count_distinct(label, mode="only_valid").as_py()
        return "classification" if distinct <= MAX_CLASSIFICATION_INTEGERS else "regression"
    raise TrainingError(
        f"a label of type {arrow_type} can be neither classes nor a quantity",
        hint="predict a string, boolean or number column, or cast the label to one",
    )


__all__ = ["MAX_CLASSIFICATION_INTEGERS", "TASKS", "Task", "infer_task"]
