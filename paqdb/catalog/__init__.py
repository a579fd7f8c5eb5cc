"""The model catalog kept inside the database file (schema ``paqdb``)."""

from paqdb.catalog.store import ModelCatalog, ModelRecord, TrialRecord

__all__ = ["ModelCatalog", "ModelRecord", "TrialRecord"]
