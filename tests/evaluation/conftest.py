"""Shared data for evaluation tests: generated frames and the German credit CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import modelward.demo

CREDIT_CSV = Path(modelward.demo.__file__).parent / "data" / "germancredit.csv"


@pytest.fixture(scope="session")
def credit() -> pd.DataFrame:
    return pd.read_csv(CREDIT_CSV)


@pytest.fixture(scope="session")
def credit_model(credit: pd.DataFrame) -> Pipeline:
    """A pipeline on raw columns, as a user would register it."""
    x = credit.drop(columns="creditability")
    numeric = [c for c in x.columns if pd.api.types.is_numeric_dtype(x[c])]
    categorical = [c for c in x.columns if c not in numeric]
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), categorical),
        ]
    )
    model = Pipeline([("prep", prep), ("clf", LogisticRegression(max_iter=2000))])
    return model.fit(x, credit["creditability"])
