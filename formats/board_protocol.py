"""The interface board's own replies and sizes (protocol.md 2.2, 2.4), shared by the host's
board client (``tinyperf.harness.link.interface_board``) and the virtual boards
(``tinyperf.firmware_interface.sim.interface_board``) so the two cannot drift apart."""

from __future__ import annotations

#: Chars the board's command buffer is taken to hold. 60 reproduces the reference
#: runner's 26-byte ``db`` chunks behind a board (``dut db `` + 52 hex + ``%``).
BOARD_CMD_SIZE = 60
#: Seconds the board needs to come back after ``setbaud`` resets it.
SETBAUD_RESET_S = 2.0

ENHANCED = "enhanced"
LEGACY = "legacy"
BOARD_KINDS = (ENHANCED, LEGACY)
#: The enhanced board's answer to ``name`` (protocol.md 2.2).
ENHANCED_NAME = "tinyML Enhanced Interface Board"
#: Legacy IO manager replies, as seen in EEMBC logs (protocol.md 2.4, 6.7).
LEGACY_TM_PREFIX = "m-timestmp-mode-"
LEGACY_TM_FALLING = "m-timestmp-mode-FALLING"
LEGACY_TIMER_OFF_AFTER_TM = "m-[Timer disabled after mode change]"
LEGACY_TIMER_ENABLED = "m-timer-enabled"
LEGACY_TIMER_DISABLED = "m-timer-disabled"
