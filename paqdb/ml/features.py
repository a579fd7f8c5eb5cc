"""Turn Arrow feature columns into the float64 matrix that scikit-learn estimators read.

The featurizer is fitted once on the training columns and then transforms any batch of columns with the
same names and types: the whole training table during a search, or 2048-row vectors inside a scoring UDF.
Everything in :meth:`Featurizer.transform` is vectorised over Arrow buffers and NumPy arrays (no Python loop
over rows), because scoring a million rows calls it hundreds of times.

Column kinds
------------
``numeric``
    integers, floats, decimals, dates, times, timestamps and durations, read as float64. NULL, NaN and
    infinities are imputed with the training median; a 0/1 missing-indicator column follows when the training
    column had any. The one-hot encoding also standardises the value (training mean and deviation).
``boolean``
    0/1, treated like a numeric column otherwise (median imputation and indicator).
``categorical``
    strings and dictionary columns. The vocabulary is the training values, the ``max_categories`` most
    frequent ones when there are more (the rest share an "other" slot); NULL and values never seen in
    training share one more slot (with the "other" slot when there is one, since a rare and an unseen value
    are alike). One-hot gives one 0/1 column per slot; ordinal gives the slot number (most frequent
    value first), which trees split on, and which HistGradientBoosting can also read as a native
    categorical (see :meth:`Featurizer.categorical_mask`).

A training column that is entirely NULL carries no information and produces no output column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paqdb.errors import DataError, TrainingError

Encoding: TypeAlias = Literal["onehot", "ordinal"]
ENCODINGS: tuple[Encoding, ...] = ("onehot", "ordinal")
ColumnKind: TypeAlias = Literal["numeric", "boolean", "categorical", "text"]

DEFAULT_HASH_FEATURES = 1024
"""Columns a text column is hashed into (the hashing trick: no vocabulary to store or to outgrow)."""

_STATE_VERSION = 1


def column_kind(arrow_type: pa.DataType) -> ColumnKind | None:
    """The kind of feature an Arrow type makes, or None when it cannot be a feature (lists, binary...)."""
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if (
        pa.types.is_integer(arrow_type)
        or pa.types.is_floating(arrow_type)
        or pa.types.is_decimal(arrow_type)
        or pa.types.is_temporal(arrow_type)
        or pa.types.is_null(arrow_type)
    ):
        return "numeric"
    if _is_string(arrow_type) or pa.types.is_dictionary(arrow_type):
        return "categorical"
    return None


def _is_string(arrow_type: pa.DataType) -> bool:
    return (
        pa.types.is_string(arrow_type)
        or pa.types.is_large_string(arrow_type)
        or pa.types.is_string_view(arrow_type)
    )


@dataclass
class ColumnState:
    """What the featurizer learned about one input column (plain values, so it serialises to JSON)."""

    name: str
    kind: ColumnKind
    arrow_type: str
    all_null: bool = False
    has_missing: bool = False
    median: float = 0.0
    mean: float = 0.0
    scale: float = 1.0
    vocabulary: list[str] = field(default_factory=list)
    has_other: bool = False
    hash_features: int = 0

    def width(self, encoding: Encoding) -> int:
        """Number of output columns this input column produces under ``encoding``."""
        if self.kind == "text":
            return self.hash_features
        if self.all_null:
            return 0
        if self.kind == "categorical":
            return self.n_slots if encoding == "onehot" else 1
        return 2 if self.has_missing else 1

    @property
    def n_slots(self) -> int:
        """Categorical slots: the vocabulary, "other" when the vocabulary was capped, and NULL/unknown."""
        return len(self.vocabulary) + (1 if self.has_other else 0) + 1

    @property
    def other_slot(self) -> int:
        """Slot of values outside the vocabulary: "other" when capped, else the NULL/unknown slot."""
        return len(self.vocabulary)

    @property
    def null_slot(self) -> int:
        return self.n_slots - 1


class Featurizer:
    """Encode Arrow feature columns as a float64 matrix, fitted on the training columns.

    Parameters
    ----------
    max_categories : int, default=100
        Largest vocabulary kept per categorical column; rarer values share an "other" slot.
    text_columns : sequence of str, default=()
        String columns that hold free text: each becomes ``hash_features`` columns of hashed word counts
        (scikit-learn's HashingVectorizer, lower-cased words, L2-normalised rows; NULL is the empty text),
        under both encodings, instead of a category vocabulary.
    hash_features : int, default=DEFAULT_HASH_FEATURES

    Attributes
    ----------
    columns_ : list of ColumnState
        One entry per input column, in input order.

    Examples
    --------
    >>> import pyarrow as pa
    >>> table = pa.table({"age": [30, None, 50], "city": ["Paris", "Oslo", None]})
    >>> featurizer = Featurizer().fit(table)
    >>> featurizer.transform(table, "ordinal").shape
    (3, 3)
    """

    def __init__(
        self,
        *,
        max_categories: int = 100,
        text_columns: Sequence[str] = (),
        hash_features: int = DEFAULT_HASH_FEATURES,
    ) -> None:
        self.max_categories = max_categories
        self.text_columns = tuple(text_columns)
        self.hash_features = hash_features

    def fit(self, table: pa.Table) -> Featurizer:
        """Learn medians, scales and vocabularies from ``table`` (the feature columns only); return self."""
        if self.max_categories < 1:
            raise ValueError(f"max_categories must be at least 1, got {self.max_categories}")
        missing = [name for name in self.text_columns if name not in table.column_names]
        if missing:
            raise TrainingError(
                f"text columns {missing} are not feature columns",
                hint=f"feature columns: {', '.join(table.column_names)}",
            )
        self.columns_ = [self._fit_column(name, table.column(name)) for name in table.column_names]
        self._typed_vocabularies: dict[tuple[str, str], pa.Array] = {}
        return self

    def _fit_column(self, name: str, column: pa.ChunkedArray) -> ColumnState:
        kind = column_kind(column.type)
        if kind is None:
            raise TrainingError(
                f"column '{name}' has type {column.type}, which cannot be a model feature",
                hint="leave it out of the query, or cast it to a number or a string",
            )
        if name in self.text_columns:
            if kind != "categorical":
                raise TrainingError(
                    f"column '{name}' has type {column.type}; only a string column can be hashed as text",
                    hint="name string columns in text, or cast the column to VARCHAR",
                )
            return ColumnState(
                name=name, kind="text", arrow_type=str(column.type), hash_features=self.hash_features
            )
        state = ColumnState(name=name, kind=kind, arrow_type=str(column.type))
        if kind == "categorical":
            values = _as_plain_strings(column)
            counts = pc.value_counts(values.drop_null()) if len(values) else pa.array([])
            if len(counts) == 0:
                state.all_null = True
                return state
            distinct = counts.field("values").to_pylist()
            frequency = counts.field("counts").to_numpy()
            # Most frequent first; ties broken by the value so that the vocabulary is deterministic.
            order = sorted(range(len(distinct)), key=lambda i: (-int(frequency[i]), distinct[i]))
            state.vocabulary = [distinct[i] for i in order[: self.max_categories]]
            state.has_other = len(distinct) > self.max_categories
            return state
        values = _as_float64(column)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            state.all_null = True
            return state
        state.has_missing = finite.size < values.size
        state.median = float(np.median(finite))
        state.mean = float(finite.mean())
        deviation = float(finite.std())
        # A constant column would divide by zero; any scale works since its standardised value is 0.
        state.scale = deviation if deviation > 0 else 1.0
        return state

    @property
    def feature_names_in_(self) -> list[str]:
        """Names of the input columns, in the order :meth:`transform` expects them."""
        return [state.name for state in self.columns_]

    def n_output_features(self, encoding: Encoding) -> int:
        """Width of the matrix :meth:`transform` returns under ``encoding``."""
        return sum(state.width(encoding) for state in self.columns_)

    def output_feature_names(self, encoding: Encoding) -> list[str]:
        """Names of the output columns, e.g. ``age``, ``age__missing``, ``city=Paris``, ``city=<null>``."""
        names: list[str] = []
        for state in self.columns_:
            if state.kind == "text":
                names.extend(f"{state.name}#{i}" for i in range(state.hash_features))
                continue
            if state.all_null:
                continue
            if state.kind == "categorical":
                if encoding == "ordinal":
                    names.append(state.name)
                    continue
                names.extend(f"{state.name}={value}" for value in state.vocabulary)
                if state.has_other:
                    names.append(f"{state.name}=<other>")
                names.append(f"{state.name}=<null>")
            else:
                names.append(state.name)
                if state.has_missing:
                    names.append(f"{state.name}__missing")
        return names

    def categorical_mask(self, encoding: Encoding) -> np.ndarray:
        """Boolean mask of output columns that hold ordinal category codes (HistGradientBoosting's
        ``categorical_features``); all False under one-hot."""
        mask = np.zeros(self.n_output_features(encoding), dtype=bool)
        if encoding == "ordinal":
            offset = 0
            for state in self.columns_:
                if state.kind == "categorical" and not state.all_null:
                    mask[offset] = True
                offset += state.width(encoding)
        return mask

    def transform(
        self, columns: Sequence[pa.Array | pa.ChunkedArray] | pa.Table, encoding: Encoding
    ) -> np.ndarray:
        """Encode ``columns`` as a C-ordered float64 matrix of shape (rows, output features).

        Parameters
        ----------
        columns : pyarrow.Table or sequence of pyarrow arrays
            A table is read by column name; a sequence must follow :attr:`feature_names_in_` order.
        encoding : {"onehot", "ordinal"}
            One-hot with standardised numerics (linear models, MLP) or category codes (tree models).
        """
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
        if isinstance(columns, pa.Table):
            present = set(columns.column_names)
            missing = [name for name in self.feature_names_in_ if name not in present]
            if missing:
                raise DataError(f"feature columns {missing} are missing from the input")
            arrays: Sequence[pa.Array | pa.ChunkedArray] = [columns.column(n) for n in self.feature_names_in_]
        else:
            arrays = columns
        if len(arrays) != len(self.columns_):
            raise DataError(
                f"expected {len(self.columns_)} feature columns ({', '.join(self.feature_names_in_)}), "
                f"got {len(arrays)}"
            )
        n_rows = len(arrays[0]) if arrays else 0
        out = np.zeros((n_rows, self.n_output_features(encoding)), dtype=np.float64)
        rows = np.arange(n_rows) if encoding == "onehot" else None
        offset = 0
        for state, array in zip(self.columns_, arrays, strict=True):
            if len(array) != n_rows:
                raise DataError(f"feature column '{state.name}' has {len(array)} rows, expected {n_rows}")
            width = state.width(encoding)
            if width == 0:
                continue
            try:
                if state.kind == "text":
                    out[:, offset : offset + width] = _hashed_text(array, width)
                elif state.kind == "categorical":
                    codes = self._category_codes(state, array)
                    if rows is not None:
                        out[rows, offset + codes] = 1.0
                    else:
                        out[:, offset] = codes
                else:
                    self._write_numeric(state, array, out, offset, standardise=encoding == "onehot")
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
                raise DataError(
                    f"feature column '{state.name}' of type {array.type} cannot be read as the "
                    f"{state.arrow_type} column the model was trained on: {error}"
                ) from error
            offset += width
        return out

    @staticmethod
    def _write_numeric(
        state: ColumnState, array: pa.Array | pa.ChunkedArray, out: np.ndarray, offset: int, standardise: bool
    ) -> None:
        target = out[:, offset]
        np.copyto(target, _as_float64(array))
        missing = ~np.isfinite(target)
        if missing.any():
            target[missing] = state.median
        if standardise:
            target -= state.mean
            target /= state.scale
        if state.has_missing:
            out[:, offset + 1] = missing

    def _category_codes(self, state: ColumnState, array: pa.Array | pa.ChunkedArray) -> np.ndarray:
        if isinstance(array, pa.ChunkedArray):
            array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
        if pa.types.is_dictionary(array.type):
            # Look up the (small) dictionary once, then map every row through its index.
            dictionary_codes = self._lookup(state, array.dictionary)
            indices = pc.fill_null(array.indices, 0).to_numpy(zero_copy_only=False)
            codes = dictionary_codes[indices] if len(dictionary_codes) else np.zeros(len(array), np.int64)
        else:
            codes = self._lookup(state, array)
        if array.null_count:
            codes[np.asarray(array.is_null())] = state.null_slot
        return codes

    def _lookup(self, state: ColumnState, values: pa.Array) -> np.ndarray:
        """Slot of each value (NULLs land in the out-of-vocabulary slot; callers that care fix them)."""
        if not _is_string(values.type) or pa.types.is_string_view(values.type):
            # index_in has no kernel for string_view, and a dictionary may hold non-string values.
            values = values.cast(pa.large_string() if pa.types.is_large_string(values.type) else pa.string())
        key = (state.name, str(values.type))
        vocabulary = self._typed_vocabularies.get(key)
        if vocabulary is None:
            vocabulary = pa.array(state.vocabulary, type=values.type)
            self._typed_vocabularies[key] = vocabulary
        slots = pc.index_in(values, value_set=vocabulary)
        codes = pc.fill_null(slots, state.other_slot).to_numpy(zero_copy_only=False)
        return codes.astype(np.int64, copy=True)

    def to_dict(self) -> dict[str, Any]:
        """The fitted state as JSON-able plain values; :meth:`from_dict` rebuilds the featurizer."""
        return {
            "version": _STATE_VERSION,
            "max_categories": self.max_categories,
            "text_columns": list(self.text_columns),
            "hash_features": self.hash_features,
            "columns": [asdict(state) for state in self.columns_],
        }

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Featurizer:
        """Rebuild a fitted featurizer from :meth:`to_dict` output."""
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"unsupported featurizer state version {state.get('version')!r}")
        featurizer = cls(
            max_categories=int(state["max_categories"]),
            text_columns=state.get("text_columns", ()),
            hash_features=int(state.get("hash_features", DEFAULT_HASH_FEATURES)),
        )
        featurizer.columns_ = [ColumnState(**column) for column in state["columns"]]
        featurizer._typed_vocabularies = {}
        return featurizer


def _hashed_text(array: pa.Array | pa.ChunkedArray, width: int) -> np.ndarray:
    """Hashed, L2-normalised word counts of each row's text (NULL: no words), as a dense matrix."""
    from sklearn.feature_extraction.text import HashingVectorizer

    texts = pc.fill_null(
        _as_plain_strings(pa.chunked_array([array]) if isinstance(array, pa.Array) else array), ""
    )
    vectorizer = HashingVectorizer(n_features=width, alternate_sign=False, norm="l2", lowercase=True)
    return np.asarray(vectorizer.transform(texts.to_pylist()).toarray(), dtype=np.float64)


def _as_float64(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The column as float64 with NaN for NULL (a read-only view when Arrow can give one)."""
    arrow_type = array.type
    if pa.types.is_null(arrow_type):
        return np.full(len(array), np.nan)
    if pa.types.is_temporal(arrow_type):
        # Dates and times become their integer count of days / time units since the epoch.
        width = pa.int32() if arrow_type.bit_width == 32 else pa.int64()
        array = (
            array.view(width)
            if isinstance(array, pa.Array)
            else pa.chunked_array([chunk.view(width) for chunk in array.chunks], type=width)
        )
    if array.type != pa.float64():
        array = pc.cast(array, pa.float64())
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)


def _as_plain_strings(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Categorical values as strings (dictionaries decoded), for counting the vocabulary at fit time."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if not _is_string(column.type) or pa.types.is_string_view(column.type):
        column = column.cast(pa.string())
    return column


__all__ = ["ENCODINGS", "ColumnKind", "ColumnState", "Encoding", "Featurizer", "column_kind"]
