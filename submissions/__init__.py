"""Submission trees: load one once into typed records, read both runners' files, recompute.

``loader`` walks a tree defensively, ``eembc`` and ``claims`` parse the runners' files
(pure), ``recompute`` derives every figure from raw data (pure). Rules live in ``rules``.
"""
