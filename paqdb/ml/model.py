"""A trained model: featurizer, fitted estimator and what is needed to score Arrow columns and store it.

:meth:`TrainedModel.to_bytes` writes a zip archive that loads without executing stored code:

``paqdb_model.json``
    format version, task, label, family, hyperparameters, the featurizer's state and training info.
``schema.arrow``
    the exact Arrow types of the feature columns and the label (an Arrow IPC schema).
``classes.arrow``
    the class values in the label's own type (classification only; an Arrow IPC stream).
``estimator.skops``
    the scikit-learn estimator in skops format, loaded only when every type it names is on the exact
    allow-list generated for its family (:mod:`paqdb.ml.artifact_types`) and its trees' indices check out
    (:mod:`paqdb.ml.artifact_safety`, which says exactly what is guaranteed).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from paqdb.errors import ArtifactError, DataError
from paqdb.ml import artifact_safety
from paqdb.ml.families import Task, get_family
from paqdb.ml.features import ColumnKind, Encoding, Featurizer

# scikit-learn and SciPy are imported where a model is scored or loaded, not with this module: the planner
# and a model store read model metadata without them, and they cost about a second to import.
if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

FORMAT_NAME = "paqdb-model"
FORMAT_VERSION = 1

MAX_METADATA_BYTES = 64 * 1024**2
"""Largest manifest, schema or class list an artifact may hold once decompressed."""

_MANIFEST = "paqdb_model.json"
_SCHEMA = "schema.arrow"
_CLASSES = "classes.arrow"
_ESTIMATOR = "estimator.skops"


@dataclass(frozen=True)
class FeatureSpec:
    """One input column of a model: its name, how it is encoded, and its Arrow type as text."""

    name: str
    kind: ColumnKind
    arrow_type: str


class TrainedModel:
    """A fitted model that scores Arrow columns.

    Parameters
    ----------
    task : {"classification", "regression"}
    label : str
        Name of the label column.
    label_type : pyarrow.DataType
        Type of the label; predictions come back in it.
    feature_schema : pyarrow.Schema
        Names and types of the feature columns, in the order :meth:`predict_arrow` expects.
    family : str
        Model family name (see :mod:`paqdb.ml.families`).
    hyperparameters : mapping
        The family configuration the estimator was built with.
    classes : pyarrow.Array or None
        Class values in the label's value type, indexed by the estimator's class codes (classification).
    featurizer : Featurizer
        Fitted on the training feature columns.
    estimator : sklearn estimator
        Fitted on the featurizer's output; classifiers on class codes 0 .. n_classes-1.
    info : mapping, optional
        JSON-able facts about training (metric, validation score, rows), stored with the model.
    """

    def __init__(
        self,
        *,
        task: Task,
        label: str,
        label_type: pa.DataType,
        feature_schema: pa.Schema,
        family: str,
        hyperparameters: Mapping[str, Any],
        classes: pa.Array | None,
        featurizer: Featurizer,
        estimator: BaseEstimator,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        if (task == "classification") != (classes is not None):
            raise ValueError("classes must be given for classification and only for it")
        self.task = task
        self.label = label
        self.label_type = label_type
        self.feature_schema = feature_schema
        self.family = family
        self.hyperparameters = dict(hyperparameters)
        self.classes = classes
        self.featurizer = featurizer
        self.estimator = estimator
        self.info = dict(info or {})
        self.encoding: Encoding = get_family(family).encoding

    def __repr__(self) -> str:
        return (
            f"TrainedModel(family={self.family!r}, task={self.task!r}, label={self.label!r}, "
            f"features={len(self.feature_schema)})"
        )

    @property
    def features(self) -> list[FeatureSpec]:
        """The input columns in order, each with its kind and Arrow type."""
        return [
            FeatureSpec(state.name, state.kind, str(self.feature_schema.field(i).type))
            for i, state in enumerate(self.featurizer.columns_)
        ]

    @property
    def feature_names(self) -> list[str]:
        """Names of the input columns in the order :meth:`predict_arrow` expects."""
        return list(self.feature_schema.names)

    def featurize(self, columns: Sequence[pa.Array | pa.ChunkedArray] | pa.Table) -> np.ndarray:
        """The matrix the estimator reads for ``columns`` (in :attr:`features` order, or a table by name)."""
        return self.featurizer.transform(columns, self.encoding)

    def predict_arrow(
        self, columns: Sequence[pa.Array | pa.ChunkedArray] | pa.Table
    ) -> tuple[pa.Array, pa.Array | None]:
        """Predict the label for each row of ``columns``.

        Parameters
        ----------
        columns : sequence of pyarrow arrays, or a pyarrow.Table
            The feature columns in :attr:`features` order (a table is read by name). NULLs are allowed.

        Returns
        -------
        prediction : pyarrow.Array
            In the label's Arrow type (strings for a string label, integers for an integer label...).
        confidence : pyarrow.Array of float64, or None
            Probability of the predicted class for classification; None for regression.
        """
        matrix = self.featurize(columns)
        if self.task == "classification":
            assert self.classes is not None
            if matrix.shape[0] == 0:
                return _cast_to(self.classes.slice(0, 0), self.label_type), pa.array([], pa.float64())
            probabilities = self.predict_probabilities(matrix)
            codes = probabilities.argmax(axis=1)
            confidence = probabilities[np.arange(len(codes)), codes]
            prediction = self.classes.take(pa.array(codes))
            return _cast_to(prediction, self.label_type), pa.array(confidence, pa.float64())
        if matrix.shape[0] == 0:
            return pa.array([], self.label_type), None
        return _values_as(self.predict_matrix(matrix).astype(np.float64), self.label_type), None

    def predict_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """The estimator's own ``predict`` on an already featurised matrix (class codes for classifiers)."""
        with scoring_threads(self.estimator, matrix.shape[0]):
            return np.asarray(self.estimator.predict(matrix))

    def predict_probabilities(self, matrix: np.ndarray) -> np.ndarray:
        """Class probabilities of shape (rows, classes) for a featurised matrix (classification only)."""
        assert self.classes is not None
        with scoring_threads(self.estimator, matrix.shape[0]):
            return class_probabilities(self.estimator, matrix, len(self.classes))

    def to_bytes(self) -> bytes:
        """The model as a self-contained archive that :meth:`from_bytes` loads without running stored code."""
        manifest = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "task": self.task,
            "label": self.label,
            "family": self.family,
            "hyperparameters": self.hyperparameters,
            "featurizer": self.featurizer.to_dict(),
            "info": self.info,
        }
        schema = pa.schema([*self.feature_schema, pa.field(self.label, self.label_type)])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(_MANIFEST, json.dumps(manifest, allow_nan=True), zipfile.ZIP_DEFLATED)
            archive.writestr(_SCHEMA, schema.serialize().to_pybytes())
            if self.classes is not None:
                archive.writestr(_CLASSES, _ipc_bytes(pa.table({"classes": self.classes})))
            # skops takes half a second to import (it lists every scikit-learn estimator): only on save.
            import skops.io as skops_io

            # Fitted trees are large and compress several-fold; level 1 keeps saving fast.
            estimator_bytes = skops_io.dumps(
                self.estimator, compression=zipfile.ZIP_DEFLATED, compresslevel=1
            )
            archive.writestr(_ESTIMATOR, estimator_bytes)
        return buffer.getvalue()

    @classmethod
    def from_bytes(
        cls, data: bytes, *, expected_sha256: str | None = None, name: str | None = None
    ) -> TrainedModel:
        """Load a model written by :meth:`to_bytes`, running no code from it.

        Parameters
        ----------
        data : bytes
            The artifact.
        expected_sha256 : str, optional
            The hex SHA-256 recorded when the artifact was stored; checked before anything is parsed.
        name : str, optional
            The model's name, for error messages.

        Raises :class:`~paqdb.errors.ArtifactError` (naming the model) when the hash differs, the archive is
        corrupt, truncated, too large or a zip bomb, of another format version, or its estimator names a
        type outside its family's allow-list or holds inconsistent tree indices (see
        :mod:`paqdb.ml.artifact_safety` for exactly what is checked).
        """
        artifact_safety.check_sha256(data, expected_sha256, name)
        try:
            with artifact_safety.open_archive(data, "artifact", name) as archive:
                manifest = artifact_safety.read_json_object(
                    archive, _MANIFEST, "artifact", name, MAX_METADATA_BYTES
                )
                if manifest.get("format") != FORMAT_NAME or manifest.get("version") != FORMAT_VERSION:
                    raise ArtifactError(
                        f"{_subject(name)} has format {manifest.get('format')!r} version "
                        f"{manifest.get('version')!r}; this paqdb reads {FORMAT_NAME!r} "
                        f"version {FORMAT_VERSION}",
                        hint="retrain the model with this version of paqdb",
                    )
                family = manifest.get("family")
                if not isinstance(family, str):
                    raise artifact_safety.refuse(name, "its manifest names no model family")
                schema = pa.ipc.read_schema(pa.py_buffer(_member(archive, _SCHEMA, name)))
                classes = None
                if manifest.get("task") == "classification":
                    stream = _member(archive, _CLASSES, name)
                    classes = pa.ipc.open_stream(stream).read_all().column(0).combine_chunks()
                estimator_bytes = archive.read(_ESTIMATOR)
            estimator = artifact_safety.load_estimator(estimator_bytes, family, name)
            label_field = schema.field(len(schema) - 1)
            return cls(
                task=manifest["task"],
                label=manifest["label"],
                label_type=label_field.type,
                feature_schema=pa.schema(list(schema)[:-1]),
                family=family,
                hyperparameters=manifest["hyperparameters"],
                classes=classes,
                featurizer=Featurizer.from_dict(manifest["featurizer"]),
                estimator=estimator,
                info=manifest.get("info"),
            )
        except ArtifactError:
            raise
        except Exception as error:
            # A truncated member, a missing key, an Arrow schema that does not parse...
            raise artifact_safety.refuse(
                name,
                f"it is corrupt or unreadable ({type(error).__name__}: {error})",
                hint="retrain the model",
            ) from error


