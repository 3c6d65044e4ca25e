"""EEMBC EnergyRunner file formats, as the checker uses them.

The pure readers live in :mod:`tinyperf.formats.eembc_log` (the session analysis reads the
same logs and cannot import ``submissions``); this module keeps the checker's import path.
"""

from __future__ import annotations

from tinyperf.formats.eembc_log import (
    ENERGY_MAGIC,
    RUNTIME_ERROR,
    RUNTIME_MET,
    EembcLog,
    EembcResults,
    Infer,
    is_eembc_log,
    parse_energy_bin,
    parse_log,
    parse_log_chunks,
    parse_results,
    parse_timestamps,
)

__all__ = ["ENERGY_MAGIC", "RUNTIME_ERROR", "RUNTIME_MET", "EembcLog", "EembcResults", "Infer",
           "is_eembc_log", "parse_energy_bin", "parse_log", "parse_log_chunks", "parse_results",
           "parse_timestamps"]
