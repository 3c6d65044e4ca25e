"""The MLPerf Tiny rule set as versioned data, and the engine that applies it.

``data/*.yaml`` hold the rules (common -> version -> division sections), ``schema``
validates them, ``ruleset`` layers them, ``checks`` implements the closed set of check
kinds, ``engine`` produces a ``Report``, ``render`` turns it into text, JSON or CSV.
"""
