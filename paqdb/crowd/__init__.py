"""CROWD LABEL: labels from people and a model together (bootstrap active learning, Mozafari et al.).

Not implemented yet: the statement parses, and the planner answers it with a NotYetSupportedError until a
:class:`paqdb.planner.capabilities.Labeler` registers here under ``capabilities.LABELING``.
"""
