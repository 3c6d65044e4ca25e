"""The bottom of tinyperf: what every layer shares and nothing else.

The MLPerf Tiny world's formats and definitions, with no I/O of devices: the DUT serial
protocol (``protocol``), the LPM01A's serial protocol (``lpm01a_protocol``), the interface
board's replies (``board_protocol``), the MLCommons runner's session files (``mlc``), the
EEMBC EnergyRunner's log, results and trace files (``eembc_log``), the
scoring formulas the rules define (``metrics``), the YAML loader and the typed errors.
"""
