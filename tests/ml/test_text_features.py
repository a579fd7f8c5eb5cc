"""Free-text columns hashed into word-count features (the hashing trick)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from paqdb.errors import TrainingError
from paqdb.ml.features import Featurizer
from paqdb.search import SearchSpec, search_for

WORDS = ["red", "green", "blue", "cheap", "fast", "slow", "shiny", "old", "new", "big"]


def _reviews(rows: int, seed: int = 0) -> pa.Table:
    """Reviews of random words; the label is whether the word 'refund' appears, which a vocabulary of
    whole reviews (each one distinct) cannot see but hashed word counts can."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(rows):
        words = list(rng.choice(WORDS, size=6))
        angry = bool(rng.random() < 0.5)
        if angry:
            words.insert(int(rng.integers(0, 6)), "Refund")
        texts.append(" ".join(words))
        labels.append("angry" if angry else "happy")
    texts[0] = None  # a NULL review is the empty text
    return pa.table({"review": texts, "stars": rng.integers(1, 6, rows), "label": labels})


def test_text_columns_become_hashed_word_counts() -> None:
    table = _reviews(50).drop_columns(["label"])
    featurizer = Featurizer(text_columns=["review"], hash_features=64).fit(table)
    for encoding in ("onehot", "ordinal"):
        matrix = featurizer.transform(table, encoding)
        assert matrix.shape == (50, 64 + 1) and featurizer.n_output_features(encoding) == 65
        text = matrix[:, :64]
        assert np.allclose(np.linalg.norm(text[1:], axis=1), 1.0) and not text[0].any()
    assert not featurizer.categorical_mask("ordinal")[:64].any()
    assert featurizer.output_feature_names("onehot")[:2] == ["review#0", "review#1"]
    # Case does not matter, and the state survives a round trip.
    again = Featurizer.from_dict(featurizer.to_dict())
    shouting = pa.table({"review": ["REFUND NOW"], "stars": [1]})
    assert np.array_equal(again.transform(shouting, "onehot"), featurizer.transform(shouting, "onehot"))
    lower = pa.table({"review": ["refund now"], "stars": [1]})
    assert np.array_equal(featurizer.transform(lower, "onehot"), featurizer.transform(shouting, "onehot"))


def test_only_string_feature_columns_can_be_text() -> None:
    table = _reviews(10).drop_columns(["label"])
    with pytest.raises(TrainingError, match="only a string column"):
        Featurizer(text_columns=["stars"]).fit(table)
    with pytest.raises(TrainingError, match="not feature columns"):
        Featurizer(text_columns=["title"]).fit(table)


def test_a_search_learns_from_text_that_categories_cannot_see() -> None:
    table = _reviews(600)
    options = {"strategy": "random", "families": ["logistic"], "budget": "2 trials", "seed": 1}
    as_text = SearchSpec.from_options({**options, "text": ["review"]})
    as_category = SearchSpec.from_options(options)
    text_result = search_for(as_text).run(table, "label", as_text)
    category_result = search_for(as_category).run(table, "label", as_category)
    assert text_result.validation_score > 0.95
    assert category_result.validation_score < 0.8
    # The stored model hashes new text the same way when it scores.
    new = pa.table({"review": ["big refund please", "shiny new"], "stars": [2, 5]})
    assert text_result.model.predict_arrow(new)[0].to_pylist() == ["angry", "happy"]
