"""Board farm: a matrix of jobs run over labgrid places (or a place file), in parallel.

``matrix`` (the job file), ``places`` and ``coordinator`` (where boards are), ``jobs`` (one
``tinyperf run`` per job), ``scheduler`` (one job per place at a time), ``journal`` (the run
folder, ``--resume``), ``package`` (one submission tree out).
"""
