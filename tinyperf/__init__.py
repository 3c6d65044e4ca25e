"""tinyperf: an MLPerf Tiny-compatible conformance suite.

Run performance, accuracy and energy on a microcontroller board over its serial line (or
on the virtual DUT), package a submission, and check anyone's published results — in the
exact formats of the MLCommons runner, the EEMBC EnergyRunner and the submission checker.

The Python API (each function imports what it needs when called)::

    import tinyperf

    result = tinyperf.run("performance", "/dev/ttyACM0", "datasets/")  # -> RunResult
    report = tinyperf.check("submission/")                            # -> Report
    scores = tinyperf.evaluate("kws01", "datasets/kws01")             # host evaluation
    record = tinyperf.read_session(result.session)                    # -> SessionRecord

The command line is ``tinyperf`` (``tinyperf --help``). The package's parts follow the
data flow, bottom to top: ``formats`` (shared formats), ``reference_models``,
``firmware_interface`` (the DUT side) and ``harness`` (the host side), ``submissions``,
``rules`` (the checker), and ``cli`` on top.
"""

from tinyperf.api import (
    check,
    check_rounds,
    demo_data,
    evaluate,
    read_session,
    run,
    virtual_dut,
)
from tinyperf.formats.errors import ConformanceError

__version__ = "0.2.0"

__all__ = ["ConformanceError", "__version__", "check", "check_rounds", "demo_data",
           "evaluate", "read_session", "run", "virtual_dut"]
