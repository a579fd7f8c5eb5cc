"""Featurizer: numeric, boolean and categorical encodings, NULLs, unseen values, serialisable state."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pyarrow as pa
import pytest

from paqdb.errors import DataError, TrainingError
from paqdb.ml.features import Featurizer


def test_numeric_nulls_are_imputed_with_the_median_and_flagged() -> None:
    table = pa.table({"x": pa.array([1, None, 3, 10], pa.int64())})
    featurizer = Featurizer().fit(table)
    assert featurizer.output_feature_names("ordinal") == ["x", "x__missing"]
    matrix = featurizer.transform(table, "ordinal")
    np.testing.assert_array_equal(matrix, [[1, 0], [3, 1], [3, 0], [10, 0]])


def test_no_indicator_when_training_had_no_nulls_but_nulls_still_imputed() -> None:
    featurizer = Featurizer().fit(pa.table({"x": [1.0, 2.0, 4.0]}))
    assert featurizer.n_output_features("onehot") == 1
    matrix = featurizer.transform([pa.array([None, 4.0, float("nan")], pa.float64())], "ordinal")
    np.testing.assert_array_equal(matrix[:, 0], [2.0, 4.0, 2.0])


def test_nan_and_infinity_count_as_missing() -> None:
    table = pa.table({"x": [1.0, float("nan"), 3.0, float("inf")]})
    featurizer = Featurizer().fit(table)
    matrix = featurizer.transform(table, "ordinal")
    np.testing.assert_array_equal(matrix, [[1, 0], [2, 1], [3, 0], [2, 1]])


def test_onehot_standardises_numerics_with_training_statistics() -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0, 4.0]})
    featurizer = Featurizer().fit(table)
    standardised = featurizer.transform(table, "onehot")[:, 0]
    assert standardised.mean() == pytest.approx(0.0)
    assert standardised.std() == pytest.approx(1.0)
    # The ordinal encoding (for trees) keeps raw values.
    np.testing.assert_array_equal(featurizer.transform(table, "ordinal")[:, 0], [1, 2, 3, 4])


def test_boolean_becomes_zero_one_with_missing_indicator() -> None:
    table = pa.table({"flag": pa.array([True, False, None, True])})
    featurizer = Featurizer().fit(table)
    assert featurizer.columns_[0].kind == "boolean"
    matrix = featurizer.transform(table, "ordinal")
    np.testing.assert_array_equal(matrix[:, 0], [1, 0, 1, 1])
    np.testing.assert_array_equal(matrix[:, 1], [0, 0, 1, 0])


def test_categorical_onehot_slots_in_frequency_order_with_null_slot() -> None:
    table = pa.table({"c": ["b", "a", "b", None, "c", "b", "a"]})
    featurizer = Featurizer().fit(table)
    assert featurizer.columns_[0].vocabulary == ["b", "a", "c"]
    assert featurizer.output_feature_names("onehot") == ["c=b", "c=a", "c=c", "c=<null>"]
    matrix = featurizer.transform([pa.array(["a", None, "zzz", "c"])], "onehot")
    np.testing.assert_array_equal(matrix, [[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 1, 0]])


def test_unseen_category_goes_to_the_null_slot_in_ordinal_codes() -> None:
    featurizer = Featurizer().fit(pa.table({"c": ["x", "y", "x"]}))
    codes = featurizer.transform([pa.array(["y", "new", None, "x"])], "ordinal")[:, 0]
    np.testing.assert_array_equal(codes, [1, 2, 2, 0])
    assert featurizer.categorical_mask("ordinal").tolist() == [True]
    assert featurizer.categorical_mask("onehot").tolist() == [False, False, False]


def test_vocabulary_is_capped_and_rare_or_unseen_values_share_other() -> None:
    values = ["a"] * 5 + ["b"] * 4 + ["c"] * 2 + ["d"]
    featurizer = Featurizer(max_categories=2).fit(pa.table({"c": values}))
    state = featurizer.columns_[0]
    assert state.vocabulary == ["a", "b"] and state.has_other
    assert featurizer.output_feature_names("onehot") == ["c=a", "c=b", "c=<other>", "c=<null>"]
    codes = featurizer.transform([pa.array(["a", "c", "never", None])], "ordinal")[:, 0]
    np.testing.assert_array_equal(codes, [0, 2, 2, 3])


def test_vocabulary_keeps_the_top_100_by_default() -> None:
    values = [f"v{i:03d}" for i in range(150) for _ in range(1 + (i < 100))]
    featurizer = Featurizer().fit(pa.table({"c": values}))
    assert len(featurizer.columns_[0].vocabulary) == 100
    assert featurizer.columns_[0].has_other


@pytest.mark.parametrize("arrow_type", [pa.string(), pa.null()])
def test_all_null_column_produces_no_output(arrow_type: pa.DataType) -> None:
    table = pa.table({"empty": pa.array([None, None, None], arrow_type), "x": [1.0, 2.0, 3.0]})
    featurizer = Featurizer().fit(table)
    assert featurizer.columns_[0].all_null
    assert featurizer.output_feature_names("onehot") == ["x"]
    matrix = featurizer.transform([pa.array(["late", None, "value"]), pa.array([1.0, 2.0, 3.0])], "onehot")
    assert matrix.shape == (3, 1)


def test_all_null_numeric_column_produces_no_output() -> None:
    featurizer = Featurizer().fit(pa.table({"x": pa.array([None, None], pa.float64())}))
    assert featurizer.transform([pa.array([1.0, None])], "ordinal").shape == (2, 0)


def test_dictionary_and_string_columns_encode_alike() -> None:
    plain = pa.array(["b", "a", None, "b", "q"])
    featurizer = Featurizer().fit(pa.table({"c": plain}))
    expected = featurizer.transform([plain], "onehot")
    np.testing.assert_array_equal(featurizer.transform([plain.dictionary_encode()], "onehot"), expected)
    np.testing.assert_array_equal(featurizer.transform([plain.cast(pa.large_string())], "onehot"), expected)
    np.testing.assert_array_equal(featurizer.transform([plain.cast(pa.string_view())], "onehot"), expected)


def test_dictionary_training_column() -> None:
    column = pa.array(["lo", "hi", "hi", None]).dictionary_encode()
    featurizer = Featurizer().fit(pa.table({"level": column}))
    assert featurizer.columns_[0].kind == "categorical"
    assert featurizer.columns_[0].vocabulary == ["hi", "lo"]
    np.testing.assert_array_equal(featurizer.transform([column], "ordinal")[:, 0], [1, 0, 0, 2])


def test_chunked_input_matches_contiguous_input() -> None:
    table = pa.table({"x": [1.0, None, 3.0, 4.0], "c": ["a", "b", None, "a"]})
    featurizer = Featurizer().fit(table)
    chunked = pa.Table.from_batches(table.to_batches(max_chunksize=1))
    assert chunked.column("c").num_chunks == 4
    for encoding in ("onehot", "ordinal"):
        np.testing.assert_array_equal(
            featurizer.transform(chunked, encoding), featurizer.transform(table, encoding)
        )


def test_temporal_columns_are_numeric() -> None:
    days = pa.array([datetime.date(2024, 1, 1), datetime.date(2024, 1, 3), None])
    featurizer = Featurizer().fit(pa.table({"day": days}))
    assert featurizer.columns_[0].kind == "numeric"
    matrix = featurizer.transform([days], "ordinal")
    assert matrix[1, 0] - matrix[0, 0] == 2


def test_column_of_unsupported_type_is_a_training_error() -> None:
    with pytest.raises(TrainingError, match="tags"):
        Featurizer().fit(pa.table({"tags": pa.array([["a"], ["b"]])}))


def test_wrong_column_count_or_length_is_a_data_error() -> None:
    featurizer = Featurizer().fit(pa.table({"x": [1.0], "y": [2.0]}))
    with pytest.raises(DataError, match="expected 2 feature columns"):
        featurizer.transform([pa.array([1.0])], "onehot")
    with pytest.raises(DataError, match="rows"):
        featurizer.transform([pa.array([1.0]), pa.array([1.0, 2.0])], "onehot")


def test_input_of_an_unreadable_type_is_a_data_error() -> None:
    featurizer = Featurizer().fit(pa.table({"x": [1.0, 2.0]}))
    with pytest.raises(DataError, match="'x'"):
        featurizer.transform([pa.array(["not a number", "2"])], "onehot")


def test_state_is_json_and_round_trips(table: pa.Table) -> None:
    featurizer = Featurizer().fit(table)
    restored = Featurizer.from_dict(json.loads(json.dumps(featurizer.to_dict())))
    for encoding in ("onehot", "ordinal"):
        np.testing.assert_array_equal(
            restored.transform(table, encoding), featurizer.transform(table, encoding)
        )


def test_integer_and_double_inputs_encode_alike() -> None:
    # The SQL layer casts numeric features to DOUBLE before scoring; the codes must not change.
    featurizer = Featurizer().fit(pa.table({"n": pa.array([1, 5, None], pa.int32())}))
    as_int = featurizer.transform([pa.array([1, 5, None], pa.int32())], "onehot")
    as_double = featurizer.transform([pa.array([1.0, 5.0, None])], "onehot")
    np.testing.assert_array_equal(as_int, as_double)