def _subject(name: str | None) -> str:
    return f"model '{name}'" if name is not None else "model artifact"


def _member(archive: zipfile.ZipFile, member: str, name: str | None) -> bytes:
    """Member ``member`` of the artifact, refused when larger than :data:`MAX_METADATA_BYTES`."""
    if archive.getinfo(member).file_size > MAX_METADATA_BYTES:
        raise artifact_safety.refuse(name, f"its {member!r} is larger than {MAX_METADATA_BYTES:,} bytes")
    return archive.read(member)


SINGLE_THREAD_ROWS = 65_536
"""Batches up to this many rows are scored on one OpenMP thread (see :func:`scoring_threads`)."""

_openmp: Any = None  # threadpoolctl's controller, made at the first scoring call (after scikit-learn loads)


def scoring_threads(estimator: Any, rows: int) -> AbstractContextManager[Any]:
    """A context that scores a batch of ``rows`` on one OpenMP thread when the batch is small and
    ``estimator`` predicts with OpenMP (HistGradientBoosting; the other families' predict is serial).

    HistGradientBoosting predicts with OpenMP threads. On the 2,048-row vectors DuckDB hands a scoring
    function, and on a machine whose cores are busy, the threads' start and spin cost far more than the
    work: one predict of 2,048 rows took 1,077 ms (median of 30) with the default threads on this 2-core
    machine under load, 11 ms on one thread. Large batches keep every thread. The limit applies to the
    calling thread only (OpenMP's own rule), so DuckDB's other threads score in parallel as before.
    """
    global _openmp
    if rows > SINGLE_THREAD_ROWS or not type(estimator).__name__.startswith("HistGradientBoosting"):
        return nullcontext()
    if _openmp is None:  # scikit-learn's OpenMP runtime is loaded by now: the estimator was decoded
        from threadpoolctl import ThreadpoolController

        _openmp = ThreadpoolController().select(user_api="openmp")
    return cast(AbstractContextManager[Any], _openmp.limit(limits=1))


