"""``EXPORT MODEL m [VERSION n] TO 'file'`` and ``IMPORT [OR REPLACE] MODEL m FROM 'file'``: a model
moved between databases as one file.

The file (format ``paqdb-model-export`` version 1) is a zip archive of two members:

``paqdb_export.json``
    what the catalog knows of the version: the model's name and version where it was exported, task,
    label and its SQL type, the features and their SQL types, family, hyperparameters, metric,
    validation score, training rows, search options, source SQL, outcome, notes, every search trial,
    and the artifact's format, size and SHA-256.
``model.paqdb``
    the model's artifact exactly as the catalog stores it (:meth:`paqdb.ml.model.TrainedModel.to_bytes`:
    JSON, Arrow schemas and a ``skops`` file of the estimator).

IMPORT reads nothing from the file as code. Before it writes anything to the catalog it checks the
archive's sizes (no zip bombs), the manifest's format, the artifact's SHA-256 against the manifest's,
decodes the artifact with the same safe loader the catalog uses (every type the estimator names must be
on its family's exact allow-list, trees are checked node by node), checks that the metadata agrees with
the decoded model (task, label, family, features), and that the SQL types are plain type names. Only then
is the model saved, as a new model (or, with OR REPLACE, a new version) through the model store, in one
transaction. The SHA-256 detects a file damaged or altered by accident; a file rewritten on purpose
(manifest and artifact together) is still held to the allow-list, which is what makes loading safe.

``WITH (format => 'onnx')`` writes one ONNX graph instead, featurizer included, for ONNX tools
(:mod:`paqdb.ml.onnx_export` says what converts and how the graph reads and answers); IMPORT reads only
paqdb's own format.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import os
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
from sqlglot import exp
from sqlglot.tokens import TokenType

from paqdb.catalog import ModelRecord, TrialRecord
from paqdb.catalog.store import OUTCOMES, SCHEMA
from paqdb.engines.base import Column, ExecResult, render
from paqdb.errors import (
    ArtifactError,
    DuplicateModelError,
    Error,
    InvalidParameterError,
    NotYetSupportedError,
    OperationalError,
)
from paqdb.planner.plan import ExecutionState, LogicalNode, PhysicalOperator, Plan
from paqdb.planner.typing import label_model_type
from paqdb.sql import ast

if TYPE_CHECKING:
    from paqdb.ml.model import TrainedModel
    from paqdb.models import ModelStore
    from paqdb.planner.context import ExecutionContext
    from paqdb.planner.planner import Planner
    from paqdb.sql import Statement
    from paqdb.sql.dialect import PaqParser

#: The export file's format name and version (``paqdb_export.json``'s ``format`` and ``version``).
EXPORT_FORMAT = "paqdb-model-export"
EXPORT_VERSION = 1

#: The formats EXPORT writes (``WITH (format => ...)``); IMPORT reads ``paqdb``.
FORMATS = ("paqdb", "onnx")

_MANIFEST = "paqdb_export.json"
_ARTIFACT = "model.paqdb"
_MAX_MANIFEST_BYTES = 64 * 1024**2

# A SQL type as the catalog records it: a name with optional (precision[, scale]), or an ENUM of quoted
# strings. The label's type is written into the scoring SQL (CAST(... AS type)), so an imported file may
# hold nothing else there.
_PLAIN_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?: [A-Za-z][A-Za-z0-9_]*)*(?: ?\(\d+(?:, ?\d+)?\))?")
_ENUM_TYPE = re.compile(r"ENUM\('(?:[^']|'')*'(?:, ?'(?:[^']|'')*')*\)", re.IGNORECASE)


# -- the statements ---------------------------------------------------------------------------------


def _parse_path(parser: PaqParser, form: str) -> exp.Expr:
    """A file name: a string literal, or a parameter marker bound to one."""
    token = parser._curr
    if not parser._at_end() and token.token_type == TokenType.STRING:
        parser._advance()
        return parser.expression(exp.Literal.string(token.text), token=token)
    placeholder = None if parser._at_end() else parser._parse_placeholder()
    if placeholder is None:
        parser.raise_error(f"expected a file name in single quotes: {form}")
    assert placeholder is not None
    return placeholder


class ExportModel(ast.PaqStatement):
    """``EXPORT MODEL model [VERSION n] TO 'file' [WITH (format => 'paqdb' | 'onnx')]``."""

    statement_name = "EXPORT MODEL"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("EXPORT", "MODEL"),)
    keywords: ClassVar[tuple[str, ...]] = ("VERSION", "TO", "WITH")
    usage = "EXPORT MODEL <name> [VERSION <n>] TO '<file>' [WITH (format => 'paqdb' | 'onnx')]"
    arg_types = {"model": True, "version": False, "path": True, "options": False}

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> ExportModel:
        start = parser._tokens[parser._index - 2]
        model = parser._parse_required_identifier("a model name")
        version = parser._parse_model_version()
        if not parser._match_text_seq("TO"):
            parser.raise_error(f"expected TO '<file>': the statement reads {cls.usage}")
        path = _parse_path(parser, cls.usage)
        options = parser._parse_with_options()
        return parser.expression(
            cls(model=model, version=version, path=path, options=options or None), token=start
        )

    def to_sql(self, gen: Any) -> str:
        text = f"EXPORT MODEL {gen.sql(self, 'model')}"
        if self.args.get("version") is not None:
            text += f" VERSION {gen.sql(self, 'version')}"
        text += f" TO {gen.sql(self, 'path')}"
        options = self.args.get("options") or []
        if options:
            text += f" WITH ({', '.join(gen.sql(o) for o in options)})"
        return text

    def build_plan(self, planner: Planner, statement: Statement) -> Plan:
        record = planner.bind_model_record(statement, self.args["model"], self.args.get("version"))
        path_node = self.args["path"]
        path = _bound_path(statement, path_node)
        file_format = "paqdb"
        for option in self.args.get("options") or []:
            value = option.value()
            if option.option_name != "format":
                raise statement.locate(
                    InvalidParameterError(
                        f"EXPORT MODEL has no option '{option.option_name}'",
                        hint="its option is format => 'paqdb' (the default) or 'onnx'",
                    ),
                    option,
                )
            if not isinstance(value, str) or value.lower() not in FORMATS:
                raise statement.locate(
                    InvalidParameterError(
                        f"format must be one of {', '.join(repr(f) for f in FORMATS)}, not {value!r}",
                        hint="format => 'paqdb' (the default) writes a file IMPORT MODEL reads; 'onnx' "
                        "a graph for ONNX tools",
                    ),
                    option,
                )
            file_format = value.lower()
            if file_format == "onnx":
                from paqdb.ml.onnx_export import CONVERTIBLE_FAMILIES

                if record.family not in CONVERTIBLE_FAMILIES:
                    raise statement.locate(
                        NotYetSupportedError(
                            f"model '{record.name}' version {record.version} cannot be exported as ONNX: "
                            f"family {record.family} does not convert to ONNX yet",
                            hint=f"ONNX export works for {', '.join(CONVERTIBLE_FAMILIES)}; format => "
                            "'paqdb' (the default) exports any model for IMPORT MODEL",
                        ),
                        option,
                    )
        folder = Path(path).parent
        if Path(path).is_dir():
            raise statement.locate(
                InvalidParameterError(
                    f"cannot write '{path}': it is a folder",
                    hint="give a file name, e.g. 'model_export.paqdb'",
                ),
                path_node,
            )
        if not folder.is_dir():
            raise statement.locate(
                InvalidParameterError(
                    f"cannot write '{path}': the folder '{folder}' does not exist",
                    hint="create the folder first, or export to another path",
                ),
                path_node,
            )
        logical = LogicalNode(
            "ExportModel",
            {"model": record.name, "version": record.version, "file": path, "format": file_format},
        )
        return Plan(statement.text, logical, [ExportModelOp(record, path, file_format)])


class ImportModel(ast.PaqStatement):
    """``IMPORT [OR REPLACE] MODEL model FROM 'file'``: a new model, or a new version with OR REPLACE."""

    statement_name = "IMPORT MODEL"
    forms: ClassVar[tuple[tuple[str, ...], ...]] = (("IMPORT", "MODEL"), ("IMPORT", "OR", "REPLACE", "MODEL"))
    keywords: ClassVar[tuple[str, ...]] = ("FROM",)
    usage = "IMPORT [OR REPLACE] MODEL <name> FROM '<file>'"
    arg_types = {"model": True, "path": True, "replace": False}

    @classmethod
    def parse_statement(cls, parser: PaqParser) -> ImportModel:
        replace = parser._tokens[parser._index - 2].text.upper() == "REPLACE"
        start = parser._tokens[parser._index - (4 if replace else 2)]
        model = parser._parse_required_identifier("a model name")
        parser._expect_word("FROM", cls.usage)
        path = _parse_path(parser, cls.usage)
        return parser.expression(cls(model=model, path=path, replace=replace), token=start)

    def to_sql(self, gen: Any) -> str:
        head = "IMPORT OR REPLACE MODEL" if self.args.get("replace") else "IMPORT MODEL"
        return f"{head} {gen.sql(self, 'model')} FROM {gen.sql(self, 'path')}"

    def build_plan(self, planner: Planner, statement: Statement) -> Plan:
        name_node = self.args["model"]
        name = name_node.name
        replace = bool(self.args.get("replace"))
        path_node = self.args["path"]
        path = _bound_path(statement, path_node)
        if not replace and planner.context.models.exists(name):
            raise statement.locate(
                DuplicateModelError(
                    f"model '{name}' already exists",
                    hint=f"use IMPORT OR REPLACE MODEL {name} FROM ... for a new version of it, "
                    "or import under another name",
                ),
                name_node,
            )
        if not Path(path).is_file():
            raise statement.locate(
                InvalidParameterError(
                    f"file '{path}' does not exist",
                    hint="give the path of a file written by EXPORT MODEL (relative paths start in the "
                    f"working directory, {os.getcwd()})",
                ),
                path_node,
            )
        logical = LogicalNode("ImportModel", {"model": name, "file": path, "replace": replace})
        return Plan(
            statement.text, logical, [ImportModelOp(name, path, replace, statement, name_node, path_node)]
        )


def _bound_path(statement: Statement, node: exp.Expression) -> str:
    """The file name a path node holds once parameters are bound; anything else is an error at it."""
    if isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.TEXT_TYPES):
        node = node.this  # a bound parameter: CAST('<text>' AS VARCHAR)
    if isinstance(node, exp.Literal) and node.is_string and node.name:
        return node.name
    raise statement.locate(
        InvalidParameterError(
            "the file name must be a non-empty string",
            hint="write the path in single quotes, e.g. 'model_export.paqdb'",
        ),
        node,
    )


# -- the operators ----------------------------------------------------------------------------------


@dataclass
class ExportModelOp(PhysicalOperator):
    """Write a model version to a file: the catalog's metadata, its trials and its artifact (or, as ONNX,
    one graph of its featurizer and estimator)."""

    record: ModelRecord
    path: str
    file_format: str = "paqdb"
    name = "ExportModel"

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.record.name,
            "version": self.record.version,
            "file": self.path,
            "format": self.file_format,
        }

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        if self.file_format == "onnx":
            from paqdb.ml.onnx_export import to_onnx  # skl2onnx and onnx load only here

            data = to_onnx(context.models.load_record(self.record).model, self.record.name)
        else:
            data = export_bytes(context.models, self.record)
        _write_atomically(self.path, data)
        sha256 = hashlib.sha256(data).hexdigest()
        state.result = ExecResult(
            pa.table(
                {
                    "model": [self.record.name],
                    "version": pa.array([self.record.version], pa.int32()),
                    "file": [self.path],
                    "format": [self.file_format],
                    "bytes": pa.array([len(data)], pa.int64()),
                    "sha256": [sha256],
                }
            ),
            1,
            [
                Column("model", "VARCHAR"),
                Column("version", "INTEGER"),
                Column("file", "VARCHAR"),
                Column("format", "VARCHAR"),
                Column("bytes", "BIGINT"),
                Column("sha256", "VARCHAR"),
            ],
            "EXPORT MODEL",
        )
        state.message = (
            f"exported model {self.record.name} version {self.record.version} to '{self.path}' "
            f"({len(data):,} bytes, {self.file_format})"
        )


@dataclass
class ImportModelOp(PhysicalOperator):
    """Read an export file, verify all of it, then save the model through the model store."""

    model_name: str
    path: str
    replace: bool
    # Where errors point: the statement, its model name and its file name.
    statement: Any = field(repr=False, default=None)
    name_node: Any = field(repr=False, default=None)
    path_node: Any = field(repr=False, default=None)
    name = "ImportModel"

    def describe(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "file": self.path,
            "replace": self.replace,
            "checks": "sizes, format, SHA-256, allow-listed types, metadata against the model",
        }

    def run(self, context: ExecutionContext, state: ExecutionState) -> None:
        try:
            saved, trials = import_file(context.models, self.model_name, self.path, replace=self.replace)
        except Error as error:
            if self.statement is not None and error.line is None:
                at = self.name_node if isinstance(error, DuplicateModelError) else self.path_node
                raise self.statement.locate(error, at) from None
            raise
        state.result = ExecResult(
            pa.table(
                {
                    "model": [saved.name],
                    "version": pa.array([saved.version], pa.int32()),
                    "family": [saved.family],
                    "metric": [saved.metric],
                    "validation_score": pa.array([saved.validation_score], pa.float64()),
                    "trials": pa.array([trials], pa.int64()),
                }
            ),
            1,
            [
                Column("model", "VARCHAR"),
                Column("version", "INTEGER"),
                Column("family", "VARCHAR"),
                Column("metric", "VARCHAR"),
                Column("validation_score", "DOUBLE"),
                Column("trials", "BIGINT"),
            ],
            "IMPORT MODEL",
        )
        state.message = (
            f"imported model {saved.name} version {saved.version} ({saved.family}) from '{self.path}'"
        )


# -- the file format, for Python callers too ------------------------------------------------------


def export_bytes(store: ModelStore, record: ModelRecord) -> bytes:
    """The export file of the model version ``record`` names (read from ``store``'s catalog).

    The artifact is read by its identity and decoded once through the store (hash checked, safe
    loader), so a damaged catalog entry is refused here rather than exported.

    Raises:
        CatalogError: the version changed or is damaged.
        ArtifactError: its artifact is refused by the safe loader.
    """
    artifact = store.catalog.artifact(record.name, record.version, record.identity)
    store.load_record(dataclasses.replace(record, artifact=artifact))
    manifest = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "model": {
            "name": record.name,
            "version": record.version,
            "task": record.task,
            "label": record.label,
            "label_type": record.label_type,
            "features": [{"name": c.name, "type": c.type} for c in record.features],
            "family": record.family,
            "hyperparameters": record.hyperparameters,
            "metric": record.metric,
            "validation_score": record.validation_score,
            "train_rows": record.train_rows,
            "search": record.search,
            "source_sql": record.source_sql,
            "outcome": record.outcome,
            "notes": record.notes,
        },
        "artifact": {
            "member": _ARTIFACT,
            "format": record.artifact_format,
            "size": len(artifact),
            "sha256": hashlib.sha256(artifact).hexdigest(),
        },
        "trials": _trials(store, record),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(_MANIFEST, json.dumps(manifest, default=str, indent=1), zipfile.ZIP_DEFLATED)
        archive.writestr(_ARTIFACT, artifact, zipfile.ZIP_STORED)  # already compressed
    return buffer.getvalue()


def export_model(
    store: ModelStore, name: str, path: str | os.PathLike[str], version: int | None = None
) -> int:
    """Write model ``name`` (at ``version``, default the current one) to ``path``; return the bytes written.

    The Python form of ``EXPORT MODEL name [VERSION n] TO 'path'``.
    """
    data = export_bytes(store, store.record(name, version))
    _write_atomically(os.fspath(path), data)
    return len(data)


def import_file(
    store: ModelStore, name: str, path: str | os.PathLike[str], *, replace: bool = False
) -> tuple[ModelRecord, int]:
    """Import the export file ``path`` as model ``name``; return the saved record and its trial count.

    The Python form of ``IMPORT [OR REPLACE] MODEL name FROM 'path'``: everything is checked (see the
    module's docstring) before anything is written.

    Raises:
        ArtifactError: the file is not a paqdb model export, is damaged or altered, or holds a model the
            safe loader refuses.
        DuplicateModelError: model ``name`` exists and ``replace`` is False.
        OperationalError: the file cannot be read.
    """
    where = os.fspath(path)
    try:
        with open(where, "rb") as handle:
            data = handle.read(_max_file_bytes() + 1)
    except OSError as error:
        raise OperationalError(
            f"cannot read '{where}': {error.strerror or error}",
            hint="give the path of a file written by EXPORT MODEL",
        ) from None
    if len(data) > _max_file_bytes():
        raise _not_an_export(where, f"it is larger than {_max_file_bytes():,} bytes")
    model, record, trials = read_export(data, name, where)
    if not replace and store.exists(name):
        raise DuplicateModelError(
            f"model '{name}' already exists",
            hint=f"use IMPORT OR REPLACE MODEL {name} FROM ... for a new version of it",
        )
    saved = store.save(
        model,
        name=name,
        label=record.label,
        label_type=record.label_type,
        features=record.features,
        metric=record.metric,
        validation_score=record.validation_score,
        train_rows=record.train_rows,
        trials=trials,
        search=record.search,
        source_sql=record.source_sql,
        outcome=record.outcome,
        notes=record.notes,
        replace=replace,
    )
    return saved, len(trials)


def read_export(
    data: bytes, name: str, where: str = "the file"
) -> tuple[TrainedModel, ModelRecord, list[TrialRecord]]:
    """Decode and verify an export file's bytes: the model, its metadata and its trials.

    Nothing is written anywhere. ``name`` is the model's name in error messages.

    Raises:
        ArtifactError: the bytes are not a paqdb model export, are damaged or altered, or hold a model
            the safe loader refuses, or metadata that disagrees with the model.
    """
    from paqdb.ml import artifact_safety
    from paqdb.ml.model import TrainedModel

    if not data.startswith(b"PK"):
        raise _not_an_export(where, "it is not a zip archive")
    try:
        archive = artifact_safety.open_archive(data, "export file", name)
    except ArtifactError as error:  # corrupt, a zip bomb, too many members ...
        raise _not_an_export(where, _reason(error)) from None
    with archive:
        if _MANIFEST not in archive.namelist():
            raise _not_an_export(where, f"it has no {_MANIFEST}")
        try:
            manifest = artifact_safety.read_json_object(
                archive, _MANIFEST, "export file", name, _MAX_MANIFEST_BYTES
            )
        except ArtifactError as error:
            raise _not_an_export(where, _reason(error)) from None
        if manifest.get("format") != EXPORT_FORMAT:
            raise _not_an_export(where, f"its format is {manifest.get('format')!r}")
        if manifest.get("version") != EXPORT_VERSION:
            raise ArtifactError(
                f"'{where}' is a paqdb model export of version {manifest.get('version')!r}; this paqdb "
                f"reads version {EXPORT_VERSION}",
                hint="export the model again with this version of paqdb",
            )
        meta, artifact_info = manifest.get("model"), manifest.get("artifact")
        if not isinstance(meta, dict) or not isinstance(artifact_info, dict):
            raise _damaged(where, "its manifest has no model or artifact section")
        member = artifact_info.get("member")
        if member != _ARTIFACT or member not in archive.namelist():
            raise _damaged(where, f"it has no {_ARTIFACT}")
        try:
            artifact = archive.read(member)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:  # a bad CRC, a cut member
            raise _damaged(where, f"its {_ARTIFACT} cannot be read ({error})") from None
    expected = artifact_info.get("sha256")
    actual = hashlib.sha256(artifact).hexdigest()
    if not isinstance(expected, str) or actual != expected:
        raise ArtifactError(
            f"'{where}' was altered or damaged after export: its model's SHA-256 is {actual}, "
            f"not the {expected} recorded when it was exported",
            hint="export the model again from its database",
        )
    model = TrainedModel.from_bytes(artifact, expected_sha256=expected, name=name)
    record = _record(meta, model, name, where)
    trials = _trial_records(manifest.get("trials", []), where)
    return model, record, trials


# -- helpers ----------------------------------------------------------------------------------------


def _max_file_bytes() -> int:
    from paqdb.ml import artifact_safety

    return artifact_safety.MAX_TOTAL_BYTES


def _trials(store: ModelStore, record: ModelRecord) -> list[dict[str, Any]]:
    """The version's search trials as the catalog holds them, as JSON-able dicts."""
    engine = store.engine
    table = engine.execute(
        render(
            f"SELECT trial, family, hyperparameters, resources, metric, validation_score, status, seconds, "
            f"error FROM {SCHEMA}.trials WHERE lower(name) = lower(?) AND version = ? ORDER BY trial",
            engine.dialect,
        ),
        [record.name, record.version],
    ).table
    rows = table.to_pylist() if table is not None else []
    for row in rows:
        for key in ("hyperparameters", "resources"):
            try:
                row[key] = json.loads(row[key])
            except (TypeError, ValueError):
                row[key] = {}
    return rows


def _write_atomically(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, so no reader (and no
    failure half-way) ever sees a partial file; an existing file is replaced, as COPY ... TO does."""
    absolute = os.path.abspath(path)
    # A fresh name opened exclusively (not mkstemp) so the file gets the usual permissions (umask).
    temporary = os.path.join(
        os.path.dirname(absolute), f".{os.path.basename(absolute)}.{uuid.uuid4().hex}.tmp"
    )
    try:
        try:
            with open(temporary, "xb") as out:
                out.write(data)
            os.replace(temporary, absolute)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
    except OSError as error:
        raise OperationalError(
            f"cannot write '{path}': {error.strerror or error}",
            hint="check the folder exists and is writable",
        ) from None


def _not_an_export(where: str, why: str) -> ArtifactError:
    return ArtifactError(
        f"'{where}' is not a paqdb model export: {why}",
        hint="IMPORT MODEL reads files written by EXPORT MODEL m TO 'file'",
    )


def _reason(error: ArtifactError) -> str:
    """What the safe loader found, without its "model ... cannot be loaded: " preamble."""
    return error.message.split(": ", 1)[-1]


def _damaged(where: str, why: str) -> ArtifactError:
    return ArtifactError(
        f"'{where}' is a damaged paqdb model export: {why}",
        hint="export the model again from its database",
    )


def _sql_type(value: Any, what: str, where: str) -> str:
    if not isinstance(value, str) or not (_PLAIN_TYPE.fullmatch(value) or _ENUM_TYPE.fullmatch(value)):
        raise _damaged(where, f"{what} has the type {value!r}, which is not a SQL type name")
    return value


def _record(meta: dict[str, Any], model: TrainedModel, name: str, where: str) -> ModelRecord:
    """The metadata of an export, checked against the decoded model and for types and values."""
    try:
        label = str(meta["label"])
        label_type = _sql_type(meta["label_type"], f"the label '{label}'", where)
        raw_features = meta["features"]
        if not isinstance(raw_features, list):
            raise TypeError("features is not a list")
        features = [
            Column(str(f["name"]), _sql_type(f["type"], f"feature '{f['name']}'", where))
            for f in raw_features
        ]
        score = meta.get("validation_score")
        if score is not None and not isinstance(score, int | float):
            raise TypeError("validation_score is not a number")
        train_rows = meta.get("train_rows", 0)
        if not isinstance(train_rows, int) or isinstance(train_rows, bool) or train_rows < 0:
            raise TypeError("train_rows is not a count")
        search = meta.get("search", {})
        if not isinstance(search, dict):
            raise TypeError("search is not an object")
        outcome = meta.get("outcome", "complete")
        if outcome not in OUTCOMES:
            raise TypeError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
        record = ModelRecord(
            name=name,
            version=0,
            task=str(meta["task"]),
            label=label,
            label_type=label_type,
            features=features,
            family=str(meta["family"]),
            hyperparameters=model.hyperparameters,
            metric=str(meta["metric"]),
            validation_score=float(score) if score is not None and math.isfinite(score) else None,
            train_rows=train_rows,
            search=search,
            source_sql=str(meta.get("source_sql", "")),
            outcome=outcome,
            notes=str(meta.get("notes", "")),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise _damaged(where, f"its model metadata is incomplete or of the wrong type ({error})") from None
    disagreements = []
    if record.task != model.task:
        disagreements.append(f"task {record.task!r} but the model's is {model.task!r}")
    if record.family != model.family:
        disagreements.append(f"family {record.family!r} but the model's is {model.family!r}")
    if record.label != model.label:
        disagreements.append(f"label {record.label!r} but the model's is {model.label!r}")
    if label_model_type(record.label_type) is None:
        disagreements.append(f"label type {record.label_type} cannot be predicted")
    names = [c.name for c in record.features]
    if names != model.feature_names:
        disagreements.append(f"features {names} but the model reads {model.feature_names}")
    if disagreements:
        raise _damaged(where, "its metadata disagrees with its model: " + "; ".join(disagreements))
    return record


def _trial_records(raw: Any, where: str) -> list[TrialRecord]:
    if not isinstance(raw, list):
        raise _damaged(where, "its trials are not a list")
    trials = []
    try:
        for t in raw:
            score = t.get("validation_score")
            hyperparameters, resources = t.get("hyperparameters", {}), t.get("resources", {})
            if not isinstance(hyperparameters, dict) or not isinstance(resources, dict):
                raise TypeError("hyperparameters and resources must be objects")
            trials.append(
                TrialRecord(
                    trial=int(t["trial"]),
                    family=str(t["family"]),
                    hyperparameters=hyperparameters,
                    resources=resources,
                    metric=str(t["metric"]),
                    validation_score=float(score) if score is not None else None,
                    status=str(t["status"]),
                    seconds=float(t.get("seconds") or 0.0),
                    error=str(t["error"]) if t.get("error") is not None else None,
                )
            )
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise _damaged(where, f"a trial is incomplete or of the wrong type ({error})") from None
    return trials


__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "FORMATS",
    "ExportModel",
    "ImportModel",
    "export_bytes",
    "export_model",
    "import_file",
    "read_export",
]
