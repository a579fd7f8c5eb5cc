"""CLEAN: progressive, model-aware cleaning of dirty records (ActiveClean, Krishnan et al., VLDB 2016).

Not implemented yet: the statement parses, and the planner answers it with a NotYetSupportedError until a
:class:`paqdb.planner.capabilities.Cleaner` registers here under ``capabilities.CLEANING``.
"""