def class_probabilities(estimator: BaseEstimator, matrix: np.ndarray, n_classes: int) -> np.ndarray:
    """Class probabilities (rows, ``n_classes``) from any fitted classifier over class codes.

    Estimators without ``predict_proba`` (LinearSVC) get a sigmoid (binary) or softmax (multiclass) of
    their decision function: a monotone confidence that ranks rows correctly, not a calibrated probability.
    """
    if hasattr(estimator, "predict_proba"):
        scores = estimator.predict_proba(matrix)
    else:
        from scipy.special import expit, softmax

        margin = estimator.decision_function(matrix)
        if margin.ndim == 1:
            positive = expit(margin)
            scores = np.column_stack([1.0 - positive, positive])
        else:
            scores = softmax(margin, axis=1)
    fitted_codes = np.asarray(estimator.classes_)
    if len(fitted_codes) == n_classes:
        return np.asarray(scores, np.float64)
    # A class absent from the training rows gets probability 0 rather than shifting the columns.
    full = np.zeros((scores.shape[0], n_classes))
    full[:, fitted_codes] = scores
    return full


def _ipc_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _cast_to(values: pa.Array, arrow_type: pa.DataType) -> pa.Array:
    return values if values.type == arrow_type else pc.cast(values, arrow_type)


def _values_as(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
    """Regression output in the label's type: integers rounded, decimals rounded to their scale.

    An integer prediction beyond the type's range is clipped to it; a NaN prediction (a model that
    diverged) is NULL rather than an arbitrary integer.
    """
    if pa.types.is_integer(arrow_type):
        info = np.iinfo(arrow_type.to_pandas_dtype())
        missing = np.isnan(values)
        # Clip in floats first: float64 cannot hold int64's maximum, so clip to just inside it.
        high = np.nextafter(float(info.max), 0.0) if info.bits == 64 else float(info.max)
        clipped = np.clip(np.rint(np.where(missing, 0.0, values)), float(info.min), high)
        return pa.array(clipped.astype(info.dtype), arrow_type, mask=missing if missing.any() else None)
    if pa.types.is_decimal(arrow_type):
        rounded = pc.round(pa.array(values), ndigits=arrow_type.scale)
        try:
            return pc.cast(rounded, arrow_type)
        except pa.ArrowInvalid as error:
            raise DataError(f"a prediction does not fit the label type {arrow_type}: {error}") from error
    return _cast_to(pa.array(values, pa.float64()), arrow_type)


__all__ = [
    "MAX_METADATA_BYTES",
    "FeatureSpec",
    "TrainedModel",
    "class_probabilities",
]
