"""CAUSAL FREQ: frequency-domain lead/lag and direction of influence between irregular time series.

Not implemented yet: the statement parses, and the planner answers it with a NotYetSupportedError until a
:class:`paqdb.planner.capabilities.CausalAnalyzer` registers here under ``capabilities.CAUSAL``.
"""
