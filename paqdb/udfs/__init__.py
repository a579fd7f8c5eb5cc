"""Functions paqdb registers in the engine: trained models as vectorised scoring functions."""

from paqdb.udfs.scoring import ScoringFunction, function_name, register

__all__ = ["ScoringFunction", "function_name", "register"]
