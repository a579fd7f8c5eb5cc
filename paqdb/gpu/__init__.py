"""Packed neural-network training on one accelerator (Pack, Liu et al., DEEM 2021).

Not implemented yet. Today the ``mlp`` family trains with scikit-learn on the CPU inside the search; the
packed trainer will take those trials over where packing pays.
"""
