"""Example datasets for paqdb, read from data files inside installed Python packages (no downloads).

>>> from paqdb import datasets
>>> datasets.names()[:3]
['adult', 'autompg', 'breast_cancer']
>>> table = datasets.load("iris")          # a pyarrow.Table
>>> train, test = datasets.split(table, test_fraction=0.2, seed=0, stratify="species")

:func:`describe` lists each dataset's description, row count, label column, task and source package.
"""

from __future__ import annotations

from paqdb.datasets.catalog import DatasetInfo, describe, info, load, names
from paqdb.datasets.split import split

__all__ = ["DatasetInfo", "describe", "info", "load", "names", "split"]
