"""The scikit-learn pipelines of bench/scoring.py, shared with its orbital arm (bench/scoring_orbital.py),
which runs in a virtual environment of its own because orbital's dependencies (ibis) pin other versions.

Each pipeline featurises as paqdb's model of the same family does (median imputation with missing
indicators and standardisation plus one-hot for linear models; imputation plus category codes for trees)
and holds an estimator with the paqdb model's hyperparameters.
"""

from __future__ import annotations

from typing import Any

NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week"]
CATEGORICAL = [
    "workclass",
    "education",
    "marital_status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "native_country",
]
LABEL = "income"


def pipeline(family: str, parameters: dict[str, Any], *, for_orbital: bool = False) -> Any:
    """An unfitted pipeline for ``family`` with the estimator's ``parameters``.

    ``for_orbital``: orbital 0.6 converts through skl2onnx, which cannot convert HistGradientBoosting
    (STACK.md), so its boosting arm holds scikit-learn's GradientBoostingClassifier with the same number
    of trees and at most as many leaves.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    if family == "logistic":
        features = ColumnTransformer(
            [
                ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
                ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ]
        )
        return Pipeline([("features", features), ("model", LogisticRegression(**parameters))])
    if for_orbital:
        ordinal = OneHotEncoder(handle_unknown="ignore")  # orbital has no OrdinalEncoder with unknowns
    else:
        ordinal = OrdinalEncoder(
            handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-1
        )
    features = ColumnTransformer(
        [("num", SimpleImputer(strategy="median"), NUMERIC), ("cat", ordinal, CATEGORICAL)]
    )
    model: Any
    if family == "gradient_boosting":
        if for_orbital:
            model = GradientBoostingClassifier(
                n_estimators=parameters["max_iter"],
                learning_rate=parameters["learning_rate"],
                max_leaf_nodes=parameters["max_leaf_nodes"],
                random_state=0,
            )
        else:
            model = HistGradientBoostingClassifier(**parameters)
    elif family == "random_forest":
        model = RandomForestClassifier(**parameters)
    else:
        raise ValueError(f"no pipeline for {family}")
    return Pipeline([("features", features), ("model", model)])
